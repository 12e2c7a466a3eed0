"""Numba kernels of the path-table TreeSHAP (imported lazily: numba is slow to import).

See :mod:`talentml.explain._treeshap` for the algorithm. Every kernel is compiled on first
use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def leaf_tables(leaf_node, left, right, feat, cover, value, depth):  # pragma: no cover - numba
    """Per-leaf SHAP tables: for every path mask, the contribution to each path feature.

    A leaf at depth ``L`` whose path splits on ``d`` distinct features (slots) gets a block of
    ``d * 2**L`` numbers laid out ``[slot][mask]``; bit ``q`` of ``mask`` says whether the row
    follows the path at depth ``q``. Returns ``(nslot, slotfeat, offsets, table)``.
    """
    n = len(left)
    parent = np.full(n, -1, np.int64)
    for i in range(n):
        if left[i] >= 0:
            parent[left[i]] = i
            parent[right[i]] = i
    nl = len(leaf_node)
    maxlen = 1
    for a in range(nl):
        maxlen = max(maxlen, depth[leaf_node[a]])
    # Shapley weights w(s, d) = s! (d - 1 - s)! / d!
    weights = np.zeros((maxlen + 2, maxlen + 2))
    for d in range(1, maxlen + 1):
        for s in range(d):
            weights[d, s] = math.exp(math.lgamma(s + 1) + math.lgamma(d - s) - math.lgamma(d + 1))
    slot = np.zeros((nl, maxlen), np.int64)
    nslot = np.zeros(nl, np.int64)
    slotfeat = np.full((nl, maxlen), -1, np.int64)
    zero = np.ones((nl, maxlen))
    offsets = np.zeros(nl + 1, np.int64)
    for a in range(nl):
        node = leaf_node[a]
        while parent[node] >= 0:
            p = parent[node]
            f = feat[p]
            s = -1
            for u in range(nslot[a]):
                if slotfeat[a, u] == f:
                    s = u
            if s < 0:
                s = nslot[a]
                slotfeat[a, s] = f
                nslot[a] += 1
            slot[a, depth[p]] = s
            zero[a, s] *= cover[node] / cover[p]
            node = p
        offsets[a + 1] = offsets[a] + (1 << depth[leaf_node[a]]) * nslot[a]
    table = np.zeros(offsets[nl], np.float32)
    one = np.zeros(maxlen, np.int64)
    poly = np.zeros(maxlen + 2)
    for a in range(nl):
        d = nslot[a]
        length = depth[leaf_node[a]]
        v = value[leaf_node[a]]
        n_masks = 1 << length
        for mask in range(n_masks):
            for u in range(d):
                one[u] = 1
            for q in range(length):
                if not (mask >> q) & 1:
                    one[slot[a, q]] = 0
            for i in range(d):
                # sum over S within the followed slots (except i) of w(|S|, d) times the
                # product of the zero fractions of the other slots (i excluded)
                outside = 1.0
                poly[0] = 1.0
                n_in = 0
                for u in range(d):
                    if u == i:
                        continue
                    if one[u] == 1:
                        poly[n_in + 1] = 0.0
                        for j in range(n_in + 1, 0, -1):
                            poly[j] += poly[j - 1] * zero[a, u]
                        n_in += 1
                    else:
                        outside *= zero[a, u]
                total = 0.0
                for s in range(n_in + 1):
                    total += weights[d, s] * poly[n_in - s]
                table[offsets[a] + i * n_masks + mask] = v * (one[i] - zero[a, i]) * total * outside
    return nslot, slotfeat, offsets, table


def _path_table_shap(
    xt,
    node_start,
    leaf_start,
    leaf_node,
    left,
    right,
    feat,
    thr,
    default_left,
    split_type,
    depth,
    cat_ptr,
    cat_len,
    cats,
    nslot,
    slotfeat,
    offsets,
    table,
    block,
):  # pragma: no cover - numba
    """SHAP values (features x rows) of ``xt`` (features x rows, float64, NaN = missing)."""
    p, n = xt.shape
    # float32 sums, as XGBoost's own pred_contribs: less memory traffic in the accumulation
    # loop below (about 15% faster); shap's values are matched within 1e-4 in the tests, and
    # the benchmark records the largest difference (about 1e-6 for 300 trees)
    out = np.zeros((p, n), np.float32)
    n_trees = len(node_start) - 1
    max_nodes = 1
    for t in range(n_trees):
        max_nodes = max(max_nodes, node_start[t + 1] - node_start[t])
    n_blocks = (n + block - 1) // block
    mask = np.zeros((max_nodes, min(block, n)), np.int32)
    for bi in range(n_blocks):
        r0 = bi * block
        r1 = min(n, r0 + block)
        nb_rows = r1 - r0
        for t in range(n_trees):
            s0 = node_start[t]
            for r in range(nb_rows):
                mask[0, r] = 0
            for j in range(s0, node_start[t + 1]):
                if left[j] < 0:
                    continue
                f = feat[j]
                th = thr[j]
                dflt = default_left[j] == 1
                bit = 1 << depth[j]
                jl = left[j] - s0
                jr = right[j] - s0
                jj = j - s0
                if split_type[j] == 0:
                    for r in range(nb_rows):
                        x = xt[f, r0 + r]
                        go_left = (x < th) or (np.isnan(x) and dflt)
                        m = mask[jj, r]
                        mask[jl, r] = m | (bit if go_left else 0)
                        mask[jr, r] = m | (0 if go_left else bit)
                else:
                    for r in range(nb_rows):
                        x = xt[f, r0 + r]
                        if np.isnan(x):
                            go_left = dflt
                        else:
                            # XGBoost: categories in the node's set go right
                            go_left = True
                            for c in range(cat_len[j]):
                                if cats[cat_ptr[j] + c] == x:
                                    go_left = False
                        m = mask[jj, r]
                        mask[jl, r] = m | (bit if go_left else 0)
                        mask[jr, r] = m | (0 if go_left else bit)
            for a in range(leaf_start[t], leaf_start[t + 1]):
                ln = leaf_node[a] - s0
                n_masks = 1 << depth[leaf_node[a]]
                for s in range(nslot[a]):
                    f = slotfeat[a, s]
                    base = offsets[a] + s * n_masks
                    for r in range(nb_rows):
                        out[f, r0 + r] += table[base + mask[ln, r]]
    return out


#: The kernel, compiled without the GIL: talentml runs it on row chunks in Python threads
#: (a plain kernel compiles in seconds; numba's parallel one takes a minute).
path_table_shap = nb.njit(cache=True, nogil=True)(_path_table_shap)


@nb.njit(cache=True, nogil=True)
def leaf_values(
    xt, node_start, left, right, feat, thr, default_left, split_type, cat_ptr, cat_len, cats, value
):  # pragma: no cover - numba
    """Sum of the leaf values each row reaches (the margin without the base score)."""
    p, n = xt.shape
    out = np.zeros(n)
    for r in range(n):
        for t in range(len(node_start) - 1):
            j = node_start[t]
            while left[j] >= 0:
                x = xt[feat[j], r]
                if np.isnan(x):
                    go_left = default_left[j] == 1
                elif split_type[j] == 0:
                    go_left = x < thr[j]
                else:
                    go_left = True
                    for c in range(cat_len[j]):
                        if cats[cat_ptr[j] + c] == x:
                            go_left = False
                j = left[j] if go_left else right[j]
            out[r] += value[j]
    return out


@nb.njit(cache=True, nogil=True)
def top_k_rows(S, k):  # pragma: no cover - numba
    """Per row of ``S``, the ``k`` largest values and their columns, largest first.

    Ties keep the lower column first (as a stable sort would); NaN is never selected (its
    slot keeps ``-inf`` and column ``-1``).
    """
    n, m = S.shape
    idx = np.full((n, k), -1, np.int64)
    val = np.full((n, k), -np.inf)
    for i in range(n):
        for j in range(m):
            v = S[i, j]
            if v > val[i, k - 1]:
                p = k - 1
                while p > 0 and v > val[i, p - 1]:
                    val[i, p] = val[i, p - 1]
                    idx[i, p] = idx[i, p - 1]
                    p -= 1
                val[i, p] = v
                idx[i, p] = j
    return idx, val
