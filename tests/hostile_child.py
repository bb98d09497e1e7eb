"""Run every hostile template through one mode (preview, render or lint) in this process.

``python tests/hostile_child.py MODE`` prints one JSON line per template: its CPU seconds,
the rise of the process's peak memory (reset before each template through
``/proc/self/clear_refs``), the outcome and the text shown. Run by
``test_templates_hostile.py`` in a subprocess whose address space is capped, so a template
that escaped its budgets ends this process, not the test run.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hostile_templates import HOSTILE, META, source_of  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from remindkit.cli import _register, app  # noqa: E402
from remindkit.context import load_preview_input  # noqa: E402
from remindkit.errors import TemplateBudgetError, TemplateError  # noqa: E402
from remindkit.lint import lint_report  # noqa: E402
from remindkit.render import MessageContext, Renderer, TemplateCatalog  # noqa: E402
from remindkit.testing import demo_platform  # noqa: E402

CONTEXT = HERE.parent / "config" / "samples" / "pre_due.json"


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def preview(root: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        app, ["preview", "pre_due/sms", "--context", str(CONTEXT), "--templates", str(root)]
    )
    crashed = not isinstance(result.exception, SystemExit | None)
    return {
        "outcome": "crash" if crashed else ("shown" if result.exit_code == 0 else "refused"),
        "text": result.output,
        "exit": result.exit_code,
    }


def render(root: Path) -> dict[str, Any]:
    given = load_preview_input(CONTEXT, demo_platform())
    renderer = Renderer(TemplateCatalog(root), given.platform)
    context = MessageContext(installments=given.installments, now=given.now)
    try:
        rendered = renderer.render("pre_due/sms", context)
    except TemplateBudgetError as exc:
        return {"outcome": "refused", "text": str(exc), "budget": exc.budget}
    except TemplateError as exc:
        return {"outcome": "refused", "text": str(exc)}
    return {"outcome": "shown", "text": rendered.text or ""}


def lint(root: Path) -> dict[str, Any]:
    report = lint_report([root / "zh_CN" / "pre_due" / "sms.j2"])
    text = "\n".join(f"{f.rule.value}:{f.line}:{f.message}" for f in report.findings)
    return {"outcome": "refused" if report.errors else "shown", "text": text}


MODES = {"preview": preview, "render": render, "lint": lint}


def main(mode: str) -> None:
    _register()
    run = MODES[mode]
    root = Path(tempfile.mkdtemp()) / "templates"
    path = root / "zh_CN" / "pre_due" / "sms.j2"
    path.parent.mkdir(parents=True)
    for name, body in HOSTILE:
        path.write_text(source_of(name, body, META), encoding="utf-8")
        reset_peak()
        before, cpu = peak_mb(), time.process_time()
        try:
            outcome = run(root)
        except BaseException:  # reported, so the test names the template
            outcome = {"outcome": "crash", "text": traceback.format_exc()}
        outcome |= {
            "name": name,
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "peak_rise_mb": round(peak_mb() - before, 1),
        }
        print(json.dumps(outcome, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
