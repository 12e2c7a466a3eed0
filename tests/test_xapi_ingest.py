"""talentml.xapi.ingest: sources, normalization, duplicates, conflicts, voiding, identities, privacy."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import logging
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talentml import ConfigurationError, ContractError, config_context, schemas
from talentml.xapi import ID_NAMESPACE, IngestReport, build_identities, ingest
from talentml.xapi._ingest import ReconciliationError, redact_statement

SECRET = "test-secret-of-some-length"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def make(n: int, *, start: int = 0, actor: dict | None = None, **extra: object) -> list[dict]:
    """``n`` valid statements with ids."""
    out = []
    for i in range(start, start + n):
        s = {
            "id": str(uuid.UUID(int=i + 1)),
            "actor": actor
            or {"account": {"homePage": "https://lms.example.com", "name": f"u{i % 7}"}},
            "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
            "object": {
                "id": f"https://lms.example.com/course/{i % 5}",
                "definition": {"name": {"en-US": f"Course {i % 5}"}},
            },
            "timestamp": f"2024-05-01T09:{i // 60 % 60:02d}:{i % 60:02d}Z",
        }
        s.update(copy.deepcopy(extra))
        out.append(s)
    return out


def voiding(target: str, n: int) -> dict:
    return {
        "id": str(uuid.UUID(int=10**6 + n)),
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
        "timestamp": "2024-06-01T00:00:00Z",
    }


def counts(result) -> dict[str, int]:
    r = result.report
    return {
        "read": r.read,
        "accepted": r.accepted,
        "duplicates": r.duplicates,
        "voided": r.voided,
        "quarantined": r.quarantined,
    }


def reasons(result) -> dict[tuple[str, str], int]:
    t = result.report.reasons
    return {(o, r): c for o, r, c in zip(t["outcome"], t["reason"], t["count"], strict=True)}


# -- reconciliation -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 3, 10_000])
def test_everything_reconciles(chunk_size: int) -> None:
    good = make(20)
    resent = copy.deepcopy(good[3])
    resent["stored"] = "2024-05-02T00:00:00Z"  # a re-send: stored differs, content does not
    conflict = copy.deepcopy(good[5])
    conflict["result"] = {"success": False}
    conflict_resent = copy.deepcopy(conflict)
    early_void = voiding(good[7]["id"], 1)  # arrives before its target
    late_void = voiding(good[0]["id"], 2)
    unmatched = voiding(str(uuid.UUID(int=999_999)), 3)
    void_of_void = voiding(late_void["id"], 4)
    broken = dict(good[9], id=str(uuid.UUID(int=5000)), verb={"id": "not an iri"})
    stream = [early_void, *good[:10], resent, conflict, conflict_resent, late_void, unmatched]
    stream += [void_of_void, broken, *good[10:], b'{"id": "truncated', "[]"]
    result = ingest(stream, secret=SECRET, chunk_size=chunk_size)
    assert counts(result) == {
        "read": 30,
        "accepted": 17,
        "duplicates": 2,
        "voided": 5,
        "quarantined": 6,
    }
    got = reasons(result)
    assert got[("accepted", "accepted")] == 17
    assert got[("duplicate", "duplicate")] == 2
    assert got[("voided", "voided")] == 2
    assert got[("voided", "voiding.applied")] == 2
    assert got[("voided", "voiding.unmatched")] == 1
    assert got[("quarantined", "statement.id.conflict")] == 2
    assert got[("quarantined", "verb.id.not_iri")] == 1
    assert got[("quarantined", "json.invalid")] == 1
    assert got[("quarantined", "statement.not_object")] == 1
    assert got[("quarantined", "voiding.target_is_voiding")] == 1
    assert sum(got.values()) == result.report.read
    ids = set(result.statements["statement_id"])
    assert good[7]["id"] not in ids and good[0]["id"] not in ids and good[5]["id"] not in ids
    assert good[3]["id"] in ids
    # the kept copy is the first one read (stored taken from its timestamp, not the re-send)
    row = result.statements.set_index("statement_id").loc[good[3]["id"]]
    assert row["stored"] == row["timestamp"]
    # both versions of the conflict are in quarantine, with their JSON
    q = result.quarantine
    versions = q[q["reason"] == "statement.id.conflict"]
    assert versions["statement_id"].tolist() == [good[5]["id"]] * 2
    assert {json.loads(r).get("result") is None for r in versions["raw"]} == {True, False}
    assert q.loc[q["reason"] == "voiding.target_is_voiding", "statement_id"].tolist() == [
        void_of_void["id"]
    ]
    schemas.validate("statements", result.statements)


def test_report_identity_is_enforced() -> None:
    table = pd.DataFrame(
        {"outcome": ["accepted"], "reason": ["accepted"], "count": [2], "rule": ["r"]}
    )
    with pytest.raises(ReconciliationError, match="does not reconcile"):
        IngestReport(read=3, accepted=2, duplicates=0, voided=0, quarantined=0, reasons=table)
    with pytest.raises(ReconciliationError, match="reasons do not add up"):
        IngestReport(read=2, accepted=1, duplicates=1, voided=0, quarantined=0, reasons=table)
    report = IngestReport(read=2, accepted=2, duplicates=0, voided=0, quarantined=0, reasons=table)
    assert report.to_frame()["count"].tolist() == [2, 2, 0, 0, 0]
    assert str(report) == "read 2: accepted 2, duplicates 0, voided 0, quarantined 0"


def test_statements_without_id_get_stable_content_ids() -> None:
    base = make(3)
    for s in base:
        del s["id"]
    first = ingest(base, secret=SECRET)
    reordered = [dict(reversed(list(s.items()))) for s in reversed(base)]
    second = ingest(reordered + [base[0]], secret=SECRET)
    assert sorted(first.statements["statement_id"]) == sorted(second.statements["statement_id"])
    assert counts(second)["duplicates"] == 1
    canonical = json.dumps(
        {k: v for k, v in base[0].items()}, sort_keys=True, separators=(",", ":")
    )
    assert first.statements["statement_id"].iloc[0] == str(uuid.uuid5(ID_NAMESPACE, canonical))
    # ids are independent of stored, authority and version
    resent = dict(base[0], stored="2024-05-01T10:00:00Z", version="1.0.3")
    assert ingest([resent], secret=SECRET).statements["statement_id"].iloc[0] == str(
        uuid.uuid5(ID_NAMESPACE, canonical)
    )


def test_ids_compare_case_insensitively() -> None:
    s = make(1)[0]
    upper = dict(s, id=s["id"].upper())
    result = ingest([s, upper], secret=SECRET)
    assert counts(result)["duplicates"] == 1
    assert result.statements["statement_id"].tolist() == [s["id"].lower()]


# -- normalization ---------------------------------------------------------------------------------


def test_normalized_columns() -> None:
    s = {
        "id": "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE",
        "actor": {"mbox": "mailto:Ada@Example.com", "name": "Ada Lovelace"},
        "verb": {"id": "https://w3id.org/xapi/video/verbs/played/", "display": {"en-US": "played"}},
        "object": {
            "id": "https://lms.example.com/video/1",
            "definition": {
                "name": {"fr": "Vidéo", "en-US": "Video", "en-GB": "Video (GB)"},
                "type": "https://w3id.org/xapi/video/activity-type/video",
            },
        },
        "result": {
            "score": {"raw": 8, "min": 0, "max": 10},
            "success": True,
            "duration": "PT1M30S",
        },
        "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "platform": "LMS",
            "language": "en",
        },
        "timestamp": "2024-05-01T11:30:00.250+02:00",
        "stored": "2024-05-01T09:30:01Z",
    }
    result = ingest([s], secret=SECRET, language="en-US")
    row = result.statements.iloc[0]
    assert row["statement_id"] == "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
    assert row["verb"] == "played" and row["verb_id"] == s["verb"]["id"]
    assert row["object_name"] == "Video" and row["activity_type"].endswith("/video")
    assert row["object_type"] == "Activity"
    assert row["score_scaled"] == pytest.approx(0.8) and row["score_raw"] == 8
    assert row["success"] is np.True_ or row["success"] is True
    assert pd.isna(row["completion"])
    assert row["duration_s"] == 90.0
    assert row["timestamp"] == pd.Timestamp("2024-05-01T09:30:00.250Z")
    assert row["stored"] == pd.Timestamp("2024-05-01T09:30:01Z")
    assert (
        row["registration"] == "ec531277-b57b-4c15-8d91-d292c5b2b8f7" and row["platform"] == "LMS"
    )
    assert len(row["actor_key"]) == 32
    # mbox and mbox_sha1sum of one address (any case) are the same actor
    sha1 = hashlib.sha1(b"mailto:ada@example.com").hexdigest()
    other = dict(s, id=str(uuid.UUID(int=1)), actor={"mbox_sha1sum": sha1})
    both = ingest([s, other], secret=SECRET).statements
    assert both["actor_key"].nunique() == 1
    assert (
        ingest([s], secret="another-secret-entirely").statements["actor_key"].iloc[0]
        != row["actor_key"]
    )
    schemas.validate("statements", result.statements)


def test_object_kinds_and_time_fallbacks() -> None:
    agent_object = make(
        1, object={"objectType": "Agent", "mbox": "mailto:bob@example.com", "name": "Bob"}
    )[0]
    ref = make(
        1,
        start=1,
        object={"objectType": "StatementRef", "id": "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"},
    )[0]
    sub = make(1, start=2)[0]
    sub["object"] = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:carol@example.com"},
        "verb": {"id": COMPLETED},
        "object": {
            "id": "https://lms.example.com/course/9",
            "definition": {"name": {"en": "Nine"}},
        },
    }
    no_time = make(1, start=3)[0]
    del no_time["timestamp"]
    no_time["stored"] = "2024-05-03T00:00:00Z"
    result = ingest([agent_object, ref, sub, no_time], secret=SECRET)
    t = result.statements
    assert t["object_type"].tolist() == ["Agent", "StatementRef", "SubStatement", "Activity"]
    assert len(t["object_id"].iloc[0]) == 32 and "bob" not in t["object_id"].iloc[0]
    assert pd.isna(t["object_name"].iloc[0])  # a person's name never becomes object_name
    assert t["object_id"].iloc[1] == "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"
    assert (t["object_id"].iloc[2], t["object_name"].iloc[2]) == (
        "https://lms.example.com/course/9",
        "Nine",
    )
    assert t["timestamp"].iloc[3] == t["stored"].iloc[3] == pd.Timestamp("2024-05-03T00:00:00Z")
    schemas.validate("statements", t)


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"timestamp": None}, "statement.time.missing"),
        ({"timestamp": "1500-01-01T00:00:00Z"}, "timestamp.out_of_range"),
        ({"stored": "2024-05-01T08:00:00Z"}, "stored.before_timestamp"),
    ],
)
def test_contract_rules_quarantine(patch: dict, reason: str) -> None:
    s = make(1)[0]
    for key, value in patch.items():
        if value is None:
            del s[key]
        else:
            s[key] = value
    result = ingest([s], secret=SECRET)
    assert result.quarantine["reason"].tolist() == [reason]
    assert counts(result)["quarantined"] == 1


def test_stored_a_little_before_timestamp_is_clock_skew() -> None:
    s = make(1, stored="2024-05-01T08:55:00Z")[0]  # timestamp 09:00:00, 5 minutes of skew
    assert counts(ingest([s], secret=SECRET))["accepted"] == 1


def test_empty_source() -> None:
    result = ingest([], secret=SECRET)
    assert counts(result) == dict.fromkeys(
        ["read", "accepted", "duplicates", "voided", "quarantined"], 0
    )
    assert list(result.statements.columns) == list(schemas.empty("statements").columns)
    schemas.validate("statements", result.statements)
    assert list(result.quarantine.columns) == [
        "statement_id",
        "reason",
        "rule",
        "path",
        "detail",
        "source",
        "raw",
    ]


# -- sources ---------------------------------------------------------------------------------------


def test_files_and_directories(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    statements = make(12)
    root = tmp_path / "export"
    (root / "sub").mkdir(parents=True)
    (root / "a.json").write_text(json.dumps(statements[:3], indent=2))
    (root / "single.json").write_text(json.dumps(statements[3]))
    lines = [json.dumps(s) for s in statements[4:7]]
    (root / "b.jsonl").write_text(lines[0] + "\n\n" + lines[1] + "\n{not json\n" + lines[2] + "\n")
    with gzip.open(root / "sub" / "c.jsonl.gz", "wt") as fh:
        fh.write("\n".join(json.dumps(s) for s in statements[7:9]))
    with gzip.open(root / "sub" / "d.json.gz", "wt") as fh:  # a gzipped array is streamed
        json.dump(statements[9:11], fh)
    (root / "e.json").write_text(
        "\n".join(json.dumps(s) for s in statements[11:])
    )  # lines in .json
    (root / "README.txt").write_text("not statements")
    with caplog.at_level(logging.INFO, logger="talentml.xapi"):
        result = ingest(root, secret=SECRET)
    assert counts(result) == {
        "read": 13,
        "accepted": 12,
        "duplicates": 0,
        "voided": 0,
        "quarantined": 1,
    }
    assert result.quarantine["source"].tolist() == [f"{root / 'b.jsonl'}:4"]
    assert "README.txt" in caplog.text
    assert set(result.statements["statement_id"]) == {s["id"] for s in statements}
    assert ingest(root / "b.jsonl", secret=SECRET).report.read == 4
    with pytest.raises(FileNotFoundError):
        ingest(root / "missing.json", secret=SECRET)


def test_a_broken_json_array_loses_only_the_broken_statements(tmp_path: Path) -> None:
    statements = [json.dumps(s) for s in make(3)]
    path = tmp_path / "broken.json"
    path.write_text(
        "[" + statements[0] + ', {"id": 12,, }, ' + statements[1] + ", 42, " + statements[2] + "]"
    )
    result = ingest(path, secret=SECRET)
    assert counts(result)["accepted"] == 3
    assert result.quarantine["reason"].tolist() == ["json.invalid", "statement.not_object"]
    assert result.quarantine["source"].tolist() == [f"{path}[1]", f"{path}[3]"]


def test_sources_that_cannot_be_read() -> None:
    with pytest.raises(TypeError, match="cannot read statements"):
        ingest(42, secret=SECRET)
    with pytest.raises(TypeError, match="wrap them in a list"):
        ingest(b"{}", secret=SECRET)
    with pytest.raises(ValueError, match="chunk_size"):
        ingest([], secret=SECRET, chunk_size=0)


def test_json_strings_and_single_mapping() -> None:
    s = make(1)[0]
    assert counts(ingest([json.dumps(s)], secret=SECRET))["accepted"] == 1
    assert counts(ingest(s, secret=SECRET))["accepted"] == 1


# -- raw JSON by id ---------------------------------------------------------------------------------


def test_raw_by_id_and_close() -> None:
    s = make(1, actor={"mbox": "mailto:ada@example.com", "name": "Ada"})[0]
    conflict = dict(s, result={"success": True})
    other = make(1, start=1)[0]
    result = ingest([s, other, conflict], secret=SECRET, chunk_size=1)
    assert result.raw(other["id"].upper()) == redact_statement(other)
    with pytest.raises(KeyError, match="quarantine"):
        result.raw(s["id"])  # quarantined as a conflict
    with pytest.raises(KeyError):
        result.raw("6690e6c9-3ef0-4ed3-8b37-7f3964730bee")
    plain = ingest([s], secret=SECRET, redact=False)
    assert plain.raw(s["id"]) == s
    assert ingest([s], secret=SECRET).raw(s["id"])["actor"] == {
        "mbox": "[redacted]",
        "name": "[redacted]",
    }
    with ingest([other], secret=SECRET) as closing:
        assert closing.raw(other["id"])["id"] == other["id"]
    with pytest.raises(ValueError, match="closed"):
        closing.raw(other["id"])


# -- identities and privacy -------------------------------------------------------------------------


def test_identities_map_actors_to_employees() -> None:
    hris = pd.DataFrame(
        {
            "employee_id": ["E1", "E2", "E3"],
            "email": ["Ada@Example.com", None, None],
            "account_homepage": [None, "https://lms.example.com/", None],
            "account_name": [None, "u1", None],
            "openid": [None, None, "https://openid.example.com/carol"],
        }
    )
    ids = build_identities(hris, secret=SECRET)
    schemas.validate("identities", ids)
    assert len(ids) == 3
    statements = [
        make(1, actor={"mbox": "mailto:ada@example.com"})[0],
        make(1, start=1, actor={"account": {"homePage": "https://lms.example.com", "name": "u1"}})[
            0
        ],
        make(1, start=2, actor={"openid": "https://openid.example.com/carol"})[0],
        make(
            1,
            start=3,
            actor={"account": {"homePage": "https://lms.example.com", "name": "stranger"}},
        )[0],
    ]
    t = ingest(statements, identities=ids, secret=SECRET).statements
    assert t["employee_id"].tolist()[:3] == ["E1", "E2", "E3"] and pd.isna(t["employee_id"].iloc[3])
    schemas.validate("statements", t)


def test_identities_refuse_bad_hris_records() -> None:
    with pytest.raises(ContractError, match="belong to more than one employee_id, rows \\[0, 1\\]"):
        build_identities(
            pd.DataFrame({"employee_id": ["E1", "E2"], "email": ["a@x.org", "A@X.org"]}),
            secret=SECRET,
        )
    with pytest.raises(ContractError, match="only one of the two is set in 1 row"):
        build_identities(
            pd.DataFrame(
                {
                    "employee_id": ["E1"],
                    "account_homepage": ["https://x.org"],
                    "account_name": [None],
                }
            ),
            secret=SECRET,
        )
    with pytest.raises(ContractError, match="'employee_id' is null"):
        build_identities(pd.DataFrame({"employee_id": [None], "email": ["a@x.org"]}), secret=SECRET)
    with pytest.raises(ContractError, match="none of the identifier columns"):
        build_identities(pd.DataFrame({"employee_id": ["E1"]}), secret=SECRET)
    with pytest.raises(ContractError):
        ingest(
            [],
            identities=pd.DataFrame({"actor_key": ["k", "k"], "employee_id": ["E1", "E2"]}),
            secret=SECRET,
        )


def test_secret_is_required_and_never_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TALENTML_SECRET", raising=False)
    with pytest.raises(ConfigurationError):
        ingest(make(1), secret=None)
    with config_context(secret=SECRET):
        result = ingest(make(2), secret=None)
    text = result.statements.to_csv() + result.quarantine.to_csv() + result.report.reasons.to_csv()
    assert SECRET not in text


def test_personal_data_never_reaches_outputs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    person = {"mbox": "mailto:grace.hopper@example.com", "name": "Grace Hopper"}
    statements = make(3, actor=person)
    statements.append(dict(make(1, start=3, actor=person)[0], verb={"id": "no iri"}))
    statements.append(
        b'{"actor": {"mbox": "mailto:grace.hopper@example.com", "name": "Grace Hopper"}, '
    )
    statements.append(
        make(
            1,
            start=4,
            object={
                "objectType": "Agent",
                "account": {"homePage": "https://x.org", "name": "ghopper"},
                "name": "Grace Hopper",
            },
        )[0]
    )
    with caplog.at_level(logging.DEBUG):
        result = ingest(statements, secret=SECRET)
    assert counts(result)["quarantined"] == 2
    everything = result.statements.to_csv() + result.quarantine.to_csv() + caplog.text
    for needle in ("grace", "Grace", "Hopper", "ghopper"):
        assert needle not in everything
    # with redact=False the quarantine keeps the exact JSON (an explicit, documented choice)
    plain = ingest(statements, secret=SECRET, redact=False)
    assert "grace.hopper@example.com" in plain.quarantine["raw"].iloc[0]
    non_raw = plain.quarantine.drop(columns="raw").to_csv() + plain.statements.to_csv()
    assert "grace" not in non_raw.lower()


def test_redaction() -> None:
    statement = {
        "actor": {"objectType": "Group", "name": "Team", "member": [{"mbox": "mailto:a@b.org"}]},
        "object": {"id": "https://x.org/a", "definition": {"name": {"en": "Course"}}},
        "result": {
            "response": "mail me at someone@example.com",
            "extensions": {"https://x.org/e": {"name": "Bob"}},
        },
    }
    red = redact_statement(statement)
    assert red["actor"] == {
        "objectType": "Group",
        "name": "[redacted]",
        "member": [{"mbox": "[redacted]"}],
    }
    assert red["object"] == statement["object"]
    assert red["result"]["response"] == "mail me at [redacted]"
    assert red["result"]["extensions"]["https://x.org/e"] == {"name": "[redacted]"}


# -- a real LRS -------------------------------------------------------------------------------------


@pytest.mark.lrs
def test_ingest_from_a_real_lrs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Statements written to a real ralph LRS come back through LRSClient into ingest.

    ralph sends no ``X-Experience-API-Version`` header; a pass-through proxy adds one, as an
    LRS would, and the ingest takes its rules from it.
    """
    from lrs_support import (
        PROXY_VARIABLES,
        FaultProxy,
        RalphUser,
        local_session,
        make_statements,
        start_ralph,
    )
    from talentml.xapi._ingest import _header_version
    from talentml.xapi._lrs import LRSClient

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    ralph = start_ralph(tmp_path / "ralph", users=[RalphUser("main", "main")])
    try:
        statements = make_statements(60, seed=7)
        statements.append(voiding(statements[5]["id"], 1))
        auth = ralph.credentials("main")
        with LRSClient(
            ralph.endpoint, auth=auth, show_progress=False, session=local_session()
        ) as client:
            client.post_statements(statements, batch_size=len(statements))
        with LRSClient(
            ralph.endpoint, auth=auth, show_progress=False, session=local_session()
        ) as client:
            direct = ingest(client, secret=SECRET)
            assert client.version is None and _header_version(client) is None
        headers = {"X-Experience-API-Version": "1.0.3"}
        with FaultProxy(ralph.base_url, extra_headers=headers) as proxy:
            with LRSClient(
                proxy.endpoint, auth=auth, show_progress=False, session=local_session()
            ) as client:
                result = ingest(client, secret=SECRET, filters={"limit": 7})
                assert _header_version(client) == "1.0.3"
    finally:
        ralph.stop()
    for got in (direct, result):
        report = got.report
        assert report.quarantined == 0 and report.duplicates == 0
        assert report.read in (60, 61)  # an LRS may or may not return a voided statement
        assert report.accepted == 59
        assert statements[5]["id"] not in set(got.statements["statement_id"])
        assert got.statements["stored"].notna().all()
        schemas.validate("statements", got.statements)
    assert list(result.statements["statement_id"]) == list(direct.statements["statement_id"])


def test_gzip_members_crlf_and_truncation(tmp_path: Path) -> None:
    statements = make(4)
    path = tmp_path / "two-members.jsonl.gz"
    with open(path, "wb") as fh:  # two gzip members one after the other, CRLF line ends
        for part in (statements[:2], statements[2:]):
            fh.write(gzip.compress("".join(json.dumps(s) + "\r\n" for s in part).encode()))
    result = ingest(path, secret=SECRET)
    assert counts(result)["accepted"] == 4
    assert result.raw(statements[3]["id"]) == redact_statement(statements[3])
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(EOFError, match="end-of-stream"):
        ingest(truncated, secret=SECRET)
