"""``remindkit init DIR``: a working site to start from (SPEC §9).

Writes, refusing to overwrite anything::

    DIR/config/remindkit.toml   the platform to fill in, store, providers, feed, service
    DIR/templates/zh_CN/…       a copy of the shipped templates, for the content team
    DIR/feeds/sample.csv        a small sample feed
    DIR/remindkit.service       a systemd unit for this site (an example to adapt)
    DIR/README.md               how to run it: once, from cron, as a service

Paths in the config are absolute, so commands work from any directory. With the platform
given (``--name`` …) the site plans and "sends" at once: the ``file`` provider appends
each message to ``DIR/data/sent.jsonl``. Without it, ``[platform]`` is written with empty
values to fill in, and planning refuses until then, naming the key.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from remindkit.config import PlatformSettings
from remindkit.errors import ArgumentError
from remindkit.resources import shipped_path, shipped_sample_feed, shipped_templates_dir

_FIELDS = ("name", "signature", "hotline", "app_name", "repay_url")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteFiles:
    root: Path
    config: Path
    templates: Path
    feed: Path
    unit: Path
    readme: Path


def scaffold(root: Path, platform: PlatformSettings | None = None) -> SiteFiles:
    """Create the site under ``root`` (new, or an empty directory)."""
    root = root.expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ArgumentError("DIR", f"{root} exists and is not empty: init never overwrites")
    files = SiteFiles(
        root=root,
        config=root / "config" / "remindkit.toml",
        templates=root / "templates",
        feed=root / "feeds" / "sample.csv",
        unit=root / "remindkit.service",
        readme=root / "README.md",
    )
    for folder in (files.config.parent, files.feed.parent, root / "data"):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(shipped_templates_dir(), files.templates)
    shutil.copyfile(shipped_sample_feed(), files.feed)
    files.config.write_text(_config(files, platform), encoding="utf-8")
    files.unit.write_text(_unit(files), encoding="utf-8")
    files.readme.write_text(_readme(files, platform is not None), encoding="utf-8")
    return files


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _platform(platform: PlatformSettings | None) -> str:
    if platform is None:
        lines = ["# 填写贵司信息后才能计划和发送 / Fill in before planning and sending:"]
        lines += [f'{field} = ""' for field in _FIELDS]
        return "[platform]\n" + "\n".join(lines)
    values = platform.model_dump()
    lines = [f"{field} = {_toml(str(values[field]))}" for field in _FIELDS]
    offers = ", ".join(_toml(offer) for offer in platform.offers)
    return "[platform]\n" + "\n".join(lines) + f"\noffers = [{offers}]"


def _config(files: SiteFiles, platform: PlatformSettings | None) -> str:
    data = files.root / "data"
    return f"""# remindkit site configuration (remindkit init). Every key: the documented example
# config/remindkit.toml of remindkit. Secrets never go here: providers read the environment.

{_platform(platform)}

[templates]
dir = {_toml(str(files.templates))}
locale = "zh_CN"

[store]
url = {_toml("sqlite:///" + str(data / "remindkit.db"))}

[providers]
# "file" appends every message to a JSON Lines file: switch to twilio / fcm / http to send.
sms = "file"
push = "file"

[providers.file]
path = {_toml(str(data / "sent.jsonl"))}

[feed]
source = "csv"
path = {_toml(str(files.feed))}

[service]
# remindkit run: plan at 08:30 Beijing time (and at start), dispatch every 15 s.
plan_cron = "30 8 * * *"
timezone = "Asia/Shanghai"
dispatch_seconds = 15
http_host = "127.0.0.1"
http_port = 9464
log_format = "text"
"""


def _unit(files: SiteFiles) -> str:
    template = shipped_path("config", "systemd", "remindkit.service").read_text(encoding="utf-8")
    executable = Path(sys.executable).with_name("remindkit")
    return template.replace("/opt/remindkit/site", str(files.root)).replace(
        "/opt/remindkit/venv/bin/remindkit", str(executable)
    )


def _readme(files: SiteFiles, ready: bool) -> str:
    config = files.config
    first = (
        "The platform is filled in: the commands below work now."
        if ready
        else f"First fill in `[platform]` in `{config}` (planning refuses until then)."
    )
    return f"""# remindkit site

{first}

- Check the templates: `remindkit lint {files.templates} --config {config}`
- Preview the plan: `remindkit plan --feed {files.feed} --config {config}`
- One pass (from cron): `remindkit run --once --config {config}`
- As a service: `remindkit run --config {config}` (SIGTERM stops it cleanly);
  `{files.unit.name}` is a systemd unit for this site.
- What happened: `remindkit status --config {config}`, `remindkit outbox list --config {config}`

Messages go to `{files.root / "data" / "sent.jsonl"}` (the `file` provider) until
`[providers]` names a real one. The content team edits `{files.templates}`.
"""
