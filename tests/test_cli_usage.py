"""Usage errors and ``--help`` for every command, through the program's own entry point.

Each wrong invocation prints exactly one line on stderr (``error: …``), nothing on stdout,
no usage box and no traceback, and exits 2. ``--help`` of every registered command (those
added later included) shows readable labels, never Python type names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
import typer

from remindkit.cli import _register, app
from remindkit.cli.usage import ReadableGroup, run, usage_message

REPO = Path(__file__).resolve().parent.parent
FEED = str(REPO / "config" / "feeds" / "sample.csv")
CONTEXT = str(REPO / "config" / "samples" / "pre_due.json")
FEED_DIR = str(REPO / "config" / "feeds")

_register()

WRONG = [
    (["preview", "pre_due/sms"], "error: --context: required"),
    (["preview", "--context", CONTEXT], "error: TEMPLATE_ID: required"),
    (["preview", "pre_due/sms", "--context", CONTEXT, "--format", "xml"], "error: --format:"),
    (["preview", "pre_due/sms", "--context", FEED_DIR], "error: --context:"),
    (["preview", "pre_due/sms", "--context", CONTEXT, "--bogus"], "error: No such option"),
    (["preview", "pre_due/sms", "--context", CONTEXT, "extra"], "error: Got unexpected extra"),
    (["preview", "nope/sms", "--context", CONTEXT], "error: nope/sms: unknown template id"),
    (["preview", "pre_due/sms", "--context", CONTEXT, "--at", "soon"], "error: --at:"),
    (["plan"], "error: --feed: required"),
    (["plan", "--feed", FEED, "--days", "0"], "error: --days: must be at least 1"),
    (["plan", "--feed", FEED, "--days", "999"], "error: --days: must be at most 366"),
    (["plan", "--feed", FEED, "--days", "two"], "error: --days: must be a whole number"),
    (["plan", "--feed", FEED, "--days"], "error: Option '--days' requires an argument"),
    (["plan", "--feed", FEED_DIR], "error: --feed: file"),
    (["plan", "--feed", "/nonexistent/loans.csv"], "error: /nonexistent/loans.csv: feed file"),
    (["plan", "--feed", CONTEXT], "error: "),  # .json is not a feed format
    (["plan", "--feed", FEED, "--format", "xml"], "error: --format:"),
    (["plan", "--feed", FEED, "--at", "tomorrow"], "error: --at: expected ISO 8601"),
    (["plan", "--feed", FEED, "--at", "2026-12-01T10:00"], "error: --at: needs a UTC offset"),
    (["plan", "--feed", FEED, "--config", FEED_DIR], "error: --config:"),
    (["plan", "--feed", FEED, "--config", "/nonexistent.toml"], "error: /nonexistent.toml"),
    (["plan", "--feed", FEED, "--templates", FEED], "error: --templates:"),
    (["lint", "--samples", FEED], "error: --samples:"),
    (["lint", "/nonexistent"], "error: /nonexistent: no such file or directory"),
    (["lint", "--format"], "error: Option '--format' requires an argument"),
    (["lint", "--show-explained=yes"], "error: Option '--show-explained' does not take"),
    (["demo", "--config"], "error: Option '--config' requires an argument"),
    (["nosuchcommand"], "error: No such command"),
    (["--bogus"], "error: No such option: --bogus"),
]


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        run(app, args)
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


@pytest.mark.parametrize(("args", "start"), WRONG, ids=[" ".join(a)[:60] for a, _ in WRONG])
def test_a_usage_error_is_one_line_exit_2(
    args: list[str], start: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(args, capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith(start), err
    for box in ("╭", "│", "Usage:", "Traceback", "Value error"):
        assert box not in err


def test_there_are_at_least_twenty_wrong_invocations() -> None:
    assert len(WRONG) >= 20


def test_parser_messages_read_plainly() -> None:
    assert usage_message("Invalid value for '--days': Value error, bad\n thing.") == (
        "--days: bad thing"
    )
    assert usage_message("Missing option '--feed'.") == "--feed: required"


def test_every_command_help_has_readable_labels(capsys: pytest.CaptureFixture[str]) -> None:
    code, _root, _ = invoke(["--help"], capsys)
    assert code == 0
    names = [name for name in _command_names() if name]
    assert {"demo", "lint", "plan", "preview"} <= set(names)
    for name in names:
        code, out, err = invoke([name, "--help"], capsys)
        assert (code, err) == (0, ""), name
        for python_type in ("<bool>", "<list", "<file>", "<dir>", "<int", "<str>", "<path>"):
            assert python_type not in out, (name, python_type)
    code, out, _ = invoke(["plan", "--help"], capsys)
    assert "FILE" in out
    assert "N" in out
    assert "text|json" in out


def _command_names() -> list[str]:
    from typer.main import get_command

    group = get_command(app)
    return sorted(getattr(group, "commands", {}))


def test_a_sub_app_gets_the_same_labels_and_one_line_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Commands added later as sub-apps (``remindkit outbox list``) get it without asking.
    root = typer.Typer(cls=ReadableGroup, add_completion=False)
    outbox = typer.Typer()

    @root.callback()
    def _root() -> None: ...

    @outbox.command("list")
    def _list(
        limit: Annotated[int, typer.Option("--limit", min=1)] = 10,
        raw: Annotated[bool, typer.Option("--raw")] = False,
        db: Annotated[Path | None, typer.Option("--db", dir_okay=False)] = None,
    ) -> None: ...

    root.add_typer(outbox, name="outbox")
    with pytest.raises(SystemExit):
        run(root, ["outbox", "list", "--help"])
    shown = capsys.readouterr().out
    assert "FILE" in shown
    assert "<bool>" not in shown
    assert "<int" not in shown
    with pytest.raises(SystemExit) as exited:
        run(root, ["outbox", "list", "--limit", "0"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "error: --limit: must be at least 1\n"
