"""Human output at 80 and 120 columns: Chinese line breaking, nothing wider than the terminal.

Every command's text output is checked the same way (``assert_laid_out``): no line wider than
the terminal, no line starting with closing punctuation (。，、；：？！）」』】), no Latin word
cut in two (``A|pp``). New commands add their invocation to ``COMMANDS``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from rich.cells import cell_len

from remindkit.cli import _register, app, output
from remindkit.cli.output import Cell, grid, wrap
from remindkit.cli.usage import run
from remindkit.models import Channel, Stage
from remindkit.outbox.store import Outbox
from remindkit.report.sample import Experiment, Step, fill
from tests.conftest import META, TemplatesFactory

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "config" / "samples"
FEED = REPO / "config" / "feeds" / "sample.csv"
AT = "2026-12-01T08:30:00+08:00"
CLOSING = "。，、；：？！）」』】》〉,.;:!?)"
FRAME = "│┌┐└┘─ "
WIDTHS = (80, 120)

_register()

REPORT_STORE = Path(tempfile.mkdtemp(prefix="rk-report-")) / "outbox.db"

SENTENCE = (
    "王女士您好，您尾号2284的借款12月2日（明天）到期，应还980.00元；可在禾苗金融App还款，"
    "如已还款请忽略。如对金额有疑问，请致电400-100-2026。"
)


@pytest.mark.parametrize("width", range(16, 90, 4))  # the longest unit: 14 cells
def test_wrap_breaks_where_chinese_allows(width: int) -> None:
    lines = wrap(SENTENCE, width)
    assert "".join(lines) == SENTENCE
    for before, line in zip(["", *lines], lines, strict=False):
        assert cell_len(line) <= width
        assert not line or line[0] not in CLOSING, (width, line)
        assert not (before[-1:].isascii() and before[-1:].isalnum() and line[:1].isalnum()
                    and line[:1].isascii()), (width, before, line)  # fmt: skip
    assert any("App" in line for line in lines)


def test_grid_puts_the_last_column_under_the_row_when_little_room_is_left() -> None:
    rows = [["10:00+0800", "B" * 30, Cell("suppressed", "yellow"), SENTENCE]]
    lines = [line.plain for line in grid(("时间", "借款人", "状态", "说明"), rows, width=60)]
    assert all(cell_len(line) <= 60 for line in lines)
    # The id wraps in its capped column; the long text goes on its own, indented lines.
    assert lines[1] == "    说明"
    assert lines[2].startswith("10:00+0800")
    assert lines[3].strip() == "BB"
    assert all(line.startswith("    ") for line in lines[4:])
    assert "".join(line.strip() for line in lines[4:]) == SENTENCE


@pytest.fixture(params=WIDTHS)
def width(request: pytest.FixtureRequest) -> Iterator[int]:
    size = int(request.param)
    before = (output.stdout.width, output.stderr.width)
    output.stdout.width = output.stderr.width = size
    yield size
    output.stdout.width, output.stderr.width = before


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        run(app, args)
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def assert_laid_out(text: str, width: int) -> None:
    lines = [line.rstrip() for line in text.splitlines()]
    for number, line in enumerate(lines):
        assert cell_len(line) <= width, (width, line)
        content = line.strip(FRAME)
        assert not content or content[0] not in CLOSING, (width, line)
        before = lines[number - 1].strip(FRAME) if number else ""
        split_word = re.search(r"[A-Za-z]\Z", before) and re.match(r"[a-z]", content)
        assert not split_word, (width, before, line)


def lint_root(tmp_templates: TemplatesFactory) -> Path:
    body = (
        "{{ borrower.honorific }}您好，您尾号{{ loan.tail }}的借款{{ loan.due_date|cn_date }}"
        "到期，应还{{ loan.amount_due|yuan }}，请立即还款！否则后果自负，请加微信还款。"
    )
    return tmp_templates({"pre_due/sms.j2": META + body})


COMMANDS = {
    "preview sms": ["preview", "overdue_late/sms", "--context", str(SAMPLES / "worst_case.json")],
    "preview push": ["preview", "overdue/push", "--context", str(SAMPLES / "overdue.json")],
    "plan": ["plan", "--feed", str(FEED), "--at", AT, "--days", "7"],
    "demo": ["demo"],
    "providers check": ["providers", "check"],
    "report": ["report", "--store", f"sqlite:///{REPORT_STORE}", "--at", "2026-12-10T10:00+08:00"],
}


@pytest.fixture(scope="module", autouse=True)
def report_store() -> Iterator[None]:
    """An outbox with a finished experiment (``overdue_early/sms``, a vs b) for ``report``."""
    outbox = Outbox.open(f"sqlite:///{REPORT_STORE}")
    start = datetime.fromisoformat("2026-11-02T10:00:00+08:00")
    steps = (Step(stage=Stage.PRE_DUE, channel=Channel.PUSH, day=0),
             Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=4))  # fmt: skip
    experiment = Experiment(name="out", start=start, borrowers=400, steps=steps,
                            tested=(Stage.OVERDUE_EARLY, Channel.SMS),
                            repay_within={"a": 0.2, "b": 0.5})  # fmt: skip
    fill(outbox, experiment, seed=1)
    outbox.close()
    yield
    shutil.rmtree(REPORT_STORE.parent, ignore_errors=True)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_output_is_laid_out_for_the_terminal(
    name: str, width: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, err = invoke(COMMANDS[name], capsys)
    assert out.strip()
    assert_laid_out(out, width)
    assert_laid_out(err, width)


def test_lint_output_is_laid_out_for_the_terminal(
    width: int, tmp_templates: TemplatesFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = invoke(["lint", str(lint_root(tmp_templates))], capsys)
    assert code == 1
    assert "错误" in out
    assert_laid_out(out, width)
    assert_laid_out(err, width)


def test_plan_text_is_chinese_apart_from_ids_and_states(
    width: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = invoke(COMMANDS["plan"], capsys)
    first = out.splitlines()[0]
    assert re.fullmatch(r"共 \d+ 条消息：计划发送 \d+ 条，不发送 \d+ 条；拒绝 \d+ 行数据。", first)
    assert "messages" not in out
    assert "rejected rows" not in out
