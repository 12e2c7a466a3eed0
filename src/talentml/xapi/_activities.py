"""What an activity IRI, name and type say, normalized for catalogs and activity resolution.

Pure functions shared by :func:`talentml.xapi.infer_catalog` and
:class:`talentml.xapi.ActivityResolver`:

* :func:`slug` - the human-readable part of an activity IRI (``.../watch/sql-in-10-minutes``
  -> ``sql-in-10-minutes``), or None when the IRI carries none (query-string ids, opaque
  hashes, bare numbers);
* :func:`openedx_key` - the course or block an Open edX ``course-v1:`` / ``block-v1:`` key
  names (a course's root block is the course itself);
* :func:`name_key` and :func:`name_numbers` - a spelling-insensitive name and the sequence
  numbers in it ("Part 1", "Module II"), which must agree for two names to be the same
  activity;
* :func:`type_family` - the family of an activity type IRI (cmi5 and ADL courses are both
  ``course``; ADL media and the video profile's video are both ``media``);
* :func:`level_from_title` - a level (1 to 4) from words such as "Foundations" or "Advanced".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

__all__ = [
    "GENERIC_SEGMENTS",
    "LEVEL_WORDS",
    "TYPE_FAMILIES",
    "level_from_title",
    "name_key",
    "name_numbers",
    "openedx_key",
    "slug",
    "type_family",
]

#: Path segments that name a kind of page, not an activity: skipped when looking for a slug.
GENERIC_SEGMENTS = frozenset(
    """
    about activities activity api app assets catalog content contents course courses
    default details en en-us home index item items jump_to launch learn lesson lessons lms
    media mod module modules package packages page pages play player program programs
    resource resources scorm sco static story v1 video videos view watch web www xapi
    xblock
    """.split()
)
_EXTENSIONS = re.compile(r"\.(?:html?|php|aspx?|jsp|cgi|xml|json|zip)$")
_HEXISH = re.compile(r"(?=.*\d)(?=.*[a-f])[0-9a-f]{8,}")
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_LETTERS = re.compile(r"[a-z]")

_EDX_COURSE = re.compile(r"course-v1:([^+/\s]+)\+([^+/\s]+)\+([^+/?#\s]+)", re.IGNORECASE)
_EDX_BLOCK = re.compile(
    r"block-v1:([^+/\s]+)\+([^+/\s]+)\+([^+/\s]+)\+type@([^+/\s]+)\+block@([^/?#\s]+)",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    return _NON_ALNUM.sub("-", unicodedata.normalize("NFKD", text).casefold()).strip("-")


def _opaque(segment: str) -> bool:
    """A platform id: a UUID or a long hex hash (not a word a person would write)."""
    compact = segment.replace("-", "")
    return bool(_UUID.fullmatch(segment) or _HEXISH.fullmatch(compact))


def openedx_key(iri: str) -> tuple[str, ...] | None:
    """The Open edX course or block an IRI names, or None.

    A ``block-v1`` key of type ``course`` is the root block of its course, so it names the
    course itself; any other block is itself. Organization, course and run are compared
    case-insensitively.

    Examples
    --------
    >>> from talentml.xapi._activities import openedx_key
    >>> openedx_key("https://lms.example.org/courses/course-v1:AcmeX+CS101+2024_T1/about")
    ('course', 'acmex', 'cs101', '2024_t1')
    >>> openedx_key("https://lms.example.org/xblock/block-v1:AcmeX+CS101+2024_T1+type@course+block@course")
    ('course', 'acmex', 'cs101', '2024_t1')
    >>> openedx_key("https://lms.example.org/xblock/block-v1:AcmeX+CS101+2024_T1+type@video+block@4f1e")
    ('block', 'acmex', 'cs101', '2024_t1', 'video', '4f1e')
    """
    text = unquote(iri)
    m = _EDX_BLOCK.search(text)
    if m is not None:
        org, course, run, kind, block = (g.lower() for g in m.groups())
        if kind == "course":
            return ("course", org, course, run)
        return ("block", org, course, run, kind, block)
    m = _EDX_COURSE.search(text)
    if m is not None:
        org, course, run = (g.lower() for g in m.groups())
        return ("course", org, course, run)
    return None


def slug(iri: str) -> str | None:
    """The human-readable slug of an activity IRI, or None when it has none.

    The slug is the last path segment that is not generic (:data:`GENERIC_SEGMENTS`, file
    extensions dropped) and not a bare number, followed by any bare numbers after it;
    lower-cased, with every run of other characters turned into ``-``. An IRI that ends in
    an opaque id (a UUID, a long hex hash: ``.../media/cc489c25-...``) or names its activity
    in the query string (``view.php?id=12``) has no slug: such ids mean nothing on another
    platform, and the path before them is only a prefix. An opaque id in the middle of the
    path (a package id before the package's name) is skipped. An Open edX course's slug is
    its course code, a block's its block id.

    Examples
    --------
    >>> from talentml.xapi._activities import slug
    >>> slug("https://video.acme.example/watch/sql-in-10-minutes")
    'sql-in-10-minutes'
    >>> slug("https://lms.acme.example/course/SQL_in_10_Minutes/")
    'sql-in-10-minutes'
    >>> slug("https://lms.example/scorm/3f2a9c41b7/golf-explained/index_lms.html")
    'golf-explained'
    >>> slug("https://lms.example/course/python/2"), slug("https://lms.example/course/123")
    ('python-2', None)
    >>> slug("http://www.example.org/mod/book/view.php?id=1") is None
    True
    >>> slug("https://books.example.com/v1/tenant/8/media/cc489c25-8215-4e2d-977d-8dbee098b521") is None
    True
    """
    edx = openedx_key(iri)
    if edx is not None:
        token = _clean(edx[2] if edx[0] == "course" else edx[5])
        return token if _LETTERS.search(token) and not _opaque(token) else None
    parts = urlsplit(unquote(iri))
    if parts.query:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if parts.fragment:
        segments.append(parts.fragment)
    if not parts.netloc and not segments:  # a URN or other scheme: its last field
        segments = re.split(r"[:/]", parts.path)
    trailing: list[str] = []
    for segment in reversed(segments):
        token = _clean(_EXTENSIONS.sub("", segment.casefold()))
        if not token:
            continue
        if _opaque(token):
            if trailing:
                continue
            return None  # the activity is an opaque id: the path before it is a prefix
        if token.isdigit():
            trailing.append(token)
            continue
        if token in GENERIC_SEGMENTS or token.startswith(("index-", "story-")):
            continue
        if not _LETTERS.search(token):
            continue
        return "-".join([token, *reversed(trailing)])
    return None


_STOP = frozenset({"a", "an", "the", "of", "for", "to", "in", "on", "and", "with"})
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_ROMAN_AFTER = {"i": 1, "v": 5, "x": 10}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SEQUENCE = frozenset(
    """part parts chapter module unit level lesson week session day episode ep volume vol
    book section stage step phase course""".split()
)


def _name_tokens(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name).casefold().replace("&", " and ")
    return [t for t in re.split(r"[^0-9a-z]+", text) if t]


def name_key(name: str | None) -> str | None:
    """A spelling-insensitive form of a name: case, accents, punctuation, little words.

    Examples
    --------
    >>> from talentml.xapi._activities import name_key
    >>> name_key("SQL: In 10 Minutes!") == name_key("sql in 10 minutes")
    True
    >>> name_key("  ") is None
    True
    """
    if name is None or not isinstance(name, str):
        return None
    tokens = [t for t in _name_tokens(name) if t not in _STOP]
    return " ".join(tokens) or None


def name_numbers(name: str | None) -> tuple[int, ...]:
    """The sequence numbers in a name, sorted: digits, roman numerals, "Part One".

    Two names whose numbers differ ("Part 1" / "Part 2", "Python 101" / "Python 201") never
    name the same activity.

    Examples
    --------
    >>> from talentml.xapi._activities import name_numbers
    >>> name_numbers("Leadership Part II"), name_numbers("Module 3: Week 1")
    ((2,), (1, 3))
    >>> name_numbers("Part I"), name_numbers("I am a title")
    ((1,), ())
    """
    if not isinstance(name, str):
        return ()
    tokens = _name_tokens(name)
    out: list[int] = []
    for i, t in enumerate(tokens):
        after = i > 0 and tokens[i - 1] in _SEQUENCE
        if t.isdigit():
            out.append(int(t))
        elif t in _ROMAN or (after and t in _ROMAN_AFTER):
            out.append(_ROMAN.get(t) or _ROMAN_AFTER[t])
        elif after and t in _WORDS:
            out.append(_WORDS[t])
        else:
            digits = re.findall(r"\d+", t)
            out.extend(int(d) for d in digits)
    return tuple(sorted(out))


#: Activity type families: the last segment of a type IRI (cleaned) -> family. Types in one
#: family may name the same activity; types of different families never do.
TYPE_FAMILIES: Mapping[str, str] = {
    "course": "course",
    "module": "module",
    "lesson": "module",
    "unit": "module",
    "block": "module",
    "sco": "module",
    "scorm-content-object": "module",
    "media": "media",
    "video": "media",
    "audio": "media",
    "podcast": "media",
    "recording": "media",
    "assessment": "assessment",
    "quiz": "assessment",
    "exam": "assessment",
    "test": "assessment",
    "interaction": "interaction",
    "cmi-interaction": "interaction",
    "question": "interaction",
}


def type_family(activity_type: str | None) -> str | None:
    """The family of an activity type IRI (None when there is no type).

    Examples
    --------
    >>> from talentml.xapi._activities import type_family
    >>> type_family("https://w3id.org/xapi/cmi5/activitytype/course")
    'course'
    >>> type_family("https://w3id.org/xapi/video/activity-type/video")
    'media'
    >>> type_family("http://adlnet.gov/expapi/activities/cmi.interaction")
    'interaction'
    >>> type_family("http://id.tincanapi.com/activitytype/chat-channel")
    'chat-channel'
    """
    if not isinstance(activity_type, str) or not activity_type.strip():
        return None
    parts = [p for p in re.split(r"[/#]", activity_type.strip()) if p]
    last = _clean(parts[-1]) if parts else ""
    if not last:
        return None
    return TYPE_FAMILIES.get(last, last)


#: Words of activity titles that state a level (1 foundation to 4 expert).
LEVEL_WORDS: Mapping[str, int] = {
    "introduction": 1,
    "intro": 1,
    "basics": 1,
    "foundations": 1,
    "foundation": 1,
    "fundamentals": 1,
    "essentials": 1,
    "beginner": 1,
    "beginners": 1,
    "101": 1,
    "practitioner": 2,
    "intermediate": 2,
    "applied": 2,
    "advanced": 3,
    "expert": 4,
    "master": 4,
    "masterclass": 4,
}


def level_from_title(title: str | None) -> tuple[int | None, str | None]:
    """The level a title states, and the word that states it; None when it states none or
    states two different levels.

    Examples
    --------
    >>> from talentml.xapi._activities import level_from_title
    >>> level_from_title("SQL Foundations"), level_from_title("Advanced SQL")
    ((1, 'foundations'), (3, 'advanced'))
    >>> level_from_title("From beginner to expert")
    (None, None)
    """
    if not isinstance(title, str):
        return None, None
    found = {(LEVEL_WORDS[t], t) for t in _name_tokens(title) if t in LEVEL_WORDS}
    levels = {lvl for lvl, _ in found}
    if len(levels) != 1:
        return None, None
    return min(found)
