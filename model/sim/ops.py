"""The operations that drive an implementation of the spec, defined once.

One typed record per operation (a msgspec tagged union on ``op``): scenario files
(docs/scenario-format.md) decode into them, the conformance kit generates them, the
stdio protocol (docs/conformance.md) encodes them, and :func:`apply` is the one place
that turns a record into a call on an :class:`Implementation`, the reference engine
(:class:`EngineImplementation`) being one implementation among others.

``at`` is the virtual time of a timed operation (a scenario's, a generated sequence's);
protocol requests leave it out. ``advance`` moves an implementation's clock: it is a
protocol request, never a line of a scenario file, whose ``at`` already says when.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import Annotated, Any, ClassVar, Literal, Protocol, get_args

import msgspec

from model.sim.engine import Engine
from model.spec.validations import RequestRejected
from model.trace.timing import time_text

DEFAULT_GROUP = "default"
DEFAULT_PROGRAM = "estimator"

_Id = Annotated[str, msgspec.Meta(min_length=1)]
"""A session, job or backend name: never empty (a trace line cannot carry an empty one)."""


class _Operation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True,
                 tag_field="op"):
    at: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    """Virtual seconds; a scenario's operations come in non-decreasing ``at``."""

    ENGINE_ONLY: ClassVar[tuple[str, ...]] = ()
    """Fields only the reference engine takes: scenario files may set them, the protocol never carries them."""
    OMITTED_WHEN_NULL: ClassVar[tuple[str, ...]] = ()
    """Fields the protocol leaves out when null: a profile's additions (the seeds' requests stay as they were)."""

    @property
    def name(self) -> str:
        tag = type(self).__struct_config__.tag
        assert isinstance(tag, str)
        return tag


class Open(_Operation, frozen=True, tag="open"):
    """Open a session on ``backend``; ``session`` is its ID (the implementation picks one if absent)."""

    backend: _Id | None
    session: _Id | None = None
    max_time: int | str | None = None
    """Seconds, or text such as ``"2h 30m"``; absent or null: the interpretation's default."""
    mode: Literal["session", "batch"] | None = None
    """Platform profile only: ``"batch"`` opens a batch (PLATFORM-BATCH); absent: a session."""

    OMITTED_WHEN_NULL: ClassVar[tuple[str, ...]] = ("mode",)

    def describe(self) -> str:
        limit = f" max_time={self.max_time!r}" if self.max_time is not None else ""
        kind = "batch" if self.mode == "batch" else "open"
        return f"{kind} {self.session} on {self.backend}{limit}"


class Submit(_Operation, frozen=True, tag="submit"):
    """Submit a job to ``session``, or to ``backend``'s fair-share queue when no session is named."""

    session: _Id | None = None
    backend: _Id | None = None
    job: _Id | None = None
    max_execution_time: int | float | None = None
    duration: Annotated[float, msgspec.Meta(gt=0)] | None = None
    """How long the device runs it; absent: drawn from the backend's distribution."""
    fault: bool | None = None
    """True: the device fails it at the end of its run; absent: drawn from the backend's fault rate."""
    group: str = DEFAULT_GROUP
    program: str = DEFAULT_PROGRAM

    ENGINE_ONLY: ClassVar[tuple[str, ...]] = ("group", "program")

    def describe(self) -> str:
        where = f"to the fair-share queue of {self.backend}" if self.session is None else (
            f"to {self.session}" if self.backend is None else f"to {self.session}, naming backend {self.backend}"
        )
        met = self.max_execution_time
        extra = f", max_execution_time {time_text(met)}" if met is not None else ""
        fault = ", the device fails it" if self.fault else ""
        runs = f"runs {time_text(self.duration)} s" if self.duration is not None else "runs as drawn"
        return f"submit {self.job} {where} ({runs}{extra}{fault})"


class Cancel(_Operation, frozen=True, tag="cancel"):
    """Cancel a queued or running job."""

    job: _Id

    def describe(self) -> str:
        return f"cancel {self.job}"


class Close(_Operation, frozen=True, tag="close"):
    """Close a session."""

    session: _Id

    def describe(self) -> str:
        return f"close {self.session}"


class CancelSession(_Operation, frozen=True, tag="cancel_session"):
    """Cancel a session (platform profile only): its queued jobs are cancelled and it closes."""

    session: _Id

    def describe(self) -> str:
        return f"cancel session {self.session}"


class Fault(_Operation, frozen=True, tag="fault"):
    """The device of ``backend`` fails its running job now."""

    backend: _Id

    def describe(self) -> str:
        return f"device fault on {self.backend}"


class Advance(_Operation, frozen=True, tag="advance"):
    """Move the implementation's virtual clock on, running every timer and device end that falls due."""

    seconds: Annotated[float, msgspec.Meta(ge=0)]

    def describe(self) -> str:
        return f"advance {time_text(self.seconds)} s"


Operation = Open | Submit | Cancel | Close | CancelSession | Fault
"""An operation of a scenario file (and of a generated sequence): a client request or a device fault."""

Action = Operation | Advance
"""What an implementation is asked to do: an operation, or moving its clock on (a request of the stdio protocol)."""

OPERATIONS: tuple[type[_Operation], ...] = get_args(Operation)
ACTIONS: tuple[type[_Operation], ...] = get_args(Action)


# ---------------------------------------------------------------------- encoding


def decode_operations(items: object) -> tuple[Operation, ...]:
    """Typed operations from decoded JSON (a scenario's ``operations``); ``msgspec.ValidationError`` names
    the path (``$[3].backend``)."""
    return msgspec.convert(items, tuple[Operation, ...])


def named_ids(ops: Iterable[Operation]) -> set[str]:
    """The session and job IDs the operations create by name (an open's ``session``, a submit's ``job``)."""
    named: set[str] = set()
    for op in ops:
        if isinstance(op, Open) and op.session is not None:
            named.add(op.session)
        elif isinstance(op, Submit) and op.job is not None:
            named.add(op.job)
    return named


def scenario_json(op: Operation) -> dict[str, Any]:
    """The scenario-file form: ``at`` and ``op`` first, absent (default) fields left out."""
    body = msgspec.to_builtins(op)
    assert isinstance(body, dict)
    return {"at": op.at, "op": body.pop("op"), **{k: v for k, v in body.items() if k != "at"}}


def request_json(op: Action) -> dict[str, Any]:
    """The protocol form: every protocol field, null included; no ``at`` and no engine-only field."""
    skip = {"at", *op.ENGINE_ONLY, *(f for f in op.OMITTED_WHEN_NULL if getattr(op, f) is None)}
    return {"op": op.name, **{f: getattr(op, f) for f in op.__struct_fields__ if f not in skip}}


def decode_request(obj: object) -> Action:
    """A protocol request (a decoded JSON object) as its typed record."""
    action: Action = msgspec.convert(obj, Action)
    return action


# ---------------------------------------------------------------------- applying


class Implementation(Protocol):
    """What an operation is applied to: the reference engine or an implementation under test.

    One of the platform profile (:mod:`model.spec.profiles`) also has ``cancel_session(session_id)``,
    which :func:`apply` looks up when a ``cancel_session`` operation comes (the seeds' has none).

    The kit gives every submit a ``duration`` and a ``fault``; None only comes from scenario
    files, which run on the reference engine.
    """

    def open_session(self, backend: str | None, max_time: int | str | None, session_id: str | None) -> object: ...

    def submit(
        self, session_id: str | None, backend: str | None, job_id: str | None,
        max_execution_time: int | float | None, duration: float | None, fault: bool | None,
    ) -> object: ...

    def cancel(self, job_id: str) -> object: ...

    def close(self, session_id: str) -> object: ...

    def fault(self, backend: str) -> object: ...

    def advance(self, seconds: float) -> object: ...


class EngineImplementation:
    """The reference engine as an :class:`Implementation`. A request the spec rejects is recorded on
    the trace as rejected, and not raised."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open_session(
        self, backend: str | None, max_time: int | str | None, session_id: str | None, mode: str | None = None,
    ) -> None:
        with suppress(RequestRejected):
            self.engine.open_session(backend, max_time, session_id, mode)

    def submit(
        self, session_id: str | None, backend: str | None, job_id: str | None,
        max_execution_time: int | float | None, duration: float | None, fault: bool | None,
        group: str = DEFAULT_GROUP, program: str = DEFAULT_PROGRAM,
    ) -> None:
        with suppress(RequestRejected):
            self.engine.submit(
                session_id, backend, job_id=job_id, max_execution_time=max_execution_time, duration=duration,
                fault=fault, group=group, program=program,
            )

    def cancel(self, job_id: str) -> None:
        with suppress(RequestRejected):
            self.engine.cancel(job_id)

    def close(self, session_id: str) -> None:
        with suppress(RequestRejected):
            self.engine.close(session_id)

    def cancel_session(self, session_id: str) -> None:
        with suppress(RequestRejected):
            self.engine.cancel_session(session_id)

    def fault(self, backend: str) -> None:
        self.engine.inject_fault(backend)

    def advance(self, seconds: float) -> None:
        self.engine.advance(seconds)


def apply(target: Implementation, op: Action) -> None:
    """Apply one operation now (``at`` is the caller's business: see :func:`run_operations`).

    A submit's engine-only fields, when a scenario sets them, go to the reference engine only.
    """
    match op:
        case Open() if op.mode is None:
            target.open_session(op.backend, op.max_time, op.session)
        case Open():  # a batch (platform): an implementation of the platform takes ``mode``
            open_mode: Any = target.open_session
            open_mode(op.backend, op.max_time, op.session, op.mode)
        case Submit() if op.group == DEFAULT_GROUP and op.program == DEFAULT_PROGRAM:
            target.submit(op.session, op.backend, op.job, op.max_execution_time, op.duration, op.fault)
        case Submit():
            if not isinstance(target, EngineImplementation):
                raise TypeError(f"{', '.join(Submit.ENGINE_ONLY)} of a submit are for the reference engine only")
            target.submit(
                op.session, op.backend, op.job, op.max_execution_time, op.duration, op.fault, op.group, op.program,
            )
        case Cancel():
            target.cancel(op.job)
        case Close():
            target.close(op.session)
        case CancelSession():
            cancel_session = getattr(target, "cancel_session", None)  # optional: only the platform profile's
            if cancel_session is None:
                raise TypeError(f"{type(target).__name__} has no cancel_session (an operation of profile platform)")
            cancel_session(op.session)
        case Fault():
            target.fault(op.backend)
        case Advance():
            target.advance(op.seconds)


def run_operations(engine: Engine, ops: Iterable[Operation]) -> None:
    """Run the engine to each operation's ``at`` (every event due by then happens first), then apply it."""
    target = EngineImplementation(engine)
    for op in ops:
        engine.run_until(op.at)
        apply(target, op)
