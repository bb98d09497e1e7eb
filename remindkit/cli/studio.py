"""``remindkit studio``: the content team's template studio, served on 127.0.0.1.

Prints a link with this run's access token (as notebook servers do) and serves until
Ctrl-C. Needs the ``web`` extra. The templates dir is resolved like every command's; the
copy installed inside the package opens read-only.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from remindkit.cli import app
from remindkit.cli.common import (
    ConfigOption,
    TemplatesOption,
    fail,
    load_cli_settings,
    note_sample_platform,
    preview_platform,
    resolve_templates_dir,
    stdout,
    uses_sample_platform,
)
from remindkit.lint import default_samples_dir
from remindkit.resources import SAMPLE_PLATFORM_NOTE, is_installed_copy

LOOPBACK = "127.0.0.1"
INSTALL_HINT = "pip install 'remindkit[web]'"


@app.command("studio")
def studio_command(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free one).")
    ] = 0,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
) -> None:
    """Edit templates in the browser: live phone preview, SMS parts and lint findings."""
    try:
        from remindkit.studio import StudioOptions, create_studio_app, new_token  # noqa: PLC0415
        from remindkit.web import bind, serve  # noqa: PLC0415 - the web extra is optional
    except ImportError as exc:
        missing = exc.name or "starlette"
        fail(f"remindkit studio needs the web extra ({missing} is missing): {INSTALL_HINT}")
    settings = load_cli_settings(config)
    root = resolve_templates_dir(templates, settings)
    options = StudioOptions(
        templates_dir=root,
        platform=preview_platform(settings),
        samples_dir=default_samples_dir(),
        token=new_token(),
        locale=settings.locale,
        writable=not is_installed_copy(root),
        notice=SAMPLE_PLATFORM_NOTE if uses_sample_platform(settings) else None,
    )
    application = create_studio_app(options)
    try:
        bound = bind(LOOPBACK, port)
    except OSError as exc:
        fail(f"--port: cannot listen on {LOOPBACK}:{port}: {exc.strerror or exc}")

    def announce() -> None:
        stdout.print("remindkit 模板工作台已启动，在浏览器中打开：")
        stdout.print(f"    {bound.base_url}/?token={options.token}", soft_wrap=True, markup=False)
        read_only = "" if options.writable else "（随软件安装的模板，只读）"
        stdout.print(f"模板目录：{escape(str(root.resolve()))}{read_only}", soft_wrap=True)
        stdout.print("按 Ctrl+C 停止。")
        note_sample_platform(settings)

    serve(application, bound, on_started=announce)
