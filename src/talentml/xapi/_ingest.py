"""Ingest: read, validate, normalize, deduplicate, void and quarantine xAPI statements.

:func:`ingest` streams statements from any source (:mod:`talentml.xapi._read`), validates each
one (:mod:`talentml.xapi._validate`), normalizes the valid ones into columns of the
``statements`` contract, and reconciles them:

* **duplicates** - a statement id read again with the same content (ignoring ``stored``,
  ``authority`` and ``version``) counts once; the first copy read is kept;
* **conflicts** - a statement id read again with different content: every distinct version is
  quarantined (``statement.id.conflict``), re-sends of any version count as duplicates;
* **voiding** - a voiding statement removes its target, whichever arrives first; the voiding
  statement itself is a control record, counted under ``voided`` too;
* **ids** - a statement without ``id`` gets a UUID v5 of its canonical JSON, so the same
  statement always gets the same id (and re-sends of it deduplicate).

Every record read ends in exactly one outcome, so ``read = accepted + duplicates + voided +
quarantined`` holds exactly, per reason code.

Raw JSON is kept out of memory: accepted statements are spooled to an anonymous temporary file
and :meth:`Ingest.raw` reads one back by id.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Any

import numpy as np
import orjson
import pandas as pd
from tqdm.auto import tqdm

from .. import schemas
from .._validation import renamed_parameters
from ..config import resolve_secret
from ..config import show_progress as _show_progress
from ._actors import coverage_counts, describe_actor, identity_map
from ._identities import pseudonym
from ._normalize import COLUMNS, NS_MAX, NS_MIN, derive_scaled, pick_language, verb_short_name
from ._read import iter_chunks
from ._reasons import REASONS
from ._report import OUTCOMES as _OUTCOMES
from ._report import IngestReport, ReconciliationError
from ._result import Ingest
from ._spool import Spool as _Spool
from ._spool import redact_statement, redact_text

# re-exported: the names this module has always offered
__all__ = ["ID_NAMESPACE", "Ingest", "IngestReport", "ReconciliationError", "content_id", "ingest"]
from ._validate import VOIDED, Reject, check_fast, compact, normalize_version

logger = logging.getLogger(__name__)

#: Namespace of the UUID v5 ids given to statements that arrive without an id.
ID_NAMESPACE = uuid.UUID("8f5a6c1e-3b0d-5e57-9a43-7c2d1f0b6e91")
_IGNORED_IN_COMPARISON = frozenset({"id", "stored", "authority", "version"})
_SKEW_NS = int(schemas.MAX_CLOCK_SKEW / pd.Timedelta(1, "ns"))
_QUARANTINE_COLUMNS = ("statement_id", "reason", "rule", "path", "detail", "source", "raw")
_FLOATS = frozenset({"score_scaled", "score_raw", "score_min", "score_max", "duration_s"})
_BOOLS = frozenset({"success", "completion"})
_TIMES = frozenset({"timestamp", "stored"})
_CACHE_MAX = 200_000


def content_id(statement: dict) -> str:
    """The deterministic id given to a statement that has none.

    A UUID v5 (namespace :data:`ID_NAMESPACE`) of the statement's canonical JSON (sorted keys,
    without ``id``, ``stored``, ``authority`` and ``version``), so the same statement gets the
    same id in every ingest and when it is written to an LRS by :class:`LRSClient`.

    Examples
    --------
    >>> from talentml.xapi import content_id
    >>> s = {"actor": {"mbox": "mailto:a@b.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    ...      "object": {"id": "https://lms.example/c/1"}, "timestamp": "2024-05-01T09:30:00Z"}
    >>> content_id(s) == content_id(dict(reversed(list(s.items()))))
    True
    """
    return str(uuid.uuid5(ID_NAMESPACE, _canonical(statement).decode()))


def _canonical(statement: dict) -> bytes:
    """The content that identifies a statement: sorted JSON without id, stored, authority, version."""
    return orjson.dumps(
        {k: v for k, v in statement.items() if k not in _IGNORED_IN_COMPARISON},
        option=orjson.OPT_SORT_KEYS,
    )


@renamed_parameters(progress="show_progress")
def ingest(
    source: Any,
    *,
    identities: pd.DataFrame | None = None,
    secret: str | bytes | None = None,
    version: str | None = None,
    language: str = "en",
    chunk_size: int = 10_000,
    redact: bool = True,
    received: Any = None,
    filters: dict[str, Any] | None = None,
    show_progress: bool | None = None,
) -> Ingest:
    """Read xAPI statements and reconcile them into the ``statements`` table.

    Parameters
    ----------
    source : path, list of paths, list of dict, or LRS client
        A JSON / JSON-lines file (``.json``, ``.jsonl``, ``.ndjson``, each optionally
        ``.gz``), a directory of them (read recursively, in sorted order), a list of such
        files and directories (``Path`` objects or strings naming existing paths), an
        iterable of statements (dicts, or JSON ``str``/``bytes``), or an object with
        ``iter_statements()`` such as :class:`talentml.xapi.LRSClient`. Read as a stream.
    identities : pandas.DataFrame, optional, keyword-only
        The ``identities`` table (``actor_key``, ``employee_id``), e.g. from
        :func:`build_identities`, to fill ``employee_id``. Without it ``employee_id`` is null.
    secret : str or bytes, optional, keyword-only
        Key of the actor pseudonyms; default from :func:`talentml.set_config` or
        ``TALENTML_SECRET``. Never stored in any output.
    version : {None, "1.0.3", "2.0"}, keyword-only
        xAPI rules to validate against. None: the LRS client's ``version`` (its
        ``X-Experience-API-Version`` header), else each statement's own ``version``
        (1.0.x -> 1.0.3, 2.0.x -> 2.0), else a statement valid under either version passes.
    language : str, default "en", keyword-only
        Preferred language for ``object_name`` (from the activity's name language map).
    chunk_size : int, default 10_000, keyword-only
        Statements read per chunk (progress is reported per chunk).
    redact : bool, default True, keyword-only
        Replace personal identifiers (mbox, mbox_sha1sum, openid, account, names, e-mail
        addresses) in ``quarantine["raw"]`` and in :meth:`Ingest.raw`. ``False`` keeps the
        exact JSON: only for debugging under a data-protection basis.
    received : timestamp-like, optional, keyword-only
        When these statements became known: the ``stored`` time of statements without one (an
        LRS sets ``stored`` on receipt; an exported file may lack it). A timezone-aware time.
        Without it, a statement without ``stored`` is taken to be known at its ``timestamp``,
        and one with neither is quarantined (``statement.time.missing``).
    filters : dict, optional, keyword-only
        Query filters for an LRS client source, passed to ``source.iter_statements(**filters)``
        (e.g. ``{"since": "2025-01-01T00:00:00Z"}``).
    show_progress : bool, optional, keyword-only
        Show a progress bar; default from :func:`talentml.set_config`.

    Returns
    -------
    Ingest
        ``.statements`` (the contract table), ``.quarantine`` and ``.report`` (which also
        counts the statements and actors mapped to employees and the ``stored`` /
        ``timestamp`` times filled in; its ``notes`` are logged as warnings), ``.actors()``
        and ``.map_identities()``.

    Raises
    ------
    talentml.ConfigurationError
        If no secret is configured.
    FileNotFoundError, TypeError
        If ``source`` cannot be read.

    Notes
    -----
    Normalization: times are UTC (a timestamp without offset is taken as UTC); a statement
    without ``timestamp`` takes its ``stored`` time (as an LRS does) and one without
    ``stored`` gets ``received``, or else is taken to be known at its ``timestamp``;
    ``duration_s`` counts a year as
    365.2425 days and a month as a twelfth of that; ``score_scaled`` is derived as
    ``(raw - min) / (max - min)`` when the statement gives raw, min and max (max > min) but
    no scaled score; ``object_id`` of an Agent or Group object is its actor key, of a
    SubStatement the id of the sub-statement's object; ``object_name`` comes only from
    activities (never a person's name).

    Examples
    --------
    >>> from talentml.xapi import ingest
    >>> actor = {"account": {"homePage": "https://lms.example.com", "name": "u42"}}
    >>> done = {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}}
    >>> first = {
    ...     "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
    ...     "actor": actor,
    ...     "verb": done,
    ...     "object": {"id": "https://lms.example.com/course/7", "definition": {"name": {"en-US": "Safety"}}},
    ...     "result": {"score": {"raw": 8, "min": 0, "max": 10}, "duration": "PT15M"},
    ...     "timestamp": "2024-05-01T09:30:00+02:00",
    ... }
    >>> bad = dict(first, id="6e2b5f50-1c3a-4b8e-9f1d-2a7c4e6b8d90", timestamp="yesterday")
    >>> result = ingest([first, first, bad], secret="a-secret-of-some-length")
    >>> print(result.report)
    read 3: accepted 1, duplicates 1, voided 0, quarantined 1
    mapped to employees: 0 of 1 statements, 0 of 1 actors
    times filled in: 1 stored taken from timestamp
    >>> row = result.statements.iloc[0]
    >>> row["verb"], row["object_name"], float(row["score_scaled"]), float(row["duration_s"])
    ('completed', 'Safety', 0.8, 900.0)
    >>> str(row["timestamp"])
    '2024-05-01 07:30:00+00:00'
    >>> result.quarantine[["reason", "path", "source"]]
                  reason       path source
    0  timestamp.invalid  timestamp    [2]
    """
    key = resolve_secret(secret)
    explicit = normalize_version(version)
    employee_of = _identity_map(identities, key)
    progress = _show_progress() if show_progress is None else show_progress
    run = _Run(key=key, employee_of=employee_of, language=language, redact=redact)
    run.identities_given = identities is not None
    run.received = _received_ns(received)
    chunks = iter_chunks(source, chunk_size=chunk_size, filters=filters)
    with tqdm(desc="xAPI statements", unit=" stmt", disable=not progress) as bar:
        for chunk in chunks:
            rules = explicit if explicit is not None else _header_version(source)
            run.process(chunk, rules)
            bar.update(len(chunk))
    result = run.finish()
    logger.info("xAPI ingest: %s", result.report)
    for note in result.report.notes:
        logger.warning("xAPI ingest: %s", note)
    return result


def _received_ns(received: Any) -> int | None:
    if received is None:
        return None
    moment = pd.Timestamp(received)
    if moment.tzinfo is None:
        raise ValueError(
            f"received must be timezone-aware (e.g. '2024-05-01T00:00:00Z'), got {received!r}"
        )
    return int(moment.tz_convert("UTC").as_unit("ns").value)


def _header_version(source: Any) -> str | None:
    header = getattr(source, "version", None) if hasattr(source, "iter_statements") else None
    if header is None:
        return None
    try:
        return normalize_version(header)
    except ValueError:
        logger.warning("ignoring unsupported X-Experience-API-Version %r from the LRS", header)
        return None


def _identity_map(identities: pd.DataFrame | None, key: bytes) -> dict[str, str]:
    if identities is None:
        return {}
    mapping, skipped = identity_map(identities, secret=key)
    if skipped:
        logger.info("identities: %d row(s) without employee_id skipped", skipped)
    return mapping


def _times(ts: int | None, stored: int | None, received: int | None) -> tuple[int, int, int]:
    """A statement's ``timestamp`` and ``stored`` (ns), filled and checked, and how filled.

    The fill code is per row: 1 stored <- timestamp, 2 stored <- received, +4 ts <- stored.
    Raises :class:`Reject` for a statement with no time, out of range or stored too early.
    """
    fill = 0
    if stored is None:
        stored = received
        if stored is not None:
            fill = 2
    if ts is None:
        if stored is None:
            raise Reject(
                "statement.time.missing",
                "timestamp",
                "the statement has neither timestamp nor stored",
            )
        ts = stored
        fill += 4
    elif stored is None:
        stored = ts
        fill = 1
    if not (NS_MIN <= ts <= NS_MAX and NS_MIN <= stored <= NS_MAX):
        raise Reject(
            "timestamp.out_of_range",
            "timestamp",
            "timestamp or stored is outside 1677-09-22 .. 2262-04-11",
        )
    if stored < ts - _SKEW_NS:
        raise Reject(
            "stored.before_timestamp",
            "stored",
            f"stored is {(ts - stored) / 6e10:.1f} minutes before timestamp (at most "
            f"{_SKEW_NS / 6e10:.0f} allowed)",
        )
    return ts, stored, fill


class _Run:
    """State of one ingest: column chunks, the id index, the spool, counters."""

    def __init__(
        self, *, key: bytes, employee_of: dict[str, str], language: str, redact: bool
    ) -> None:
        self.key = key
        self.employee_of = employee_of
        self.language = language
        self.redact = redact
        self.received: int | None = None  # stored time for statements with neither time
        self.read = 0
        self.duplicates = 0
        self.quarantine_counts: Counter[str] = Counter()
        self.quarantine: list[tuple] = []
        self.index: dict[str, int] = {}  # statement id -> row
        self.versions: dict[str, list[bytes]] = {}  # ids read more than once -> their contents
        self.conflicted: set[int] = set()
        self.voiding: dict[int, str] = {}  # row of a voiding statement -> target id
        self.spool = _Spool()
        self.actor_keys: dict[bytes, str] = {}
        self.objects: dict[bytes, tuple] = {}
        self.verbs: dict[str, str] = {}
        self.shared: dict[str, str] = {}  # registration and platform strings, shared by rows
        self.ids: list[str] = []  # statement_id of every row, in row order
        self.chunks: list[dict[str, Any]] = []  # per chunk, its rows as column arrays
        self.pending: tuple[list, list] = ([], [])  # refs and raws not yet spooled
        self.filled = (
            bytearray()
        )  # per row: 1 stored <- timestamp, 2 stored <- received, +4 ts <- stored
        self.actor_info: dict[str, tuple] = {}  # actor key -> (kind, homepage, domain, value)
        self.identities_given = False

    def process(self, chunk: list[tuple[str, Any]], rules: str | None) -> None:
        """Validate and normalize one chunk; keep its rows as columns.

        The loop is written for speed: locals instead of attributes, one tuple per row, and
        the transposition into columns done once per chunk by C code (``zip``, ``numpy``).
        """
        loads = orjson.loads
        dumps = orjson.dumps
        decode_error = orjson.JSONDecodeError
        check = check_fast
        index = self.index
        employee_of = self.employee_of
        actor_keys = self.actor_keys
        objects = self.objects
        verbs = self.verbs
        uuid5 = uuid.uuid5
        shared = self.shared
        received = self.received
        filled = self.filled
        actor_info = self.actor_info
        keep_value = not self.redact
        if len(shared) > _CACHE_MAX:
            shared.clear()
        rows: list[tuple] = []
        refs: list[str] = []
        raws: list[bytes] = []
        self.pending = (refs, raws)
        v2_fixed = None if rules is None else rules == "2.0"
        self.read += len(chunk)
        for ref, payload in chunk:
            if type(payload) is bytes:
                raw = payload
                try:
                    s = loads(payload)
                except decode_error as exc:
                    self._reject(ref, None, "json.invalid", "", f"not valid JSON: {exc}", payload)
                    continue
            else:
                s = payload
                raw = None
            try:
                if v2_fixed is None:
                    version = s.get("version") if type(s) is dict else None
                    v2 = not (type(version) is str and version.startswith("1.0"))
                else:
                    v2 = v2_fixed
                (
                    actor,
                    verb_id,
                    obj,
                    object_type,
                    success,
                    completion,
                    scaled,
                    sraw,
                    smin,
                    smax,
                    duration,
                    ts,
                    stored,
                    registration,
                    platform,
                    actor_memo,
                    object_memo,
                ) = check(s, v2)
                ts, stored, fill = _times(ts, stored, received)
            except Reject as exc:
                sid = s.get("id") if type(s) is dict else None
                self._reject(
                    ref,
                    sid if type(sid) is str else None,
                    exc.code,
                    exc.path,
                    exc.detail,
                    raw if raw is not None else s,
                )
                continue
            sid = s.get("id")
            if sid is None:
                sid = str(uuid5(ID_NAMESPACE, _canonical(s).decode()))
            else:
                sid = sid.lower()
            row = index.get(sid)
            if row is not None:
                self._again(row, sid, s, ref, raw)
                continue
            # the actor's pseudonym, cached by the actor's JSON
            akey = actor_keys.get(actor_memo) if actor_memo is not None else None
            if akey is None:
                akey = pseudonym(actor, self.key)
                if akey not in actor_info:
                    actor_info[akey] = describe_actor(actor, keep_value=keep_value)
                if actor_memo is not None:
                    if len(actor_keys) >= _CACHE_MAX:
                        actor_keys.clear()
                    actor_keys[compact(actor_memo)] = akey
            verb = verbs.get(verb_id)
            if verb is None:
                verb = verbs[verb_id] = verb_short_name(verb_id)
            o = objects.get(object_memo) if object_memo is not None else None
            if o is None:
                o = self._object(obj, object_type)
                if object_memo is not None:
                    if len(objects) >= _CACHE_MAX:
                        objects.clear()
                    objects[compact(object_memo)] = o
            if scaled is None and sraw is not None and smin is not None and smax is not None:
                scaled = derive_scaled(sraw, smin, smax)
            if registration is not None:  # one string object per session, not per statement
                registration = shared.setdefault(registration, registration)
            if platform is not None:
                platform = shared.setdefault(platform, platform)
            row = index[sid] = len(index)
            filled.append(fill)
            if verb_id == VOIDED:
                self.voiding[row] = obj["id"].lower()
            refs.append(ref)
            raws.append(raw if raw is not None else dumps(s))
            rows.append(
                (
                    sid,
                    akey,
                    employee_of.get(akey),
                    verb_id,
                    verb,
                    o[0],
                    object_type,
                    o[1],
                    o[2],
                    success,
                    completion,
                    scaled,
                    sraw,
                    smin,
                    smax,
                    duration,
                    ts,
                    stored,
                    registration,
                    platform,
                )
            )
        self._flush(rows, refs, raws)

    def _flush(self, rows: list[tuple], refs: list[str], raws: list[bytes]) -> None:
        """Turn a chunk's row tuples into column arrays, and spool their raw JSON."""
        self.pending = ([], [])
        if not rows:
            return
        self.spool.extend(refs, raws)
        block: dict[str, Any] = {}
        for name, values in zip(COLUMNS, zip(*rows, strict=True), strict=True):
            if name in _FLOATS:
                block[name] = np.array(values, dtype=np.float64)  # None -> NaN
            elif name in _TIMES:
                block[name] = np.array(values, dtype=np.int64)
            elif name in _BOOLS:
                codes = np.array(values, dtype=object)
                missing = np.equal(codes, None)
                codes[missing] = False
                block[name] = (codes.astype(bool), missing.astype(bool))
            else:
                column = np.empty(len(values), dtype=object)
                column[:] = values
                block[name] = column
        self.ids.extend(block["statement_id"])
        self.chunks.append(block)

    def _object(self, obj: dict, object_type: str) -> tuple[str, str | None, str | None]:
        """(object_id, activity_type, object_name) of a valid object."""
        if object_type == "Activity":
            definition = obj.get("definition") or {}
            name = definition.get("name")
            name = pick_language(name, self.language) if name else None
            return obj["id"], definition.get("type"), name
        if object_type == "Agent" or object_type == "Group":
            return pseudonym(obj, self.key), None, None
        if object_type == "StatementRef":
            return obj["id"].lower(), None, None
        inner = obj["object"]  # a SubStatement: describe what it is about
        return self._object(inner, inner.get("objectType", "Activity"))

    def _row_raw(self, row: int) -> tuple[str, bytes]:
        """Source and raw JSON of a row: from the spool, or from the chunk being read."""
        spooled = len(self.spool)
        if row < spooled:
            return self.spool.read(row)
        refs, raws = self.pending
        return refs[row - spooled], raws[row - spooled]

    def _again(self, row: int, sid: str, s: dict, ref: str, raw: bytes | None) -> None:
        """A valid statement whose id was read before: a duplicate or a conflicting version."""
        versions = self.versions.get(sid)
        first_ref, first_raw = self._row_raw(row)
        if versions is None:
            versions = self.versions[sid] = [_canonical(orjson.loads(first_raw))]
        content = _canonical(s)
        if content in versions:
            self.duplicates += 1
            return
        versions.append(content)
        self.conflicted.add(row)
        self._reject(
            ref,
            sid,
            "statement.id.conflict",
            "id",
            f"statement id {sid} was read before with different content (first at {first_ref}); "
            "every version is quarantined",
            raw if raw is not None else s,
        )

    def _reject(
        self, ref: str, sid: str | None, code: str, path: str, detail: str, raw: Any
    ) -> None:
        self.quarantine_counts[code] += 1
        if isinstance(raw, bytes | bytearray):
            text = bytes(raw).decode("utf-8", errors="replace").strip()
            if self.redact:
                try:
                    text = orjson.dumps(redact_statement(orjson.loads(raw))).decode()
                except orjson.JSONDecodeError:
                    text = redact_text(text)
        else:
            try:
                text = orjson.dumps(redact_statement(raw) if self.redact else raw).decode()
            except TypeError:
                text = redact_text(repr(raw)) if self.redact else repr(raw)
        self.quarantine.append((sid.lower() if sid else None, code, path, detail, ref, text))

    # -- reconciliation ---------------------------------------------------------------------------
    def finish(self) -> Ingest:
        n = len(self.index)
        keep = np.ones(n, dtype=bool)
        outcomes: Counter[tuple[str, str]] = Counter()
        excluded: set[int] = set()
        for row in sorted(self.conflicted):
            keep[row] = False
            excluded.add(row)
            ref, raw = self.spool.read(row)
            sid = self.ids[row]
            detail = f"statement id {sid} was read again with different content; every version is quarantined"
            self._reject(ref, sid, "statement.id.conflict", "id", detail, raw)
        voided: set[int] = set()
        for row, target in self.voiding.items():
            if row in self.conflicted:
                continue
            keep[row] = False
            t = self.index.get(target)
            if t is None or t in self.conflicted:
                outcomes["voided", "voiding.unmatched"] += 1
            elif t in self.voiding:
                excluded.add(row)
                ref, raw = self.spool.read(row)
                self._reject(
                    ref,
                    self.ids[row],
                    "voiding.target_is_voiding",
                    "object.id",
                    f"the target {target} is itself a voiding statement, which cannot be voided",
                    raw,
                )
            else:
                voided.add(t)
                outcomes["voided", "voiding.applied"] += 1
        for t in voided:
            keep[t] = False
        if voided:
            outcomes["voided", "voided"] += len(voided)
        accepted = int(keep.sum())
        if accepted:
            outcomes["accepted", "accepted"] += accepted
        if self.duplicates:
            outcomes["duplicate", "duplicate"] += self.duplicates
        for code, count in self.quarantine_counts.items():
            outcomes["quarantined", code] += count

        order = {o: i for i, o in enumerate(_OUTCOMES)}
        reasons = pd.DataFrame(
            sorted(
                (
                    (o, r, c, f"{REASONS[r].section}: {REASONS[r].rule}")
                    for (o, r), c in outcomes.items()
                ),
                key=lambda t: (order[t[0]], -t[2], t[1]),
            ),
            columns=["outcome", "reason", "count", "rule"],
        )
        reasons = reasons.astype(
            {"outcome": "string", "reason": "string", "rule": "string", "count": "int64"}
        )
        quarantine = self._quarantine_table()
        fill = np.frombuffer(bytes(self.filled), dtype=np.uint8)[keep]
        table = self._table(keep)
        report = IngestReport(
            read=self.read,
            accepted=accepted,
            duplicates=self.duplicates,
            voided=sum(c for (o, _), c in outcomes.items() if o == "voided"),
            quarantined=len(quarantine),
            reasons=reasons,
            **coverage_counts(table),
            stored_from_timestamp=int(((fill & 3) == 1).sum()),
            stored_from_received=int(((fill & 3) == 2).sum()),
            timestamp_from_stored=int(((fill & 4) == 4).sum()),
            identities_given=self.identities_given,
        )
        return Ingest(
            table,
            quarantine,
            report,
            spool=self.spool,
            index=self.index,
            excluded=frozenset(excluded),
            redact=self.redact,
            actors=self.actor_info,
            secret=self.key,
        )

    def _table(self, keep: np.ndarray) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name in COLUMNS:
            parts = [block.pop(name) for block in self.chunks]  # freed column by column
            if name in _BOOLS:
                if parts:
                    values = np.concatenate([p[0] for p in parts])[keep]
                    missing = np.concatenate([p[1] for p in parts])[keep]
                else:
                    values = missing = np.empty(0, dtype=bool)
                data[name] = pd.arrays.BooleanArray(values, missing)
                continue
            if name in _TIMES:
                values = np.concatenate(parts)[keep] if parts else np.empty(0, np.int64)
                data[name] = pd.DatetimeIndex(values.view("datetime64[ns]")).tz_localize("UTC")
            elif name in _FLOATS:
                data[name] = np.concatenate(parts)[keep] if parts else np.empty(0)
            else:
                values = np.concatenate(parts)[keep] if parts else np.empty(0, object)
                data[name] = pd.array(values, dtype="string")
        return pd.DataFrame(data, columns=list(COLUMNS))

    def _quarantine_table(self) -> pd.DataFrame:
        rows = [
            (sid, code, f"{REASONS[code].section}: {REASONS[code].rule}", path, detail, ref, raw)
            for sid, code, path, detail, ref, raw in self.quarantine
        ]
        return pd.DataFrame(rows, columns=list(_QUARANTINE_COLUMNS)).astype("string")
