"""Fuzzing the real ``mlflow models serve`` with hypothesis-generated payloads.

Missing fields, wrong types, NaN/inf/1e308, huge numbers and batches, unicode, nested junk,
the four request orientations and junk parameters: never a 5xx, never a score for a row the
policy refuses, every 4xx with a message naming the field. ``TALENTML_FUZZ_REPORT=path``
writes the counts (payloads tried, status classes) as JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import mlflow
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import talentml as tml
from serving_support import free_port, model_server, server_env, stop, synthetic, wait
from talentml.serving import Scorer
from talentml.tracking import log_model

pytestmark = [
    pytest.mark.mlflow_server,
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning"),
]

#: Payloads per run (bounded: the file runs in well under two minutes).
MAX_EXAMPLES = 150
FORMAT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs", "columns", "data")
PARAM_NAMES = ("k", "direction", "on_missing")
BANDS = {"low", "medium", "high", "low confidence"}
COUNTS: Counter = Counter()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    X, y = synthetic(n_employees=200)
    model = tml.FlightRisk(n_estimators=20, max_depth=3, survival=False, random_state=0)
    scorer = Scorer(model.fit(X, y["label"]), model_name="flight-risk", reference=X)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        exp = mlflow.create_experiment("fuzz", artifact_location=str(root / "artifacts"))
        with mlflow.start_run(experiment_id=exp):
            info = log_model(scorer, example=X.drop(columns="as_of").head(2))
    finally:
        mlflow.set_tracking_uri(None)
    (local,) = {p.parent for p in (root / "artifacts").rglob("MLmodel")}
    port = free_port()
    env = {**server_env(), "MLFLOW_TRACKING_URI": uri, "TALENTML_PREDICTION_LOG": "off"}
    proc = model_server(str(local), port, root / "server.log", env)
    try:
        wait(f"http://127.0.0.1:{port}/ping", proc, root / "server.log")
        yield {
            "url": f"http://127.0.0.1:{port}/invocations",
            "scorer": scorer,
            "X": X,
            "model_uri": info.model_uri,
        }
    finally:
        stop(proc)
        report = os.environ.get("TALENTML_FUZZ_REPORT")
        if report:
            Path(report).write_text(json.dumps(dict(COUNTS), indent=1, sort_keys=True) + "\n")


FEATURES = [
    "days_since_last_activity",
    "voluntary_dropoff_30d_vs_prior_90d",
    "n_completed_90d",
    "rating_latest",
    "department",
]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e308, -1e308, 5e-324, 3.5, 40.0]),
)
junk = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
value = st.one_of(
    numbers,
    st.none(),
    st.booleans(),
    text,
    st.sampled_from(["12", " 3.5 ", "NaN", "inf", "Sales", "Engineering", "Legal", ""]),
    junk,
)
field_name = st.one_of(
    st.sampled_from([*FEATURES, "employee_id", "as_of", "gender", "Age", "label", "hobby"]),
    text,
)


@st.composite
def payloads(draw):
    n = draw(st.sampled_from([0, 1, 1, 2, 3, 5, 33, 400]))
    columns = [c for c in FEATURES if draw(st.integers(0, 19)) > 0]  # a field sometimes missing
    if draw(st.integers(0, 3)) == 0:  # extra fields: unicode, sensitive, label, unused
        columns += draw(st.lists(field_name, max_size=2, unique=True))
    columns = list(dict.fromkeys(columns))
    # valid rows, valid rows with one drawn cell, or anything at all
    mode = draw(st.sampled_from(["valid", "one", "one", "any"]))
    bad = (draw(st.integers(0, max(n - 1, 0))), draw(st.sampled_from(columns or ["x"])))
    rows = []
    for i in range(n):
        row = {}
        for c in columns:
            if mode == "any" or (mode == "one" and (i, c) == bad):
                row[c] = draw(value)
            else:
                row[c] = "Sales" if c == "department" else float(i % 7)
        rows.append(row)
    orient = draw(st.sampled_from(["split", "split", "records", "instances", "inputs", "junk"]))
    if orient == "split":
        body = {
            "dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}
        }
    elif orient == "records":
        body = {"dataframe_records": rows}
    elif orient == "instances":
        body = {"instances": rows}
    elif orient == "inputs":
        body = {"inputs": {c: [r[c] for r in rows] for c in columns}}
    else:
        body = draw(st.one_of(junk, st.dictionaries(text, junk, max_size=3)))
    if isinstance(body, dict) and draw(st.booleans()):
        body["params"] = draw(
            st.dictionaries(
                st.sampled_from([*PARAM_NAMES, "x"]),
                st.one_of(
                    st.sampled_from([1, 3, 0, 21, "up", "both", "sideways", "flag", "refuse"]),
                    junk,
                ),
                max_size=3,
            )
        )
    return body


def names_in(body) -> set[str]:
    """Every key and column name in a payload (what a 4xx message may name)."""
    out: set[str] = set()
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.update(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            out.update(str(v) for v in item if isinstance(v, str))
    return out


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(body=payloads())
def test_fuzzed_payloads_never_break_the_server(served, body):
    data = json.dumps(body, allow_nan=True)
    res = requests.post(
        served["url"], data=data, headers={"Content-Type": "application/json"}, timeout=120
    )
    COUNTS["payloads"] += 1
    COUNTS[f"{res.status_code // 100}xx"] += 1
    assert res.status_code < 500, (res.status_code, res.text[:2000], data[:2000])
    if res.status_code != 200:
        message = res.json().get("message", "")
        assert message, res.text
        if "talentml" not in message:
            # refused by MLflow's own request parser, before the model: its messages say what
            # failed to parse (e.g. numpy's "inhomogeneous shape"), not always which field
            COUNTS["4xx_mlflow_parser"] += 1
            return
        COUNTS["4xx_talentml"] += 1
        named = names_in(body) | set(FEATURES) | set(FORMAT_KEYS) | set(PARAM_NAMES)
        assert any(name and name in message for name in named), message
        return
    predictions = res.json()["predictions"]
    params = body.get("params") or {}
    refuse = params.get("on_missing") == "refuse"
    for p in predictions:
        warned = json.loads(p["input_warnings"])
        imputed = [w for w in warned if w["kind"] in ("missing", "unknown_category")]
        assert not (refuse and imputed), p  # never a score for a row the policy refuses
        assert p["band"] in BANDS
        assert isinstance(p["score"], float) and math.isfinite(p["score"])
        if imputed:
            assert p["band"] == "low confidence"
    COUNTS["rows_scored"] += len(predictions)


def test_huge_batch_is_answered(served):
    """10,000 rows in one request, split orientation: every row answered."""
    X = served["X"].drop(columns="as_of")
    rows = X.sample(10_000, replace=True, random_state=0)
    body = {
        "dataframe_split": {
            "columns": list(rows.columns),
            "data": rows.astype(object).where(rows.notna(), None).to_numpy().tolist(),
        }
    }
    res = requests.post(served["url"], json=body, timeout=300)
    COUNTS["payloads"] += 1
    COUNTS[f"{res.status_code // 100}xx"] += 1
    assert res.status_code == 200, res.text[:2000]
    assert len(res.json()["predictions"]) == 10_000
