"""Reason codes: the top drivers of a score, in words, with a peer reference and a code.

For each row the business-feature SHAP values (:mod:`talentml.explain._business`) are ranked
in each direction: the ``k`` largest positive values raise the score (``up``), the ``k``
most negative lower it (``down``). Each becomes a text rendered from the catalog template
with the employee's value, followed by the peer reference ("(team median: 12)"), and a
stable code (``FR-LEARN-DROPOFF-UP``). A sensitive proxy (catalog ``sensitive_proxy``, such
as the share of learning done off-hours, which reflects caregiving) is marked in the text
so that nobody acts on it; it is never proposed by :func:`talentml.explain.recourse`.
"""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd

from ._business import BusinessFeatures, short_description, value_spec

__all__ = [
    "DIRECTIONS",
    "PROXY_NOTE",
    "REASON_COLUMNS",
    "format_values",
    "reason_frame",
    "render_array",
    "render_values",
]

#: Accepted ``direction`` arguments of :meth:`Explanation.top_reasons`.
DIRECTIONS = ("both", "up", "down")
#: Appended to the text of a sensitive proxy.
PROXY_NOTE = " [sensitive proxy: not a basis for action; excluded from recourse]"
#: Contributions at or below this magnitude are not reasons.
TOL = 1e-9

#: Columns of :meth:`Explanation.top_reasons` after the identifiers.
REASON_COLUMNS = [
    "rank",
    "direction",
    "code",
    "text",
    "feature",
    "family",
    "evidence",
    "value",
    "peer_value",
    "peer_scope",
    "contribution",
    "actionable",
    "sensitive_proxy",
]


#: Words of a template that read wrong for a negative value, and their replacement (the
#: value is then shown without its sign): "dropped -50%" reads "rose 50%".
NEGATIVE_WORDS = {"dropped": "rose", "fell": "rose", "rose": "fell", "increased": "decreased"}


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def _format(value: object, spec: str) -> str:
    if isinstance(value, float | int | np.floating | np.integer):
        if isinstance(value, float | np.floating):
            value = float(value) + 0.0  # -0.0 reads "0"
        if spec:
            try:
                return format(value, spec)
            except (ValueError, TypeError):
                pass
        return _number(float(value))
    return str(value)


def _split(template: str) -> tuple[str, str, str] | None:
    """(prefix, spec, suffix) of a template with one ``{value...}`` field, else None."""
    parts = list(string.Formatter().parse(template))
    fields = [p for p in parts if p[1] is not None]
    if len(fields) != 1 or fields[0][1] != "value" or fields[0][3]:
        return None
    prefix = "".join(p[0] for p in parts[: parts.index(fields[0]) + 1])
    suffix = "".join(p[0] for p in parts[parts.index(fields[0]) + 1 :])
    return (
        prefix.replace("{{", "{").replace("}}", "}"),
        fields[0][2] or "",
        suffix.replace("{{", "{").replace("}}", "}"),
    )


def _is_number(value: object) -> bool:
    return isinstance(value, float | int | np.floating | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def format_values(values: np.ndarray, spec: str = "") -> np.ndarray:
    """``_format`` of every value, as an object array; numbers are formatted in bulk.

    A numeric array is formatted once per distinct value when values repeat (counts, days,
    ratings), and with one ``format`` call per value otherwise - the same strings as
    ``_format`` value by value, about ten times faster.
    """
    values = np.asarray(values)
    n = len(values)
    out = np.empty(n, dtype=object)
    if n == 0:
        return out
    if values.dtype.kind not in "fiu":
        out[:] = [_format(v, spec) for v in values]
        return out
    if values.dtype.kind == "f":
        values = values + 0.0  # -0.0 reads "0"
    if values.dtype.kind == "f" and n > 64:
        uniq, inverse = np.unique(values, return_inverse=True)
        if len(uniq) <= n // 2:
            return format_values(uniq, spec)[inverse.reshape(-1)]
    floats = values.astype(np.float64, copy=False)
    if spec:
        try:
            format(values[0].item(), spec)
        except (ValueError, TypeError):
            spec = ""
    if spec:
        py = values.tolist()
        out[:] = [format(v, spec) for v in py]
        return out
    # _number: integers without decimals, everything else with three significant digits
    whole = (np.floor(floats) == floats) & (np.abs(floats) < 1e15)
    if whole.any():
        out[whole] = [f"{v:,.0f}" for v in floats[whole].tolist()]
    if not whole.all():
        # three significant digits switch to an exponent from 1,000 on: never a separator,
        # so "%.3g" gives the same text as ",.3g" and is faster
        out[~whole] = ["%.3g" % v for v in floats[~whole].tolist()]  # noqa: UP031
    return out


def render_values(template: str, values: np.ndarray) -> list[str]:
    """The template rendered for each (present) value."""
    return render_array(template, np.asarray(values)).tolist()


def render_array(template: str, values: np.ndarray) -> np.ndarray:
    """:func:`render_values` as an object array, numbers formatted in bulk."""
    values = np.asarray(values)
    split = _split(template) if template else None
    if split is None:
        out = np.empty(len(values), dtype=object)
        for i, v in enumerate(values.tolist()):
            try:
                out[i] = template.format(value=v)
            except (ValueError, TypeError, KeyError, IndexError):
                out[i] = f"{template} ({v})"
        return out
    prefix, spec, suffix = split
    negative = None
    for word, other in NEGATIVE_WORDS.items():
        if re.search(rf"\b{word}\s*$", prefix):
            negative = re.sub(rf"\b{word}(\s*)$", rf"{other}\1", prefix)
            break
    if values.dtype.kind in "fiu":
        neg = values < 0 if negative is not None else np.zeros(len(values), dtype=bool)
        shown = format_values(np.where(neg, -values, values) if neg.any() else values, spec)
    else:
        neg = np.asarray(
            [negative is not None and _is_number(v) and v < 0 for v in values.tolist()],
            dtype=bool,
        )
        flipped = values.copy()
        if neg.any():
            flipped[neg] = [-v for v in values[neg].tolist()]
        shown = format_values(flipped, spec)
    out = np.empty(len(values), dtype=object)
    if neg.any():
        starts = np.where(neg, negative, prefix).tolist()
        out[:] = [f"{a}{v}{suffix}" for a, v in zip(starts, shown.tolist(), strict=True)]
    else:
        out[:] = [f"{prefix}{v}{suffix}" for v in shown.tolist()]
    return out


def _missing_mask(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.asarray(pd.isna(values), dtype=bool)


#: From this many values on, the top-k selection runs in a compiled kernel.
_KERNEL_SIZE = 200_000


def _select(G: np.ndarray, k: int, sign: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, business indices) of the top-k values of ``sign * G`` above TOL, by row.

    Largest first; equal values keep the lower business index first.
    """
    S = sign * G
    n, B = S.shape
    k = min(k, B)
    if k <= 0 or n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if S.size >= _KERNEL_SIZE:
        from ._kernels import top_k_rows

        top, topv = top_k_rows(np.ascontiguousarray(S, dtype=np.float64), k)
    else:
        top = np.argsort(-S, axis=1, kind="stable")[:, :k]
        topv = np.take_along_axis(S, top, axis=1)
    keep = topv > TOL
    rows = np.repeat(np.arange(n), k).reshape(n, k)[keep]
    return rows, top[keep]


def reason_frame(
    G: np.ndarray,
    V: np.ndarray,
    business: BusinessFeatures,
    *,
    k: int,
    direction: str,
    column_display: dict[str, np.ndarray],
    level_display: dict[str, np.ndarray],
    peers: pd.DataFrame | None,
    scope: np.ndarray | None,
    ids: pd.DataFrame,
    prefix: str,
    include_proxies: bool = True,
) -> pd.DataFrame:
    """The long table of reasons (see :meth:`Explanation.top_reasons`).

    ``G`` are the business-feature values (n, B) and ``V`` the per-column values (n, p).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    col_names = list(business.columns.index)
    G = np.asarray(G, dtype=np.float64)
    if not include_proxies:
        G = G.copy()
        G[:, business.proxy] = 0.0
    picks = []
    for d, sign in (("up", 1), ("down", -1)):
        if direction in ("both", d):
            rows, feats = _select(G, int(k), sign)
            rank = np.zeros(len(rows), dtype=np.int64)
            if len(rows):
                starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
                counts = np.diff(np.r_[starts, len(rows)])
                rank = np.arange(len(rows)) - np.repeat(starts, counts) + 1
            picks.append((d, sign, rows, feats, rank))
    rows_all = np.concatenate([p[2] for p in picks])
    feats_all = np.concatenate([p[3] for p in picks])
    rank_all = np.concatenate([p[4] for p in picks])
    sign_all = np.concatenate([np.full(len(p[2]), p[1]) for p in picks])
    dir_all = np.where(sign_all > 0, "up", "down").astype(object)
    n_total = len(rows_all)
    codes_up = business.codes(prefix, "UP")
    codes_down = business.codes(prefix, "DOWN")
    codes_all = np.where(sign_all > 0, codes_up[feats_all], codes_down[feats_all])
    contrib = G[rows_all, feats_all]
    texts = np.empty(n_total, dtype=object)
    values = np.empty(n_total, dtype=object)
    evidence = np.full(n_total, None, dtype=object)
    peer_values = np.full(n_total, np.nan)
    peer_scope = np.full(n_total, "", dtype=object)
    proxy_all = business.proxy[feats_all].copy()

    def render_column(col: str, where: np.ndarray) -> None:
        """Texts of the reasons at positions ``where`` from the value of column ``col``."""
        entry = business.column_records[col]
        template = entry["template"]
        spec = value_spec(template) if template else ""
        at = rows_all[where]
        shown = column_display[col][at]
        values[where] = shown
        evidence[where] = col
        miss = _missing_mask(shown)
        text = np.empty(len(where), dtype=object)
        text[miss] = f"{short_description(entry['description'])}: no data"
        present = shown[~miss]
        if template:
            text[~miss] = render_array(template, present)
        else:
            text[~miss] = [f"{col} = {v}" for v in format_values(present).tolist()]
        if peers is not None and col in peers.columns:
            pv = peers[col].to_numpy()[at]
            sc = scope[at]
            peer_values[where] = pv
            peer_scope[where] = sc
            has = ~np.isnan(pv) & (sc != "") & ~miss
            if has.any():
                text[has] = [
                    f"{t} ({s}: {p})"
                    for t, s, p in zip(
                        text[has].tolist(),
                        sc[has].tolist(),
                        format_values(pv[has], spec).tolist(),
                        strict=True,
                    )
                ]
        if entry["sensitive_proxy"]:
            proxy_all[where] = True
        texts[where] = text

    for b in np.unique(feats_all):
        where = np.flatnonzero(feats_all == b)
        name = business.names[b]
        row = business.records[name]
        members = row["columns"]
        kind = row["kind"]
        if kind in ("numeric", "categorical") and len(members) == 1:
            render_column(members[0], where)
        elif kind == "onehot":
            shown = level_display[name][rows_all[where]]
            values[where] = shown
            miss = _missing_mask(shown)
            text = np.empty(len(where), dtype=object)
            text[miss] = f"{short_description(row['description'])}: none of the levels"
            if row["template"]:
                text[~miss] = render_array(row["template"], shown[~miss])
            else:
                text[~miss] = [f"{name} = {v}" for v in shown[~miss]]
            texts[where] = text
        else:
            # a group or concept speaks through its member with the largest contribution
            idx = np.asarray([business.column_position[c] for c in members])
            sub = V[np.ix_(rows_all[where], idx)] * sign_all[where][:, None]
            best = idx[np.argmax(sub, axis=1)]
            for j in np.unique(best):
                render_column(col_names[j], where[best == j])
    if proxy_all.any():
        texts[proxy_all] = texts[proxy_all] + PROXY_NOTE
    order = np.lexsort((rank_all, np.where(dir_all == "up", 0, 1), rows_all))
    taken = rows_all[order]
    out = {c: ids[c].take(taken).reset_index(drop=True) for c in ids.columns}
    names = np.asarray(business.names, dtype=object)

    def text(values: np.ndarray):
        return pd.array(values[order], dtype="string")

    out.update(
        {
            "rank": rank_all[order],
            "direction": text(dir_all),
            "code": text(codes_all),
            "text": text(texts),
            "feature": text(names[feats_all]),
            "family": text(business.family[feats_all]),
            "evidence": text(evidence),
            "value": values[order],
            "peer_value": peer_values[order],
            "peer_scope": text(peer_scope),
            "contribution": contrib[order],
            "actionable": business.actionable[feats_all][order],
            "sensitive_proxy": proxy_all[order],
        }
    )
    return pd.DataFrame(out)
