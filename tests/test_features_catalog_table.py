"""The learning feature catalog is data: ``features/learning_features.toml``, read by the code.

Issue 20 turned the 445 lines of positional calls of ``learning_specs`` into the table. The
digests below are those of the specs the code built *before* the table (every field: name,
description, unit, window, actionable, direction, template, dtype, SQL, proxy flag, group,
inputs and guards), so the table reproduces them exactly. Editing the table on purpose changes
a digest: review the catalog diff (``features.catalog()``) and update the digest with it.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest

from talentml.features import catalog
from talentml.features._catalog import DIRECTIONS, INPUTS
from talentml.features._learning_specs import (
    TABLE,
    _expand,
    _probes,
    _series,
    _table,
    learning_specs,
)
from talentml.features._pit import Window

#: sha256 of the specs built by the code before the table (see :func:`_digest`).
BEFORE = {
    (30, 90, 365): "ec56dacb38ecfc9c85bda8bd0fe6155945c86e9267742a312dd4039a50d5b427",
    (7,): "90ebedbc4b49cfa45f59ccc1976bfe70a1b05bd4b58cada26d8d1b07f4836384",
    (14, 60): "7e92399189450af935039d27fdedc6a2b7976141334881cdb5072b5b3dff58d4",
    (30, 90, 180, 365): "981338ca9bfd5ad34921f8d3c5e330e1ccc55ffb6df4063f8e25520d72a996a1",
    (1, 2): "972aced0afbd533bb75987ff039eca78ff485ce148710003351eb59139d079df",
}
TOKEN = re.compile(r"\{(\w+)@(\w+)\}")


def _windows(days) -> tuple[Window, ...]:
    return tuple(Window(d) for d in days)


def _digest(specs) -> str:
    h = hashlib.sha256()
    for s in specs:
        guards = tuple((g.input, g.hi, g.lo, g.unknown, g.base) for g in s.guards)
        row = (
            s.name,
            s.description,
            s.unit,
            s.family,
            s.window,
            s.actionable,
            s.direction,
            s.template,
            s.dtype,
            s.expr,
            s.sensitive_proxy,
            s.group,
            s.needs,
            guards,
        )
        h.update(repr(row).encode())
    return h.hexdigest()


@pytest.mark.parametrize("days", list(BEFORE), ids=str)
def test_every_spec_read_from_the_table_equals_the_one_the_code_built(days):
    assert _digest(learning_specs(_windows(days))) == BEFORE[days]


def test_the_table_ships_in_the_package():
    table = resources.files("talentml.features").joinpath(TABLE)
    assert table.is_file()
    assert "[[feature]]" in table.read_text(encoding="utf-8")


@pytest.mark.parametrize("days", [(30, 90, 365), (7,), (14, 60)], ids=str)
def test_every_row_is_a_well_formed_feature(days):
    windows = _windows(days)
    specs = learning_specs(windows)
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert all("$" not in s.name + s.description + s.window + s.template + s.expr for s in specs)
    series, probes = _series(windows), _probes(windows)
    for s in specs:
        assert s.family == "learning" and s.direction in DIRECTIONS
        assert s.needs[0] == "statements" and set(s.needs) <= set(INPUTS)
        assert s.template.format(value=0.5)  # formats with a value
        for name, probe in TOKEN.findall(s.expr):
            assert name in series, (s.name, name)
            assert probe in probes, (s.name, probe)
        for g in s.guards:
            assert g.input in s.needs
            assert not g.unknown or {g.unknown, g.base} <= set(series)
    # the first learning rows of the public catalog, in the table's order
    learning = catalog(windows=[w.text for w in windows]).query("family == 'learning'")
    assert learning["name"].tolist()[: len(names)] == names


def test_per_window_rows_repeat_window_by_window():
    per = sum(1 for row in _table()["feature"] if row.get("per_window", False))
    specs = learning_specs(_windows((30, 90)))
    assert all(s.name.endswith("_30d") for s in specs[:per])
    assert all(s.name.endswith("_90d") for s in specs[per : 2 * per])
    assert len(learning_specs(_windows((30, 90, 365)))) - len(specs) == per


def test_the_shorthands():
    assert _expand("win(n)", "lo_30d") == "({n@asof} - {n@lo_30d})"
    assert _expand("diff(n, hire30, hire)", None) == "({n@hire30} - {n@hire})"
    assert _expand("ratio(win(a), (win(a) + 1))", "lo_7d") == (
        "(CAST(({a@asof} - {a@lo_7d}) AS DOUBLE) / "
        "NULLIF(CAST((({a@asof} - {a@lo_7d}) + 1) AS DOUBLE), 0.0))"
    )
    assert _expand("COALESCE(x, 0)", None) == "COALESCE(x, 0)"
    with pytest.raises(ValueError, match="takes 2"):
        _expand("ratio(a)", None)
    with pytest.raises(ValueError, match="per-window"):
        _expand("win(n)", None)
    with pytest.raises(ValueError, match="unbalanced"):
        _expand("ratio(a, b", None)
