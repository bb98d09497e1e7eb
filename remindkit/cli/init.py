"""``remindkit init DIR``: scaffold a working site (:mod:`remindkit.site`).

``--name``, ``--signature``, ``--hotline``, ``--app-name``, ``--repay-url`` fill in the
platform (all five, or none: then ``[platform]`` is written to fill in). Exit 0 with the
files written; 2 when DIR is not empty or a platform value is refused (naming it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from remindkit.cli import app
from remindkit.cli.common import fail, stdout, usage_errors
from remindkit.config import PlatformSettings


@app.command("init")
def init_command(
    directory: Annotated[Path, typer.Argument(help="Where the site goes (new or empty).")],
    name: Annotated[str | None, typer.Option("--name", help="platform.name")] = None,
    signature: Annotated[
        str | None, typer.Option("--signature", help="platform.signature (SMS 【签名】)")
    ] = None,
    hotline: Annotated[str | None, typer.Option("--hotline", help="platform.hotline")] = None,
    app_name: Annotated[str | None, typer.Option("--app-name", help="platform.app_name")] = None,
    repay_url: Annotated[str | None, typer.Option("--repay-url", help="platform.repay_url")] = None,
) -> None:
    """Scaffold a site: config, templates, a sample feed, a systemd unit and a README."""
    from remindkit.site import scaffold  # noqa: PLC0415 - copies files: only when asked

    given = {
        "name": name, "signature": signature, "hotline": hotline, "app_name": app_name,
        "repay_url": repay_url,
    }  # fmt: skip
    missing = [f"--{key.replace('_', '-')}" for key, value in given.items() if value is None]
    platform = None
    if len(missing) < len(given):
        if missing:
            fail(f"the platform needs all five values; missing: {', '.join(missing)}")
        with usage_errors():
            platform = PlatformSettings.model_validate(given)
    with usage_errors():
        files = scaffold(directory, platform)
    stdout.print(f"已创建站点 {files.root}")
    for path in (files.config, files.templates, files.feed, files.unit, files.readme):
        stdout.print(f"  {path}")
    if platform is None:
        stdout.print(f"下一步：在 {files.config} 的 [platform] 中填写贵司信息。")
    else:
        stdout.print(f"试运行：remindkit run --once --config {files.config}")
