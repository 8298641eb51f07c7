"""Heat maps: tensors shaded by the norm of their gradient or value, with a legend.

Norms span orders of magnitude (a loss gradient of 1, a weight gradient of 1e-4), so
the scale is logarithmic, from the smallest non-zero norm in the graph to the largest;
a norm of exactly 0 takes the lightest colour. The palette runs from pale yellow to
dark red (ColorBrewer's YlOrRd), light enough at the low end for dark text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from graphkit.viz.labels import escape

#: From low to high; the darkest shades take white text.
PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
DARK_FROM = 6
COLOR_BY = ("grad_norm", "value_norm")
TITLES = {"grad_norm": "gradient norm", "value_norm": "value norm"}


class ColourScale:
    """Maps a norm to one of ``PALETTE``'s colours on a log scale over ``norms``."""

    def __init__(self, norms: Iterable[float]) -> None:
        positive = [n for n in norms if n > 0 and math.isfinite(n)]
        self.low = min(positive, default=1.0)
        self.high = max(positive, default=1.0)

    def index(self, norm: float) -> int:
        """Which colour of ``PALETTE`` a norm takes (the last for an infinite or NaN one)."""
        if not math.isfinite(norm):
            return len(PALETTE) - 1
        if norm <= 0:
            return 0
        if self.high <= self.low:
            return len(PALETTE) // 2
        where = (math.log10(norm) - math.log10(self.low)) / (
            math.log10(self.high) - math.log10(self.low)
        )
        return min(len(PALETTE) - 1, max(0, int(where * len(PALETTE))))

    def fill_and_font(self, norm: float) -> tuple[str, str]:
        i = self.index(norm)
        return PALETTE[i], "white" if i >= DARK_FROM else "#0f172a"

    def legend_label(self, color_by: str) -> str:
        """An HTML-like table for Graphviz: the quantity, the colours, low and high ends."""
        cells = "".join(
            f'<td bgcolor="{colour}" width="18" height="12"></td>' for colour in PALETTE
        )
        span = len(PALETTE)
        return (
            '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
            f'<tr><td colspan="{span}"><b>{escape(TITLES[color_by])}</b> (log scale)</td></tr>'
            f"<tr>{cells}</tr>"
            f'<tr><td colspan="{span // 2}" align="left">{self.low:.2g}</td>'
            f'<td colspan="{span - span // 2}" align="right">{self.high:.2g}</td></tr>'
            "</table>>"
        )
