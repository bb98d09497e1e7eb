"""Human output for every command: Chinese text laid out for the terminal's width.

Rules every command's text output follows (tests check them at 80 and 120 columns):

- **Chinese** for what people read (headings, summaries, labels, notes); ids, template ids,
  states (``planned``, ``suppressed``) and reasons (``frequency_cap``) stay as they are, so
  they match the JSON and the docs. Errors are one ``error: …`` line on stderr.
- **Chinese line breaking** (UAX #14 through ``uniseg``): no line starts with closing
  punctuation (``。`` ``，`` ``；`` ``）``), no word or number is split (``App``, ``980.00``),
  and no line is wider than the terminal.
- **Tables** are :func:`grid` rows: columns as wide as their content (capped), the last
  one wrapped in what is left, or on its own indented lines when little is left.

Write with :func:`paragraph`, :func:`grid`, :func:`note` and :func:`error_line`, never with
rich's own wrapping of long Chinese text (it folds by cell, anywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, chop_cells
from rich.console import Console
from rich.text import Text

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)

GAP = "  "
# Below this many cells the last column moves to its own lines under the row.
MIN_LAST_COLUMN = 16
MAX_FIXED_COLUMN = 28
# A message is shown about as wide as a phone shows it: ~18 Chinese characters a line.
PHONE_WIDTH = 36


def wrap(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` cells, broken where Chinese allows (UAX #14).

    A newline in ``text`` always breaks. A unit wider than ``width`` (a very long id) is
    cut by cells, the only way to fit it. Spaces at a break are dropped.
    """
    width = max(width, 2)
    lines: list[str] = []
    for paragraph_text in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph_text, width))
    return lines


def _wrap_paragraph(text: str, width: int) -> list[str]:
    if cell_len(text.rstrip()) <= width:
        return [text.rstrip()]  # fits: what the breaking below would give, without it
    # Imported here: most lines fit, and uniseg (with importlib.metadata) costs ~20 ms to
    # import, a twentieth of `remindkit lint FILE`.
    from uniseg.linebreak import line_break_units  # noqa: PLC0415

    lines: list[str] = []
    current = ""
    for unit in line_break_units(text) if text else ():
        candidate = current + unit
        if cell_len(candidate.rstrip()) <= width:
            current = candidate
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = unit.lstrip() if current.strip() else unit
        while cell_len(current.rstrip()) > width:
            head, rest = _chop(current, width)
            lines.append(head.rstrip())
            current = rest
    lines.append(current.rstrip())
    return lines


# Characters that may not start a line (Chinese 行首禁则, as UAX #14 classes CL, CP, IS, NS).
NO_LINE_START = frozenset("。，、；：？！）」』】》〉…,.;:!?)]}%")


def _chop(text: str, width: int) -> tuple[str, str]:
    """Cut a unit too wide for any line; the rest never starts with closing punctuation."""
    head, *pieces = chop_cells(text, width)
    rest = "".join(pieces)
    while rest[:1] in NO_LINE_START and len(head) > 1:
        head, rest = head[:-1], head[-1] + rest
    return head, rest


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell: its text and an optional rich style (``"yellow"``, ``"bold"``)."""

    text: str
    style: str = ""


def grid(
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    *,
    width: int,
    indent: int = 0,
) -> list[Text]:
    """Aligned rows for a terminal ``width`` cells wide; the last column wraps."""
    cells = [[_cell(value) for value in row] for row in rows]
    head = [Cell(h, "bold") for h in headers]
    fixed = [_fixed_width(column, head, cells) for column in range(len(headers) - 1)]
    used = indent + sum(fixed) + len(GAP) * len(fixed)
    last_inline = width - used >= MIN_LAST_COLUMN
    lines: list[Text] = []
    for row in [head, *cells]:
        lines.extend(_row_lines(row, fixed, width, indent, last_inline))
    return lines


def _cell(value: str | Cell) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def _fixed_width(column: int, head: list[Cell], rows: list[list[Cell]]) -> int:
    widest = max(cell_len(row[column].text) for row in [head, *rows])
    return max(min(widest, MAX_FIXED_COLUMN), cell_len(head[column].text))


def _row_lines(
    row: list[Cell], fixed: list[int], width: int, indent: int, last_inline: bool
) -> list[Text]:
    columns = [wrap(cell.text, size) for cell, size in zip(row, fixed, strict=False)]
    last = row[-1]
    start = indent + sum(fixed) + len(GAP) * len(fixed)
    if last_inline:
        columns.append(wrap(last.text, width - start))
    height = max(len(column) for column in columns)
    lines: list[Text] = []
    for number in range(height):
        line = Text(" " * indent)
        for index, cell in enumerate(row[: len(columns)]):
            piece = columns[index][number] if number < len(columns[index]) else ""
            if index < len(fixed):
                piece += " " * (fixed[index] - cell_len(piece)) + GAP
            line.append(piece, style=cell.style)
        lines.append(_trimmed(line))
    if not last_inline:
        hanging = indent + 4
        lines += [
            Text(" " * hanging + piece, style=last.style)
            for piece in wrap(last.text, width - hanging)
        ]
    return lines


def _trimmed(line: Text) -> Text:
    line.rstrip()
    return line


def paragraph(
    text: str, *, console: Console | None = None, indent: int = 0, style: str = ""
) -> None:
    """Print ``text`` wrapped to the console's width by Chinese line-breaking rules."""
    out = console or stdout
    for line in wrap(text, out.width - indent):
        print_line(Text(" " * indent + line, style=style), console=out)


def print_line(line: Text | str, *, console: Console | None = None) -> None:
    """One line exactly as laid out: no markup, no re-wrapping by rich."""
    out = console or stdout
    text = line if isinstance(line, Text) else Text(line)
    out.print(text, no_wrap=True, overflow="ignore", crop=False, soft_wrap=True)


def print_lines(lines: Sequence[Text | str], *, console: Console | None = None) -> None:
    for line in lines:
        print_line(line, console=console)


def note(message: str) -> None:
    """A remark on stderr (``提示：…``) that does not change the result: JSON stays clean."""
    paragraph(f"提示：{message}", console=stderr, style="yellow")


def error_line(message: str) -> None:
    """``error: …`` as one line on stderr, whatever the message holds."""
    flat = " ".join(message.split())
    line = Text("error:", style="bold red") + Text(f" {flat}")
    stderr.print(line, no_wrap=True, overflow="ignore", crop=False, soft_wrap=True)


def warning_line(message: str) -> None:
    """``warning: …`` as one line on stderr: a planner or library warning, as logged."""
    flat = " ".join(message.split())
    line = Text("warning:", style="yellow") + Text(f" {flat}")
    stderr.print(line, no_wrap=True, overflow="ignore", crop=False, soft_wrap=True)


def framed(heading: str, body: Sequence[Text], footer: str, *, width: int) -> list[Text]:
    """``body`` lines in a light frame with a heading and a footer, never wider than
    ``width``; heading and footer wrap by the same rules as the body."""
    inner = max([cell_len(line.plain) for line in body] + [cell_len(heading), cell_len(footer), 8])
    inner = min(inner, max(width - 4, 8))
    lines = [Text(line, style="bold") for line in wrap(heading, inner + 2)]
    lines.append(Text("┌" + "─" * (inner + 2) + "┐", style="dim"))
    for line in body:
        for piece in _fit(line, inner):
            pad = " " * (inner - cell_len(piece.plain))
            lines.append(Text("│ ", style="dim") + piece + Text(pad + " │", style="dim"))
    lines.append(Text("└" + "─" * (inner + 2) + "┘", style="dim"))
    lines += [Text(line, style="dim") for line in wrap(footer, inner + 2)]
    return lines


def _fit(line: Text, width: int) -> list[Text]:
    if cell_len(line.plain) <= width:
        return [line]
    return [Text(piece, style=line.style) for piece in wrap(line.plain, width)]
