"""HTML building blocks of talentml's self-contained reports: escaping, numbers, tables, pages.

One place for what the demo report (:mod:`talentml.report`) and the bias-audit and
caregiver-hours reports (:mod:`talentml.fairness`) write: every value is escaped, missing
values read the same everywhere ("" in text, "–" in number cells), infinities print as
``∞``, midnight timestamps as dates, and each report keeps only its own CSS and sections.

>>> from talentml._html import fmt, kv_table
>>> fmt(1234), fmt(0.12345), fmt(float("nan")), fmt(float("inf"))
('1,234', '0.123', '–', '∞')
>>> kv_table([("employees", 1234)])
'<table><tbody><tr><th>employees</th><td class="num">1,234</td></tr></tbody></table>'
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FIGURE_DPI",
    "png_figure",
    "dumps",
    "plain",
    "records",
    "ABSENT",
    "MSG_ABSENT",
    "badge",
    "esc",
    "fmt",
    "kv_table",
    "note",
    "number",
    "page",
    "scalar",
    "section",
    "table",
]

#: What :func:`table` does with a listed column that the frame lacks.
ABSENT = ("drop", "blank")

MSG_ABSENT = "table: absent must be one of {options}, got {value!r}"

_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def scalar(value: Any) -> Any:
    """A plain Python value for a numpy/pandas scalar; None for a missing value.

    Parameters
    ----------
    value : object
        Any value; numpy scalars become Python scalars, ``None``, ``pd.NA``, ``pd.NaT`` and
        NaN become None. Infinities, timestamps and other objects are returned as they are.

    Returns
    -------
    object
        The plain value, or None.

    Examples
    --------
    >>> import numpy as np
    >>> from talentml._html import scalar
    >>> scalar(np.int64(3)), scalar(np.float64("nan")), scalar(float("inf"))
    (3, None, inf)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def esc(value: Any) -> str:
    """HTML-escaped text of a value ("" for a missing value).

    Parameters
    ----------
    value : object
        The value; a timestamp at midnight reads as its date, any other as ISO 8601.

    Returns
    -------
    str
        Text safe inside an HTML element or a quoted attribute.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml._html import esc
    >>> esc("<b>"), esc(None), esc(pd.Timestamp("2025-01-01", tz="UTC"))
    ('&lt;b&gt;', '', '2025-01-01')
    """
    v = scalar(value)
    if v is None:
        return ""
    if isinstance(v, pd.Timestamp):
        return html.escape(v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat())
    return html.escape(str(v))


def fmt(value: Any, spec: str = ".3f") -> str:
    """A value for a number cell of a table.

    Parameters
    ----------
    value : object
        The value: "–" when missing, "yes"/"no" for booleans, thousands separators for
        integers, ``∞``/``-∞`` for infinities; other values are escaped text.
    spec : str, default ".3f"
        Format of a float (:func:`format`); an integer format (``"d"``) prints a whole
        float as an integer (e.g. counts in a column with missing values).

    Returns
    -------
    str
        The cell text (HTML-safe).

    Examples
    --------
    >>> from talentml._html import fmt
    >>> fmt(0.25, ".1%"), fmt(12.0, "d"), fmt(True), fmt(-float("inf"))
    ('25.0%', '12', 'yes', '-∞')
    """
    v = scalar(value)
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
    """A number for a summary: integers with thousands separators, else 4 significant digits.

    Parameters
    ----------
    value : object
        The value; anything but a number is escaped text (:func:`esc`).

    Returns
    -------
    str
        The text (HTML-safe).

    Examples
    --------
    >>> from talentml._html import number
    >>> number(1234567), number(3.0), number(0.123456), number(12345.6), number("a&b")
    ('1,234,567', '3', '0.1235', '12,346', 'a&amp;b')
    """
    v = scalar(value)
    if isinstance(v, bool) or not isinstance(v, int | float):
        return esc(v)
    if isinstance(v, int) or (v.is_integer() and abs(v) < 1e15):
        return f"{int(v):,}"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def table(
    frame: pd.DataFrame,
    columns: Iterable[tuple[str, str, str | None]],
    *,
    row_class: Callable[[pd.Series], str] | None = None,
    caption: str | None = None,
    absent: str = "drop",
) -> str:
    """An HTML table of a frame's rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows, in order.
    columns : iterable of (column, header, format)
        The columns shown: a number format (:func:`fmt`) right-aligns the cells; None shows
        text (:func:`esc`; timestamp cells do not wrap).
    row_class : callable, optional
        ``row_class(row)`` gives the ``class`` of each ``<tr>``.
    caption : str, optional
        Caption of the table (escaped).
    absent : {"drop", "blank"}, default "drop"
        A listed column the frame lacks is left out, or shown with empty cells.

    Returns
    -------
    str
        The ``<table>`` element.

    Raises
    ------
    ValueError
        If ``absent`` is not one of :data:`ABSENT`.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml._html import table
    >>> table(pd.DataFrame({"n": [3]}), [("n", "n", "d"), ("x", "x", None)])
    '<table><thead><tr><th>n</th></tr></thead><tbody><tr><td class="num">3</td></tr></tbody></table>'
    """
    if absent not in ABSENT:
        raise ValueError(MSG_ABSENT.format(options=ABSENT, value=absent))
    cols = list(columns)
    if absent == "drop":
        cols = [c for c in cols if c[0] in frame.columns]
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in cols)
    body = []
    for _, r in frame.iterrows():
        cls = f' class="{row_class(r)}"' if row_class else ""
        cells = []
        for c, _, spec in cols:
            v = r.get(c)
            if spec is None:
                date = ' class="date"' if isinstance(v, pd.Timestamp) else ""
                cells.append(f"<td{date}>{esc(v)}</td>")
            else:
                cells.append(f'<td class="num">{fmt(v, spec)}</td>')
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def kv_table(pairs: Iterable[tuple[str, Any]], *, missing: str = "", numbers: bool = True) -> str:
    """A two-column key/value table.

    Parameters
    ----------
    pairs : iterable of (key, value)
        The rows.
    missing : str, default ""
        HTML shown for a missing value.
    numbers : bool, default True
        Numbers right-aligned and formatted by :func:`number`; False shows them as text.

    Returns
    -------
    str
        The ``<table>`` element.

    Examples
    --------
    >>> from talentml._html import kv_table
    >>> kv_table([("rate", 0.123456), ("auditor", None)], missing="not given")
    '<table><tbody><tr><th>rate</th><td class="num">0.1235</td></tr><tr><th>auditor</th><td>not given</td></tr></tbody></table>'
    """
    rows = []
    for k, v in pairs:
        p = scalar(v)
        if p is None:
            cell = f"<td>{missing}</td>"
        elif numbers and isinstance(p, int | float) and not isinstance(p, bool):
            cell = f'<td class="num">{number(p)}</td>'
        else:
            cell = f"<td>{esc(p)}</td>"
        rows.append(f"<tr><th>{html.escape(str(k))}</th>{cell}</tr>")
    return f"<table><tbody>{''.join(rows)}</tbody></table>"


def note(text: str) -> str:
    """A paragraph of explanatory text.

    Parameters
    ----------
    text : str
        The text, already HTML (escape values with :func:`esc`).

    Returns
    -------
    str
        A ``<p class="note">``.

    Examples
    --------
    >>> from talentml._html import note
    >>> note("Intervals: percentile bootstrap.")
    '<p class="note">Intervals: percentile bootstrap.</p>'
    """
    return f'<p class="note">{text}</p>'


def badge(text: str, kind: str) -> str:
    """A small coloured label (the page's CSS colours ``.b-<kind>``).

    Parameters
    ----------
    text : str
        The label (escaped).
    kind : str
        Its kind, e.g. a severity or a status.

    Returns
    -------
    str
        A ``<span class="badge b-<kind>">``.

    Examples
    --------
    >>> from talentml._html import badge
    >>> badge("high", "high")
    '<span class="badge b-high">high</span>'
    """
    return f'<span class="badge b-{kind}">{html.escape(text)}</span>'


def section(key: str, title: str, body: str) -> str:
    """One section of a page.

    Parameters
    ----------
    key : str
        Its anchor: the ``id`` and ``data-section`` of the ``<section>``.
    title : str
        Its heading (escaped).
    body : str
        Its content (HTML).

    Returns
    -------
    str
        The ``<section>`` element.

    Examples
    --------
    >>> from talentml._html import section
    >>> section("summary", "Summary", "<p>x</p>")
    '<section id="summary" data-section="summary"><h2>Summary</h2><p>x</p></section>'
    """
    return f'<section id="{key}" data-section="{key}"><h2>{html.escape(title)}</h2>{body}</section>'


def page(
    title: str,
    body: str,
    *,
    css: str,
    subtitle: str = "",
    toc: Iterable[tuple[str, str]] | None = None,
) -> str:
    """A complete, self-contained HTML document (no external resource of any kind).

    Parameters
    ----------
    title : str
        The document's title (escaped).
    body : str
        The content (HTML).
    css : str
        The style sheet, inlined.
    subtitle : str, default ""
        With ``toc``: the line under the title in the header (escaped).
    toc : iterable of (key, title), optional
        The sections to link to: the page then has a header (``title``, ``subtitle``), a
        navigation bar of links to ``#key`` and the body in ``<main>``, and scales to the
        screen's width (viewport). Without it the body is the page.

    Returns
    -------
    str
        The HTML document, ending with a newline.

    Examples
    --------
    >>> from talentml._html import page
    >>> doc = page("Audit", "<p>x</p>", css="p{color:#222}")
    >>> doc.startswith("<!DOCTYPE html>"), "<body><p>x</p></body>" in doc
    (True, True)
    """
    esc_title = html.escape(title)
    if toc is None:
        head, inner = "", body
    else:
        links = "".join(f'<a href="#{k}">{html.escape(t)}</a>' for k, t in toc)
        head = _VIEWPORT
        inner = (
            f"<header><h1>{esc_title}</h1><p>{html.escape(subtitle)}</p></header>"
            f"<nav>{links}</nav><main>{body}</main>"
        )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{head}'
        f"<title>{esc_title}</title><style>{css}</style></head>"
        f"<body>{inner}</body></html>\n"
    )


#: Resolution of the PNG figures embedded in reports.
FIGURE_DPI = 100


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
    ``caption`` is inserted as HTML (escape it first); ``key`` becomes ``data-figure``.
    """
    import base64
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=FIGURE_DPI)
    ax = fig.add_subplot()
    draw(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    attrs = f' data-figure="{html.escape(key)}"' if key else ""
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure{attrs}><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(alt)}">{cap}</figure>'
    )


# ------------------------------------------------------------------ JSON of reports
def plain(value: Any) -> Any:
    """A JSON-safe Python value (NaN and missing become None)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return str(value)


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    """The rows of a frame as JSON-safe dicts (None for None)."""
    if frame is None:
        return None
    return [plain(r) for r in frame.to_dict(orient="records")]


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text (no NaN), keys in insertion order, UTF-8 characters kept."""
    return json.dumps(plain(obj), indent=indent, allow_nan=False, ensure_ascii=False)
