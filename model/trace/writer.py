"""The one trace writer: a record's line is its Struct (:mod:`.records`) encoded by msgspec.

The same record always gives the same bytes: keys in the Struct's order, absent keys left
out, no spaces, non-ASCII text as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

import msgspec

from model.trace.records import Record, Sink, line_of

_encode = msgspec.json.Encoder().encode


def dumps(record: Record) -> str:
    """One trace line, without its line end."""
    return _encode(line_of(record)).decode()


def to_json(record: Record) -> dict[str, Any]:
    """The JSON object of one record's line, keys in the line's order."""
    built: dict[str, Any] = msgspec.json.decode(_encode(line_of(record)))
    return built


class MemoryTrace(list[Record]):
    """Records kept in memory; call it (or ``append``) as the engine's sink."""

    def __call__(self, record: Record) -> None:
        self.append(record)

    def jsonl(self) -> str:
        return "".join(dumps(r) + "\n" for r in self)


@dataclass
class JsonlWriter:
    """Streams records to a text file as they happen: memory stays flat however long the run."""

    stream: IO[str]

    def __call__(self, record: Record) -> None:
        self.stream.write(_encode(line_of(record)).decode() + "\n")


def null_sink(record: Record) -> None:
    """Discard records (simulations that only want outcomes)."""


class Tee:
    """Send each record to several sinks."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def __call__(self, record: Record) -> None:
        for sink in self.sinks:
            sink(record)
