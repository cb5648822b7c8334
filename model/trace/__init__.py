"""The trace: every client request and every session or job state change, in order.

The trace is the conformance contract (docs/trace-format.md). In memory it is a sequence
of :class:`Header`, :class:`Request` and :class:`Change` records; on disk it is JSON Lines,
one record per line. Each line's layout is defined once (:mod:`.records`); the writer
(:mod:`.writer`), the reader (:mod:`.reader`) and the JSON Schema (:mod:`.schema`) derive
from it. :mod:`.strict_json` is the strict loader for every JSON input.
"""

from model.trace.reader import from_json, loads_all, read_chunks, read_trace
from model.trace.records import FORMAT, VERSION, Change, End, Entry, Header, Record, Request, Sink
from model.trace.schema import schema
from model.trace.strict_json import Unusable
from model.trace.writer import Emitter, JsonlWriter, MemoryTrace, Tee, direct, dumps, emitter, null_sink, to_json

__all__ = [
    "FORMAT", "VERSION", "Change", "Emitter", "End", "Entry", "Header", "JsonlWriter", "MemoryTrace", "Record",
    "Request", "Sink", "Tee", "Unusable", "direct", "dumps", "emitter", "from_json", "loads_all", "null_sink",
    "read_chunks", "read_trace", "schema", "to_json",
]
