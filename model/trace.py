"""The trace: every client request and every session or job state change, in order.

The trace is the conformance contract (docs/trace-format.md). In memory it is a
sequence of :class:`Header`, :class:`Request` and :class:`Change` records; on disk it is
JSON Lines, one record per line, keys in a fixed order and absent fields omitted,
so that the same run gives the same bytes. ``model/schemas/trace.schema.json``
is the JSON Schema of one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import IO, Any, NamedTuple

FORMAT = "sessionspec-trace"
VERSION = 1


class Header(NamedTuple):
    """First line: format, version, the interpretation in force and the backends' limits."""

    interpretation: Mapping[str, str]
    backends: Mapping[str, Mapping[str, float]]
    interactive_timeout: float


class Request(NamedTuple):
    """A client request (open, submit, cancel, close) and whether the spec accepted it."""

    t: float
    op: str
    backend: str | None
    session: str | None
    job: str | None
    args: Mapping[str, Any] | None
    error: str | None = None
    """The validation code if the request was rejected, else None (accepted)."""
    rules: tuple[str, ...] = ()
    message: str | None = None


class Change(NamedTuple):
    """One state change of a session or a job, with the trigger and the rules behind it."""

    t: float
    entity: str
    id: str
    backend: str
    session: str | None
    src: str | None
    dst: str
    trigger: str
    rules: tuple[str, ...]
    reason: str | None = None
    max_time: float | None = None


Record = Header | Request | Change
Sink = Callable[[Record], None]


def to_json(record: Record) -> dict[str, Any]:
    """The JSON object of one record, keys in the documented order, absent fields left out."""
    if isinstance(record, Change):
        line: dict[str, Any] = {"type": record.entity, "t": record.t, "id": record.id, "backend": record.backend}
        if record.session is not None:
            line["session"] = record.session
        line["from"] = record.src
        line["to"] = record.dst
        line["trigger"] = record.trigger
        line["rules"] = list(record.rules)
        if record.reason is not None:
            line["reason"] = record.reason
        if record.max_time is not None:
            line["max_time"] = record.max_time
        return line
    if isinstance(record, Request):
        line = {"type": "request", "t": record.t, "op": record.op}
        for key in ("backend", "session", "job"):
            value = getattr(record, key)
            if value is not None:
                line[key] = value
        if record.args:
            line["args"] = dict(record.args)
        line["outcome"] = "rejected" if record.error else "accepted"
        if record.error:
            line["error"] = record.error
            line["rules"] = list(record.rules)
            line["message"] = record.message
        return line
    return {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "interactive_timeout": record.interactive_timeout,
        "interpretation": dict(record.interpretation),
        "backends": {name: dict(limits) for name, limits in record.backends.items()},
    }


def reference_dumps(record: Record) -> str:
    """One trace line by the definition: :func:`to_json` through ``json.dumps``."""
    return json.dumps(to_json(record), separators=(",", ":"), ensure_ascii=False)


# --- Fast formatting. ``dumps`` writes the same bytes as ``reference_dumps`` (tests hold it to
# that, and fall back to it for anything unusual) from precomputed pieces: the part of a change
# line after its IDs depends only on (entity, from, to, trigger, rules, reason), a small set, so
# it is formatted once and cached; a float's repr (the costliest piece) is reused while the
# same time object recurs, as it does for the several records of one engine event.

_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_enc: Callable[[str], str] = json.encoder.encode_basestring  # what json.dumps uses for str
_float_repr = float.__repr__
_int_repr = int.__repr__
_CACHE_LIMIT = 4096
_tails: dict[tuple[Any, ...], str] = {}
_keys: dict[str, str] = {}
_last_time: list[Any] = [None, ""]  # (float object, its JSON)


def _value(v: Any) -> str:
    """``json.dumps(v)`` for one value, with the common scalars done directly."""
    if v is None:
        return "null"
    kind = type(v)
    if kind is str:
        return _enc(v)
    if kind is float and v - v == 0.0:  # finite
        return _float_repr(v)
    if kind is int:
        return _int_repr(v)
    return _json(v)


def _time(t: Any) -> str:
    last = _last_time
    if t is last[0]:
        text: str = last[1]
        return text
    text = _float_repr(t) if type(t) is float and t - t == 0.0 else _json(t)
    last[0] = t
    last[1] = text
    return text


def _change_tail(key: tuple[Any, ...]) -> str:
    _, src, dst, trigger, rules, reason = key
    tail = f',"from":{_json(src)},"to":{_json(dst)},"trigger":{_json(trigger)},"rules":{_json(list(rules))}'
    if reason is not None:
        tail += f',"reason":{_json(reason)}'
    if len(_tails) < _CACHE_LIMIT:
        _tails[key] = tail
    return tail


def _args(args: Mapping[str, Any]) -> str | None:
    """The JSON of a request's flat ``args``; None when a key is not a string (the reference decides)."""
    text = ""
    for key, value in args.items():
        prefix = _keys.get(key)
        if prefix is None:
            if type(key) is not str:
                return None
            prefix = _enc(key) + ":"
            if len(_keys) < _CACHE_LIMIT:
                _keys[key] = prefix
        if value is None:
            text += "," + prefix + "null"
        elif type(value) is str:
            text += "," + prefix + _enc(value)
        else:
            text += "," + prefix + _value(value)
    return "{" + text[1:] + "}"


def dumps(record: Record) -> str:
    """One trace line: the JSON object of ``to_json`` with no spaces, non-ASCII kept as is."""
    kind = type(record)
    try:
        if kind is Change:
            t, entity, ident, backend, session, src, dst, trigger, rules, reason, max_time = record  # type: ignore[misc]
            tail = _tails.get((entity, src, dst, trigger, rules, reason))
            if tail is None:
                tail = _change_tail((entity, src, dst, trigger, rules, reason))
            line = (
                '{"type":' + _enc(entity) + ',"t":' + _time(t) + ',"id":' + _enc(ident)
                + ',"backend":' + _enc(backend)
            )
            if session is not None:
                line += ',"session":' + _enc(session)
            if max_time is not None:
                return line + tail + ',"max_time":' + _value(max_time) + "}"
            return line + tail + "}"
        if kind is Request and not record.error:  # type: ignore[union-attr]
            t, op, backend, session, job, args, _, _, _ = record  # type: ignore[misc]
            line = '{"type":"request","t":' + _time(t) + ',"op":' + _enc(op)
            if backend is not None:
                line += ',"backend":' + _enc(backend)
            if session is not None:
                line += ',"session":' + _enc(session)
            if job is not None:
                line += ',"job":' + _enc(job)
            if args:
                text = _args(args)
                if text is None:
                    return reference_dumps(record)
                line += ',"args":' + text
            return line + ',"outcome":"accepted"}'
    except (TypeError, ValueError):
        pass  # something unusual (a non-string ID, an unhashable field): the reference handles it
    return reference_dumps(record)


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
        self.stream.write(dumps(record) + "\n")


def null_sink(record: Record) -> None:
    """Discard records (simulations that only want outcomes)."""


class Tee:
    """Send each record to several sinks."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks

    def __call__(self, record: Record) -> None:
        for sink in self.sinks:
            sink(record)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of one trace line."""
    text = resources.files("model").joinpath("schemas/trace.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def from_json(obj: Mapping[str, Any]) -> Record:
    """A record from a schema-valid JSON object (validation is the reader's job)."""
    kind = obj["type"]
    if kind == "header":
        return Header(obj["interpretation"], obj["backends"], obj["interactive_timeout"])
    if kind == "request":
        return Request(
            float(obj["t"]), obj["op"], obj.get("backend"), obj.get("session"), obj.get("job"),
            obj.get("args"), obj.get("error"), tuple(obj.get("rules", ())), obj.get("message"),
        )
    return Change(
        float(obj["t"]), kind, obj["id"], obj["backend"], obj.get("session"), obj["from"], obj["to"],
        obj["trigger"], tuple(obj["rules"]), obj.get("reason"), obj.get("max_time"),
    )


def loads_all(lines: Iterable[str]) -> Iterator[Record]:
    """Records from trusted JSON lines (our own output); untrusted input goes through the checker."""
    for line in lines:
        if line.strip():
            yield from_json(json.loads(line))
