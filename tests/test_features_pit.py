"""The point-in-time machinery: windows, the running-sum kernel, distinct counts, local time."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentml.features import _pit
from talentml.features._learning import distinct_day_facts
from talentml.features._sql import DIALECTS, weekdays

DAY = _pit.DAY_US


@pytest.mark.parametrize(
    ("text", "days"), [("30D", 30), ("90d", 90), (" 365D ", 365), ("2W", 14), ("1w", 7)]
)
def test_windows_parse(text, days):
    assert _pit.parse_window(text).days == days
    assert _pit.parse_window(text).label == f"{days}d"


@pytest.mark.parametrize("bad", ["30", "0D", "-5D", "1.5D", "30 days", "3M", 30, None, "D"])
def test_bad_windows_are_rejected_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="whole number of days or weeks"):
        _pit.parse_window(bad)


def test_window_lists_are_sorted_and_unique():
    assert [w.days for w in _pit.parse_windows(("90D", "30D"))] == [30, 90]
    with pytest.raises(ValueError, match="same length"):
        _pit.parse_windows(("7D", "1W"))
    with pytest.raises(ValueError, match="at least one"):
        _pit.parse_windows(())


def test_no_clock_is_read():
    with pytest.raises(ValueError, match="never reads the clock"):
        _pit.to_utc(None, name="start")
    assert _pit.to_utc("2024-01-01", name="x") == pd.Timestamp("2024-01-01", tz="UTC")
    assert _pit.to_utc(pd.Timestamp("2024-01-01 02:00", tz="Europe/Berlin"), name="x").hour == 1


def test_sql_predicates_state_the_rule():
    w = _pit.parse_window("90D")
    assert _pit.visible("t", "a") == "(t < a)"
    assert _pit.in_window("t", "a", w) == f"((t < a) AND t >= a - {90 * DAY})"
    assert _pit.effective_at("e", "a") == "(e <= a)"


facts = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 60), st.integers(-3, 3)), min_size=0, max_size=60
)
probes = st.lists(st.tuples(st.integers(0, 5), st.integers(-5, 65)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(facts=facts, probes=probes)
def test_running_reader_matches_brute_force(facts, probes):
    k = np.array([f[0] for f in facts], dtype=np.int64)
    t = np.array([f[1] for f in facts], dtype=np.int64)
    w = np.array([f[2] for f in facts], dtype=np.int64)
    x = np.array([f[2] / 3 for f in facts], dtype=np.float64)
    times = np.where(np.array([f[2] for f in facts]) > 0, t, np.nan).astype(float)
    order = _pit.sort_order(k, t)
    pk = np.array([p[0] for p in probes])
    pt = np.array([p[1] for p in probes])
    got = _pit.running_at_probes(
        k[order],
        t[order],
        {"w": w[order], "x": x[order], "last": times[order]},
        {"w": "SUM", "x": "SUM", "last": "MAX"},
        pk,
        pt,
    )
    for i, (kk, tt) in enumerate(probes):
        seen = [j for j in range(len(facts)) if k[j] == kk and t[j] < tt]
        assert got["w"][i] == sum(w[j] for j in seen)
        assert got["x"][i] == pytest.approx(sum(x[j] for j in seen), abs=1e-12)
        values = [times[j] for j in seen if not np.isnan(times[j])]
        assert (np.isnan(got["last"][i]) and not values) or got["last"][i] == max(values)


def test_running_reader_rejects_unsorted_facts():
    with pytest.raises(ValueError, match="sorted"):
        _pit.RunningReader(np.array([1, 0]), np.array([0, 0]), np.array([0]), np.array([1]))


def test_running_reader_does_not_overflow_on_long_spans():
    k = np.array([0, 5_000_000, 5_000_000])
    t = np.array([-(2**61), 0, 2**61])
    got = _pit.running_at_probes(
        k,
        t,
        {"n": np.ones(3, dtype=np.int64)},
        {"n": "SUM"},
        np.array([5_000_000, 0]),
        np.array([1, 0]),
    )
    assert got["n"].tolist() == [1.0, 1.0]


@settings(max_examples=100, deadline=None)
@given(
    records=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 40 * 24)), max_size=40
    ),
    window=st.integers(1, 12),
    x=st.integers(-2 * 24, 60 * 24),
)
def test_distinct_count_identity(records, window, x):
    """F(x) - A(x - w) + B(x - w) counts the keys with a record in [x - w, x)."""
    hour = 3_600_000_000
    k = np.array([r[0] for r in records], dtype=np.int64)
    key = np.array([r[1] for r in records], dtype=np.int64)
    t = np.array([r[2] for r in records], dtype=np.int64) * hour
    # records grouped by (employee, key, UTC day), as the eager path reads them
    days = pd.DataFrame({"k": k, "key": key, "d": t // DAY, "t": t})
    g = days.groupby(["k", "key", "d"], as_index=False)["t"].agg(["min", "max"])
    facts = distinct_day_facts(
        g["k"].to_numpy(),
        g["key"].to_numpy(),
        g["d"].to_numpy(),
        g["min"].to_numpy(),
        g["max"].to_numpy(),
        {"f": ("first", 0), "a": ("a", window), "b": ("b", window)},
    )
    lo, hi = x * hour - window * DAY, x * hour
    for emp in range(3):

        def before(name, limit, emp=emp):
            fk, ft = facts[name]
            return int(((fk == emp) & (ft < limit)).sum())

        count = before("f", hi) - before("a", lo) + before("b", lo)
        expected = len({r[1] for r in records if r[0] == emp and lo <= r[2] * hour < hi})
        assert count == expected


def test_weekday_formula():
    pairs = [(d0, n) for d0 in range(19_700, 19_714) for n in range(0, 30)]
    con = duckdb.connect()
    con.sql(
        "CREATE TABLE p AS SELECT * FROM (VALUES "
        + ", ".join(f"({d0}, {d0 + n})" for d0, n in pairs)
        + ") v(d0, d1)"
    )
    got = con.sql(f"SELECT {weekdays(DIALECTS['duckdb'], 'd0', 'd1')} FROM p").fetchall()
    expected = [sum(1 for d in range(d0, d0 + n) if (d + 3) % 7 < 5) for d0, n in pairs]
    assert [g[0] for g in got] == expected


@pytest.mark.parametrize(
    ("tz", "day"),
    [
        ("Europe/Berlin", "2024-03-31"),  # spring forward at 01:00 UTC
        ("Europe/Berlin", "2024-10-27"),  # fall back
        ("America/New_York", "2024-03-10"),
        ("Australia/Lord_Howe", "2024-04-07"),  # a 30-minute shift at 15:00 UTC
        ("Asia/Kolkata", "2024-06-01"),  # +05:30, no DST
        ("Pacific/Chatham", "2024-09-29"),  # +12:45 -> +13:45
    ],
)
def test_duckdb_local_time_is_exact_around_transitions(tz, day):
    """Offsets per (zone, UTC day), with exact handling of the transition days."""
    start = pd.Timestamp(day, tz="UTC") - pd.Timedelta(hours=14)
    instants = [start + pd.Timedelta(minutes=7 * i) for i in range(int(48 * 60 / 7))]
    us = [int(i.value // 1000) for i in instants]
    con = duckdb.connect()
    con.sql(
        "CREATE TABLE src AS SELECT * FROM (VALUES "
        + ", ".join(f"('{tz}', 1, {u})" for u in us)
        + ") v(tz, tz_id, s_us)"
    )
    con.sql("CREATE TABLE times AS SELECT to_timestamp(s_us / 1000000) AS ts FROM src")
    con.sql(f"CREATE TABLE emp AS SELECT '{tz}' AS tz, 1 AS tz_id")
    ctes = DIALECTS["duckdb"].local_time_ctes("src", "loc", days=("times", "ts", DAY))
    sql = "WITH " + ", ".join(f"{n} AS ({q})" for n, q in ctes) + " SELECT s_us, local_us FROM loc"
    got = dict(con.sql(sql).fetchall())
    zone = zoneinfo.ZoneInfo(tz)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for u in us:
        wall = (epoch + timedelta(microseconds=u)).astimezone(zone).replace(tzinfo=UTC)
        assert got[u] == (wall - epoch) // timedelta(microseconds=1), (tz, u)
