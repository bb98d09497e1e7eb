"""``remindkit demo``: the whole pipeline on sample data, no credentials, nothing sent.

Today it renders every stage's SMS and push for the shipped sample borrowers, with the
SMS length and parts a lender pays for. Later stages of the pipeline join as they land.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.panel import Panel
from rich.text import Text

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    ConfigOption,
    TemplatesOption,
    fail,
    load_cli_kit,
    note_sample_platform,
    stdout,
    usage_errors,
)
from remindkit.context import PreviewInput, load_preview_input
from remindkit.errors import TemplateError, TemplateNotFoundError
from remindkit.kit import Kit
from remindkit.models import Channel, Stage, Status
from remindkit.policy.stages import stage_of, template_group
from remindkit.render import MessageContext, Renderer
from remindkit.resources import shipped_sample_feed, shipped_samples_dir

# The sample feed's dates are set around this morning, before the day's 10:00 sends.
DEMO_AT = datetime.fromisoformat("2026-12-01T08:30:00+08:00")


@app.command()
def demo(config: ConfigOption = None, templates: TemplatesOption = None) -> None:
    """Render every stage for the sample borrowers with the console output, no credentials."""
    kit = load_cli_kit(config, templates, sample_platform=True)
    renderer = kit.renderer
    samples = sorted(shipped_samples_dir().glob("*.json"))
    if not samples:
        fail("no sample contexts found (config/samples/*.json)")
    stdout.rule("remindkit demo · 样例借款人的提醒（仅预览，不发送）")
    failures = 0
    for path in samples:
        with usage_errors():
            given = load_preview_input(path, renderer.platform)
        panel, failed = _sample_panel(renderer, path, given)
        stdout.print(panel)
        failures += failed
    stdout.print(f"{len(samples)} 个样例，{failures} 个渲染失败。")
    failures += _demo_plan(kit)
    note_sample_platform(kit.settings)
    if failures:
        raise typer.Exit(EXIT_FINDINGS)


def _sample_panel(renderer: Renderer, path: Path, given: PreviewInput) -> tuple[Panel, int]:
    if given.now is None:
        fail(f'{path.name}: a demo sample needs "now"')
    stage = _stage(given, given.now)
    context = MessageContext(installments=given.installments, now=given.now, stage=stage)
    lines: list[Text] = []
    failures = 0
    for channel in Channel:
        group = template_group(stage, channel)
        try:
            rendered = renderer.render(group, context)
        except TemplateNotFoundError:
            continue
        except TemplateError as exc:
            lines.append(Text(f"{group}: {exc}", style="red"))
            failures += 1
            continue
        if rendered.length is not None:
            size = rendered.length
            label = f"短信 {rendered.template_id} · {size.chars}字 · {size.segments}条"
            lines.append(Text(label, style="dim") + Text("\n" + (rendered.text or "")))
        else:
            lines.append(
                Text(f"推送 {rendered.template_id}", style="dim")
                + Text("\n" + (rendered.title or ""), style="bold")
                + Text("\n" + (rendered.body or ""))
            )
    local_now = given.now.astimezone(given.installments[0].borrower.zone)
    title = f"{path.stem} · {stage.value} · {local_now:%Y-%m-%d %H:%M %Z}"
    return Panel(Text("\n\n").join(lines), title=title, title_align="left"), failures


def _stage(given: PreviewInput, now: datetime) -> Stage:
    """The stage a sample borrower is in at the sample's ``now``."""
    first = given.installments[0]
    if first.status is Status.PAID:
        return Stage.PAYMENT_RECEIVED
    today = now.astimezone(first.borrower.zone).date()
    return stage_of(first, first.days_past_due(today))


def _demo_plan(kit: Kit) -> int:
    """Plan the sample feed and show each message as the console provider would print it."""
    feed = shipped_sample_feed()
    stdout.rule(f"计划：{feed.name} · {DEMO_AT:%Y-%m-%d %H:%M} 北京时间（仅预览，不发送）")
    with usage_errors():
        result = kit.plan(feed, at=DEMO_AT)
    failures = 0
    for message in result.messages:
        when = f"{message.send_at:%m-%d %H:%M%z}"
        who = f"{message.borrower_id} {message.channel.value}"
        if not message.planned:
            stdout.print(Text(f"{when} {who} 不发送：{message.reason}", style="yellow"))
            continue
        context = MessageContext(
            installments=message.installments, now=message.send_at, stage=message.stage
        )
        try:
            rendered = kit.renderer.render(message.template_id, context)
        except TemplateError as exc:
            stdout.print(Text(f"{when} {who} {exc}", style="red"))
            failures += 1
            continue
        shown = rendered.text or f"{rendered.title}｜{rendered.body}"
        stdout.print(
            Text(f"{when} {who} {rendered.template_id}", style="dim") + Text(f"\n  {shown}")
        )
    for rejected in result.rejected_rows:
        stdout.print(
            Text(
                f"第{rejected.row}行 {rejected.field}：{rejected.reason}（此行跳过，其余照常）",
                style="yellow",
            )
        )
    for warning in result.warnings:
        stdout.print(Text(f"提示：{warning}", style="yellow"))
    return failures
