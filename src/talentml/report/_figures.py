"""Figures of the report: drawn on figures outside pyplot, embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import Any

__all__ = ["DPI", "png_figure"]

#: Resolution of the embedded PNGs.
DPI = 100


def png_figure(
    draw: Callable[[Any], Any],
    *,
    size: tuple[float, float],
    alt: str,
    caption: str | None = None,
    key: str | None = None,
) -> str:
    """Run ``draw(ax)`` on a fresh figure and return a ``<figure>`` with an inline PNG.

    The figure is made with :class:`matplotlib.figure.Figure` (no pyplot state, no GUI);
    the PNG carries no software or date metadata, so the same inputs give the same bytes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI)
    ax = fig.add_subplot()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    attrs = f' data-figure="{html.escape(key)}"' if key else ""
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure{attrs}><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(alt)}">{cap}</figure>'
    )
