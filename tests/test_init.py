"""``remindkit init DIR``: a site that works at once with the platform given, and one that
asks for it otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

REMINDKIT = [sys.executable, "-m", "remindkit"]
PLATFORM = ["--name", "青禾金融", "--signature", "青禾金融", "--hotline", "400-800-1234",
            "--app-name", "青禾App", "--repay-url", "https://qinghe.example.cn/repay"]  # fmt: skip


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REMINDKIT, *args], check=False, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_a_site_with_its_platform_runs_at_once(tmp_path: Path) -> None:
    site = tmp_path / "site"
    made = run("init", str(site), *PLATFORM, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    config = site / "config" / "remindkit.toml"
    assert tomllib.loads(config.read_text(encoding="utf-8"))["platform"]["name"] == "青禾金融"
    assert (site / "templates" / "zh_CN").is_dir()
    assert "ExecStart=" in (site / "remindkit.service").read_text(encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()  # absolute paths: works from any directory
    once = run("run", "--once", "--at", "2026-12-01T10:30:00+08:00", "--config", str(config),
               "--format", "json", cwd=elsewhere)  # fmt: skip
    assert once.returncode == 1, once.stderr  # the sample feed has two bad rows, on purpose
    report = json.loads(once.stdout)
    assert report["enqueued"]["inserted"] > 0
    assert report["dispatch"]["counts"]["sent"] > 0
    sent = (site / "data" / "sent.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(sent) == report["dispatch"]["counts"]["sent"]
    assert any("【青禾金融】" in line for line in sent)  # signed by the site's lender
    assert not any("禾苗金融" in line for line in sent)  # never by the fictional sample lender
    lint = run("lint", str(site / "templates"), "--config", str(config), cwd=elsewhere)
    assert lint.returncode == 0, lint.stdout


def test_without_a_platform_the_site_asks_for_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("init", str(site), cwd=tmp_path).returncode == 0
    config = site / "config" / "remindkit.toml"
    once = run("run", "--once", "--config", str(config), cwd=tmp_path)
    assert once.returncode == 2
    assert "platform.name" in once.stderr
    again = run("init", str(site), cwd=tmp_path)
    assert again.returncode == 2
    assert "not empty" in again.stderr
    partial = run("init", str(tmp_path / "other"), "--name", "青禾金融", cwd=tmp_path)
    assert partial.returncode == 2
    assert "--signature" in partial.stderr
