"""The report as one self-contained HTML page (placeholder until the chart lands)."""

from __future__ import annotations

from remindkit.report.model import Report


def render_html(report: Report) -> str:
    raise NotImplementedError(report)
