"""``remindkit preview``: render one template for one borrower exactly as the phone shows it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.text import Text

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    AtOption,
    ConfigOption,
    FormatOption,
    OutputFormat,
    TemplatesOption,
    fail,
    load_cli_settings,
    parse_at,
    print_json,
    resolve_templates_dir,
    stderr,
    stdout,
    usage_errors,
)
from remindkit.clock import SystemClock
from remindkit.context import PreviewInput, load_preview_input
from remindkit.errors import TemplateError, TemplateNotFoundError
from remindkit.render import MessageContext, Rendered, Renderer, TemplateCatalog


@app.command()
def preview(
    template_id: Annotated[
        str, typer.Argument(help="Template id, e.g. pre_due/sms or overdue_early/sms.b")
    ],
    context: Annotated[
        Path,
        typer.Option(
            "--context", help='JSON file: {"borrower": {...}, "loan": {...}, "now"?, "platform"?}'
        ),
    ],
    locale: Annotated[
        str | None, typer.Option("--locale", help="Locale, e.g. zh_CN, zh_HK.")
    ] = None,
    at: AtOption = None,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Render TEMPLATE_ID for the borrower in --context; show SMS length and parts."""
    settings = load_cli_settings(config)
    catalog = TemplateCatalog(resolve_templates_dir(templates, settings))
    with usage_errors():
        given = load_preview_input(context, settings.platform.to_platform())
    now = parse_at(at) or given.now or SystemClock().now()
    rendered = _render(catalog, given, template_id, now, locale or settings.locale)
    limit = catalog.get(rendered.template_id, rendered.locale).meta.max_parts
    if output is OutputFormat.JSON:
        print_json(rendered.as_dict())
    else:
        _print_text(rendered, limit)
    if rendered.length is not None and rendered.length.segments > limit:
        stderr.print(
            f"{rendered.template_id}: {rendered.length.segments} SMS parts, "
            f"more than the {limit} its metadata allows (max_parts)"
        )
        raise typer.Exit(EXIT_FINDINGS)


def _render(
    catalog: TemplateCatalog, given: PreviewInput, template_id: str, now: datetime, locale: str
) -> Rendered:
    renderer = Renderer(catalog, given.platform)
    message = MessageContext(installments=given.installments, now=now)
    try:
        return renderer.render(template_id, message, locale)
    except TemplateNotFoundError as exc:
        fail(str(exc))
    except TemplateError as exc:
        fail(str(exc), EXIT_FINDINGS)


def _print_text(rendered: Rendered, limit: int) -> None:
    heading = f"{rendered.template_id} · {rendered.locale} · 版本 {rendered.variant}"
    if rendered.text is not None and rendered.length is not None:
        length = rendered.length
        over = length.segments > limit
        summary = f"{length.chars} 字 · {length.encoding} · {length.segments} 条" + (
            f"（超过允许的 {limit} 条）" if over else ""
        )
        stdout.print(Panel(Text(rendered.text), title=heading, subtitle=summary, expand=False))
        return
    body = Text(rendered.title or "", style="bold") + Text("\n") + Text(rendered.body or "")
    stdout.print(Panel(body, title=heading, subtitle="推送通知", expand=False))
