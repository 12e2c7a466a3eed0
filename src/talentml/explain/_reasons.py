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

import functools
import logging
import re
import string

import numpy as np
import pandas as pd

from ._business import BusinessFeatures

logger = logging.getLogger(__name__)

__all__ = [
    "DIRECTIONS",
    "PROXY_NOTE",
    "REASON_COLUMNS",
    "SAME_AS_PEERS",
    "Rows",
    "flag_words",
    "format_values",
    "reason_arrays",
    "reason_frame",
    "reason_records",
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
    "vs_peers",
    "contribution",
    "actionable",
    "sensitive_proxy",
]


#: Words of a template that read wrong for a negative value, and their replacement (the
#: value is then shown without its sign): "dropped -50%" reads "rose 50%".
NEGATIVE_WORDS = {"dropped": "rose", "fell": "rose", "rose": "fell", "increased": "decreased"}


def _number(value: float) -> str:
    """Whole numbers without decimals; others with three significant digits, or without
    decimals from 999.5 on (``14,236``, never ``1.42e+04``)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if _BIG <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


#: From this magnitude on, a number that is not whole is shown without decimals.
_BIG = 999.5


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


@functools.lru_cache(maxsize=4096)
def _split(template: str) -> tuple[str, str, str, str | None] | None:
    """(prefix, spec, suffix, prefix for a negative value or None) of a template with one
    ``{value...}`` field, else None (cached: templates repeat)."""
    parts = list(string.Formatter().parse(template))
    fields = [p for p in parts if p[1] is not None]
    if len(fields) != 1 or fields[0][1] != "value" or fields[0][3]:
        return None
    prefix = "".join(p[0] for p in parts[: parts.index(fields[0]) + 1])
    suffix = "".join(p[0] for p in parts[parts.index(fields[0]) + 1 :])
    prefix = prefix.replace("{{", "{").replace("}}", "}")
    negative = None
    for word, other in NEGATIVE_WORDS.items():
        if re.search(rf"\b{word}\s*$", prefix):
            negative = re.sub(rf"\b{word}(\s*)$", rf"{other}\1", prefix)
            break
    return (prefix, fields[0][2] or "", suffix.replace("{{", "{").replace("}}", "}"), negative)


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
        size = np.abs(floats)
        big = ~whole & (size >= _BIG) & (size < 1e15)
        if big.any():
            out[big] = [f"{v:,.0f}" for v in floats[big].tolist()]
        small = ~whole & ~big
        # below 999.5 three significant digits never need a separator, so "%.3g" gives the
        # same text as ",.3g" and is faster
        out[small] = ["%.3g" % v for v in floats[small].tolist()]  # noqa: UP031
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
    prefix, spec, suffix, negative = split
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


#: How a 0/1 flag reads (a template whose ``{value}`` has no format).
FLAG_WORDS = {0: "no", 1: "yes"}


def flag_words(values: np.ndarray) -> np.ndarray:
    """0/1 (or False/True) as "no"/"yes"; anything else unchanged (an object array)."""
    values = np.asarray(values)
    out = values.astype(object)
    if values.dtype.kind in "fiub":
        num = values.astype(np.float64)
        out[num == 1] = "yes"
        out[num == 0] = "no"
        return out
    for i, v in enumerate(values.tolist()):
        if isinstance(v, bool | np.bool_ | int | float | np.integer | np.floating) and v in (0, 1):
            out[i] = FLAG_WORDS[int(v)]
        elif isinstance(v, str) and v.lower() in _WORDS:
            out[i] = _WORDS[v.lower()]
    return out


_WORDS = {"true": "yes", "false": "no", "1": "yes", "0": "no"}


def _shown(values: np.ndarray, spec: str, flag: bool) -> np.ndarray:
    """Values as a text shows them (flags as words when the template gives no format)."""
    if flag and not spec:
        words = flag_words(values)
        rest = np.asarray([not isinstance(w, str) for w in words.tolist()], dtype=bool)
        if rest.any():
            words[rest] = format_values(np.asarray(values, dtype=np.float64)[rest], spec)
        return words
    return format_values(values, spec)


_FIXED = re.compile(r"^[+, ]*\.(\d+)([f%])$")


def _step(spec: str) -> float | None:
    """Largest difference two numbers may have and still read the same (None: unknown)."""
    if not spec:
        return 0.0
    m = _FIXED.match(spec)
    if not m:
        return None
    d = int(m[1]) + (2 if m[2] == "%" else 0)
    return 10.0 ** (-d)


#: Accepted values of ``same_as_peers``.
SAME_AS_PEERS = ("drop", "mark")
#: ``vs_peers`` values: the value reads above, below or the same as the peer reference.
VS_PEERS = ("above", "below", "same")


class Rows:
    """What reasons are built from, for ``n`` rows.

    ``G`` business-feature contributions (n, B); ``V`` column contributions (n, p);
    ``numbers`` the model's input (n, p: numbers, category codes, 0/1 for boolean flags);
    ``labels`` the values as given of categorical columns (by column index); ``peers``
    (n, q) and ``scope`` (n,) the peer reference, ``peer_of`` the peer column of each model
    column (-1: not compared); ``flags`` the column indices that read yes/no.
    """

    def __init__(
        self,
        *,
        G: np.ndarray,
        V: np.ndarray,
        numbers: np.ndarray,
        labels: dict[int, np.ndarray],
        peers: np.ndarray | None,
        scope: np.ndarray | None,
        peer_of: np.ndarray | None,
        flags: set[int],
    ) -> None:
        self.G = np.asarray(G, dtype=np.float64)
        self.V = np.asarray(V, dtype=np.float64)
        self.numbers = numbers
        self.labels = labels
        self.peers = peers if peer_of is not None else None
        self.scope = scope
        self.peer_of = peer_of
        self.flags = flags
        self.flag_mask = np.zeros(self.V.shape[1], dtype=bool)
        if flags:
            self.flag_mask[list(flags)] = True
        self.has_scope = None if scope is None else np.asarray(scope != "", dtype=bool)


#: ``Compared.vs`` codes and their words.
_NONE, _ABOVE, _BELOW, _SAME = 0, 1, 2, 3
_VS_WORDS = np.asarray(["", "above", "below", "same"], dtype=object)
_KEYS = ("peer_value", "scope", "vs", "peer_text", "has")


class Compared:
    """Peer comparison of picks: ``peer_value``, ``scope``, ``vs`` (a code of
    ``_VS_WORDS``), ``peer_text`` and ``has`` (a peer reference is shown)."""

    def __init__(self, n: int) -> None:
        self.peer_value = np.full(n, np.nan)
        self.scope = np.full(n, "", dtype=object)
        self.vs = np.zeros(n, dtype=np.int8)
        self.peer_text = np.full(n, "", dtype=object)
        self.has = np.zeros(n, dtype=bool)

    @staticmethod
    def concat(parts: list[Compared]) -> Compared:
        out = Compared(0)
        for key in _KEYS:
            setattr(out, key, np.concatenate([getattr(p, key) for p in parts]))
        return out


def _evidence(rows: Rows, business: BusinessFeatures, r: np.ndarray, f: np.ndarray, sign):
    """The column (index) whose value each pick's text shows; -1 for a one-hot level."""
    out = business.single[f]
    multi = np.flatnonzero(out < 0)
    if len(multi) == 0:
        return out
    out = out.copy()
    sign = np.broadcast_to(np.asarray(sign), r.shape)
    for b in np.unique(f[multi]):
        record = business.records[business.names[b]]
        if record["kind"] == "onehot":
            continue
        where = multi[f[multi] == b]
        idx = np.asarray([business.column_position[c] for c in record["columns"]])
        # a group or concept speaks through its member with the largest contribution
        sub = rows.V[np.ix_(r[where], idx)] * sign[where][:, None]
        out[where] = idx[np.argmax(sub, axis=1)]
    return out


def _compare(rows: Rows, business: BusinessFeatures, r: np.ndarray, cols: np.ndarray) -> Compared:
    """How each pick's value compares with its peer reference (vectorized over picks).

    ``same`` when both read the same at the precision the text shows (a 0/1 flag: the same
    word); else ``above`` or ``below``; empty without a reference or a value.
    """
    out = Compared(len(r))
    if rows.peers is None or len(r) == 0:
        return out
    pj = np.where(cols >= 0, rows.peer_of[np.maximum(cols, 0)], -1)
    idx = np.flatnonzero(pj >= 0)
    if len(idx) == 0:
        return out
    rr, cc = r[idx], cols[idx]
    p = rows.peers[rr, pj[idx]]
    has = ~np.isnan(p) & rows.has_scope[rr]
    out.peer_value[idx] = p
    if not has.any():
        return out
    idx, rr, cc, p = idx[has], rr[has], cc[has], p[has]
    out.scope[idx] = rows.scope[rr]
    v = rows.numbers[rr, cc]
    spec_id = business.spec_id[cc]
    flag = rows.flag_mask[cc]
    known = ~np.isnan(v)
    out.has[idx[known]] = True
    out.vs[idx[known]] = np.where(v[known] > p[known], _ABOVE, _BELOW)
    for sid in np.unique(spec_id):
        spec = business.specs[sid]
        for is_flag in (False, True):
            sel = np.flatnonzero((spec_id == sid) & (flag == is_flag))
            if len(sel) == 0:
                continue
            out.peer_text[idx[sel]] = _shown(p[sel], spec, is_flag)
            k = sel[known[sel]]
            if len(k) == 0:
                continue
            step = _step(spec)
            vk, pk = v[k], p[k]
            if step is not None:
                near = np.abs(vk - pk) <= np.maximum(
                    0.01 * np.maximum(np.abs(vk), np.abs(pk)), step
                )
                k, vk, pk = k[near], vk[near], pk[near]
            if len(k) == 0:
                continue
            same = np.asarray(_shown(vk, spec, is_flag) == _shown(pk, spec, is_flag), dtype=bool)
            out.vs[idx[k[same]]] = _SAME
    return out


#: From this many values on, the top-k selection runs in a compiled kernel.
_KERNEL_SIZE = 200_000


def _select(G: np.ndarray, k: int, sign: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, business indices) of the top-k values of ``sign * G`` above TOL, by row.

    Largest first; equal values keep the lower business index first.
    """
    S = sign * G
    return _top(S, k)


def _top(S: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
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


def _pick(
    rows: Rows, business: BusinessFeatures, k: int, sign: int, *, drop_same: bool, proxies: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Compared, int]:
    """The top-k drivers in one direction; a driver equal to its peer reference gives way.

    Returns (rows, business indices, evidence columns, their peer comparison, the number of
    drivers left out as equal to their peers).
    """
    S = sign * rows.G
    if not proxies:
        S[:, business.proxy] = -np.inf
    r, f = _top(S, k)
    dropped = 0
    for _ in range(S.shape[1] + 1):
        cols = _evidence(rows, business, r, f, sign)
        compared = _compare(rows, business, r, cols)
        if not drop_same:
            break
        same = compared.vs == _SAME
        if not same.any():
            break
        dropped += int(same.sum())
        S[r[same], f[same]] = -np.inf
        redo = np.unique(r[same])
        r2, f2 = _top(S[redo], k)
        keep = ~np.isin(r, redo)
        r = np.concatenate([r[keep], redo[r2]])
        f = np.concatenate([f[keep], f2])
        order = np.argsort(r, kind="stable")
        r, f = r[order], f[order]
    return r, f, cols, compared, dropped


def reason_arrays(
    rows: Rows,
    business: BusinessFeatures,
    *,
    k: int,
    direction: str,
    prefix: str,
    include_proxies: bool = True,
    same_as_peers: str = "drop",
) -> dict[str, np.ndarray]:
    """The reasons of every row, as arrays ordered by row, direction (up first) and rank.

    ``row`` holds the position of each reason's row; the other keys are the columns of
    :data:`REASON_COLUMNS`. See :meth:`talentml.explain.ReasonCoder.top_reasons`.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if same_as_peers not in SAME_AS_PEERS:
        raise ValueError(f"same_as_peers must be one of {SAME_AS_PEERS}, got {same_as_peers!r}")
    col_names = business.columns.index
    picks = []
    dropped = 0
    for d, sign in (("up", 1), ("down", -1)):
        if direction in ("both", d):
            r, f, cols, compared, n_same = _pick(
                rows,
                business,
                int(k),
                sign,
                drop_same=same_as_peers == "drop",
                proxies=include_proxies,
            )
            dropped += n_same
            rank = np.zeros(len(r), dtype=np.int64)
            if len(r):
                starts = np.r_[0, np.flatnonzero(np.diff(r)) + 1]
                counts = np.diff(np.r_[starts, len(r)])
                rank = np.arange(len(r)) - np.repeat(starts, counts) + 1
            picks.append((sign, r, f, rank, cols, compared))
    if dropped:
        logger.debug("reasons: %d driver(s) equal to their peer reference gave way", dropped)
    rows_all = np.concatenate([p[1] for p in picks])
    feats_all = np.concatenate([p[2] for p in picks])
    rank_all = np.concatenate([p[3] for p in picks])
    cols = np.concatenate([p[4] for p in picks])
    compared = Compared.concat([p[5] for p in picks])
    sign_all = np.concatenate([np.full(len(p[1]), p[0]) for p in picks])
    n_total = len(rows_all)
    codes_all = np.where(
        sign_all > 0,
        business.codes(prefix, "UP")[feats_all],
        business.codes(prefix, "DOWN")[feats_all],
    )
    texts = np.empty(n_total, dtype=object)
    values = np.empty(n_total, dtype=object)
    evidence = np.full(n_total, None, dtype=object)
    proxy_all = business.proxy[feats_all].copy()
    same_all = compared.vs == _SAME

    for c in np.unique(cols[cols >= 0]):
        where = np.flatnonzero(cols == c)
        col = col_names[c]
        entry = business.column_records[col]
        template = entry["template"]
        at = rows_all[where]
        shown = rows.labels[c][at] if c in rows.labels else rows.numbers[at, c]
        values[where] = shown
        evidence[where] = col
        miss = _missing_mask(shown)
        text = np.empty(len(where), dtype=object)
        text[miss] = f"{entry['subject']}: no data"
        present = shown[~miss]
        if rows.flag_mask[c] and not business.specs[business.spec_id[c]]:
            present = flag_words(present)
        elif c in rows.labels and entry["fallback"]:
            present = np.asarray([str(v).replace("_", " ") for v in present], dtype=object)
        text[~miss] = render_array(template, present)
        if entry["sensitive_proxy"]:
            proxy_all[where] = True
        texts[where] = text
    peered = np.flatnonzero(compared.has)
    if len(peered):
        a = peered[~same_all[peered]]
        texts[a] = [
            f"{t} ({s}: {p})"
            for t, s, p in zip(
                texts[a].tolist(),
                compared.scope[a].tolist(),
                compared.peer_text[a].tolist(),
                strict=True,
            )
        ]
        b = peered[same_all[peered]]
        texts[b] = [
            f"{t} (the same as the {s})"
            for t, s in zip(texts[b].tolist(), compared.scope[b].tolist(), strict=True)
        ]
    onehot = np.flatnonzero(cols < 0)
    for b in np.unique(feats_all[onehot]):
        where = onehot[feats_all[onehot] == b]
        name = business.names[b]
        row = business.records[name]
        member_idx = [business.column_position[c] for c in row["columns"]]
        levels = np.asarray([str(business.level[j]) for j in member_idx], dtype=object)
        M = np.nan_to_num(rows.numbers[np.ix_(rows_all[where], member_idx)], nan=0.0) > 0
        shown = np.full(len(where), None, dtype=object)
        hot = M.any(axis=1)
        shown[hot] = levels[np.argmax(M, axis=1)[hot]]
        values[where] = shown
        text = np.empty(len(where), dtype=object)
        text[~hot] = f"{row['subject']}: none of the levels"
        if hot.any():
            level_text = shown[hot]
            if row["fallback"]:
                level_text = np.asarray([v.replace("_", " ") for v in level_text], dtype=object)
            text[hot] = render_array(row["template"], level_text)
        texts[where] = text
    if proxy_all.any():
        texts[proxy_all] = texts[proxy_all] + PROXY_NOTE
    order = np.lexsort((rank_all, np.where(sign_all > 0, 0, 1), rows_all))
    names = np.asarray(business.names, dtype=object)
    return {
        "row": rows_all[order],
        "rank": rank_all[order],
        "direction": np.where(sign_all > 0, "up", "down").astype(object)[order],
        "code": codes_all[order],
        "text": texts[order],
        "feature": names[feats_all][order],
        "family": business.family[feats_all][order],
        "evidence": evidence[order],
        "value": values[order],
        "peer_value": compared.peer_value[order],
        "peer_scope": compared.scope[order],
        "vs_peers": _VS_WORDS[compared.vs[order]],
        "contribution": rows.G[rows_all, feats_all][order],
        "actionable": business.actionable[feats_all][order],
        "sensitive_proxy": proxy_all[order],
    }


#: Text columns of :func:`reason_frame` (pandas ``string``).
_STRING_COLUMNS = (
    "direction",
    "code",
    "text",
    "feature",
    "family",
    "evidence",
    "peer_scope",
    "vs_peers",
)


def reason_frame(arrays: dict[str, np.ndarray], ids: pd.DataFrame) -> pd.DataFrame:
    """The long table of reasons: the ids of each reason's row, then :data:`REASON_COLUMNS`."""
    taken = arrays["row"]
    out = {c: ids[c].take(taken).reset_index(drop=True) for c in ids.columns}
    for col in REASON_COLUMNS:
        values = arrays[col]
        out[col] = pd.array(values, dtype="string") if col in _STRING_COLUMNS else values
    return pd.DataFrame(out)


def reason_records(
    arrays: dict[str, np.ndarray], n: int, keys: tuple[str, ...]
) -> list[list[dict[str, object]]]:
    """Per row, its reasons as plain dicts with ``keys`` (for serving)."""
    out: list[list[dict[str, object]]] = [[] for _ in range(n)]
    columns = []
    for key in keys:
        values = arrays[key]
        if key in ("rank",):
            columns.append(values.astype(np.int64).tolist())
        elif key in ("contribution",):
            columns.append(values.astype(np.float64).tolist())
        else:
            columns.append(values.tolist())
    for i, *vals in zip(arrays["row"].tolist(), *columns, strict=True):
        out[i].append(dict(zip(keys, vals, strict=True)))
    return out
