"""Request properties: the max_time validations are applied, no more and no less.

They re-derive from the header and the request arguments whether an open or a submit
breaks MAXTIME-FORMAT or MAXTIME-BOUNDS, and compare with the outcome the trace records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from model.spec.interpretations import MaxTimeJobBound, MaxTimeUpperBound
from model.spec.max_time import parse_max_time
from model.spec.validations import RequestRejected
from model.trace import Change, Header, Request
from model.trace.reader import CHANGE
from model.trace.timing import time_text
from properties.invariants.base import Violation, forget
from properties.invariants.ledger import SESSION_FINAL
from properties.invariants.suite import Changes, LiveProperty, Requests

_OPEN_CODES: Final = frozenset(("MAXTIME-FORMAT", "MAXTIME-ABOVE-SYSTEM"))
_JOB_CODE: Final = "MAXTIME-BELOW-JOB"


class MaxTimeBounds(LiveProperty):
    name = "max-time-bounds"
    rules = ("MAXTIME-BOUNDS", "MAXTIME-FORMAT")
    description = (
        "An open is rejected exactly when its max_time is malformed or above the system limit (or equal to it "
        "under strict), and a session job exactly when its explicit max_execution_time is not below the "
        "session's max_time (under reject_explicit)."
    )
    judges = (Requests("open"), Requests("submit"), Changes("session", dst=SESSION_FINAL))
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        policy = self.interpretation.policy
        self.strict = policy.maxtime_upper_bound is MaxTimeUpperBound.STRICT
        self.job_bound = policy.maxtime_job_bound is MaxTimeJobBound.REJECT_EXPLICIT
        self.bound: dict[str, float] = {}
        """open session -> the max_time jobs must stay below (requested, else the system limit)."""

    def _system(self, backend: str | None) -> float | None:
        limits = self.header.backends.get(backend or "")
        return float(limits["system_max_time"]) if limits is not None and "system_max_time" in limits else None

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, CHANGE):
            forget(self.bound, record.id)
            return None
        args: Mapping[str, Any] = record.args or {}
        if record.op == "open":
            return self._open(index, record, args)
        if record.op == "submit":
            return self._submit(index, record, args)
        return None

    def _open(self, index: int, record: Request, args: Mapping[str, Any]) -> Violation | None:
        system: int | float | None = self._system(record.backend)  # compared exactly with an int of any size
        if system is None:
            return None
        value = args.get("max_time")
        expected: str | None = None
        seconds: int | float = system
        if value is not None:
            try:
                seconds = parse_max_time(value)  # an int may exceed any float: compared exactly, not converted
            except RequestRejected:
                expected = "MAXTIME-FORMAT"
            else:
                if seconds > system or (self.strict and seconds == system):
                    expected = "MAXTIME-ABOVE-SYSTEM"
        if record.error is None:
            if expected is not None:
                return self.violation(index, record.t, f"open with max_time {value!r} is accepted; expected {expected}")
            if record.session is not None:
                self.bound[record.session] = float(seconds)  # within the system limit here
        elif record.error in _OPEN_CODES and record.error != expected:
            return self.violation(
                index, record.t,
                f"open with max_time {value!r} is rejected {record.error}; expected {expected or 'accept'}",
            )
        return None

    def _submit(self, index: int, record: Request, args: Mapping[str, Any]) -> Violation | None:
        if record.session is None:
            return None
        bound = self.bound.get(record.session)
        explicit = args.get("max_execution_time")
        if bound is None or not isinstance(explicit, int | float) or isinstance(explicit, bool) or explicit <= 0:
            return None
        breaks = self.job_bound and explicit >= bound
        if record.error is None and breaks:
            return self.violation(
                index, record.t,
                f"job with max_execution_time {time_text(explicit)} s is accepted in session {record.session} "
                f"whose max_time is {time_text(bound)} s",
            )
        if record.error == _JOB_CODE and not breaks:
            return self.violation(
                index, record.t,
                f"job with max_execution_time {time_text(explicit)} s is rejected {_JOB_CODE} "
                f"in session {record.session} "
                f"(max_time {time_text(bound)} s) under {self.interpretation.name}",
            )
        return None
