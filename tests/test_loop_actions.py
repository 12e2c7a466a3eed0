"""Actions out: xAPI assignments on a real LRS (ralph) and signed webhooks, exactly once."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

import talentml as tml
from lrs_support import (
    PROXY_VARIABLES,
    Fault,
    FaultProxy,
    RalphUser,
    local_session,
    start_ralph,
)
from talentml.datasets import SIMULATION_SECRET
from talentml.loop import (
    ACROSSX_PROFILE,
    ASSIGNED_VERB,
    SIGNATURE_HEADER,
    ActionStore,
    RuleSet,
    WebhookSender,
    assignment_statements,
    emit_xapi,
    statement_id,
    verify_signature,
    webhook_payload,
)
from talentml.xapi import LRSClient, validate_statement
from test_loop_world import small_world

PROFILES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "xapi" / "profiles"
SECRET = "webhook-shared-secret-for-tests"

RULES = RuleSet(
    [
        {
            "id": "pm-remediation",
            "kind": "remediation",
            "when": [{"competency": "Project Management", "op": "<", "value": 3}],
            "then": [
                {
                    "action": "enroll",
                    "target": "https://lms.acme.example/course/project-management-foundations",
                    "title": "Project Management Fundamentals",
                    "due_days": 30,
                }
            ],
        },
        {
            "id": "compliance",
            "when": [{"feature": "mandatory_compliant", "op": "==", "value": 0}],
            "then": [{"action": "notify", "target": "compliance-team", "open_days": 30}],
        },
    ]
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything here talks to 127.0.0.1: a proxy from the environment must not interfere."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def actions(world) -> pd.DataFrame:
    X = world.X[world.X["as_of"] == pd.Timestamp("2025-03-01", tz="UTC")]
    out = RULES.evaluate(X, competency_ratings=world.org.competency_ratings)
    assert out["action"].value_counts().to_dict().keys() == {"enroll", "notify"}
    return out


class SleepRecorder(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ------------------------------------------------------------------------------ xAPI


def test_the_verb_is_published_in_a_profile() -> None:
    profile = json.loads((PROFILES / "acrossx_v1.0.1_acrossx.jsonld").read_text())
    verbs = {c["id"]: c for c in profile["concepts"] if c["type"] == "Verb"}
    assert ASSIGNED_VERB in verbs
    assert verbs[ASSIGNED_VERB]["inScheme"] == ACROSSX_PROFILE
    assert "assigned" in verbs[ASSIGNED_VERB]["prefLabel"]["en"]


def test_assignment_statements_are_valid_and_identify_learners_like_the_lms(world, actions) -> None:
    out = assignment_statements(actions, actors=world.org.hris_identities)
    assert out["status"].value_counts().to_dict() == {
        "ready": int((actions["action"] == "enroll").sum()),
        "not_an_assignment": int((actions["action"] != "enroll").sum()),
    }
    ready = out[out["status"] == "ready"]
    statements = ready["statement"].tolist()
    for s in statements:
        assert validate_statement(s, version="1.0.3") is None
        assert validate_statement(s, version="2.0") is None
    assert ready["statement_id"].tolist() == [statement_id(k) for k in ready["action_key"]]
    # ingested with the organization's identities, each statement lands on its employee
    ingested = tml.xapi.ingest(
        statements, identities=world.org.identities, secret=SIMULATION_SECRET, show_progress=False
    )
    assert ingested.report.accepted == len(statements)
    got = ingested.statements.set_index("statement_id")["employee_id"].astype(str)
    assert got.reindex(ready["statement_id"]).tolist() == ready["employee_id"].tolist()
    assert set(ingested.statements["verb_id"]) == {ASSIGNED_VERB}
    # with e-mail only, the mbox identifies the same people
    by_mail = world.org.hris_identities[["employee_id", "email"]]
    mail = assignment_statements(actions, actors=by_mail)
    again = tml.xapi.ingest(
        mail.loc[mail["status"] == "ready", "statement"].tolist(),
        identities=world.org.identities,
        secret=SIMULATION_SECRET,
        show_progress=False,
    )
    assert set(again.statements["employee_id"].astype(str)) == set(ready["employee_id"])
    # an employee missing from the directory is reported, not dropped silently
    partial = world.org.hris_identities.iloc[1:]
    missing = assignment_statements(actions, actors=partial)
    lost = set(missing.loc[missing["status"] == "no_actor", "employee_id"])
    assert lost == set(ready["employee_id"]) & {world.org.hris_identities["employee_id"].iloc[0]}


@pytest.mark.lrs
def test_assignments_reach_ralph_exactly_once(world, actions, tmp_path_factory) -> None:
    ralph = start_ralph(tmp_path_factory.mktemp("ralph-loop"), users=[RalphUser("loop", "loop")])
    try:
        store = ActionStore(tmp_path_factory.mktemp("store") / "actions.duckdb")
        store.record(actions)
        n_enroll = int((actions["action"] == "enroll").sum())
        # first run: ralph stores the batch, the answer is lost, the client retries
        with FaultProxy(ralph.base_url, faults={1: Fault.drop_mid_response()}) as proxy:
            client = LRSClient(
                proxy.endpoint,
                auth=ralph.credentials("loop"),
                show_progress=False,
                sleep=SleepRecorder(),
                session=local_session(),
            )
            # ralph's fs backend takes one write per store file: one batch
            report = emit_xapi(
                actions, client, actors=world.org.hris_identities, store=store, batch_size=1000
            )
        assert [r.upstream_status for r in proxy.records] == [200, 204]
        sent = report[report["status"] != "not_an_assignment"]
        assert len(sent) == n_enroll and sent["delivered"].all()
        assert sent["attempts"].eq(2).all() and sent["status"].eq("already_stored").all()
        # re-run: the rules open nothing new, and the store holds nothing pending
        X = world.X[world.X["as_of"] == pd.Timestamp("2025-03-01", tz="UTC")]
        assert RULES.evaluate(X, competency_ratings=world.org.competency_ratings, store=store).empty
        assert store.pending("xapi", actions=["enroll"]).empty
        client = LRSClient(
            ralph.endpoint,
            auth=ralph.credentials("loop"),
            show_progress=False,
            session=local_session(),
        )
        rerun = emit_xapi(actions, client, actors=world.org.hris_identities, store=store)
        assert (
            rerun.loc[rerun["status"] != "not_an_assignment", "status"]
            .eq("already_delivered")
            .all()
        )
        assert client.n_requests == 0
        # a forced re-send without the store is recognized by the LRS (204), nothing new stored
        forced = emit_xapi(actions, client, actors=world.org.hris_identities, batch_size=40)
        assert (
            forced.loc[
                forced["delivered"] & (forced["status"] != "not_an_assignment"), "status_code"
            ]
            .eq(204)
            .all()
        )
        lines = [json.loads(x) for x in ralph.store_file("loop").read_text().splitlines() if x]
        ids = [s["id"] for s in lines]
        assert len(ids) == len(set(ids)) == n_enroll
        assert set(ids) == set(sent["statement_id"])
        # read back through the LRS: the assignment verb, the employee's LMS account, the reason
        got = list(client.iter_statements())
        assert {s["id"] for s in got} == set(ids)
        one = got[0]
        assert one["verb"]["id"] == ASSIGNED_VERB
        assert one["actor"]["account"]["homePage"] == "https://lms.acme.example"
        ext = one["context"]["extensions"]
        key = ext["https://talentml.readthedocs.io/xapi/extensions/action-key"]
        row = actions.set_index("action_key").loc[key]
        assert ext["https://talentml.readthedocs.io/xapi/extensions/reason"] == row["reason"]
        assert statement_id(key) == one["id"]
    finally:
        ralph.stop()


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A webhook endpoint on 127.0.0.1 that fails on schedule and deduplicates by key.

    ``schedule`` maps the request number (1-based) to a behaviour: ``"500"``, ``"drop"``
    (close the connection without answering, before processing), ``"process_then_drop"``
    (process the delivery, then close without answering).
    """

    def __init__(self, secret: str, schedule: dict[int, str] | None = None) -> None:
        self.secret = secret.encode()
        self.schedule = schedule or {}
        self.requests: list[tuple[str, bool]] = []  # (idempotency key, signature ok)
        self.processed: dict[str, dict] = {}  # key -> payload, each processed once
        self.duplicates = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key", "")
                sig = self.headers.get(SIGNATURE_HEADER, "")
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(sig, expected)
                with receiver._lock:
                    receiver.requests.append((key, ok))
                    n = len(receiver.requests)
                behaviour = receiver.schedule.get(n)
                if behaviour == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if behaviour == "drop":
                    self._drop()
                    return
                if not ok:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver._lock:
                    if key in receiver.processed:
                        receiver.duplicates += 1
                        status = 409
                    else:
                        payload = json.loads(body)
                        assert payload["action_key"] == key
                        receiver.processed[key] = payload
                        status = 200
                if behaviour == "process_then_drop":
                    self._drop()
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/talent"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver(SECRET, schedule={1: "500", 2: "drop", 3: "process_then_drop", 5: "500"})
    yield r
    r.close()


def test_webhooks_arrive_exactly_once_across_retries_and_re_runs(
    receiver, actions, tmp_path
) -> None:
    subset = actions.head(6)
    store = ActionStore(tmp_path / "actions.duckdb")
    store.record(subset)
    sleep = SleepRecorder()
    sender = WebhookSender(
        receiver.url, secret=SECRET, backoff_factor=0.1, sleep=sleep, session=local_session()
    )
    report = sender.send(subset, store=store)
    assert report["delivered"].all()
    assert report["action_key"].tolist() == subset["action_key"].tolist()
    # request 1: 500, 2: dropped, 3: processed but the answer lost, 4: the retry -> 409
    first = report.iloc[0]
    assert first["attempts"] == 4 and first["status"] == "duplicate" and first["status_code"] == 409
    assert report.iloc[1]["attempts"] == 2  # request 5 answered 500
    assert report["attempts"].iloc[2:].eq(1).all()
    assert sleep == [0.1, 0.2, 0.4, 0.1]
    # every attempt was signed, every action processed once, and nothing else
    assert all(ok for _, ok in receiver.requests)
    assert sorted(receiver.processed) == sorted(subset["action_key"])
    assert receiver.duplicates == 1
    # the payload is the action, with its facts and reason
    got = receiver.processed[subset["action_key"].iloc[2]]
    assert got == json.loads(json.dumps(webhook_payload(subset.iloc[2])))
    assert got["reason"] == subset["reason"].iloc[2] and isinstance(got["facts"], dict)
    # re-runs: the store remembers the deliveries; without it the receiver deduplicates
    again = sender.send(subset, store=store)
    assert again["status"].eq("already_delivered").all()
    n_requests = len(receiver.requests)
    assert (
        WebhookSender(receiver.url, secret=SECRET, session=local_session())
        .send(subset)["status"]
        .eq("duplicate")
        .all()
    )
    assert len(receiver.requests) == n_requests + len(subset)
    assert sorted(receiver.processed) == sorted(subset["action_key"])
    assert store.pending(sender.channel).empty


def test_a_bad_signature_fails_for_good_and_stays_pending(actions, tmp_path) -> None:
    receiver = Receiver(SECRET)
    try:
        store = ActionStore(tmp_path / "actions.duckdb")
        store.record(actions.head(2))
        sleep = SleepRecorder()
        sender = WebhookSender(
            receiver.url, secret="not-the-shared-secret", sleep=sleep, session=local_session()
        )
        report = sender.send(actions.head(2), store=store)
        assert report["status"].eq("failed").all() and report["status_code"].eq(401).all()
        assert report["attempts"].eq(1).all() and sleep == []  # 401 is not retried
        assert receiver.processed == {}
        assert len(store.pending(sender.channel)) == 2
    finally:
        receiver.close()


def test_unreachable_endpoint_is_retried_then_reported(actions) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    sleep = SleepRecorder()
    sender = WebhookSender(
        f"http://127.0.0.1:{port}/h",
        secret=SECRET,
        max_retries=2,
        backoff_factor=0.5,
        sleep=sleep,
        session=local_session(),
    )
    report = sender.send(actions.head(1))
    assert report.loc[0, "status"] == "failed" and pd.isna(report.loc[0, "status_code"])
    assert report.loc[0, "attempts"] == 3 and sleep == [0.5, 1.0]
    assert "ConnectionError" in report.loc[0, "error"]


def test_signatures() -> None:
    body = json.dumps({"a": 1}).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert verify_signature(body, sig, SECRET)
    assert not verify_signature(body, sig, SECRET + "x")
    assert not verify_signature(body, None, SECRET)
    with pytest.raises(ValueError, match="16 bytes"):
        WebhookSender("http://127.0.0.1:1/", secret="short")
    with pytest.raises(ValueError, match="http"):
        WebhookSender("ftp://127.0.0.1/", secret=SECRET)


# ------------------------------------------------------------------------------ store


def test_store_keeps_actions_and_deliveries(actions, tmp_path) -> None:
    store = ActionStore(tmp_path / "a.duckdb")
    added = store.record(actions)
    assert len(added) == len(actions)
    assert store.record(actions).empty
    back = store.actions().drop(columns="closed_at")
    pd.testing.assert_frame_equal(
        back.sort_values("action_key").reset_index(drop=True),
        actions.sort_values("action_key").reset_index(drop=True),
    )
    t = pd.Timestamp("2025-03-10", tz="UTC")
    key = actions["action_key"].iloc[0]
    assert store.close([key], at=t) == 1
    assert store.close([key], at=t) == 0
    closed = store.actions(status="done")
    assert closed["action_key"].tolist() == [key] and (closed["closed_at"] == t).all()
    assert key not in set(store.open_actions()["action_key"])
    assert len(store.open_actions(as_of="2025-03-15")) == len(actions) - 1
    assert store.open_actions(as_of="2026-01-01").empty
    with pytest.raises(ValueError, match="status must be"):
        store.close([key], at=t, status="lost")
    with pytest.raises(ValueError, match="repeats"):
        store.record(pd.concat([actions.head(1), actions.head(1)]))
