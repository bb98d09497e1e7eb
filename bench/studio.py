"""Benchmark the studio's round trip per keystroke (SPEC §10: ≤ 100 ms, largest template).

    .venv/bin/python bench/studio.py                    # 60 keystrokes, 5 naive runs
    .venv/bin/python bench/studio.py --keystrokes 200 --naive 3

Starts ``remindkit studio`` in its own process over a copy of the shipped templates
(uvicorn on 127.0.0.1, a free port), picks the largest template of the catalog, and
types a sentence into it one character at a time: each keystroke is one
``POST /api/check`` with the whole draft, as the page sends it, answered with the lint
findings, the phone preview for the chosen sample and every variant side by side.
Prints the round trip (measured by the client: HTTP and JSON included) and the server's
share, beside the naive baseline: write the draft to its file and run ``remindkit lint``
on the templates, per keystroke.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from remindkit.render import TemplateCatalog
from remindkit.resources import shipped_templates_dir
from remindkit.web import TOKEN_HEADER

EXE = Path(sys.executable).with_name("remindkit")
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)")
TYPED = "如您已经还款，请忽略本条提醒；如有疑问，欢迎随时联系我们。"


def largest(templates: Path) -> tuple[str, Path, str]:
    catalog = TemplateCatalog(templates)
    files = [catalog.get(template_id) for template_id in catalog.ids()]
    chosen = max(files, key=lambda f: len(f.source))
    return chosen.template_id, chosen.path, chosen.source


def drafts(source: str, count: int) -> list[str]:
    """``count`` drafts, each one character more of ``TYPED`` where a writer would add it:
    at the end of the text (of the push body, before its ``{% endblock %}``)."""
    body = source.rstrip("\n")
    cut = body.rfind("{% endblock %}")
    head, tail = (body, "") if cut < 0 else (body[:cut], body[cut:])
    text = (TYPED * (count // len(TYPED) + 1))[:count]
    return [f"{head}{text[: n + 1]}{tail}\n" for n in range(count)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def studio_process(templates: Path) -> Iterator[tuple[str, str]]:
    """``remindkit studio`` in its own process, as a writer runs it: (base URL, token)."""
    process = subprocess.Popen(
        [str(EXE), "studio", "--templates", str(templates)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # ends if the process dies; it prints four lines
            match = LINK.search(line)
            if match is not None:
                yield match.group(1), match.group(2)
                break
        else:
            raise RuntimeError("remindkit studio did not start")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def studio_round_trips(
    templates: Path, template_id: str, texts: list[str]
) -> tuple[list[float], list[float]]:
    client_ms: list[float] = []
    server_ms: list[float] = []
    with studio_process(templates) as (base, token), httpx2.Client(base_url=base) as http:
        headers = {TOKEN_HEADER: token, "Origin": base}
        for text in [texts[0], *texts]:  # the first request warms the lexicon and caches
            start = time.perf_counter()
            response = http.post(
                "/api/check", json={"template_id": template_id, "source": text}, headers=headers
            )
            client_ms.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            server_ms.append(response.json()["elapsed_ms"])
    return client_ms[1:], server_ms[1:]


def naive_round_trips(templates: Path, path: Path, texts: list[str], runs: int) -> list[float]:
    times = []
    for text in texts[:runs]:
        start = time.perf_counter()
        path.write_text(text, encoding="utf-8")
        subprocess.run(
            [str(EXE), "lint", "--format", "json", str(templates)],
            capture_output=True,
            check=False,
            env={**os.environ, "COLUMNS": "200"},
        )
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keystrokes", type=int, default=60)
    parser.add_argument("--naive", type=int, default=5, help="keystrokes for the naive baseline")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        templates = Path(scratch) / "templates"
        shutil.copytree(shipped_templates_dir(), templates)
        template_id, path, source = largest(templates)
        texts = drafts(source, args.keystrokes)
        client_ms, server_ms = studio_round_trips(templates, template_id, texts)
        naive_ms = naive_round_trips(templates, path, texts, args.naive)
    studio = statistics.median(client_ms)
    naive = statistics.median(naive_ms)
    print(f"largest shipped template: {template_id} ({len(source)} characters)")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    print()
    print("| per keystroke | median | p90 | max | vs naive |")
    print("|---|---|---|---|---|")
    print(
        f"| studio `POST /api/check` round trip ({len(client_ms)} keystrokes) "
        f"| {studio:.1f} ms | {percentile(client_ms, 0.9):.1f} ms | {max(client_ms):.1f} ms "
        f"| {naive / studio:.0f}× |"
    )
    print(
        f"| of which lint + preview + variants in the server "
        f"| {statistics.median(server_ms):.1f} ms | {percentile(server_ms, 0.9):.1f} ms "
        f"| {max(server_ms):.1f} ms | |"
    )
    print(
        f"| naive: write the file, `remindkit lint` the templates ({len(naive_ms)} keystrokes) "
        f"| {naive:.0f} ms | {percentile(naive_ms, 0.9):.0f} ms | {max(naive_ms):.0f} ms | 1× |"
    )
    print()
    verdict = "meets" if studio <= 100 else "misses"
    print(f"target ≤ 100 ms per keystroke: {verdict} it (median {studio:.1f} ms)")


if __name__ == "__main__":
    main()
