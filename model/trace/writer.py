"""The one trace writer: a record's line is its Struct (:mod:`.records`) encoded by msgspec.

The same record always gives the same bytes: keys in the Struct's order, absent keys left
out, no spaces, non-ASCII text as is. :func:`line_of`, which maps a record to its line, lives
here rather than beside the Structs because this module is compiled (``setup.py``) and
``records.py`` cannot be: it runs once for every record a traced run streams.
"""

from __future__ import annotations

import inspect
import io
from types import FunctionType, MethodType, TracebackType
from typing import IO, Any, Final, cast

import msgspec
from mypy_extensions import mypyc_attr

from model.spec.profiles import DEFAULT_PROFILE
from model.trace.records import (
    ABSENT,
    FORMAT,
    VERSION,
    BackendLimits,
    Change,
    End,
    EndLine,
    Entry,
    Header,
    HeaderLine,
    JobLine,
    Line,
    Record,
    Request,
    RequestLine,
    SessionLine,
    Sink,
)

_encoder = msgspec.json.Encoder()
_encode = _encoder.encode
_encode_lines = _encoder.encode_lines

_ChangeFields = tuple[Any, str, Any, Any, Any, Any, Any, Any, Any, Any, Any]
_RequestFields = tuple[Any, Any, Any, Any, Any, Any, Any, Any, Any]
"""A record's fields as the lines take them: the lines' optional keys are typed as present (None means
absent); a tuple of fixed length, which compiled code unpacks by index."""

# Compiled code looks a global name up in the module's dict at each use, but keeps a Final one in a C
# static: the names line_of reads for every record, as Final ones.
_CHANGE: Final = Change
_REQUEST: Final = Request
_JOB_LINE: Final = JobLine
_SESSION_LINE: Final = SessionLine
_REQUEST_LINE: Final = RequestLine
_ABSENT: Final = ABSENT
_new: Final = tuple.__new__
BATCH: Final = 1024
"""The lines a :class:`JsonlWriter` holds, by default, before it encodes and writes them together (a module
constant: compiled, a method's default cannot name a class attribute)."""


def line_of(record: Entry) -> Line:
    """The line of a record, unchecked: the writer writes what it is given (the reader checks). A request's
    ``args`` go out as the mapping they are, so in its order: the engine and :meth:`Args.as_dict` give them
    in the order of :class:`Args`' fields."""
    kind = type(record)
    if kind is _CHANGE:
        t, entity, ident, backend, session, src, dst, trigger, rules, reason, max_time = cast(_ChangeFields, record)
        return _change_line(t, entity, ident, backend, session, src, dst, trigger, rules, reason, max_time)
    if kind is _REQUEST:
        t, op, backend, session, job, args, error, rules, message = cast(_RequestFields, record)
        return _request_line(t, op, backend, session, job, args, error, rules, message)
    if kind is End:
        return EndLine(t=cast(End, record).t)
    assert isinstance(record, Header)
    return HeaderLine(
        format=FORMAT, version=VERSION, interactive_timeout=record.interactive_timeout,
        profile=record.profile if record.profile != DEFAULT_PROFILE else ABSENT,
        interpretation=dict(record.interpretation),
        backends={name: BackendLimits(**limits) for name, limits in record.backends.items()},
    )


def _change_line(
    t: Any, entity: str, ident: Any, backend: Any, session: Any, src: Any, dst: Any, trigger: Any, rules: Any,
    reason: Any, max_time: Any,
) -> Line:
    """A change's line from its fields (:class:`Change`'s, in its order)."""
    if entity == "job":
        return _JOB_LINE(t=t, id=ident, backend=backend, session=session, src=src, dst=dst, trigger=trigger,
                         rules=rules, reason=reason)
    return _SESSION_LINE(t=t, id=ident, backend=backend, src=src, dst=dst, trigger=trigger, rules=rules,
                         max_time=max_time)


def _request_line(
    t: Any, op: Any, backend: Any, session: Any, job: Any, args: Any, error: Any, rules: Any, message: Any
) -> Line:
    """A request's line from its fields (:class:`Request`'s, in its order)."""
    if error:
        return _REQUEST_LINE(t=t, op=op, backend=backend, session=session, job=job, args=args or _ABSENT,
                             outcome="rejected", error=error, rules=rules, message=message)
    return _REQUEST_LINE(t=t, op=op, backend=backend, session=session, job=job, args=args or _ABSENT,
                         outcome="accepted")


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
        lines: list[Line] = [line_of(r) for r in self]
        if end is not None:
            lines.append(line_of(End(end)))
        return _encode_lines(lines).decode()


@mypyc_attr(allow_interpreted_subclasses=True)
class Emitter:
    """A sink the engine can also hand a record's fields, on its hot path, without building the record.

    :meth:`change` and :meth:`request` take the fields of a :class:`Change` and of an accepted
    :class:`Request`, in their order. Here they build the record and call the emitter with it; a writer
    builds its line from them instead (:class:`JsonlWriter`), skipping a record it would only take apart
    again. :func:`emitter` gives any sink this face.
    """

    def __call__(self, record: Record) -> None:
        raise NotImplementedError

    def change(
        self, t: Any, entity: str, ident: Any, backend: Any, session: Any, src: Any, dst: Any, trigger: Any,
        rules: Any, reason: Any, max_time: Any,
    ) -> None:
        # Every field given: the tuple itself, not NamedTuple's Python-level __new__.
        self.__call__(_new(_CHANGE, (t, entity, ident, backend, session, src, dst, trigger, rules, reason, max_time)))

    def request(self, t: Any, op: Any, backend: Any, session: Any, job: Any, args: Any) -> None:
        self.__call__(_new(_REQUEST, (t, op, backend, session, job, args, None, (), None)))


class _SinkEmitter(Emitter):
    def __init__(self, sink: Sink) -> None:
        self._sink = direct(sink)

    def __call__(self, record: Record) -> None:
        self._sink(record)


def emitter(sink: Sink) -> Emitter:
    """``sink`` as an :class:`Emitter`: itself if it is one, else one that hands it the records."""
    return sink if isinstance(sink, Emitter) else _SinkEmitter(sink)


@mypyc_attr(allow_interpreted_subclasses=True)
class JsonlWriter(Emitter):
    """Streams records to a file as they happen: memory stays flat however long the run.

    The file is a text stream, or a binary one (``open(path, "wb")``, ``io.BytesIO``), which gets
    the lines' UTF-8 bytes as msgspec encodes them: no decoding to text and encoding back.

    Lines are encoded a batch at a time (one msgspec call for ``batch`` lines, not one each), so the
    last lines wait in the writer until :meth:`flush`, :meth:`end` or :meth:`close`; used as a context
    manager it flushes on leaving the block, also on an exception. Like the engine it feeds, it is
    meant for one thread at a time. The engine hands it most records as fields (:class:`Emitter`), which
    do not pass through ``__call__``: a subclass that wants to see every record overrides ``change`` and
    ``request`` too.
    """

    def __init__(self, stream: IO[str] | IO[bytes], *, batch: int = BATCH) -> None:
        self.stream = stream
        self.batch = batch
        self._binary = isinstance(stream, io.RawIOBase | io.BufferedIOBase)
        self._pending: list[Line] = []

    def __call__(self, record: Record) -> None:
        self._add(line_of(record))

    def change(
        self, t: Any, entity: str, ident: Any, backend: Any, session: Any, src: Any, dst: Any, trigger: Any,
        rules: Any, reason: Any, max_time: Any,
    ) -> None:
        self._add(_change_line(t, entity, ident, backend, session, src, dst, trigger, rules, reason, max_time))

    def request(self, t: Any, op: Any, backend: Any, session: Any, job: Any, args: Any) -> None:
        self._add(_request_line(t, op, backend, session, job, args, None, (), None))

    def _add(self, line: Line) -> None:
        pending = self._pending
        pending.append(line)
        if len(pending) >= self.batch:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            lines = _encode_lines(self._pending)
            if self._binary:
                cast(IO[bytes], self.stream).write(lines)
            else:
                cast(IO[str], self.stream).write(lines.decode())
            self._pending.clear()

    def flush(self) -> None:
        """Write every line recorded so far and flush the stream (a reader of the file sees them all)."""
        self._write_pending()
        self.stream.flush()

    def end(self, t: float) -> None:
        """Write the end-of-run line (the run went on to virtual time ``t`` and stops there), then flush."""
        self._pending.append(line_of(End(t)))
        self.flush()

    def close(self) -> None:
        """Flush, then close the stream."""
        try:
            self.flush()
        finally:
            self.stream.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.flush()


def null_sink(record: Record) -> None:
    """Discard records (simulations that only want outcomes)."""


def direct(sink: Sink) -> Sink:
    """``sink`` as the callable to call once a record: an object whose class defines ``__call__`` in Python
    is called through that bound method, which the interpreter calls inline, not through the type's call
    slot (a lookup and a nested interpreter call each time)."""
    defined = inspect.getattr_static(sink, "__call__", None)
    return MethodType(defined, sink) if isinstance(defined, FunctionType) else sink


class Tee(Emitter):
    """Send each record to several sinks (each as an :class:`Emitter`: a writer among them builds its lines
    from the fields)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = sinks
        self._emitters = tuple(emitter(sink) for sink in sinks)

    def __call__(self, record: Record) -> None:
        for each in self._emitters:
            each(record)

    def change(
        self, t: Any, entity: str, ident: Any, backend: Any, session: Any, src: Any, dst: Any, trigger: Any,
        rules: Any, reason: Any, max_time: Any,
    ) -> None:
        for each in self._emitters:
            each.change(t, entity, ident, backend, session, src, dst, trigger, rules, reason, max_time)

    def request(self, t: Any, op: Any, backend: Any, session: Any, job: Any, args: Any) -> None:
        for each in self._emitters:
            each.request(t, op, backend, session, job, args)
