"""The repayment curves as an SVG, drawn with matplotlib (the ``report`` extra).

One panel per stage × channel that has variants to look at: for each variant, the share of
installments repaid within 1, 2, … N days of the first message of the stage, with its 95 %
Wilson band (on the effective sample, as in the tables). matplotlib draws without a display
(its SVG backend, no pyplot state); text stays text in the SVG (``svg.fonttype: none``), so
the reader's browser sets the Chinese labels in its own CJK font and the file stays small.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager

from remindkit.report.model import Curve, Report

# Fonts that hold Simplified Chinese, in order of preference; the first one installed sets
# the layout's metrics (the browser draws the text itself).
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei")
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#4a5568")
PANEL_WIDTH, PANEL_HEIGHT = 6.4, 3.6


def _font() -> list[str]:
    installed = {font.name for font in fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def repayment_svg(report: Report) -> str:
    """The chart of ``report.curves`` as an ``<svg>`` element (no XML prologue)."""
    groups = list(dict.fromkeys((c.stage, c.channel) for c in report.curves))
    if not groups:
        return ""
    with (
        mpl.rc_context({"svg.fonttype": "none", "font.family": _font(), "svg.hashsalt": "rk"}),
        warnings.catch_warnings(),
    ):
        # Without a CJK font installed, the layout measures Chinese with DejaVu's metrics
        # and says so per glyph; the browser still shows the characters.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure = Figure(figsize=(PANEL_WIDTH, PANEL_HEIGHT * len(groups)), layout="constrained")
        axes = figure.subplots(len(groups), 1, squeeze=False)
        for row, group in enumerate(groups):
            curves = [c for c in report.curves if (c.stage, c.channel) == group]
            _panel(axes[row][0], f"{group[0]} · {group[1]}", curves)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _panel(axes: Axes, title: str, curves: Sequence[Curve]) -> None:
    for index, curve in enumerate(curves):
        points = [p for p in curve.points if p.matured]
        if not points:
            continue
        colour = COLOURS[index % len(COLOURS)]
        days = [p.days for p in points]
        rates = [100 * (p.rate or 0.0) for p in points]
        axes.fill_between(
            days,
            [100 * p.interval.low for p in points],
            [100 * p.interval.high for p in points],
            color=colour,
            alpha=0.18,
            linewidth=0,
        )
        matured = points[-1].matured
        axes.plot(days, rates, color=colour, marker="o", markersize=3, linewidth=1.8,
                  label=f"变体 {curve.variant}（{matured:,} 期）")  # fmt: skip
    axes.set_title(title, loc="left", fontsize=11)
    axes.set_xlabel("首条消息后天数")
    axes.set_ylabel("已还款比例（%）")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=9, frameon=False)
