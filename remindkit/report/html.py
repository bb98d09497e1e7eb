"""The report as one self-contained HTML page: tables, conclusions and the curves' SVG.

Nothing is loaded from anywhere: the styles are in the page, the chart is inline SVG
(:mod:`remindkit.report.chart`), there is no script. The page is rendered by Jinja2 with
autoescaping (template ids and states come from the outbox).
"""

from __future__ import annotations

from importlib.resources import files

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from remindkit.report.chart import repayment_svg
from remindkit.report.model import Report, WindowRate

PAGE = "page.html.j2"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _interval(rate: WindowRate) -> str:
    return f"{rate.interval.low * 100:.1f}–{rate.interval.high * 100:.1f}%"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _environment() -> Environment:
    environment = Environment(autoescape=select_autoescape(default=True), trim_blocks=True,
                              lstrip_blocks=True)  # fmt: skip
    environment.filters.update(percent=_percent, interval=_interval, count=_count, ratio=_ratio)
    return environment


def render_html(report: Report) -> str:
    """The whole page, for ``remindkit report --format html > report.html``."""
    source = files("remindkit.report").joinpath(PAGE).read_text(encoding="utf-8")
    template = _environment().from_string(source)
    return template.render(report=report, chart=Markup(repayment_svg(report)))
