"""The studio's bundled editor: shipped in the package, self-contained, and rebuilt
byte for byte from package-lock.json by ``node frontend/build.mjs``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from remindkit.studio.routes import STATIC_DIR

ROOT = Path(__file__).resolve().parents[1]
BUILT = ("editor.js", "editor.LICENSES.txt")


def _missing(reason: str) -> NoReturn:
    message = f"{reason}; run `npm ci` at the repository root"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_the_static_files_are_inside_the_package() -> None:
    names = {path.name for path in STATIC_DIR.iterdir()}
    assert {"studio.js", "studio.css", *BUILT} <= names
    assert STATIC_DIR.is_relative_to(ROOT / "remindkit")


def test_nothing_is_loaded_from_the_network() -> None:
    page = (STATIC_DIR.parent / "page" / "index.html").read_text(encoding="utf-8")
    for text in (page, (STATIC_DIR / "studio.js").read_text(encoding="utf-8")):
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text)
        assert "https://" not in text
    css = (STATIC_DIR / "studio.css").read_text(encoding="utf-8")
    assert "url(" not in css
    assert "@import" not in css


def test_every_bundled_package_has_its_licence_shipped() -> None:
    licences = (STATIC_DIR / "editor.LICENSES.txt").read_text(encoding="utf-8")
    for name in ("@codemirror/view", "@codemirror/lang-jinja", "@lezer/common", "style-mod"):
        assert re.search(rf"^{re.escape(name)} \S+ \(MIT\)$", licences, re.MULTILINE), name
    assert licences.count("Permission is hereby granted") >= 10


@pytest.mark.node
def test_the_bundle_rebuilds_byte_for_byte(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        _missing("node is not on PATH")
    if not (ROOT / "node_modules" / "esbuild").is_dir():
        _missing("node_modules/esbuild is missing")
    completed = subprocess.run(
        [node, "frontend/build.mjs", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for name in BUILT:
        rebuilt, shipped = (tmp_path / name).read_bytes(), (STATIC_DIR / name).read_bytes()
        assert rebuilt == shipped, f"{name} differs: run `node frontend/build.mjs` and commit"
