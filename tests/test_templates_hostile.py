"""Hostile templates cannot exhaust a machine: each is refused or rendered harmlessly within
2 s of CPU and 200 MB, in preview, render and lint (the corpus: ``hostile_templates.py``).

The corpus runs in a subprocess per mode with its address space capped, so a template that
escaped its budgets would end that process rather than this test run; the subprocess
reports, per template, the CPU time and the rise of its peak memory. Property tests then
compose growth and nesting at random and render in this process.
"""

from __future__ import annotations

import functools
import json
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hostile_templates import HOSTILE, META
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remindkit.errors import TemplateError
from remindkit.render import MessageContext, Renderer, TemplateCatalog
from remindkit.render.budget import MAX_OUTPUT
from remindkit.testing import demo_platform, make_installment

CHILD = Path(__file__).resolve().parent / "hostile_child.py"
# The property tests render in this thread: its own CPU time, not the process's (other
# tests' server and dispatcher threads may still be running in this process).
CPU_SECONDS = 2.0
PEAK_RISE_MB = 200
ADDRESS_SPACE = 3 << 30  # the child's cap: far above what a template may take
SAMPLE_PHONE = "13800138000"  # config/samples/pre_due.json
# What a Python repr or an internal looks like in a message.
LEAKS = re.compile(r"object at 0x|View\(|Decimal\(|datetime\.|mappingproxy|<[a-z_]+ |Traceback")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def test_the_corpus_has_at_least_sixty_templates() -> None:
    assert len(HOSTILE) >= 60
    assert len({name for name, _ in HOSTILE}) == len(HOSTILE)


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@functools.cache
def run_corpus(mode: str) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, str(CHILD), mode],
        capture_output=True,
        text=True,
        timeout=600,  # a safety net against a hung suite, not a speed assertion
        preexec_fn=_cap_address_space,
        check=False,
    )
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == len(HOSTILE), completed.stderr[-2000:]
    return lines


@pytest.mark.parametrize("mode", ["render", "preview", "lint"])
def test_every_hostile_template_is_refused_or_harmless(mode: str) -> None:
    problems = [
        f"{result['name']}: {problem}"
        for result in run_corpus(mode)
        for problem in _problems(result)
    ]
    assert problems == []


def _problems(result: dict[str, Any]) -> list[str]:
    problems = []
    if result["outcome"] == "crash":
        problems.append(f"crashed: {result['text'][-500:]}")
    if result["cpu_seconds"] > CPU_SECONDS:
        problems.append(f"took {result['cpu_seconds']} s of CPU")
    if result["peak_rise_mb"] > PEAK_RISE_MB:
        problems.append(f"took {result['peak_rise_mb']} MB")
    if result.get("budget") == "memory":
        problems.append("stopped by running out of memory, not by a budget")
    if result["outcome"] == "shown":
        text = result["text"]
        if LEAKS.search(text):
            problems.append(f"shows an internal: {text[:200]}")
        if SAMPLE_PHONE in re.sub(r"\D", "", text):
            problems.append(f"shows the full phone number: {text[:200]}")
        if len(text) > MAX_OUTPUT + 1000:
            problems.append(f"shows {len(text):,} characters")
    return problems


def test_refusals_name_template_line_and_budget() -> None:
    results = {result["name"]: result for result in run_corpus("render")}
    growth = results["list sum growth"]
    assert growth["budget"] == "value size"
    assert growth["text"].startswith("pre_due/sms:11: over the value size budget (10,000 ")
    assert results["slow sort in a loop"]["budget"] == "CPU time"
    assert results["block-set growth"]["budget"] == "output size"
    assert results["amount squared"]["budget"] == "number size"
    assert results["oversized file"]["budget"] == "template size"
    assert results["deep parentheses"]["budget"] == "nesting"


# --- property tests: growth and nesting composed at random ------------------------------------

SEEDS = ['"ab"', "borrower.name", "loan.id", "[1, 2]", "loan.amount_due", "loans", "7", "1.5"]
GROWTH = [
    lambda v, k: "~".join([v] * k),
    lambda v, k: "+".join([v] * k),
    lambda v, k: "[" + ",".join([v] * k) + "]",
    lambda v, k: "[" + ",".join([v] * k) + "]|sum(start=[])",
    lambda v, k: f"[{v}]|join({v})",
    lambda v, k: f"({v})|replace('a', {v})",
    lambda v, k: f"({v}) * ({v})",
    lambda v, k: f"({v}) * {k}",
    lambda v, k: f"({v})|list|sort|unique|list",
    lambda v, k: f"(({v})|string)|upper",
    lambda v, k: f"({v})|reverse",
    lambda v, k: f"({v})|truncate({k * 1000})",
]


@st.composite
def growing_templates(draw: st.DrawFn) -> str:
    """A seed value grown by a random chain of steps, some as block sets or in loops."""
    body = f"{{% set v = {draw(st.sampled_from(SEEDS))} %}}"
    for _ in range(draw(st.integers(1, 12))):
        step = draw(st.sampled_from(GROWTH))("v", draw(st.integers(2, 10)))
        wrapper = draw(st.integers(0, 3))
        if wrapper == 1:
            body += f"{{% set v %}}{{{{ {step} }}}}{{{{ {step} }}}}{{% endset %}}"
        elif wrapper == 2:
            body += f"{{% for i in range(10) %}}{{% set w = {step} %}}{{% endfor %}}"
            body += f"{{% set v = {step} %}}"
        else:
            body += f"{{% set v = {step} %}}"
    return body + "{{ v }}"


def render_once(body: str, root: Path) -> str | TemplateError:
    """The SMS text of ``body`` for a sample borrower, or the template error it ended in."""
    path = root / "zh_CN" / "pre_due" / "sms.j2"
    path.parent.mkdir(parents=True)
    path.write_text(META + body, encoding="utf-8")
    renderer = Renderer(TemplateCatalog(root), demo_platform())
    context = MessageContext(installments=(make_installment(),), now=NOW)
    try:
        return renderer.render("pre_due/sms", context).text or ""
    except TemplateError as exc:
        return exc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=growing_templates())
def test_growth_in_any_combination_is_bounded(tmp_path_factory: Any, body: str) -> None:
    tracemalloc.start()
    started = time.thread_time()
    try:
        outcome = render_once(body, tmp_path_factory.mktemp("growth") / "templates")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.thread_time() - started < CPU_SECONDS
    assert peak < PEAK_RISE_MB << 20
    if isinstance(outcome, TemplateError):
        assert str(outcome).startswith("pre_due/sms")
        assert getattr(outcome, "budget", None) != "memory"
    else:
        assert len(outcome) <= MAX_OUTPUT + 100
        assert not LEAKS.search(outcome), outcome[:200]


@st.composite
def nested_templates(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 400))
    kind = draw(st.sampled_from(["paren", "list", "filter", "macro", "loop", "if"]))
    if kind == "paren":
        return "{{ " + "(" * depth + "loan.tail" + ")" * depth + " }}"
    if kind == "list":
        return "{{ " + "[" * depth + "1" + "]" * depth + "|length }}"
    if kind == "filter":
        return "{{ loan.tail" + "|lower" * depth + " }}"
    if kind == "macro":
        macro = "{% macro m(n) %}{% if n %}{{ m(n - 1) }}x{% endif %}{% endmacro %}"
        return macro + f"{{{{ m({depth}) }}}}"
    if kind == "loop":
        loops = min(depth, 30)
        return "{% for i in range(3) %}" * loops + "x" + "{% endfor %}" * loops
    return "{% if true %}" * depth + "x" + "{% endif %}" * depth


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=nested_templates())
def test_nesting_of_any_depth_is_refused_or_rendered(tmp_path_factory: Any, body: str) -> None:
    started = time.thread_time()
    outcome = render_once(body, tmp_path_factory.mktemp("nesting") / "templates")
    assert time.thread_time() - started < CPU_SECONDS
    assert isinstance(outcome, str) or str(outcome).startswith("pre_due/sms")
