"""Bytes to CloudTrail records, streaming, with a byte-level prefilter.

The hot path is a trail file exactly as CloudTrail writes it: gzip of compact JSON
`{"Records":[{"eventVersion":...},{"eventVersion":...}]}` (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3). There every
record starts with the literal `{"eventVersion":` (an unescaped quote cannot occur inside a JSON
string, so the marker only appears at the start of an object), which lets the parser:
- count records with one C-speed `bytes.count` per chunk,
- look for the prefilter needles (e.g. `NoSuchKey`) with `bytes.find`, and
- JSON-decode only the records that contain a needle.
Memory stays at one decompressed chunk plus one partial record, whatever the file size.

Everything else (pretty-printed files, bare JSON arrays, JSON lines, a single record, other key
orders) takes the general path: a streaming decoder that yields the elements of a top-level
array one by one (`{"Records": [...]}` or `[...]`) or consecutive top-level values (JSON
lines), decoding every record.

Damage never stops a scan: truncated gzip, invalid JSON and records of the wrong shape are
skipped, counted and reported on the file's FileStats. Records the prefilter skips are counted
but not validated (that is the point of the prefilter); pass needles=None to decode everything.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from recover.cloudtrail.record import TrailRecord

MARKER = b'{"eventVersion":'
_HEADER = re.compile(rb'\s*\{\s*"Records"\s*:\s*\[\s*')
_TEXT_HEADER = re.compile(r'\{\s*"Records"\s*:\s*\[')
_WS = " \t\r\n"
GZIP_MAGIC = b"\x1f\x8b"
READ_SIZE = 1 << 20  # compressed bytes per read
MAX_OUT = 8 << 20  # decompressed bytes per step: bounds memory on highly compressible input
MAX_VALUE = 16 << 20  # one JSON value larger than this (CloudTrail caps a record near 256 KB)
_DECODER = json.JSONDecoder()
# json's decoder recurses once per nesting level and raises RecursionError near the
# interpreter's limit; a real record nests about ten deep.
TOO_DEEP = "invalid JSON (nested too deeply)"


def _inflater() -> tuple[object, tuple[type[BaseException], ...]]:
    """python-isal's zlib-compatible inflate when it is installed (measured ~2.5x faster than
    zlib on CloudTrail files, see benchmarks/README.md); the standard zlib otherwise.
    RECOVER_NO_ISAL=1 forces zlib (for benchmarks)."""
    if not os.environ.get("RECOVER_NO_ISAL"):
        try:
            from isal import isal_zlib  # type: ignore[import-not-found]

            return isal_zlib, (isal_zlib.error, zlib.error)
        except ImportError:
            pass
    return zlib, (zlib.error,)


_ZLIB, _ZLIB_ERRORS = _inflater()
INFLATE = "isal" if _ZLIB is not zlib else "zlib"


@dataclass
class FileStats:
    """What reading one file (or object, or stream) found."""

    name: str
    bytes: int = 0  # bytes read as stored (compressed size for .gz)
    bytes_uncompressed: int = 0
    records: int = 0  # records seen, decoded or not (corrupt ones included)
    decoded: int = 0  # records JSON-decoded
    corrupt_records: int = 0
    problems: Counter[str] = field(default_factory=Counter)  # reason -> count

    def problem(self, reason: str, count: int = 1) -> None:
        self.problems[reason] += count

    @property
    def corrupt(self) -> bool:
        return bool(self.problems)


def decompressed(raw: Iterable[bytes], stats: FileStats) -> Iterator[bytes]:
    """Gzip (detected by its magic bytes, not the file name; multi-member too) or plain bytes,
    as chunks. A truncated or damaged gzip stream ends the chunks and is noted on `stats`."""
    it = iter(raw)
    first = b""
    for chunk in it:
        stats.bytes += len(chunk)
        first += chunk
        if len(first) >= 2:
            break
    if not first.startswith(GZIP_MAGIC):
        if first:
            stats.bytes_uncompressed += len(first)
            yield first
        for chunk in it:
            stats.bytes += len(chunk)
            stats.bytes_uncompressed += len(chunk)
            yield chunk
        return

    d = _ZLIB.decompressobj(31)  # type: ignore[attr-defined]
    pending, in_member, full = first, True, False
    while True:
        try:
            while pending or full:
                out = d.decompress(pending, MAX_OUT)
                pending = d.unconsumed_tail
                full = len(out) == MAX_OUT  # zlib may hold more output for the same input
                if out:
                    stats.bytes_uncompressed += len(out)
                    yield out
                if d.eof:  # concatenated gzip members are one stream (gzip(1) semantics)
                    rest = d.unused_data
                    d = _ZLIB.decompressobj(31)  # type: ignore[attr-defined]
                    in_member = bool(rest.strip(b"\x00"))
                    pending, full = (rest if in_member else b""), False
        except _ZLIB_ERRORS as exc:
            stats.problem(f"damaged gzip data ({exc})")
            return
        chunk = next(it, None)
        if chunk is None:
            break
        stats.bytes += len(chunk)
        pending, in_member = chunk, True
    try:
        tail = d.flush()
    except _ZLIB_ERRORS as exc:
        stats.problem(f"damaged gzip data ({exc})")
        return
    if tail:
        stats.bytes_uncompressed += len(tail)
        yield tail
    if in_member and not d.eof:
        stats.problem("truncated gzip stream")


def iter_records(chunks: Iterable[bytes], stats: FileStats,
                 needles: tuple[bytes, ...] | None = None) -> Iterator[TrailRecord]:
    """The records in a stream of (decompressed) bytes. With needles, the fast path decodes only
    records containing one of them; records not containing any may still be yielded by the
    general path, so callers filter what they get anyway."""
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        if len(head.lstrip()) >= len(MARKER) + 16:
            break
    m = _HEADER.match(head)
    if m and head.startswith(MARKER, m.end()):
        yield from _fast(head, m.end(), it, stats, needles)
    else:
        yield from _general(head, it, stats)


# ------------------------------------------------------------------ fast path
# Offsets instead of slices: a chunk is never copied except to join a partial record with the
# next chunk.


def _fast(buf: bytes, pos: int, it: Iterator[bytes], stats: FileStats,
          needles: tuple[bytes, ...] | None) -> Iterator[TrailRecord]:
    """buf[pos] starts a record; records are complete once the next marker is seen."""
    for chunk in it:
        buf = buf[pos:] + chunk if pos < len(buf) else chunk
        pos = 0
        cut = buf.rfind(MARKER)
        if cut <= 0:
            if len(buf) > MAX_VALUE:  # no record boundary for far too long
                stats.problem("record too large or not CloudTrail JSON; rest of file skipped")
                stats.corrupt_records += 1
                stats.records += 1
                return
            continue
        yield from _spans(buf, 0, cut, stats, needles)
        pos = cut
    # the last record ends with `]}` (end of the Records array and of the file object)
    end = _rstrip(buf, pos, len(buf))
    if buf.endswith(b"]}", pos, end):
        end = _rstrip(buf, pos, end - 2)
        if end > pos:
            yield from _spans(buf, pos, end, stats, needles)
        return
    stats.problem("file ends before the JSON is complete (truncated)")
    last = buf.rfind(MARKER, pos, end)
    if last > pos:
        yield from _spans(buf, pos, last, stats, needles)
    if last >= 0:  # the last record may be whole (cut right after it) or cut in the middle
        stats.records += 1
        try:
            obj = json.loads(buf[last:end].rstrip(b" \t\r\n,"))
        except (ValueError, RecursionError):
            stats.corrupt_records += 1
            return
        stats.decoded += 1
        rec = TrailRecord.from_obj(obj)
        if rec is not None:
            yield rec


def _rstrip(buf: bytes, begin: int, end: int) -> int:
    while end > begin and buf[end - 1] in b" \t\r\n":
        end -= 1
    return end


def _spans(buf: bytes, begin: int, end: int, stats: FileStats,
           needles: tuple[bytes, ...] | None) -> Iterator[TrailRecord]:
    """Records starting in buf[begin:end] (buf[begin] is a record start; a record starting at
    `end` is not included)."""
    stats.records += buf.count(MARKER, begin, end)
    if needles is None:
        starts = _all_markers(buf, begin, end)
    else:
        hit_starts: set[int] = set()
        for needle in needles:
            pos = buf.find(needle, begin, end)
            while pos != -1:
                hit_starts.add(max(buf.rfind(MARKER, begin, pos), begin))
                nxt = buf.find(MARKER, pos, end)
                if nxt == -1:
                    break
                pos = buf.find(needle, nxt, end)
        starts = sorted(hit_starts)
    for start in starts:
        stop = buf.find(MARKER, start + 1, end)
        yield from _decode_span(buf[start:end if stop == -1 else stop], stats)


def _all_markers(buf: bytes, begin: int, end: int) -> list[int]:
    out = []
    pos = buf.find(MARKER, begin, end)
    while pos != -1:
        out.append(pos)
        pos = buf.find(MARKER, pos + 1, end)
    return out


def _decode_span(span: bytes, stats: FileStats) -> Iterator[TrailRecord]:
    text = span.decode("utf-8", "replace").rstrip(_WS)
    if text.endswith(","):
        text = text[:-1]
    pos, first = 0, True
    while pos < len(text):
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            stats.problem(f"invalid JSON ({exc.msg})")
            stats.corrupt_records += 1
            return
        except RecursionError:
            stats.problem(TOO_DEEP)
            stats.corrupt_records += 1
            return
        if not first:  # an extra record that did not start with eventVersion
            stats.records += 1
        first = False
        stats.decoded += 1
        rec = TrailRecord.from_obj(obj)
        if rec is None:
            stats.problem("record of the wrong shape (not an object with an eventName)")
            stats.corrupt_records += 1
        else:
            yield rec
        pos = end
        while pos < len(text) and text[pos] in _WS + ",":
            pos += 1


# ------------------------------------------------------------------ general path


class _Text:
    """A sliding window of decoded text over a byte-chunk iterator."""

    def __init__(self, head: bytes, it: Iterator[bytes]) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")
        self._it = it
        self.buf = self._dec.decode(head)
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = next(self._it, None)
        while chunk == b"":  # an empty read is not the end
            chunk = next(self._it, None)
        if chunk is None:
            self.eof = True
            self.buf += self._dec.decode(b"", final=True)
            return False
        if self.pos > (1 << 20):  # drop what was consumed: constant memory
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += self._dec.decode(chunk)
        return True

    def skip(self, chars: str) -> bool:
        """Skip `chars`; False at end of input."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in chars:
                self.pos += 1
            if self.pos < len(self.buf):
                return True
            if not self.more():
                return False

    def value(self) -> tuple[bool, Any]:
        """Decode one JSON value at pos: (True, value), or (False, reason) when it is invalid."""
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except RecursionError:  # a value nested thousands deep cannot be a record
                return False, TOO_DEEP
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > MAX_VALUE or not self.more():
                    return False, f"invalid JSON ({exc.msg})"
                continue
            # a number or literal cut at the chunk edge may look complete: make sure it ended
            if end == len(self.buf) and not self.eof and self.more():
                continue
            self.pos = end
            return True, obj

    def resync_line(self) -> bool:
        """Move past the next newline (JSON lines recovery); False if there is none."""
        while True:
            nl = self.buf.find("\n", self.pos)
            if nl != -1:
                self.pos = nl + 1
                return True
            self.pos = len(self.buf)
            if not self.more():
                return False


def _general(head: bytes, it: Iterator[bytes], stats: FileStats) -> Iterator[TrailRecord]:
    t = _Text(head, it)
    while t.skip(_WS):
        while len(t.buf) - t.pos < 64 and t.more():
            pass
        header = _TEXT_HEADER.match(t.buf, t.pos)
        if header or t.buf[t.pos] == "[":
            t.pos = header.end() if header else t.pos + 1
            if not (yield from _array(t, stats)):
                return
            if header:  # the rest of the `{"Records": [...]}` object
                if not t.skip(_WS) or t.buf[t.pos] != "}":
                    stats.problem("unexpected content after the Records array")
                    return
                t.pos += 1
            continue
        ok, obj = t.value()
        if not ok:
            stats.problem(obj)
            stats.corrupt_records += 1
            stats.records += 1
            if not t.resync_line():
                return
            continue
        if isinstance(obj, dict) and "Records" in obj and "eventName" not in obj:
            records = obj["Records"]
            if not isinstance(records, list):
                stats.problem("Records is not a list")
                continue
            for item in records:
                yield from _one(item, stats)
        else:
            yield from _one(obj, stats)


def _array(t: _Text, stats: FileStats) -> Iterator[TrailRecord]:
    """Elements of a top-level array, up to and including its `]`. Returns False when the file
    cannot be read further (invalid JSON inside the array cannot be resynchronised safely)."""
    while True:
        if not t.skip(_WS + ","):
            stats.problem("file ends before the JSON is complete (truncated)")
            return False
        if t.buf[t.pos] == "]":
            t.pos += 1
            return True
        ok, obj = t.value()
        if not ok:
            stats.problem(obj + "; rest of file skipped")
            stats.corrupt_records += 1
            stats.records += 1
            return False
        yield from _one(obj, stats)


def _one(obj: Any, stats: FileStats) -> Iterator[TrailRecord]:
    stats.records += 1
    stats.decoded += 1
    rec = TrailRecord.from_obj(obj)
    if rec is None:
        stats.problem("record of the wrong shape (not an object with an eventName)")
        stats.corrupt_records += 1
    else:
        yield rec
