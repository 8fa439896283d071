"""Charts for the TA report, drawn with matplotlib (Agg) and returned as base64 PNG.

Each function returns the PNG's base64 text, ready for ``<img src="data:image/png;base64,...">``,
so the report stays one file with no external assets. Only numbers and graded names
(which come from the assignment pack, not from students) are drawn.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

BAR = "#3b6ea8"
BAR2 = "#e0a030"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    return plt


def _png(fig) -> str:
    buffer = io.BytesIO()
    # No timestamp or software tag in the file: the same data gives the same bytes.
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def totals_histogram(totals: Sequence[float], max_points: float) -> str:
    """Histogram of the students' totals, bins of equal width covering 0..max_points."""
    plt = _pyplot()
    bins = 15 if max_points >= 15 else max(1, int(math.ceil(max_points)))
    width = max_points / bins if max_points > 0 else 1.0
    edges = [i * width for i in range(bins + 1)]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    # Full marks fall in the last bin (numpy's rule: the last bin is closed).
    ax.hist(list(totals), bins=edges, color=BAR, edgecolor="white")
    ax.set_xlim(0, max(max_points, 1.0))
    ax.set_xlabel(f"total points (of {max_points:g})")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Distribution of totals ({len(totals)} students)")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def names_chart(keys: Sequence[str], mean_percent: Sequence[float], pass_percent: Sequence[float]) -> str:
    """Horizontal grouped bars per graded name: mean score and pass rate, both in percent."""
    plt = _pyplot()
    n = len(keys)
    fig, ax = plt.subplots(figsize=(8, 0.45 * n + 1.2))
    positions = list(range(n))
    height = 0.38
    ax.barh([p - height / 2 for p in positions], mean_percent, height, color=BAR, label="mean score (% of points)")
    ax.barh(
        [p + height / 2 for p in positions], pass_percent, height, color=BAR2, label="pass rate (% with full marks)"
    )
    ax.set_yticks(positions)
    ax.set_yticklabels(keys, fontsize=9)
    ax.invert_yaxis()  # first graded name on top, as in the tables
    ax.set_xlim(0, 100)
    ax.set_xlabel("percent")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=9)
    return _png(fig)
