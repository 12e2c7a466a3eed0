"""Turn columnar learning records into xAPI 1.0.3 statements as real LMSs emit them, with dirt.

A :class:`StatementBlock` decides everything up front in arrays (ids, times, which statements
are malformed, voided or re-sent) and builds the statement dicts lazily, slice by slice, so a
block of any size is streamed to disk without ever holding its dicts in memory at once.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._catalog import ACTIVITY_TYPES, LMS_HOME, VIDEO_HOME
from ._learning import NS_DAY, NS_S, V_LAUNCHED, VERBS

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
CMI5_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
PROGRAM_BASE = LMS_HOME + "/program/"

DEFECTS = (
    "actor_without_ifi",
    "timestamp_not_iso8601",
    "timestamp_negative_zero_offset",
    "verb_id_not_iri",
    "score_scaled_out_of_range",
    "duration_not_iso8601",
    "object_without_id",
)
DUPLICATE_RATE = 0.005
VOID_RATE = 0.003
MALFORMED_RATE = 0.002
_ORIGINAL, _VOIDING, _DUPLICATE = 0, 1, 2


@dataclass
class People:
    """Display names, e-mails and LMS user names by population index."""

    names: list[str]
    emails: list[str]
    lms_users: list[str]


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic dicts.

    Without this, every few thousand allocations trigger a collection that rescans all the
    statements built so far, and building becomes quadratic.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _uuid_strings(rng: np.random.Generator, n: int) -> list[str]:
    """Random (version 4) UUIDs drawn from ``rng``, so that they are reproducible."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = raw.tobytes().hex()
    out = []
    for i in range(0, 32 * n, 32):
        h = hexed[i : i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _iso(ns: np.ndarray, rng: np.random.Generator) -> list[str]:
    """ISO 8601 as LMSs write it: ``Z`` with milliseconds or ``+00:00`` with microseconds."""
    t = np.asarray(ns, dtype=np.int64).astype("datetime64[ns]")
    ms = np.datetime_as_string(t.astype("datetime64[ms]"), unit="ms")
    us = np.datetime_as_string(t.astype("datetime64[us]"), unit="us")
    style = rng.random(len(t)) < 0.7
    return np.where(style, np.char.add(ms, "Z"), np.char.add(us, "+00:00")).tolist()


def _duration(seconds: float, padded: bool) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"PT{h}H{m}M{sec}S"
    return f"PT{m:02d}M{sec:02d}S" if padded else f"PT{m}M{sec}S"


class StatementBlock:
    """The statements of one block of employees, with planted defects, built lazily.

    Parameters
    ----------
    cols : dict of arrays
        Columnar statements from :func:`talentml.datasets._learning.generate_block`.
    catalog : DataFrame
    people : People
    rng : numpy.random.Generator
    end_ns : int
        Export time: nothing is stored at or after it.
    """

    def __init__(
        self, cols: dict[str, np.ndarray], catalog: pd.DataFrame, people: People, rng, end_ns: int
    ):
        n = len(cols.get("emp", ()))
        self.n_base = n
        self.people = people
        self.truth: list[dict] = []
        if n == 0:
            self.order_kind = np.array([], dtype=np.int8)
            self.order_ref = np.array([], dtype=np.int64)
            self.stored_ns = np.array([], dtype=np.int64)
            return
        order = np.argsort(cols["stored"], kind="stable")
        c = {k: v[order] for k, v in cols.items()}
        n_att = int(c["attempt"].max()) + 1
        self.ids = _uuid_strings(rng, n)
        self.regs = _uuid_strings(rng, n_att)
        self.sessions = _uuid_strings(rng, n_att)
        self.ts = _iso(c["timestamp"], rng)
        self.st = _iso(c["stored"], rng)
        self.padded = (rng.random(n) < 0.3).tolist()
        self.act_ids = catalog["activity_id"].tolist()
        self.titles = catalog["title"].tolist()
        self.types = [
            ACTIVITY_TYPES["cmi5"] if k == "course" else ACTIVITY_TYPES[k] for k in catalog["kind"]
        ]
        self.programs = [PROGRAM_BASE + str(p) for p in catalog["program"]]
        self.emp = c["emp"].tolist()
        self.act = c["act"].tolist()
        self.att = c["attempt"].tolist()
        self.verb = c["verb"].tolist()
        self.dur = c["duration_s"].tolist()
        self.comp = c["completion"].tolist()
        self.succ = c["success"].tolist()
        self.score = c["score"].tolist()
        self.video = c["video"].tolist()
        self._plant(c, rng, end_ns)

    # ------------------------------------------------------------------ dirt
    def _plant(self, c: dict[str, np.ndarray], rng, end_ns: int) -> None:
        n = self.n_base
        perm = rng.permutation(n)
        n_bad = rng.binomial(n, MALFORMED_RATE)
        n_void = rng.binomial(n, VOID_RATE)
        n_dup = rng.binomial(n, DUPLICATE_RATE)
        bad = perm[:n_bad]
        voided = perm[n_bad : n_bad + n_void]
        dups = perm[n_bad + n_void : n_bad + n_void + n_dup]
        has_result = c["verb"] != V_LAUNCHED
        has_score = c["success"] >= 0
        self.defect: dict[int, str] = {}
        for i in bad:
            defect = DEFECTS[int(rng.integers(len(DEFECTS)))]
            if defect == "score_scaled_out_of_range" and not has_score[i]:
                defect = "verb_id_not_iri"
            if defect == "duration_not_iso8601" and not has_result[i]:
                defect = "timestamp_not_iso8601"
            self.defect[int(i)] = defect
            self.truth.append(
                {"statement_id": self.ids[i], "outcome": "malformed", "detail": defect}
            )
        stored = c["stored"]
        when = stored[voided] + (rng.uniform(3600, 20 * 86400, len(voided)) * NS_S).astype(np.int64)
        when = np.where(when >= end_ns, stored[voided] + (end_ns - stored[voided]) // 2, when)
        self.void_ids = _uuid_strings(rng, len(voided))
        self.void_target = voided.tolist()
        self.void_time = [
            pd.Timestamp(int(w), tz="UTC").isoformat(timespec="milliseconds").replace("+00:00", "Z")
            for w in when
        ]
        for j, i in enumerate(voided):
            self.truth.append(
                {"statement_id": self.ids[i], "outcome": "voided", "detail": self.void_ids[j]}
            )
            self.truth.append(
                {"statement_id": self.void_ids[j], "outcome": "voiding", "detail": self.ids[i]}
            )
        for i in dups:
            self.truth.append(
                {
                    "statement_id": self.ids[i],
                    "outcome": "duplicate",
                    "detail": "re-sent identical statement",
                }
            )
        kind = np.concatenate(
            [np.full(n, _ORIGINAL), np.full(len(voided), _VOIDING), np.full(len(dups), _DUPLICATE)]
        ).astype(np.int8)
        ref = np.concatenate([np.arange(n), np.arange(len(voided)), dups]).astype(np.int64)
        all_ns = np.concatenate([stored, when, stored[dups]]).astype(np.int64)
        order = np.argsort(all_ns, kind="stable")
        self.order_kind, self.order_ref, self.stored_ns = kind[order], ref[order], all_ns[order]
        self.voided_idx = voided

    def alias_counts(self) -> pd.DataFrame:
        """Generated statements per (catalog activity, platform): the truth of activity aliases.

        ``n_statements`` counts every generated statement (re-sent copies and voiding
        statements aside), ``n_accepted`` those an ingest accepts (neither malformed nor
        voided). Reads the block's arrays only: no random draw.
        """
        columns = ["act", "video", "n_statements", "n_accepted"]
        if self.n_base == 0:
            return pd.DataFrame({c: np.array([], dtype=np.int64) for c in columns})
        act = np.asarray(self.act, dtype=np.int64)
        video = np.asarray(self.video, dtype=bool).astype(np.int64)
        ok = np.ones(self.n_base, dtype=bool)
        ok[np.fromiter(self.defect, dtype=np.int64, count=len(self.defect))] = False
        ok[np.asarray(self.voided_idx, dtype=np.int64)] = False
        frame = pd.DataFrame({"act": act, "video": video, "ok": ok.astype(np.int64)})
        out = frame.groupby(["act", "video"], sort=True)["ok"].agg(["size", "sum"])
        out = out.reset_index().rename(columns={"size": "n_statements", "sum": "n_accepted"})
        return out.astype(np.int64)[columns]

    def __len__(self) -> int:
        return len(self.order_kind)

    # --------------------------------------------------------------- building
    def statement(self, i: int) -> dict:
        """The ``i``-th generated statement (before dirt; malformed ones are broken)."""
        e, a = self.emp[i], self.act[i]
        video = self.video[i]
        people = self.people
        if video:
            actor = {
                "objectType": "Agent",
                "name": people.names[e],
                "mbox": "mailto:" + people.emails[e],
            }
            platform, home = "Acme Video", VIDEO_HOME
            object_id = VIDEO_HOME + "/watch/" + self.act_ids[a].rsplit("/", 1)[-1]
        else:
            actor = {
                "objectType": "Agent",
                "name": people.names[e],
                "account": {"homePage": LMS_HOME, "name": people.lms_users[e]},
            }
            platform, home = "Acme LMS", LMS_HOME
            object_id = self.act_ids[a]
        verb = VERBS[self.verb[i]]
        stmt = {
            "id": self.ids[i],
            "actor": actor,
            "verb": {"id": ADL_VERBS + verb, "display": {"en-US": verb}},
            "object": {
                "objectType": "Activity",
                "id": object_id,
                "definition": {"type": self.types[a], "name": {"en-US": self.titles[a]}},
            },
            "context": {
                "registration": self.regs[self.att[i]],
                "platform": platform,
                "language": "en-US",
                "contextActivities": {
                    "parent": [{"objectType": "Activity", "id": self.programs[a]}]
                },
                "extensions": {CMI5_SESSION: self.sessions[self.att[i]]},
            },
            "timestamp": self.ts[i],
            "stored": self.st[i],
            "authority": {
                "objectType": "Agent",
                "name": platform,
                "account": {"homePage": home, "name": "xapi-client"},
            },
            "version": "1.0.3",
        }
        if self.comp[i] >= 0:
            result: dict = {"completion": True, "duration": _duration(self.dur[i], self.padded[i])}
            if self.succ[i] >= 0:
                raw = round(self.score[i] * 100)
                result["success"] = bool(self.succ[i])
                result["score"] = {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100}
            stmt["result"] = result
        defect = self.defect.get(i)
        if defect is not None:
            _break(stmt, defect)
        return stmt

    def _voiding(self, j: int) -> dict:
        return {
            "id": self.void_ids[j],
            "actor": {
                "objectType": "Agent",
                "name": "LMS Administrator",
                "account": {"homePage": LMS_HOME, "name": "lms-admin"},
            },
            "verb": {"id": ADL_VERBS + "voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": self.ids[self.void_target[j]]},
            "timestamp": self.void_time[j],
            "stored": self.void_time[j],
            "version": "1.0.3",
        }

    def slices(self, size: int = 20_000) -> Iterator[list[dict]]:
        """The block's statements in stored order (defects included), ``size`` at a time."""
        kinds, refs = self.order_kind.tolist(), self.order_ref.tolist()
        for lo in range(0, len(kinds), size):
            with no_gc():
                yield [
                    self._voiding(r) if k == _VOIDING else self.statement(r)
                    for k, r in zip(kinds[lo : lo + size], refs[lo : lo + size], strict=True)
                ]


def _break(stmt: dict, defect: str) -> None:
    if defect == "actor_without_ifi":
        stmt["actor"].pop("account", None)
        stmt["actor"].pop("mbox", None)
    elif defect == "timestamp_not_iso8601":
        stmt["timestamp"] = pd.Timestamp(stmt["timestamp"]).strftime("%d/%m/%Y %H:%M")
    elif defect == "timestamp_negative_zero_offset":
        stmt["timestamp"] = stmt["timestamp"][:19] + "-00:00"
    elif defect == "verb_id_not_iri":
        stmt["verb"]["id"] = stmt["verb"]["display"]["en-US"]
    elif defect == "score_scaled_out_of_range":
        stmt["result"]["score"]["scaled"] = 1.0 + stmt["result"]["score"]["raw"] / 100
    elif defect == "duration_not_iso8601":
        stmt["result"]["duration"] = (
            stmt["result"]["duration"].replace("PT", "").lower() + " (approx.)"
        )
    elif defect == "object_without_id":
        stmt["object"].pop("id")
    else:  # pragma: no cover - DEFECTS is closed
        raise ValueError(defect)


__all__ = ["DEFECTS", "NS_DAY", "People", "StatementBlock", "no_gc"]
