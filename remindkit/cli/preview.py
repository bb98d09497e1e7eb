"""``remindkit preview``: render one template for one borrower exactly as the phone shows it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
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
    note_sample_platform,
    parse_at,
    preview_platform,
    print_json,
    resolve_templates_dir,
    stdout,
    usage_errors,
)
from remindkit.cli.output import PHONE_WIDTH, error_line, framed, print_lines, wrap
from remindkit.clock import SystemClock
from remindkit.context import PreviewInput, load_preview_input
from remindkit.errors import TemplateError, TemplateNotFoundError
from remindkit.models import Channel
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
        given = load_preview_input(context, preview_platform(settings))
    now = parse_at(at) or given.now or SystemClock().now()
    rendered = _render(catalog, given, template_id, now, locale or settings.locale)
    limit = catalog.get(rendered.template_id, rendered.locale).meta.max_parts
    if output is OutputFormat.JSON:
        print_json(rendered.as_dict())
    else:
        _print_text(rendered, limit)
    too_long = rendered.length is not None and rendered.length.segments > limit
    if rendered.length is not None and too_long:
        error_line(
            f"{rendered.template_id}: {rendered.length.segments} SMS parts, "
            f"more than the {limit} its metadata allows (max_parts)"
        )
    note_sample_platform(settings)
    if too_long:
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
    kind = "短信" if rendered.channel is Channel.SMS else "推送"
    heading = f"{rendered.template_id} · {rendered.locale} · 版本 {rendered.variant} · {kind}"
    if rendered.length is not None:
        length = rendered.length
        summary = f"{length.chars} 字 · {length.encoding} · {length.segments} 条短信"
        if length.segments > limit:
            summary += f"（超过元数据允许的 {limit} 条）"
        body = [Text(line) for line in wrap(rendered.text, PHONE_WIDTH)]
    else:
        summary = "推送通知：标题和正文"
        body = [Text(line, style="bold") for line in wrap(rendered.title or "", PHONE_WIDTH)]
        body += [Text(line) for line in wrap(rendered.body or "", PHONE_WIDTH)]
    print_lines(framed(heading, body, summary, width=stdout.width))
