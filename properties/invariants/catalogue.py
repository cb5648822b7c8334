"""The named properties every conforming trace satisfies, in one registry.

``ALL_PROPERTIES`` is what the checker, the conformance kit and the test campaigns run;
a property's ``name`` and ``rules`` are stable, so reports can be compared across versions.
"""

from __future__ import annotations

from collections.abc import Iterable

from model.trace import Record
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.lifecycle import (
    ActivationAtFirstStart,
    CancelTakesEffect,
    ClosedIsAbsorbing,
    CloseDrains,
    CloseTakesEffect,
    DeclaredTransitions,
    FirstJobCancel,
    JobOutcomeIsFinal,
    JobStaysInSession,
    NoStartAfterClose,
    NothingLost,
)
from properties.invariants.requests import MaxTimeBounds
from properties.invariants.scheduling import (
    ActiveSessionJobsFirst,
    HeldBackend,
    NoIdleBackend,
    OneActiveSessionPerBackend,
    OneRunningJobPerBackend,
    OtherSessionsHeldBack,
    SessionFifo,
)
from properties.invariants.suite import check_records
from properties.invariants.timers import InteractiveTimeout, MaxExecutionTime, MaxTimeRespected, MaxTimeValue

ALL_PROPERTIES: tuple[type[TraceProperty], ...] = (
    DeclaredTransitions,
    OneRunningJobPerBackend,
    OneActiveSessionPerBackend,
    ActiveSessionJobsFirst,
    HeldBackend,
    OtherSessionsHeldBack,
    SessionFifo,
    NoIdleBackend,
    ActivationAtFirstStart,
    NoStartAfterClose,
    ClosedIsAbsorbing,
    JobOutcomeIsFinal,
    NothingLost,
    JobStaysInSession,
    FirstJobCancel,
    CancelTakesEffect,
    CloseTakesEffect,
    CloseDrains,
    MaxTimeRespected,
    MaxTimeValue,
    MaxTimeBounds,
    MaxExecutionTime,
    InteractiveTimeout,
)

PROPERTIES_BY_NAME: dict[str, type[TraceProperty]] = {p.name: p for p in ALL_PROPERTIES}


def check_trace(records: Iterable[Record]) -> list[Violation]:
    """Every violation of every property over one trace (header first), in trace order."""
    return check_records(records, ALL_PROPERTIES)
