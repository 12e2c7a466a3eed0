"""Mapping people: the ingest report's coverage counts, Ingest.actors(), Ingest.map_identities."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from talentml import ContractError, schemas
from talentml.xapi import IngestReport, build_identities, ingest
from talentml.xapi._actors import (
    MSG_IDENTITIES_COLUMNS,
    MSG_IDENTITIES_CONFLICT,
    MSG_IDENTITIES_HOMEPAGE,
    MSG_IDENTITIES_KIND,
    MSG_IDENTITIES_VALUE,
)
from talentml.xapi._report import ReconciliationError

SECRET = "actors-test-secret-of-some-length"
ROOT = Path(__file__).resolve().parent.parent
XAPI = ROOT.parent / "shared" / "data" / "xapi"
MOODLE = XAPI / "moodle" / "statements"
DATASIM = XAPI / "datasim"
ADL = XAPI / "adl"
RECEIVED = pd.Timestamp("2200-01-01T00:00:00Z")
DONE = {"id": "http://adlnet.gov/expapi/verbs/completed"}


def _prefix(template: str) -> str:
    """The fixed start of a message template, as a regular expression."""
    import re

    return re.escape(template.split("{", 1)[0])


def _statement(actor: dict, n: int, **extra) -> dict:
    return {
        "actor": actor,
        "verb": DONE,
        "object": {"id": f"https://lms.example.com/course/{n}"},
        "timestamp": f"2024-05-{n:02d}T09:30:00Z",
        **extra,
    }


# -- the report ------------------------------------------------------------------------------------
def test_moodle_report_counts_unmapped_actors_and_stored_from_timestamp() -> None:
    report = ingest(MOODLE, secret=SECRET).report
    # 169 accepted statements, no identities: every statement and all 3 accounts unmapped
    assert (report.accepted, report.mapped_statements, report.unmapped_statements) == (169, 0, 169)
    assert (report.mapped_actors, report.unmapped_actors, report.actors) == (0, 3, 3)
    # Moodle's log store sends no `stored`: every accepted statement took its timestamp
    assert report.stored_from_timestamp == 169
    assert report.stored_from_received == report.timestamp_from_stored == 0
    assert report.identities_given is False
    notes = " ".join(report.notes)
    assert "169 of 169 statements (100%) had no `stored` time" in notes
    assert "received=" in notes and "Ingest.map_identities" in notes
    cov = report.coverage().set_index("measure")
    assert (
        cov.loc["stored_given", "count"] == 0 and cov.loc["stored_from_timestamp", "share"] == 1.0
    )
    assert cov.loc["statements_unmapped", "count"] + cov.loc["statements_mapped", "count"] == 169
    text = str(report).splitlines()
    assert text[0] == "read 190: accepted 169, duplicates 21, voided 0, quarantined 0"
    assert text[1] == "mapped to employees: 0 of 169 statements, 0 of 3 actors"
    assert text[2] == "times filled in: 169 stored taken from timestamp"


def test_datasim_and_adl_time_counts() -> None:
    datasim = ingest(DATASIM, secret=SECRET).report
    given = sum(
        "stored" in s
        for path in sorted(DATASIM.glob("*.json"))
        for s in json.loads(path.read_text())
    )
    assert given == 1  # one DATASIM statement carries its own stored time
    assert datasim.stored_from_timestamp == datasim.accepted - given == 2815
    assert (datasim.unmapped_actors, datasim.unmapped_statements) == (8, 2816)
    adl = ingest(
        ADL / "cts_v1_0_3" / "VALID_statements.json",
        secret=SECRET,
        version="1.0.3",
        received=RECEIVED,
    ).report
    # the conformance cases carry no stored: with received=, it is the received time
    assert adl.stored_from_received == adl.accepted and adl.stored_from_timestamp == 0
    assert 0 < adl.timestamp_from_stored <= adl.accepted
    assert "known at `received`" in " ".join(adl.notes)


def test_report_coverage_counts_must_reconcile() -> None:
    reasons = pd.DataFrame(
        {"outcome": ["accepted"], "reason": ["accepted"], "count": [2], "rule": ["r"]}
    )
    base = dict(read=2, accepted=2, duplicates=0, voided=0, quarantined=0, reasons=reasons)
    with pytest.raises(ReconciliationError, match="coverage does not reconcile"):
        IngestReport(
            **base, mapped_statements=1, unmapped_statements=0, mapped_actors=1, unmapped_actors=0
        )
    with pytest.raises(ReconciliationError, match="go together"):
        IngestReport(**base, mapped_statements=2)
    with pytest.raises(ReconciliationError, match="exceed"):
        IngestReport(**base, stored_from_timestamp=2, stored_from_received=1)
    # positional construction as before, and the old one-line str without coverage counts
    old = IngestReport(2, 2, 0, 0, 0, reasons)
    assert str(old) == "read 2: accepted 2, duplicates 0, voided 0, quarantined 0"
    assert old.coverage().empty and old.notes == () and old.actors is None


# -- actors() --------------------------------------------------------------------------------------
def test_moodle_actors_redacted_and_not() -> None:
    hidden = ingest(MOODLE, secret=SECRET).actors()
    assert hidden["kind"].tolist() == ["account"] * 3
    assert set(hidden["homepage"]) == {"http://www.example.org"}
    assert hidden["value"].isna().all() and hidden["domain"].isna().all()
    assert hidden["n_statements"].tolist() == [152, 15, 2]  # most statements first
    shown = ingest(MOODLE, secret=SECRET, redact=False).actors()
    assert shown["value"].tolist() == ["1", "2", "anonymous"]
    assert shown["actor_key"].tolist() == hidden["actor_key"].tolist()


def test_datasim_and_adl_actor_kinds() -> None:
    datasim = ingest(DATASIM, secret=SECRET).actors()
    assert set(datasim["kind"]) == {"mbox"} and len(datasim) == 8
    assert set(datasim["domain"]) == {"example.org", "example.com"}
    raw = ingest(DATASIM, secret=SECRET, redact=False).actors()
    assert raw["value"].str.startswith("mailto:").all()
    adl = ingest(
        ADL / "cts_v2_0" / "VALID_statements.json", secret=SECRET, version="2.0", received=RECEIVED
    ).actors()
    assert set(adl["kind"]) == {"mbox", "openid", "account", "group"}
    assert adl.loc[adl["kind"] == "openid", "domain"].tolist() == ["openid.example.org"]
    text = adl.drop(columns="platforms").astype(str).to_csv()
    assert "@" not in text and "mailto" not in text


# -- map_identities() --------------------------------------------------------------------------------
def test_map_identities_from_build_identities_without_reading_again() -> None:
    result = ingest(MOODLE, secret=SECRET)
    hris = pd.DataFrame(
        {
            "employee_id": ["E-1", "E-2"],
            "account_homepage": ["http://www.example.org"] * 2,
            "account_name": ["1", "2"],
        }
    )
    mapped = result.map_identities(build_identities(hris, secret=SECRET))
    again = ingest(MOODLE, identities=build_identities(hris, secret=SECRET), secret=SECRET)
    pd.testing.assert_series_equal(
        mapped.statements["employee_id"], again.statements["employee_id"]
    )
    assert mapped.report.mapped_statements == 167 and mapped.report.unmapped_statements == 2
    assert (mapped.report.mapped_actors, mapped.report.unmapped_actors) == (2, 1)
    assert mapped.report.identities_given is True
    assert "2 of 169 statements (1%), from 1 of 3 actors" in " ".join(mapped.report.notes)
    # reconciliation counts unchanged, the original untouched, raw JSON still there
    assert mapped.report.to_frame().equals(result.report.to_frame())
    assert result.statements["employee_id"].isna().all()
    sid = mapped.statements["statement_id"].iloc[0]
    assert mapped.raw(sid)["actor"]["account"] == "[redacted]"
    schemas.validate("statements", mapped.statements)


def test_map_identities_from_raw_identifiers_and_from_filled_actors() -> None:
    result = ingest(DATASIM, secret=SECRET, redact=False)
    actors = result.actors()
    # 1. a table of raw identifiers, keyed with the ingest's own secret
    raw = pd.DataFrame(
        {
            "kind": ["email", "mbox"],
            "value": ["ALICE@example.org", "mailto:bob@example.org"],
            "employee_id": ["E-alice", "E-bob"],
        }
    )
    mapped = result.map_identities(raw)
    got = mapped.statements.groupby("employee_id")["statement_id"].size().to_dict()
    n = actors.set_index("value")["n_statements"]
    assert got == {
        "E-alice": n["mailto:alice@example.org"],
        "E-bob": n["mailto:bob@example.org"],
    }
    # 2. actors() with employee_id filled in for some rows (the others stay unmapped)
    filled = actors.assign(employee_id=[f"E{i}" if i < 6 else None for i in range(len(actors))])
    mapped = result.map_identities(filled)
    assert mapped.report.mapped_actors == 6 and mapped.report.unmapped_actors == 2
    assert mapped.report.mapped_statements == actors["n_statements"].iloc[:6].sum()
    # 3. keep_existing adds a second mapping on top of the first
    first = result.map_identities(raw.iloc[:1])
    both = first.map_identities(raw.iloc[1:], keep_existing=True)
    assert set(both.statements["employee_id"].dropna()) == {"E-alice", "E-bob"}
    replaced = first.map_identities(raw.iloc[1:])
    assert set(replaced.statements["employee_id"].dropna()) == {"E-bob"}


def test_map_identities_accounts_need_their_homepage() -> None:
    result = ingest(MOODLE, secret=SECRET)
    good = pd.DataFrame(
        {
            "kind": ["account"],
            "homepage": ["http://www.example.org/"],
            "value": ["2"],
            "employee_id": ["E-2"],
        }
    )
    assert result.map_identities(good).report.mapped_statements == 15
    with pytest.raises(ContractError, match=_prefix(MSG_IDENTITIES_HOMEPAGE)) as err:
        result.map_identities(good.drop(columns="homepage"))
    assert "rows [0]" in str(err.value) and "fix:" in str(err.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"employee_id": ["E1"]}), MSG_IDENTITIES_COLUMNS),
        (
            pd.DataFrame({"kind": ["phone"], "value": ["555"], "employee_id": ["E1"]}),
            MSG_IDENTITIES_KIND,
        ),
        (
            pd.DataFrame({"kind": ["email"], "value": ["  "], "employee_id": ["E1"]}),
            MSG_IDENTITIES_VALUE,
        ),
        (
            pd.DataFrame(
                {
                    "kind": ["email", "mbox"],
                    "value": ["a@x.org", "mailto:A@x.org"],
                    "employee_id": ["E1", "E2"],
                }
            ),  # fmt: skip
            MSG_IDENTITIES_CONFLICT,
        ),
    ],
)
def test_map_identities_refuses_bad_tables(table: pd.DataFrame, message: str) -> None:
    result = ingest([_statement({"mbox": "mailto:a@x.org"}, 1)], secret=SECRET)
    with pytest.raises(ContractError, match=_prefix(message)):
        result.map_identities(table)


def test_map_identities_skips_rows_without_employee_and_logs(caplog) -> None:
    result = ingest([_statement({"mbox": "mailto:a@x.org"}, 1)], secret=SECRET)
    table = pd.DataFrame(
        {"kind": ["email", "email"], "value": ["a@x.org", "b@x.org"], "employee_id": ["E1", None]}
    )
    with caplog.at_level(logging.INFO, logger="talentml.xapi"):
        mapped = result.map_identities(table)
    assert mapped.statements["employee_id"].tolist() == ["E1"]
    assert "1 row(s) without employee_id skipped" in caplog.text
    with pytest.raises(TypeError, match="keep_existing"):
        result.map_identities(table, keep_existing="yes")


def test_ingest_warns_about_unmapped_statements(caplog) -> None:
    statements = [
        _statement({"mbox": "mailto:a@x.org"}, 1),
        _statement({"mbox": "mailto:b@x.org"}, 2),
    ]
    ids = pd.DataFrame({"employee_id": ["E1"], "email": ["a@x.org"]})
    with caplog.at_level(logging.WARNING, logger="talentml.xapi"):
        result = ingest(statements, identities=build_identities(ids, secret=SECRET), secret=SECRET)
    assert (result.report.mapped_statements, result.report.unmapped_statements) == (1, 1)
    assert "1 of 2 statements (50%), from 1 of 2 actors, map to no employee" in caplog.text
    # a statement with its own stored time needs no note about it
    stored = _statement({"mbox": "mailto:a@x.org"}, 3, stored="2024-05-03T09:31:00Z")
    assert ingest([stored], secret=SECRET).report.stored_from_timestamp == 0
