"""What two traces are compared on, and how one record reads in a report.

Two records mean the same if they agree on everything but the cited ``rules``, the
free-text ``message`` and the request ``args`` (inputs, copied from the request): an
implementation must make the spec's decisions, not quote its rule IDs. Times are
compared separately, within a tolerance.
"""

from __future__ import annotations

from typing import Any, Final

from model.spec.lifecycles import SESSION
from model.trace import Change, Record, Request
from model.trace.reader import CHANGE, REQUEST
from model.trace.timing import same_time, time_text
from model.views.printable import printable

__all__ = ["describe", "in_cascade_run", "meaning", "printable", "same"]


CASCADE_TRIGGERS: Final = frozenset(t.cascade for t in SESSION.transitions if t.cascade is not None)
"""Job failures a session's end (or its first job's) cascades: simultaneous, so their order among themselves
is free (from the declaration: session_closed, session_expired, first_job_cancelled, first_job_failed)."""


def in_cascade_run(first: Request | Change, other: Request | Change) -> bool:
    """Whether ``other`` belongs to the same cascade as ``first`` (same instant and trigger)."""
    return (
        isinstance(first, CHANGE) and isinstance(other, CHANGE) and first.entity == other.entity == "job"
        and first.trigger == other.trigger and first.trigger in CASCADE_TRIGGERS
        and same_time(first.t, other.t)
    )


def meaning(record: Request | Change) -> tuple[Any, ...]:
    """The fields a conforming implementation must reproduce, time aside."""
    if isinstance(record, REQUEST):
        return ("request", record.op, record.backend, record.session, record.job, record.error)
    return (
        record.entity, record.id, record.backend, record.session, record.src, record.dst,
        record.trigger, record.reason, record.max_time,
    )


def same(expected: Request | Change, got: Request | Change, tolerance: float = 0.0) -> bool:
    """Whether two records have the same :func:`meaning`, at times within the tolerance."""
    if isinstance(expected, CHANGE) and isinstance(got, CHANGE):  # the meaning of a change, field by field (no tuple)
        return (
            same_time(expected.t, got.t, tolerance)
            and expected.dst == got.dst and expected.id == got.id and expected.trigger == got.trigger
            and expected.entity == got.entity and expected.backend == got.backend
            and expected.session == got.session and expected.src == got.src and expected.reason == got.reason
            and expected.max_time == got.max_time
        )
    return same_time(expected.t, got.t, tolerance) and meaning(expected) == meaning(got)


def describe(record: Record) -> str:
    """One record as a short phrase, e.g. ``t=10 job j3 (s1 on b0) queued -> running [start]``; escaped
    (:func:`printable`), since an implementation's IDs may hold any character."""
    return printable(_phrase(record))


def _phrase(record: Record) -> str:
    if isinstance(record, CHANGE):
        owner = f"{record.session} on {record.backend}" if record.session else record.backend
        src = record.src if record.src is not None else "(new)"
        text = f"t={time_text(record.t)} {record.entity} {record.id} ({owner}) {src} -> {record.dst} [{record.trigger}]"
        if record.reason is not None:
            text += f" reason={record.reason}"
        if record.max_time is not None:
            text += f" max_time={time_text(record.max_time)}"
        return text
    if isinstance(record, REQUEST):
        target = " ".join(
            f"{name} {value}"
            for name, value in (("job", record.job), ("session", record.session), ("backend", record.backend))
            if value is not None
        )
        outcome = f"rejected {record.error}" if record.error else "accepted"
        return f"t={time_text(record.t)} request {record.op}{' ' + target if target else ''}: {outcome}"
    return "header"

