"""Human summaries of outbox work, in Chinese for the operators (ids and states as they are)."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from remindkit.dispatch import DispatchReport
from remindkit.kit import RunReport
from remindkit.models import zone_for
from remindkit.outbox.records import OutboxMessage

OUTCOME_LABELS = {
    "sent": "已发送",
    "failed": "失败",
    "unknown": "结果未知",
    "rescheduled": "稍后重试",
    "held": "服务商停用，保留待发",
    "expired": "过期",
    "cancelled": "取消",
    "suppressed": "不发",
    "deferred": "推迟",
    "fallback": "改用下一渠道",
}


def run_summary(report: RunReport) -> str:
    queued = report.enqueued
    lines = [
        f"计划：{report.planned + report.suppressed} 条消息（{report.planned} 条待发，"
        f"{report.suppressed} 条不发）；拒绝 {len(report.rejected_rows)} 行",
        f"发件箱：新增 {queued.inserted} 条，已存在 {queued.already_known} 条",
    ]
    if report.statuses.cancelled or report.statuses.thanked:
        lines.append(
            f"还款与状态：取消 {report.statuses.cancelled} 条待发提醒，"
            f"安排 {report.statuses.thanked} 条还款致谢"
        )
    if report.reaped_unknown or report.reaped_expired:
        lines.append(
            f"清理：{report.reaped_unknown} 条发送中断记为 unknown，{report.reaped_expired} 条过期"
        )
    for row in report.rejected_rows[:20]:
        lines.append(f"  第 {row.row} 行 {escape(row.field or '-')}：{escape(row.reason)}")
    return "\n".join(lines)


def dispatch_summary(report: DispatchReport) -> str:
    shown = [f"{OUTCOME_LABELS.get(k, k)} {n}" for k, n in sorted(report.counts.items()) if n]
    lines = ["发送：" + ("，".join(shown) if shown else "没有到期的消息")]
    for name, reason in report.stopped_providers.items():
        lines.append(f"[bold red]服务商 {escape(name)} 已停用：[/]{escape(reason)}")
    for template_id, reason in report.template_errors.items():
        lines.append(f"[bold red]模板 {escape(template_id)} 无法渲染：[/]{escape(reason)}")
    if report.counts["unknown"]:
        lines.append(
            "结果未知的消息不会自动重发：请用 remindkit outbox list --state unknown 查看并处理"
        )
    return "\n".join(lines)


def message_table(found: list[OutboxMessage]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("key", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("borrower", overflow="fold")
    table.add_column("template", no_wrap=True)
    table.add_column("send_at", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1)
    for message in found:
        local = message.send_at.astimezone(zone_for(message.timezone))
        table.add_row(
            message.key,
            message.state.value,
            escape(message.borrower_id),
            message.template_id,
            f"{local:%m-%d %H:%M%z}",
            escape(message.reason or ""),
        )
    return table
