"""The one trace writer: a record's line is its Struct (:mod:`.records`) encoded by msgspec.

The same record always gives the same bytes: keys in the Struct's order, absent keys left
out, no spaces, non-ASCII text as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import msgspec
from mypy_extensions import mypyc_attr

from model.trace.records import End, Entry, Record, Sink, line_of

_encode = msgspec.json.Encoder().encode


def dumps(record: Entry) -> str:
    """One trace line, without its line end."""
    return _encode(line_of(record)).decode()


def to_json(record: Entry) -> dict[str, Any]:
    """The JSON object of one record's line, keys in the line's order."""
    built: dict[str, Any] = msgspec.json.decode(_encode(line_of(record)))
    return built


@mypyc_attr(native_class=False)
class MemoryTrace(list[Record]):
    """Records kept in memory; call it (or ``append``) as the engine's sink."""

    def __call__(self, record: Record) -> None:
        self.append(record)

    def jsonl(self, end: float | None = None) -> str:
        """The trace's lines; with ``end``, the end-of-run line (the run went on to ``end``) last."""
        text = "".join(dumps(r) + "\n" for r in self)
        return text if end is None else text + dumps(End(end)) + "\n"


@dataclass
class JsonlWriter:
    """Streams records to a text file as they happen: memory stays flat however long the run."""

    stream: IO[str]

    def __post_init__(self) -> None:
        self._write = self.stream.write

    def __call__(self, record: Record) -> None:
        self._write(_encode(line_of(record)).decode() + "\n")

    def end(self, t: float) -> None:
        """Write the end-of-run line: the run went on to virtual time ``t`` and stops there."""
        self.stream.write(dumps(End(t)) + "\n")


def null_sink(record: Record) -> None:
    """Discard records (simulations that only want outcomes)."""


class Tee:
    """Send each record to several sinks."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def __call__(self, record: Record) -> None:
        for sink in self.sinks:
            sink(record)
