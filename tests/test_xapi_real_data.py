"""Ingest of real third-party xAPI statements (../shared/data/xapi): Moodle, DATASIM, ADL."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from talentml import schemas
from talentml.xapi import build_identities, ingest

SECRET = "real-data-test-secret"
ROOT = Path(__file__).resolve().parent.parent
XAPI = ROOT.parent / "shared" / "data" / "xapi"
MOODLE = XAPI / "moodle" / "statements"
DATASIM = XAPI / "datasim"
ADL = XAPI / "adl"
RECEIVED = pd.Timestamp("2200-01-01T00:00:00Z")  # after every timestamp, even the future ones

STRING_COLUMNS = [
    "statement_id",
    "actor_key",
    "verb_id",
    "verb",
    "object_id",
    "object_type",
    "activity_type",
    "object_name",
    "registration",
    "platform",
]


def _moodle_statements() -> list[dict]:
    return [s for path in sorted(MOODLE.glob("*.json")) for s in json.loads(path.read_text())]


def _no_personal_data(table: pd.DataFrame) -> None:
    text = table[STRING_COLUMNS].astype(str).to_csv()
    assert "@" not in text and "mailto" not in text


def test_moodle_every_statement_is_accepted_with_stable_ids() -> None:
    result = ingest(MOODLE, secret=SECRET)
    report = result.report
    assert report.read == 190 and report.quarantined == 0 and report.voided == 0
    # 21 of the 190 are byte-identical copies of another fixture's statement (same actor,
    # verb, object and timestamp): they get the same content id and count once
    distinct = Counter(json.dumps(s, sort_keys=True) for s in _moodle_statements())
    assert (report.accepted, report.duplicates) == (len(distinct), 190 - len(distinct)) == (169, 21)
    t = result.statements
    schemas.validate("statements", t)
    assert (
        t["statement_id"]
        .str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
        .all()
    )
    again = ingest(list(reversed(_moodle_statements())), secret=SECRET).statements
    assert set(again["statement_id"]) == set(t["statement_id"])
    assert (t["platform"] == "Moodle").all() and t["registration"].notna().all()
    assert t["object_name"].notna().mean() > 0.9
    assert t["timestamp"].eq(pd.Timestamp("2015-06-10T14:31:41Z")).all()
    scored = t[t["score_raw"].notna()]
    assert len(scored) > 5 and scored["score_scaled"].between(-1, 1).all()
    assert t.loc[t["duration_s"].notna(), "duration_s"].ge(0).all()
    _no_personal_data(t)


def test_moodle_accounts_map_to_employees() -> None:
    hris = pd.DataFrame(
        {
            "employee_id": ["E-1", "E-2"],
            "account_homepage": ["http://www.example.org"] * 2,
            "account_name": ["1", "2"],
        }
    )
    result = ingest(MOODLE, identities=build_identities(hris, secret=SECRET), secret=SECRET)
    assert result.statements["employee_id"].dropna().isin(["E-1", "E-2"]).all()
    assert result.statements["employee_id"].notna().mean() > 0.9


def test_datasim_every_statement_is_accepted() -> None:
    result = ingest(DATASIM, secret=SECRET)
    assert (result.report.read, result.report.accepted, result.report.quarantined) == (
        2816,
        2816,
        0,
    )
    t = result.statements
    schemas.validate("statements", t)
    simulated = json.loads((DATASIM / "tccc_dev_simulated.json").read_text())
    assert set(t["statement_id"]) >= {s["id"] for s in simulated}
    assert t["actor_key"].nunique() == len({s["actor"]["mbox"] for s in simulated}) + 2
    assert (
        t["verb"]
        .isin(
            [
                "interacted",
                "seeked",
                "played",
                "submit",
                "paused",
                "initialized",
                "terminated",
                "skipped",
                "completed",
                "start",
                "sent-a-statement",
                "attended",
            ]
        )
        .all()
    )
    assert t["timestamp"].dt.year.between(2013, 2020).all()
    _no_personal_data(t)


@pytest.mark.parametrize(("version", "folder"), [("2.0", "cts_v2_0"), ("1.0.3", "cts_v1_0_3")])
def test_adl_conformance_files_through_ingest(version: str, folder: str) -> None:
    valid = ingest(
        ADL / folder / "VALID_statements.json", secret=SECRET, version=version, received=RECEIVED
    )
    assert valid.report.quarantined == 0
    assert valid.report.read == {"2.0": 349, "1.0.3": 343}[version]
    assert (
        valid.report.read == valid.report.accepted + valid.report.duplicates + valid.report.voided
    )
    schemas.validate("statements", valid.statements)
    invalid = ingest(
        ADL / folder / "INVALID_statements.json", secret=SECRET, version=version, received=RECEIVED
    )
    assert invalid.report.quarantined == invalid.report.read == {"2.0": 623, "1.0.3": 607}[version]
    assert invalid.quarantine["rule"].notna().all() and invalid.quarantine["detail"].notna().all()
    assert "@" not in invalid.quarantine.drop(columns="raw").to_csv()
