"""Normalization of accepted statements into the ``statements`` contract table.

The helpers here turn xAPI values into analysis-ready ones: ISO 8601 timestamps into UTC
nanoseconds, ISO 8601 durations into seconds, language maps into one string, verb IRIs into
short names, and raw/min/max scores into a scaled score. They are pure functions, used by the
validator (a value that cannot be parsed is a rejection) and by the ingest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

__all__ = [
    "COLUMNS",
    "NS_MAX",
    "NS_MIN",
    "derive_scaled",
    "parse_duration",
    "parse_timestamp",
    "pick_language",
    "verb_short_name",
]

#: Columns of the ``statements`` contract, in order.
COLUMNS: tuple[str, ...] = (
    "statement_id",
    "actor_key",
    "employee_id",
    "verb_id",
    "verb",
    "object_id",
    "object_type",
    "activity_type",
    "object_name",
    "success",
    "completion",
    "score_scaled",
    "score_raw",
    "score_min",
    "score_max",
    "duration_s",
    "timestamp",
    "stored",
    "registration",
    "platform",
)

# datetime64[ns] bounds (pandas.Timestamp.min / max)
NS_MIN = -9_223_372_036_854_775_000
NS_MAX = 9_223_372_036_854_775_000

# ISO 8601 date-time, extended (2015-11-18T12:17:00.123+01:00) and basic (20151118T121700Z)
# format. Seconds may be left out (reduced accuracy); no offset means UTC.
_TS_EXT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?"
).fullmatch
_TS_BASIC = re.compile(
    r"(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2})(\d{2})?)?"
).fullmatch
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


_fromisoformat = datetime.fromisoformat
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NEGATIVE_ZERO = ("-00", "-0000", "-00:00")


def parse_timestamp(value: str) -> int | None:
    """Nanoseconds since the Unix epoch (UTC) of an xAPI timestamp, or None if it is invalid.

    Accepts ISO 8601 extended and basic date-times with ``Z``, ``+hh:mm``, ``+hhmm`` or
    ``+hh`` offsets and any number of fractional second digits (kept to the microsecond). A
    timestamp without an offset is taken as UTC. The "unknown local offset" forms ``-00``,
    ``-0000`` and ``-00:00`` are invalid in xAPI, and so are a date without a time and a
    space instead of ``T``.

    Examples
    --------
    >>> from talentml.xapi._normalize import parse_timestamp
    >>> parse_timestamp("1970-01-01T00:00:01.5Z")
    1500000000
    >>> parse_timestamp("1970-01-01T01:00:00+01:00")
    0
    >>> parse_timestamp("2008-09-15T15:53:00.601-00:00") is None
    True
    """
    try:
        dt = _fromisoformat(value)
    except ValueError:
        return _parse_timestamp_strict(value)
    # datetime.fromisoformat is more lenient than xAPI: check separator, offset, fraction.
    if value[10:11] != "T" and value[8:9] != "T" or value.endswith(_NEGATIVE_ZERO):
        return None
    dot = value.find(".", 15)
    if dot != -1 and not value[dot + 1 : dot + 2].isdigit():
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _MICROSECOND * 1000


def _parse_timestamp_strict(value: str) -> int | None:
    """The forms datetime.fromisoformat rejects: lower-case t/z, leap seconds (:60)."""
    m = _TS_EXT(value) or _TS_BASIC(value)
    if m is None:
        return None
    y, mo, d, h, mi, sec, frac, z, sign, oh, om = m.groups()
    year = int(y)
    month = int(mo)
    day = int(d)
    if not 1 <= month <= 12 or day < 1:
        return None
    if day > _MONTH_DAYS[month] and not (
        month == 2 and day == 29 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    ):
        return None
    hour = int(h)
    minute = int(mi)
    second = int(sec) if sec is not None else 0
    if hour > 23 or minute > 59 or second > 60:
        return None
    offset = 0
    if sign is not None:
        off_h = int(oh)
        off_m = int(om) if om is not None else 0
        if off_h > 23 or off_m > 59:
            return None
        offset = off_h * 3600 + off_m * 60
        if offset == 0 and sign == "-":
            return None  # -00, -0000, -00:00: "unknown local offset" (RFC 3339 4.3)
        if sign == "-":
            offset = -offset
    # days from civil (H. Hinnant), proleptic Gregorian calendar
    yy = year - (month <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    ns = (days * 86400 + hour * 3600 + minute * 60 + second - offset) * 1_000_000_000
    if frac is not None:
        ns += int((frac + "000000")[:6]) * 1000
    return ns


_NUM = r"([0-9]+(?:[.,][0-9]+)?)"
_DURATION = re.compile(
    rf"P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?(?:(T)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?|P{_NUM}W"
).fullmatch


_duration_cache: dict[str, float | None] = {}


def parse_duration(value: str) -> float | None:
    """Seconds in an ISO 8601:2004 (4.4.3.2) duration, or None if it is not one.

    Years and months have no fixed length: a year counts as the mean Gregorian year
    (365.2425 days) and a month as a twelfth of it. Only the smallest component may carry a
    decimal fraction; weeks (``PnW``) stand alone.

    Examples
    --------
    >>> from talentml.xapi._normalize import parse_duration
    >>> parse_duration("PT1H30M15.5S")
    5415.5
    >>> parse_duration("PT03M15S"), parse_duration("P1W")
    (195.0, 604800.0)
    >>> parse_duration("P4W1D") is None, parse_duration("PT") is None
    (True, True)
    """
    cached = _duration_cache.get(value, False)
    if cached is not False:
        return cached
    seconds = _parse_duration(value)
    if len(_duration_cache) >= 20_000:
        _duration_cache.clear()
    _duration_cache[value] = seconds
    return seconds


def _parse_time_duration(value: str) -> float | None:
    """Fast path for the usual ``PT[nH][nM][nS]`` form; None sends the value to the full parser."""
    rest = value[2:]
    total = 0.0
    parts = 0
    fraction = False
    for unit, factor in _TIME_UNITS:
        head, found, tail = rest.partition(unit)
        if not found:
            continue
        if fraction:
            return None
        if head.isascii() and head.isdigit():
            total += int(head) * factor
        else:
            whole, dot, decimals = head.partition(".")
            if not (
                dot
                and whole.isascii()
                and whole.isdigit()
                and decimals.isascii()
                and decimals.isdigit()
            ):
                return None
            fraction = True
            total += float(head) * factor
        parts += 1
        rest = tail
    return total if parts and not rest else None


_TIME_UNITS = (("H", 3_600.0), ("M", 60.0), ("S", 1.0))


def _parse_duration(value: str) -> float | None:
    if value[:2] == "PT":
        seconds = _parse_time_duration(value)
        if seconds is not None:
            return seconds
    m = _DURATION(value)
    if m is None or value[-1] in "PT":  # "P", "PT", "P1DT": no component after a designator
        return None
    y, mo, d, t, h, mi, s, w = m.groups()
    if "," in value:
        if "." in value:
            return None
        value = value.replace(",", ".")
        y, mo, d, t, h, mi, s, w = (
            g.replace(",", ".") if g else g for g in (y, mo, d, t, h, mi, s, w)
        )
    if "." in value:
        # a fraction is only allowed on the last (smallest) component
        dot = value.index(".")
        if value.count(".") > 1 or not value[dot + 1 : -1].isdigit():
            return None
    if w is not None:
        return float(w) * 604_800.0
    total = 0.0
    if y:
        total += float(y) * 31_556_952.0
    if mo:
        total += float(mo) * 2_629_746.0
    if d:
        total += float(d) * 86_400.0
    if h:
        total += float(h) * 3_600.0
    if mi:
        total += float(mi) * 60.0
    if s:
        total += float(s)
    return total


def pick_language(language_map: Mapping[str, str] | None, language: str = "en") -> str | None:
    """The best string of a language map for ``language``.

    Preference: the exact tag (case-insensitive), then a tag with the same primary language
    (first in sorted order, so the result never depends on key order), then ``und``, then
    the first tag in sorted order.

    Examples
    --------
    >>> from talentml.xapi._normalize import pick_language
    >>> pick_language({"fr": "Réunion", "en-US": "Meeting", "en-GB": "Meeting (GB)"})
    'Meeting (GB)'
    >>> pick_language({"fr": "Réunion", "en-US": "Meeting"}, "fr-CA")
    'Réunion'
    >>> pick_language({}) is None
    True
    """
    if not language_map:
        return None
    if language in language_map:
        return language_map[language]
    wanted = language.lower()
    primary = wanted.split("-", 1)[0]
    keys = sorted(language_map)
    best = None
    for key in keys:
        low = key.lower()
        if low == wanted:
            return language_map[key]
        if best is None and (low == primary or low.startswith(primary + "-")):
            best = key
    if best is None:
        best = "und" if "und" in language_map else keys[0]
    return language_map[best]


_SEPARATORS = re.compile(r"[/#:]")


def verb_short_name(verb_id: str) -> str:
    """The last segment of a verb IRI: ``http://adlnet.gov/expapi/verbs/completed`` -> ``completed``.

    Examples
    --------
    >>> from talentml.xapi._normalize import verb_short_name
    >>> verb_short_name("http://adlnet.gov/expapi/verbs/completed")
    'completed'
    >>> verb_short_name("http://example.com/xapi/verbs#sent-a-statement")
    'sent-a-statement'
    >>> verb_short_name("https://w3id.org/xapi/video/verbs/played/")
    'played'
    """
    parts = [p for p in _SEPARATORS.split(verb_id) if p]
    return parts[-1] if parts else verb_id


def derive_scaled(raw: float, smin: float, smax: float) -> float:
    """Scaled score from raw, min and max: ``(raw - min) / (max - min)``, or NaN.

    Used only when a statement gives raw, min and max but no scaled score, and max > min.

    Examples
    --------
    >>> from talentml.xapi._normalize import derive_scaled
    >>> derive_scaled(75.0, 0.0, 100.0)
    0.75
    >>> derive_scaled(5.0, 5.0, 5.0)
    nan
    """
    if raw != raw or smin != smin or smax != smax or smax <= smin:
        return float("nan")
    return (raw - smin) / (smax - smin)
