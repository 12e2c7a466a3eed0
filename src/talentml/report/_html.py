"""HTML building blocks of the report: escaping, number formats, tables and the page."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["esc", "fmt", "kv_table", "note", "number", "page", "section", "table"]

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:1.2em 2em}
header h1{margin:0 0 .2em 0;font-size:1.6em}
header p{margin:0;color:#d6e2f0}
nav{background:#fff;border-bottom:1px solid #ddd;padding:.6em 2em;position:sticky;top:0;z-index:1}
nav a{margin-right:1.1em;color:#1f3a5f;text-decoration:none;font-size:.92em}
nav a:hover{text-decoration:underline}
main{padding:0 2em 3em 2em;max-width:1200px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:1.5em 0;padding:.5em 1.5em 1.2em}
h2{color:#1f3a5f;border-bottom:2px solid #e8eef6;padding-bottom:.2em}
h3{color:#333;margin-top:1.3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
thead th{background:#f0f4f9}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.sev-high td{background:#fdecea}
tr.sev-medium td{background:#fff4e5}
.figures{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
figure{margin:.4em 0;display:table}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{display:table-caption;caption-side:bottom;font-size:.85em;color:#555;padding-top:.3em}
td.date{white-space:nowrap}
p.note,span.note{color:#666;font-size:.88em}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
"""


def plain(value: Any) -> Any:
    """A Python scalar for numpy/pandas scalars; None for missing values."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def esc(value: Any) -> str:
    """HTML-escaped text of a value ("" for missing)."""
    v = plain(value)
    if v is None:
        return ""
    if isinstance(v, pd.Timestamp):
        return html.escape(v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat())
    return html.escape(str(v))


def fmt(value: Any, spec: str = ".3f") -> str:
    """A number for a table cell ("–" for missing, thousands separators for integers)."""
    v = plain(value)
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if spec.endswith("d"):  # an integer format on a float column (e.g. counts with NaN)
            return f"{int(v):,}" if v.is_integer() else format(v, ",.4g")
        return format(v, spec)
    return html.escape(str(v))


def number(value: Any) -> str:
    """A number for a summary: integers with thousands separators, else 4 significant digits."""
    v = plain(value)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return esc(v)
    if isinstance(v, int) or (v.is_integer() and abs(v) < 1e15):
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def table(
    frame: pd.DataFrame,
    columns: Iterable[tuple[str, str, str | None]],
    *,
    row_class: Any = None,
    caption: str | None = None,
) -> str:
    """An HTML table; ``columns`` are ``(column, header, number format or None for text)``.

    Columns absent from ``frame`` are left out.
    """
    cols = [c for c in columns if c[0] in frame.columns]
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in cols)
    body = []
    for _, r in frame.iterrows():
        cls = f' class="{row_class(r)}"' if row_class else ""
        cells = []
        for c, _, spec in cols:
            v = r[c]
            if spec is None:
                date = ' class="date"' if isinstance(v, pd.Timestamp) else ""
                cells.append(f"<td{date}>{esc(v)}</td>")
            else:
                cells.append(f'<td class="num">{fmt(v, spec)}</td>')
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column key/value table (numbers right-aligned)."""
    rows = []
    for k, v in pairs:
        p = plain(v)
        if isinstance(p, int | float) and not isinstance(p, bool):
            cell = f'<td class="num">{number(p)}</td>'
        else:
            cell = f"<td>{esc(p)}</td>"
        rows.append(f"<tr><th>{html.escape(str(k))}</th>{cell}</tr>")
    return f"<table><tbody>{''.join(rows)}</tbody></table>"


def note(text: str) -> str:
    """A paragraph of explanatory text (already HTML)."""
    return f'<p class="note">{text}</p>'


def section(key: str, title: str, body: str) -> str:
    """One report section; ``key`` is its anchor and ``data-section`` attribute."""
    return f'<section id="{key}" data-section="{key}"><h2>{html.escape(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, toc: list[tuple[str, str]], body: str) -> str:
    """A complete, self-contained HTML document (no external resources)."""
    links = "".join(f'<a href="#{k}">{html.escape(t)}</a>' for k, t in toc)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{links}</nav><main>{body}</main></body></html>\n"
    )
