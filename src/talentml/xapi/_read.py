"""Statement sources: lists of dicts, JSON / JSON-lines files (gzipped too), directories, an LRS.

Every reader yields *chunks*: lists of ``(source_ref, payload)`` pairs, where ``source_ref``
says where the statement came from (``file.jsonl:12``, ``file.json[3]``, ``[7]``,
``lrs[1024]``) and ``payload`` is either the raw JSON bytes of one statement or an already
parsed object. Nothing reads a whole file into memory: JSON-lines files are read line by
line, and large JSON arrays are split into their elements by a streaming scanner.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson

__all__ = ["Payload", "iter_chunks", "split_json_values", "SUFFIXES"]

logger = logging.getLogger(__name__)

Payload = bytes | Mapping[str, Any] | Any
#: File name endings read as statements; others in a directory are skipped (and logged).
SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
# A JSON file (uncompressed) up to this size is parsed in one go; larger ones are streamed.
_WHOLE_FILE_MAX = 32 * 1024 * 1024
_READ_SIZE = 1024 * 1024


def iter_chunks(
    source: Any, *, chunk_size: int = 10_000, filters: Mapping[str, Any] | None = None
) -> Iterator[list[tuple[str, Payload]]]:
    """Yield lists of at most ``chunk_size`` ``(source_ref, payload)`` pairs from ``source``.

    ``source`` is a path (file or directory), a list of paths (``Path`` objects, or strings
    naming existing files or directories: an export in several files), an object with
    ``iter_statements()`` (an LRS client), one statement (a mapping), or an iterable of
    statements (mappings, JSON ``str``/``bytes``).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if filters and not hasattr(source, "iter_statements"):
        raise TypeError(
            "filters apply only to an LRS client source (an object with iter_statements)"
        )
    items = _iter_items(source, filters or {})
    while True:
        chunk = list(islice(items, chunk_size))
        if not chunk:
            return
        yield chunk


def _paths(source: Any) -> bool:
    """A non-empty list or tuple of paths: PathLike items, or strings naming what exists."""
    if not isinstance(source, list | tuple) or not source:
        return False
    for item in source:
        if isinstance(item, os.PathLike):
            continue
        if not isinstance(item, str) or item.lstrip()[:1] in ("{", "[") or not item.strip():
            return False
        if not Path(item).exists():
            return False
    return True


def _iter_items(source: Any, filters: Mapping[str, Any]) -> Iterator[tuple[str, Payload]]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            yield from _iter_directory(path)
        elif path.is_file():
            yield from _iter_file(path)
        else:
            raise FileNotFoundError(
                f"statement source {str(path)!r} is neither a file nor a directory"
            )
    elif hasattr(source, "iter_statements"):
        for i, statement in enumerate(source.iter_statements(**filters)):
            yield f"lrs[{i}]", statement
    elif isinstance(source, Mapping):
        yield "[0]", source
    elif type(source).__module__.startswith("pandas"):
        raise TypeError(
            "pass statements as a list of dicts, not a pandas object; for a column of JSON "
            "text use ingest(df['column'].tolist())"
        )
    elif _paths(source):
        for path in source:
            yield from _iter_items(path, filters)
    elif isinstance(source, bytes | bytearray | memoryview):
        raise TypeError(
            "pass statements as a path, a list of dicts or an LRSClient; for raw JSON bytes "
            "wrap them in a list ([payload]) or write them to a file"
        )
    elif isinstance(source, Iterable):
        for i, item in enumerate(source):
            if isinstance(item, str):
                item = item.encode()
            elif isinstance(item, bytearray | memoryview):
                item = bytes(item)
            yield f"[{i}]", item
    else:
        raise TypeError(
            f"cannot read statements from a {type(source).__name__}: pass a path, a list of "
            "dicts, or an object with iter_statements() such as talentml.xapi.LRSClient"
        )


def _iter_directory(root: Path) -> Iterator[tuple[str, Payload]]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    skipped = [p for p in files if not p.name.lower().endswith(SUFFIXES)]
    if skipped:
        logger.info(
            "skipped %d file(s) under %s that are not JSON or JSON lines, e.g. %s",
            len(skipped),
            root,
            ", ".join(p.name for p in skipped[:3]),
        )
    for path in files:
        if path.name.lower().endswith(SUFFIXES):
            yield from _iter_file(path)


def _blocks(fh: BinaryIO, gzipped: bool) -> Iterator[bytes]:
    """The (decompressed) content of ``fh`` in blocks of about ``_READ_SIZE`` input bytes.

    Gzip is decompressed here with ``zlib`` in large blocks (the ``gzip`` module's line
    reader is much slower); concatenated gzip members are followed.
    """
    read = fh.read
    if not gzipped:
        while block := read(_READ_SIZE):
            yield block
        return
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    started = False
    while block := read(_READ_SIZE):
        while block:
            started = True
            out = inflate.decompress(block)
            if out:
                yield out
            if inflate.eof:
                block = inflate.unused_data.lstrip(b"\x00")
                inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                started = False
            else:
                block = b""
    if started and not inflate.eof:
        raise EOFError(
            f"{getattr(fh, 'name', 'gzip file')}: compressed data ends before its end-of-stream marker"
        )


def _iter_file(path: Path) -> Iterator[tuple[str, Payload]]:
    name = str(path)
    lower = path.name.lower()
    gzipped = lower.endswith(".gz")
    with open(path, "rb") as fh:
        if lower.endswith(_LINES_SUFFIXES):
            yield from _iter_lines(_blocks(fh, gzipped), name)
        elif not gzipped and path.stat().st_size <= _WHOLE_FILE_MAX:
            data = fh.read()
            try:
                value = orjson.loads(data)
            except orjson.JSONDecodeError:
                # JSON lines in a .json file, or a broken file: split it into its values, so
                # that only the broken statements are lost
                yield from _iter_values([data], name)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield f"{name}[{i}]", item
            else:
                yield f"{name}[0]", value
        else:
            yield from _iter_values(_blocks(fh, gzipped), name)


def _iter_lines(blocks: Iterable[bytes], name: str) -> Iterator[tuple[str, Payload]]:
    pending = b""
    number = 0
    for block in blocks:
        lines = (pending + block).split(b"\n") if pending else block.split(b"\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            if line and not line.isspace():
                yield f"{name}:{number}", line
    if pending and not pending.isspace():
        yield f"{name}:{number + 1}", pending


def _iter_values(blocks: Iterable[bytes], name: str) -> Iterator[tuple[str, Payload]]:
    """Stream the values of a JSON array (or of a sequence of JSON values)."""
    for i, raw in enumerate(split_json_values(blocks)):
        yield f"{name}[{i}]", raw


# One token: a bracket (group 1) after any run of non-bracket text and whole strings.
# Possessive quantifiers: no backtracking, so a string cut by the end of the buffer fails fast.
_TOKEN = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+")*+([\[\]{}])', re.S).match
_GAP = re.compile(rb"[\s,]*").match
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S).match
_SCALAR = re.compile(rb"[^,\s\[\]{}]+").match


def split_json_values(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a stream of JSON text into the raw bytes of its top-level values.

    A top-level array is split into its elements; otherwise each value of a sequence of
    concatenated values (one object, or objects one after another) is one item. Text between
    values that is not whitespace or a comma comes out as an item of its own, so a malformed
    fragment is reported (it will not parse) instead of vanishing. Brackets inside strings are
    ignored. Memory holds one read buffer plus the value being read.

    Examples
    --------
    >>> from talentml.xapi._read import split_json_values
    >>> list(split_json_values([b'[{"a": "]"}, {"b"', b": [1, 2]}, 7, oops]"]))
    [b'{"a": "]"}', b'{"b": [1, 2]}', b'7', b'oops']
    >>> list(split_json_values([b'{"a": 1}\\n{"b": 2}']))
    [b'{"a": 1}', b'{"b": 2}']
    """
    it = iter(chunks)
    buf = b""
    pos = 0  # next byte to look at
    start = -1  # where the value being read starts; -1 between values
    depth = 0  # bracket depth, counting the enclosing array if any
    base = -1  # depth between values: 1 inside a top-level array, 0 otherwise; -1 not yet known
    eof = False
    while True:
        n = len(buf)
        if start == -1:
            pos = _GAP(buf, pos).end()
            if pos < n:
                c = buf[pos]
                if base == -1:
                    base = 1 if c == 0x5B else 0  # "["
                    if base == 1:
                        depth = 1
                        pos += 1
                        continue
                if c == 0x7B or c == 0x5B:  # "{" or "[": a value starts
                    start = pos
                    continue
                if c == 0x5D and base == 1 and depth == 1:  # "]" closes the top-level array
                    base = depth = 0
                    pos += 1
                    continue
                m = _STRING(buf, pos) if c == 0x22 else _SCALAR(buf, pos)
                end = m.end() if m is not None else pos
                if end == pos:  # a stray closing bracket, or a string cut by the buffer end
                    if c == 0x22 and not eof:
                        end = -1
                    else:
                        end = pos + 1
                if end != -1 and (end < n or eof):
                    yield buf[pos:end]
                    pos = end
                    continue
            elif eof:
                return
        else:
            m = _TOKEN(buf, pos)
            if m is not None:
                pos = m.end()
                if buf[pos - 1] in (0x7B, 0x5B):
                    depth += 1
                else:
                    depth -= 1
                    if depth <= base:
                        yield buf[start:pos]
                        start = -1
                        depth = base
                continue
            if eof:
                rest = buf[start:].strip()
                if rest:
                    yield rest  # an unterminated value: it will fail to parse
                return
        # need more data: drop what is consumed, append the next read
        try:
            more = next(it)
        except StopIteration:
            eof = True
            continue
        keep = start if start != -1 else pos
        buf = buf[keep:] + more
        pos -= keep
        if start != -1:
            start = 0
