"""Compiled kernels of the eager learning path: sorting facts, reading running sums at probes.

The readers of :mod:`talentml.features._pit` and :mod:`talentml.features._learning` turn DuckDB's
Arrow results into readings at probe times. Done with NumPy, that work is a chain of whole-array
passes (combined sort keys, ``argsort``, gathers, ``searchsorted`` over millions of facts); here
each step is one pass compiled by numba, which also releases the GIL, so that a chunk's readings
run while another chunk's SQL runs in DuckDB.

Facts are kept as a *grouped* layout: sorted by ``(k, t)``, with ``uk`` the distinct employee
keys in order and ``off`` their start offsets (``off[-1]`` is the number of facts). A probe
``(k, x)`` then finds its employee by binary search among the few thousand keys and its position
by binary search among that employee's few hundred facts: the rule of
:func:`talentml.features._pit.visible` (facts strictly before ``x``) is ``side="left"``.

Every kernel is compiled on first use and cached on disk (``cache=True``), so later processes
load the machine code instead of compiling it again.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "distinct_counts",
    "group_offsets",
    "last_at",
    "order_by_k_then",
    "positions",
    "prefix_sum_int",
    "sum_at",
    "warm",
]

#: Largest span of employee keys, as a multiple of the number of facts, sorted by counting.
_DENSE_FACTOR = 4


@njit(nogil=True, cache=True)
def _counting_order(k, k_lo, n_keys):
    """Stable order of ``k`` by counting sort (keys ``k_lo .. k_lo + n_keys - 1``)."""
    n = len(k)
    counts = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(n):
        counts[k[i] - k_lo + 1] += 1
    for j in range(n_keys):
        counts[j + 1] += counts[j]
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        slot = k[i] - k_lo
        order[counts[slot]] = i
        counts[slot] += 1
    return order


@njit(nogil=True, cache=True)
def _sort_segments(k, v, order):
    """Within each run of equal ``k[order]``, sort ``order`` by ``v`` (stable).

    A run's values and positions are packed into one integer (value relative to the run's
    minimum, then the position), so that a plain sort of integers sorts the run stably;
    runs whose values span too much for that use a stable argsort.
    """
    n = len(order)
    s = 0
    while s < n:
        kk = k[order[s]]
        e = s + 1
        ordered = True
        v_lo = v[order[s]]
        v_hi = v_lo
        while e < n and k[order[e]] == kk:
            x = v[order[e]]
            if x < v[order[e - 1]]:
                ordered = False
            if x < v_lo:
                v_lo = x
            if x > v_hi:
                v_hi = x
            e += 1
        if not ordered:
            size = e - s
            bits = 1
            while (1 << bits) < size:
                bits += 1
            seg = order[s:e].copy()
            if v_hi - v_lo < (np.int64(1) << (62 - bits)):
                packed = np.empty(size, dtype=np.int64)
                for i in range(size):
                    packed[i] = ((v[seg[i]] - v_lo) << bits) | i
                packed.sort()
                mask = (np.int64(1) << bits) - 1
                for i in range(size):
                    order[s + i] = seg[packed[i] & mask]
            else:
                vals = np.empty(size, dtype=np.int64)
                for i in range(size):
                    vals[i] = v[seg[i]]
                idx = np.argsort(vals, kind="mergesort")
                for i in range(size):
                    order[s + i] = seg[idx[i]]
        s = e


@njit(nogil=True, cache=True)
def _is_sorted_order(k, v):
    for i in range(1, len(k)):
        if k[i] < k[i - 1] or (k[i] == k[i - 1] and v[i] < v[i - 1]):
            return False
    return True


def order_by_k_then(k: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    """Indices that sort rows by ``(k, v)`` stably; None when they are already sorted.

    Employee keys of a chunk are a dense range, so the rows are first placed by a counting
    sort on ``k`` (one pass), then each employee's few rows are sorted by ``v``. Sparse keys
    fall back to NumPy's stable ``lexsort``.
    """
    k = np.ascontiguousarray(k, dtype=np.int64)
    v = np.ascontiguousarray(v, dtype=np.int64)
    n = len(k)
    if n == 0 or _is_sorted_order(k, v):
        return None
    k_lo, k_hi = int(k.min()), int(k.max())
    if k_hi - k_lo + 1 > _DENSE_FACTOR * n + 1024:
        return np.lexsort((v, k))
    order = _counting_order(k, k_lo, k_hi - k_lo + 1)
    _sort_segments(k, v, order)
    return order


@njit(nogil=True, cache=True)
def _group_offsets(k):
    n = len(k)
    n_u = 0
    for i in range(n):
        if i == 0 or k[i] != k[i - 1]:
            n_u += 1
    uk = np.empty(n_u, dtype=np.int64)
    off = np.empty(n_u + 1, dtype=np.int64)
    j = 0
    for i in range(n):
        if i == 0 or k[i] != k[i - 1]:
            uk[j] = k[i]
            off[j] = i
            j += 1
    off[n_u] = n
    return uk, off


def group_offsets(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(uk, off)`` of facts sorted by ``k``: the distinct keys and where each starts."""
    return _group_offsets(np.ascontiguousarray(k, dtype=np.int64))


@njit(nogil=True, cache=True)
def _positions(uk, off, t, pk, pt, pos, start):
    n_u = len(uk)
    last_k = np.int64(0)
    lo = -1
    for j in range(len(pk)):
        x = pk[j]
        if lo < 0 or x != last_k:
            a, b = 0, n_u
            while a < b:
                mid = (a + b) >> 1
                if uk[mid] < x:
                    a = mid + 1
                else:
                    b = mid
            lo = a
            last_k = x
        s = off[lo]
        start[j] = s
        if lo < n_u and uk[lo] == x:
            y = pt[j]
            a, b = s, off[lo + 1]
            while a < b:
                mid = (a + b) >> 1
                if t[mid] < y:
                    a = mid + 1
                else:
                    b = mid
            pos[j] = a
        else:
            pos[j] = s


def positions(
    uk: np.ndarray, off: np.ndarray, t: np.ndarray, pk: np.ndarray, pt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(pos, start)`` of probes ``(pk, pt)``: facts before each probe, and before its
    employee's first fact (facts grouped by :func:`group_offsets`, sorted by time within)."""
    pk = np.ascontiguousarray(pk, dtype=np.int64)
    pt = np.ascontiguousarray(pt, dtype=np.int64)
    pos = np.empty(len(pk), dtype=np.int64)
    start = np.empty(len(pk), dtype=np.int64)
    _positions(uk, off, np.ascontiguousarray(t, dtype=np.int64), pk, pt, pos, start)
    return pos, start


@njit(nogil=True, cache=True)
def _prefix_sum_int(values, order, out):
    out[0] = 0
    acc = np.int64(0)
    if len(order) == 0:
        for i in range(len(values)):
            acc += np.int64(values[i])
            out[i + 1] = acc
    else:
        for i in range(len(order)):
            acc += np.int64(values[order[i]])
            out[i + 1] = acc


def prefix_sum_int(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """Running sum (int64, with a leading 0) of integer ``values`` taken in ``order``."""
    n = len(values) if order is None else len(order)
    out = np.empty(n + 1, dtype=np.int64)
    _prefix_sum_int(values, np.empty(0, dtype=np.int64) if order is None else order, out)
    return out


@njit(nogil=True, cache=True)
def _sum_at(run, pos, start, rows, out):
    for j in range(len(pos)):
        out[rows[j]] = np.float64(run[pos[j]] - run[start[j]])


def sum_at(run: np.ndarray, pos: np.ndarray, start: np.ndarray, rows: np.ndarray, out) -> None:
    """``out[rows] = run[pos] - run[start]`` for an int64 running sum ``run``."""
    _sum_at(run, pos, start, rows, out)


@njit(nogil=True, cache=True)
def _last_at(t, pos, start, rows, out):
    for j in range(len(pos)):
        out[rows[j]] = np.float64(t[pos[j] - 1]) if pos[j] > start[j] else np.nan


def last_at(t: np.ndarray, pos: np.ndarray, start: np.ndarray, rows: np.ndarray, out) -> None:
    """``out[rows]`` = the time of the employee's last fact before each probe (NaN: none)."""
    _last_at(t, pos, start, rows, out)


_EMPTY = np.iinfo(np.int64).min


@njit(nogil=True, cache=True)
def _add_fact(hist, h0, a, b, pt, ft):
    # the fact counts at the probes after it: bucket = probes at or before its time
    lo, hi = a, b
    while lo < hi:
        mid = (lo + hi) >> 1
        if pt[mid] <= ft:
            lo = mid + 1
        else:
            hi = mid
    hist[h0 + lo - a] += 1


@njit(nogil=True, cache=True)
def _distinct_counts(k, t, keys, n_keys, kinds, w_us, lo, hi, pk, pt, out, out_off):
    n = len(k)
    n_pairs = len(kinds)
    last = np.full(n_keys, _EMPTY, dtype=np.int64)
    touched = np.empty(n_keys, dtype=np.int64)
    ptr = lo.copy()
    a = np.empty(n_pairs, dtype=np.int64)
    b = np.empty(n_pairs, dtype=np.int64)
    h0 = np.empty(n_pairs + 1, dtype=np.int64)
    s = 0
    while s < n:
        kk = k[s]
        e = s + 1
        while e < n and k[e] == kk:
            e += 1
        # this employee's probes in each pair's block (blocks are sorted by (k, t))
        h0[0] = 0
        for j in range(n_pairs):
            p = ptr[j]
            while p < hi[j] and pk[p] < kk:
                p += 1
            q = p
            while q < hi[j] and pk[q] == kk:
                q += 1
            ptr[j] = q
            a[j] = p
            b[j] = q
            h0[j + 1] = h0[j] + (q - p) + 1
        if h0[n_pairs] == n_pairs:
            s = e
            continue
        hist = np.zeros(h0[n_pairs], dtype=np.int64)
        n_touched = 0
        for i in range(s, e):
            key = keys[i]
            tt = t[i]
            prev = last[key]
            if prev == _EMPTY:
                touched[n_touched] = key
                n_touched += 1
            for j in range(n_pairs):
                if a[j] == b[j]:
                    continue
                kind = kinds[j]
                if kind == 0:
                    if prev == _EMPTY:
                        _add_fact(hist, h0[j], a[j], b[j], pt, tt)
                elif prev != _EMPTY and tt - prev > w_us[j]:
                    if kind == 1:
                        _add_fact(hist, h0[j], a[j], b[j], pt, prev)
                    else:
                        _add_fact(hist, h0[j], a[j], b[j], pt, tt - w_us[j])
            last[key] = tt
        for r in range(n_touched):
            key = touched[r]
            for j in range(n_pairs):
                if kinds[j] == 1 and a[j] < b[j]:
                    _add_fact(hist, h0[j], a[j], b[j], pt, last[key])
            last[key] = _EMPTY
        for j in range(n_pairs):
            run = np.int64(0)
            for i in range(b[j] - a[j]):
                run += hist[h0[j] + i]
                out[out_off[j] + a[j] - lo[j] + i] = np.float64(run)
        s = e


def distinct_counts(
    k: np.ndarray,
    t: np.ndarray,
    keys: np.ndarray,
    pairs: list[tuple[str, int, int, int]],
    pk: np.ndarray,
    pt: np.ndarray,
) -> list[np.ndarray]:
    """Distinct-key counts at probes, in one pass over records sorted by ``(k, t)``.

    The facts of :func:`talentml.features._learning.distinct_day_facts` (first records;
    records followed by a gap longer than the window, at their time and at the next time
    minus the window) come from one walk through each employee's records in time order,
    remembering each key's last time; each fact is counted at once into the buckets of the
    employee's probes (probes strictly after it see it), so facts are never stored or
    sorted.

    ``keys`` are integers ``0 .. n - 1`` aligned with the records; each pair is
    ``(kind, days, start, stop)``: ``kind`` ``"first"``, ``"a"`` or ``"b"``, the window in
    days, and the probe block ``[start, stop)`` of ``pk``/``pt`` (sorted by ``(k, t)``).
    Returns, per pair, the count at each probe of its block (float64).
    """
    codes = {"first": 0, "a": 1, "b": 2}
    kinds = np.array([codes[p[0]] for p in pairs], dtype=np.int64)
    w_us = np.array([p[1] for p in pairs], dtype=np.int64) * np.int64(86_400_000_000)
    lo = np.array([p[2] for p in pairs], dtype=np.int64)
    hi = np.array([p[3] for p in pairs], dtype=np.int64)
    sizes = hi - lo
    out_off = np.zeros(len(pairs) + 1, dtype=np.int64)
    np.cumsum(sizes, out=out_off[1:])
    out = np.zeros(int(out_off[-1]), dtype=np.float64)
    keys = np.ascontiguousarray(keys, dtype=np.int64)
    n_keys = int(keys.max()) + 1 if len(keys) else 1
    _distinct_counts(
        np.ascontiguousarray(k, dtype=np.int64),
        np.ascontiguousarray(t, dtype=np.int64),
        keys,
        n_keys,
        kinds,
        w_us,
        lo,
        hi,
        np.ascontiguousarray(pk, dtype=np.int64),
        np.ascontiguousarray(pt, dtype=np.int64),
        out,
        out_off,
    )
    return [out[out_off[j] : out_off[j + 1]] for j in range(len(pairs))]


def warm() -> None:
    """Load (or compile) every kernel for the argument types the eager path uses.

    Loading machine code from the cache is mostly LLVM work that releases the GIL, so
    :func:`talentml.features.build` calls this in a background thread while it validates
    its inputs.
    """
    k = np.array([1, 0, 1], dtype=np.int64)
    t = np.array([5, 3, 4], dtype=np.int64)
    order = order_by_k_then(k, t)
    k, t = k[order], t[order]
    uk, off = group_offsets(k)
    pk = np.array([0, 1], dtype=np.int64)
    pt = np.array([9, 9], dtype=np.int64)
    pos, start = positions(uk, off, t, pk, pt)
    rows = np.arange(2)
    out = np.zeros(2)
    for values in (np.ones(3, dtype=np.int8), np.ones(3, dtype=np.int64)):
        sum_at(prefix_sum_int(values, order), pos, start, rows, out)
    last_at(t, pos, start, rows, out)
    distinct_counts(k, t, np.zeros(3, dtype=np.int64), [("first", 0, 0, 2), ("a", 1, 0, 2)], pk, pt)
