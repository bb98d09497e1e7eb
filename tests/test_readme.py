"""Every example of the README runs verbatim, from where the README says to run it.

The convention (also stated in the README, under "Set-up"), for whoever adds a section:

- A fenced ```sh block runs from the repository root with ``.venv/bin`` first on ``PATH``
  (as after ``. .venv/bin/activate``): one command per line, ``\\`` continues a line, blank
  and ``#`` lines are skipped. Each command must exit 0, unless the line ends with
  ``# exit N`` (then it must exit N: say why in the text around it).
- A fenced ```python block runs in a fresh empty directory, with remindkit installed from
  its wheel (built once per test run), never from the checkout. A comment line starting with
  ``# 【`` is an SMS the block prints: it must appear in the output.
- ```text, ```toml, ```json, ```jinja, ```yaml, ```ini and bare ``` blocks are shown, not
  run. A block right after a line ``<!-- not run: why -->`` is shown, not run (the set-up
  commands themselves, a command that starts a daemon, …).
- Any other language is an error here: pick one of the above.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RUN = frozenset({"sh", "python"})
SHOWN = frozenset({"", "text", "toml", "json", "jinja", "yaml", "ini"})
_FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_NOT_RUN = re.compile(r"<!--\s*not run:\s*\S.*-->\s*\Z")
_EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*\Z")
TIMEOUT = 120


@dataclass(frozen=True, slots=True)
class Block:
    language: str
    code: str
    line: int  # of the opening fence, 1-based
    skipped: bool

    @property
    def name(self) -> str:
        return f"README.md:{self.line} ({self.language or 'bare'})"


def blocks(text: str) -> Iterator[Block]:
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        yield Block(
            language=match[1],
            code=match[2],
            line=text.count("\n", 0, match.start()) + 1,
            skipped=bool(_NOT_RUN.search(before)),
        )


ALL = list(blocks(README.read_text(encoding="utf-8")))
SH = [block for block in ALL if block.language == "sh" and not block.skipped]
PYTHON = [block for block in ALL if block.language == "python" and not block.skipped]


def commands(code: str) -> Iterator[tuple[str, int]]:
    """(command, expected exit code) for each logical line of a shell block."""
    logical = re.sub(r"\\\n\s*", " ", code)
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        expected = _EXIT.search(line)
        yield (line[: expected.start()] if expected else line), int(expected[1]) if expected else 0


def test_every_block_follows_the_convention() -> None:
    assert SH, "the README has no runnable shell example"
    assert PYTHON, "the README has no runnable Python example"
    unknown = [b.name for b in ALL if b.language not in RUN | SHOWN and not b.skipped]
    assert unknown == [], f"use ```sh, ```python or a shown language: {unknown}"


def test_the_section_lint_messages_cite_exists() -> None:
    # Lint's undefined-variable messages send writers to the README's "模板变量" section.
    assert "### 模板变量" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("block", SH, ids=[block.name for block in SH])
def test_shell_examples_run_from_the_repository_root(block: Block) -> None:
    venv_bin = ROOT / ".venv" / "bin"
    if not (venv_bin / "remindkit").exists():
        venv_bin = Path(sys.executable).parent  # a CI that installed remindkit elsewhere
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("REMINDKIT_CONFIG", None)
    for command, expected in commands(block.code):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == expected, (
            f"{block.name}: `{command}` exited {done.returncode}, expected {expected}\n"
            f"{done.stderr[-2000:]}"
        )
        assert "Traceback" not in done.stderr, done.stderr


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """remindkit installed from a wheel built from this checkout, apart from the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", str(ROOT), "--no-deps", "--wheel-dir", str(work / "dist")],
        check=True,
        timeout=TIMEOUT * 2,
    )
    (wheel,) = (work / "dist").glob("remindkit-*.whl")
    site = work / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        check=True,
        timeout=TIMEOUT,
    )
    return site


@pytest.mark.parametrize("block", PYTHON, ids=[block.name for block in PYTHON])
def test_python_examples_run_anywhere_from_the_wheel(
    block: Block, installed_wheel: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "a-lending-backend"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed_wheel)}
    env.pop("REMINDKIT_CONFIG", None)
    where = subprocess.run(
        [sys.executable, "-c", "import remindkit; print(remindkit.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(installed_wheel)), where  # the wheel, not the checkout
    done = subprocess.run(
        [sys.executable, "-c", block.code],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{block.name}\n{done.stderr[-3000:]}"
    for line in block.code.splitlines():
        shown = line.strip()
        if shown.startswith("# 【"):
            assert shown.removeprefix("# ") in done.stdout, (block.name, done.stdout)


def test_make_demo_needs_no_node() -> None:
    # A fresh clone on a machine without Node: the demo's install never runs npm.
    plan = subprocess.run(
        ["make", "-n", "-B", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout
    assert "pip install" in plan
    assert not any(shlex.split(line)[:1] == ["npm"] for line in plan.splitlines() if line)
