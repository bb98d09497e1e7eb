"""``remindkit studio`` as a writer starts it: a process printing a link with its token."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
from studio_support import copy_templates
from typer.testing import CliRunner

from remindkit.cli import _register, app

LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)")
START_TIMEOUT = 60.0


def start_studio(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from remindkit.cli import main; main()", "studio", *args]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def read_until_link(process: subprocess.Popen[str]) -> tuple[str, str, list[str]]:
    """The base URL and token from the studio's output, and the lines it printed."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            continue
        seen.append(line)
        if (match := LINK.search(line)) is not None:
            # Two more lines follow the link: the directory and how to stop.
            seen += [lines.get(timeout=START_TIMEOUT), lines.get(timeout=START_TIMEOUT)]
            return match.group(1), match.group(2), seen
    raise AssertionError(f"no link within {START_TIMEOUT:.0f} s: {seen}")


def test_studio_prints_a_token_link_serves_it_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path / "templates")
    process = start_studio("--templates", str(templates), "--port", "0")
    try:
        base, token, lines = read_until_link(process)
        assert str(templates.resolve()) in "".join(lines)
        with httpx2.Client(base_url=base, timeout=10, follow_redirects=True) as http:
            assert http.get("/").status_code == 401
            opened = http.get(f"/?token={token}")  # follows the redirect, keeps the cookie
            assert opened.status_code == 200
            assert "模板工作台" in opened.text
            listing = http.get("/api/templates")
            assert listing.status_code == 200
            assert any(e["template_id"] == "overdue/sms" for e in listing.json()["templates"])
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_each_run_has_its_own_token(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path / "templates")
    tokens = []
    for _ in range(2):
        process = start_studio("--templates", str(templates))
        try:
            tokens.append(read_until_link(process)[1])
        finally:
            process.terminate()
            assert process.wait(timeout=15) == 0
    assert tokens[0] != tokens[1]
    assert len(tokens[0]) >= 40


def test_a_bad_templates_dir_or_port_is_a_usage_error(tmp_path: Path) -> None:
    _register()
    runner = CliRunner()
    missing = runner.invoke(app, ["studio", "--templates", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert runner.invoke(app, ["studio", "--port", "70000"]).exit_code == 2
