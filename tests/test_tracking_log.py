"""The prediction log: append-only JSON lines, thread-safe, digests instead of inputs."""

from __future__ import annotations

import threading

import orjson
import pandas as pd
import pytest

from talentml.tracking import (
    DEFAULT_LOG_PATH,
    LOG_ENV,
    PredictionLog,
    canonical_digests,
    read_prediction_log,
)


def record(i: int) -> dict:
    return {
        "prediction_id": f"p{i}",
        "model_name": "m",
        "model_version": "1",
        "employee_id": f"E{i}",
        "inputs_sha256": "0" * 64,
        "score": i / 1000,
        "band": "low",
        "reasons": ["FR-LEARN-DROPOFF-UP"],
    }


def test_threads_append_whole_lines(tmp_path):
    log = PredictionLog(tmp_path / "deep" / "log.jsonl")
    n_threads, per_thread = 8, 200

    def work(t: int) -> None:
        for j in range(per_thread):
            i = t * per_thread + j
            log.write([record(i), record(i + 100_000)])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "deep" / "log.jsonl").read_bytes().splitlines()
    assert len(lines) == 2 * n_threads * per_thread == log.n_written
    ids = [orjson.loads(line)["prediction_id"] for line in lines]  # every line parses
    assert len(set(ids)) == len(ids)
    frame = read_prediction_log(tmp_path / "deep" / "log.jsonl")
    assert str(frame["time"].dtype) == "datetime64[ns, UTC]"
    assert frame.columns[:9].tolist() == [
        "prediction_id",
        "time",
        "model_name",
        "model_version",
        "employee_id",
        "inputs_sha256",
        "score",
        "band",
        "reasons",
    ]


def test_the_environment_chooses_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(LOG_ENV, str(tmp_path / "env.jsonl"))
    assert PredictionLog().path == tmp_path / "env.jsonl"
    monkeypatch.setenv(LOG_ENV, "off")
    off = PredictionLog()
    assert off.path is None and not off.enabled
    assert off.write([record(1)]) == 1  # counted, written nowhere
    monkeypatch.delenv(LOG_ENV)
    monkeypatch.chdir(tmp_path)
    assert PredictionLog().path.name == DEFAULT_LOG_PATH
    assert PredictionLog(enabled=False).path is None


def test_a_sink_receives_batches_and_cannot_break_predictions(tmp_path, caplog):
    got = []
    log = PredictionLog(tmp_path / "log.jsonl", sink=got.append)
    log.write([record(1), record(2)])
    assert [r["prediction_id"] for r in got[0]] == ["p1", "p2"]
    assert all("time" in r for r in got[0])

    def broken(batch):
        raise RuntimeError("queue down")

    log = PredictionLog(tmp_path / "log.jsonl", sink=broken)
    assert log.write([record(3)]) == 1
    assert "prediction log sink failed" in caplog.text
    assert len(read_prediction_log(tmp_path / "log.jsonl")) == 3


def test_canonical_digests():
    a = canonical_digests([[3, "Sales", None]], ["tenure", "dept", "rating"])[0]
    b = canonical_digests([[3.0, "Sales", float("nan")]], ["tenure", "dept", "rating"])[0]
    c = canonical_digests([[float("nan"), 3.0, "Sales"]], ["rating", "tenure", "dept"])[0]
    d = canonical_digests([[3.5, "Sales", None]], ["tenure", "dept", "rating"])[0]
    e = canonical_digests([[pd.NA, pd.Timestamp("2024-01-01", tz="UTC")]], ["x", "t"])[0]
    assert a == b == c != d
    assert len(e) == 64


def test_a_corrupt_line_is_named(tmp_path):
    path = tmp_path / "log.jsonl"
    PredictionLog(path).write([record(1)])
    with open(path, "ab") as fh:
        fh.write(b"{not json\n")
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        read_prediction_log(path)
    assert read_prediction_log(tmp_path / "missing.jsonl").empty
