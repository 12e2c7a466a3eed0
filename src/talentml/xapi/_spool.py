"""The spool of raw statements, and the redaction of personal identifiers in them.

An ingest keeps the raw JSON of every statement it read out of memory, in an anonymous
temporary file (:class:`Spool`); :meth:`talentml.xapi.Ingest.raw` reads one back by id and
:func:`redact_statement` hides the personal identifiers in it unless the ingest ran with
``redact=False``.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import weakref
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any

__all__ = ["Spool", "redact_statement", "redact_text"]


class Spool:
    """Raw statements on disk, in an anonymous temporary file.

    A chunk is written as the raw JSON of its rows one after another, then the NUL-separated
    source refs of those rows. Per row the spool keeps the offset and length of its JSON; per
    chunk, its first row and where its refs are.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="talentml-xapi-")
        self._finalizer = weakref.finalize(self, self._file.close)
        self._pos = 0
        self._lock = threading.Lock()
        self.offsets = array("q")
        self.lengths = array("q")
        self._chunks: list[tuple[int, int, int]] = []  # (first row, refs offset, refs length)

    def __len__(self) -> int:
        return len(self.offsets)

    def extend(self, refs: list[str], raws: list[bytes]) -> None:
        blob = b"".join(raws)
        lengths = array("q", map(len, raws))
        offsets = array("q", accumulate(lengths, initial=self._pos))
        refs_at = offsets.pop()
        ref_blob = "\x00".join(refs).encode()
        with self._lock:
            self._chunks.append((len(self.offsets), refs_at, len(ref_blob)))
            self.offsets.extend(offsets)
            self.lengths.extend(lengths)
            self._file.write(blob)
            self._file.write(ref_blob)
        self._pos = refs_at + len(ref_blob)

    def _read(self, offset: int, length: int) -> bytes:
        if self._file.closed:
            raise ValueError("this Ingest was closed; its raw statements are gone")
        self._file.flush()
        self._file.seek(offset)
        data = self._file.read(length)
        self._file.seek(0, os.SEEK_END)
        return data

    def read(self, row: int) -> tuple[str, bytes]:
        """Source ref and raw JSON of a row."""
        chunk = bisect_right(self._chunks, (row, float("inf"))) - 1
        first, refs_at, refs_length = self._chunks[chunk]
        with self._lock:
            raw = self._read(self.offsets[row], self.lengths[row])
            refs = self._read(refs_at, refs_length)
        return refs.split(b"\x00")[row - first].decode(), raw

    def iter_raw(self, rows: Iterable[int], batch: int = 4096) -> Iterator[tuple[int, bytes]]:
        """``(row, raw JSON)`` of many rows, in file order, read ``batch`` rows at a time."""
        wanted = sorted(set(rows))
        for lo in range(0, len(wanted), batch):
            part = wanted[lo : lo + batch]
            with self._lock:
                out = [(row, self._read(self.offsets[row], self.lengths[row])) for row in part]
            yield from out

    def close(self) -> None:
        self._finalizer()


_PERSONAL_KEYS = frozenset({"mbox", "mbox_sha1sum", "openid", "account"})
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PERSONAL_TEXT = re.compile(r'("(?:name|mbox|mbox_sha1sum|openid)"\s*:\s*)"(?:[^"\\]|\\.)*"')
_REDACTED = "[redacted]"


def redact_statement(value: Any) -> Any:
    """A copy of a statement with personal identifiers replaced by ``"[redacted]"``.

    Replaced: every ``mbox``, ``mbox_sha1sum``, ``openid`` and ``account`` value, every
    ``name`` whose value is a string (agent and account names, names inside extensions;
    activity names are language maps and stay), and e-mail addresses in any other string.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _PERSONAL_KEYS or (k == "name" and isinstance(v, str)):
                out[k] = _REDACTED
            else:
                out[k] = redact_statement(v)
        return out
    if isinstance(value, list):
        return [redact_statement(v) for v in value]
    if isinstance(value, str) and "@" in value:
        return _EMAIL.sub(_REDACTED, value)
    return value


def redact_text(text: str) -> str:
    """Redact unparseable JSON text: values of personal keys and e-mail addresses."""
    return _EMAIL.sub(_REDACTED, _PERSONAL_TEXT.sub(rf'\1"{_REDACTED}"', text))
