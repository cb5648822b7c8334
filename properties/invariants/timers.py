"""Timer properties: max_time (its value, and expiry exactly at start + max_time) and the
interactive window (deactivation exactly when it runs out, never otherwise).

Deadlines wait in a heap and are judged at the first record past them, so a missed
timer is caught without scanning the live sessions at every line. The heaps are swept in
``clock``, which runs only when time moves (a deadline is never behind the time it is set
at, unless a trace gives a negative limit: then the next record sweeps whatever its time).
"""

from __future__ import annotations

import heapq
import math
from typing import Final

from model.spec.interpretations import InteractiveWindow, MaxtimeClock, MaxTimeDefault
from model.spec.max_time import parse_max_time
from model.spec.validations import RequestRejected
from model.trace import Change, Header, Request
from model.trace.reader import CHANGE, REQUEST
from model.trace.timing import same_time, time_text
from properties.invariants.base import Violation, forget, take
from properties.invariants.ledger import SESSION_FINAL
from properties.invariants.suite import Changes, Interest, LiveProperty, Outside, Requests


def _past(deadline: float, t: float) -> bool:
    return t > deadline and not same_time(t, deadline)


_NONE_PASSED: Final[list[tuple[str, float]]] = []
"""What :meth:`Deadlines.passed` returns when no deadline has passed (shared: never changed)."""



def _seconds(max_time: object) -> float:
    """A valid max_time in seconds; one too large for a float (only a faulty IUT accepts it) is infinite, for
    max-time-bounds to report, never an OverflowError of the kit's."""
    parsed = parse_max_time(max_time)
    try:
        return float(parsed)
    except OverflowError:
        return math.inf


_SPARE: Final = 64
"""Entries of disarmed deadlines a heap may hold beyond twice its live ones before it is rebuilt."""


class Deadlines:
    """Live deadlines by key, with a heap so that finding the passed ones costs O(log n);
    heap entries of keys disarmed or re-armed since are skipped when they surface, or dropped
    when they outnumber the live ones (a job's limit outlives its run by hours: left in the heap,
    they would grow the checker's memory, and its cost per record, along the trace)."""

    __slots__ = ("_heap", "due")

    def __init__(self) -> None:
        self.due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def arm(self, key: str, deadline: float) -> None:
        due = self.due
        due[key] = deadline
        heap = self._heap
        if len(heap) > 2 * len(due) + _SPARE:  # mostly entries disarmed since: keep the live ones only
            heap[:] = [(when, name) for name, when in due.items()]
            heapq.heapify(heap)
        else:
            heapq.heappush(heap, (deadline, key))

    def passed(self, t: float) -> list[tuple[str, float]]:
        """Disarm the live deadlines that time ``t`` is past; them, in deadline order.

        Asked at every new instant and nearly always answered "none": that answer costs one comparison."""
        heap = self._heap
        if not heap or heap[0][0] >= t:
            return _NONE_PASSED
        found = []
        while heap and heap[0][0] < t and _past(heap[0][0], t):
            deadline, key = heapq.heappop(heap)
            if self.due.get(key) == deadline:
                del self.due[key]
                found.append((key, deadline))
        return found


class MaxTimeRespected(LiveProperty):
    name = "max-time-respected"
    rules = ("MAXTIME-EXPIRY", "MAXTIME-ASSIGNED")
    description = (
        "A started session carries its max_time, starts no job at or after start + max_time, is never "
        "active or inactive past it, and is closed exactly then if it is still open; under "
        "INT-MAXTIME-CLOCK=open the clock starts at the open (max_time: the requested value, else the system "
        "limit), and a session still pending then expires too."
    )
    judges = (Changes("job", dst="running", session=True), Changes("session"))
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.deadlines = Deadlines()
        self.at_open = self.interpretation.policy.maxtime_clock is MaxtimeClock.OPEN
        self.fixed: dict[str, float] = {}
        """pending session -> the max_time fixed at its open (INT-MAXTIME-CLOCK=open only)."""

    def interest(self) -> tuple[Interest, Interest]:
        if not self.at_open:
            return self.judges, self.applies
        return (*self.judges, Requests("open", accepted=True)), self.applies

    def _opened(self, record: Request) -> None:
        """INT-MAXTIME-CLOCK=open: the clock starts now, at the max_time the open fixes."""
        value = (record.args or {}).get("max_time")
        try:
            seconds = _seconds(value) if value is not None else None
        except RequestRejected:
            return
        if seconds is None:
            limits = self.header.backends.get(record.backend or "")
            seconds = float(limits["system_max_time"]) if limits is not None and "system_max_time" in limits else None
        if record.session is not None and seconds is not None:
            self.fixed[record.session] = seconds
            self.deadlines.arm(record.session, record.t + seconds)

    def clock(self, index: int, t: float) -> Violation | None:
        found = None
        for session, deadline in self.deadlines.passed(t):
            found = found or self.violation(
                index, t,
                f"session {session} is still open at t={time_text(t)}, "
                f"past its max_time deadline {time_text(deadline)}",
            )
        return found

    def judge(self, index: int, record: Change | Request) -> Violation | None:
        if isinstance(record, REQUEST):
            self._opened(record)
            return None
        if record.entity == "job":
            due = self.deadlines.due.get(record.session) if record.session is not None else None
            if due is not None and (record.t > due or same_time(record.t, due)):
                return self.violation(
                    index, record.t, f"job {record.id} starts at t={time_text(record.t)}, at or past the max_time "
                    f"deadline {time_text(due)} of session {record.session}",
                )
            return None
        sid, t = record.id, record.t
        deadline = self.deadlines.due.get(sid)
        if record.src == "pending" and record.dst == "active":
            if record.max_time is None or not record.max_time > 0:
                return self.violation(index, t, f"session {sid} starts without a positive max_time")
            if not self.at_open:
                self.deadlines.arm(sid, t + record.max_time)
                return None
            fixed = take(self.fixed, sid)
            if fixed is not None and not same_time(fixed, record.max_time):
                return self.violation(
                    index, t,
                    f"session {sid} starts with max_time {time_text(record.max_time)}, fixed at {time_text(fixed)} "
                    "at its open",
                )
        elif deadline is not None:
            if record.dst in SESSION_FINAL:
                del self.deadlines.due[sid]
                forget(self.fixed, sid)
                if record.trigger == "max_time_reached" and not same_time(t, deadline):
                    return self.violation(
                        index, t,
                        f"session {sid} expires at t={time_text(t)}, but its max_time ends at {time_text(deadline)}",
                    )
            elif _past(deadline, t):
                return self.violation(
                    index, t,
                    f"session {sid} becomes {record.dst} at t={time_text(t)}, past its max_time deadline "
                    f"{time_text(deadline)}",
                )
        elif record.trigger == "max_time_reached":
            return self.violation(index, t, f"session {sid} expires but never started its max_time clock")
        return None

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found = self.clock(index, end_time)
        return [found] if found is not None else []


class MaxTimeValue(LiveProperty):
    name = "max-time-value"
    rules = ("MAXTIME-PARAM", "MAXTIME-DEFAULT", "MAXTIME-SYSTEM-LIMIT")
    description = (
        "A session starts with the max_time it was opened with, or else the default "
        "INT-MAXTIME-DEFAULT names (system limit, or the smaller of it and the first job's max_execution_time)."
    )
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        policy = self.interpretation.policy
        self.first_job_limit = (
            policy.maxtime_default is MaxTimeDefault.FIRST_JOB_LIMIT and policy.maxtime_clock is not MaxtimeClock.OPEN
        )
        """Whether the default depends on the first job: not under INT-MAXTIME-CLOCK=open (fixed at the open)."""
        self.requested: dict[str, float | None] = {}
        """opened session -> the max_time it asked for (None: the default)."""
        self.job_limit: dict[str, float] = {}
        """queued session job -> its max_execution_time (first_job_limit only)."""

    def interest(self) -> tuple[Interest, Interest]:
        sessions = (Changes("session", dst=SESSION_FINAL), Changes("session", src="pending", dst="active"))
        if self.first_job_limit:
            return (
                Requests("open", accepted=True), Requests("submit", accepted=True), Changes("job", src="queued"),
                *sessions,
            ), self.applies
        return (Requests("open", accepted=True), *sessions), self.applies

    def _limit(self, backend: str | None, key: str) -> float | None:
        limits = self.header.backends.get(backend or "")
        return float(limits[key]) if limits is not None and key in limits else None

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, REQUEST):
            self._request(record)
            return None
        if record.entity == "job":
            forget(self.job_limit, record.id)
            return None
        if record.dst in SESSION_FINAL:
            forget(self.requested, record.id)
        if record.src != "pending" or record.dst != "active" or record.id not in self.requested:
            return None
        requested = self.requested.pop(record.id)
        expected = requested
        if expected is None:
            expected = self._limit(record.backend, "system_max_time")
            if self.first_job_limit and expected is not None:
                last = self.ctx.prev  # the start that activates the session comes right before
                job = (
                    last.id if isinstance(last, CHANGE) and last.entity == "job" and last.dst == "running"
                    and last.session == record.id else None
                )
                limit = self.job_limit.get(job) if job is not None else None
                expected = min(expected, limit) if limit is not None else None
        if expected is None or record.max_time is None or same_time(record.max_time, expected):
            return None
        origin = "requested" if requested is not None else "default"
        return self.violation(
            index, record.t,
            f"session {record.id} starts with max_time {time_text(record.max_time)}, {origin} is {time_text(expected)}",
        )

    def _request(self, record: Request) -> None:
        args = record.args or {}
        if record.op == "open":
            if record.session is None:
                return
            value = args.get("max_time")
            try:
                self.requested[record.session] = _seconds(value) if value is not None else None
            except RequestRejected:
                return
        elif record.session is not None and record.job:
            explicit = args.get("max_execution_time")
            limit = float(explicit) if explicit is not None else self._limit(
                record.backend, "program_max_execution_time"
            )
            if limit is not None:
                self.job_limit[record.job] = limit


class InteractiveTimeout(LiveProperty):
    name = "interactive-timeout"
    rules = ("TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE")
    description = (
        "An active session is deactivated exactly the (fixed: 300 s, 60 s under the platform profile) "
        "interactive timeout after its window opened (per INT-INTERACTIVE-WINDOW) with no job of it queued "
        "since, and never otherwise."
    )
    judges = (Changes("session", src="active", dst="inactive"),)
    applies = (Changes("session"), Changes("job", session=True))

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.timeout = float(header.interactive_timeout)
        self.fixed = self.interpretation.rules.interactive_timeout
        """The profile's interactive timeout (TTL-INTERACTIVE-VALUE; PLATFORM-ITTL-60S under the platform)."""
        self.wrong_value = not same_time(self.timeout, self.fixed)
        self.queue_empty = self.interpretation.policy.interactive_window is InteractiveWindow.QUEUE_EMPTY
        self.opened: dict[str, float] = {}
        """active session -> when its current window opened."""
        self.heap: list[tuple[float, str, float]] = []

    def clock(self, index: int, t: float) -> Violation | None:
        if self.wrong_value:  # said once, on the first record (whose sweep waits for the next one)
            self.wrong_value = False
            self.ctx.clock_next()
            return self.violation(
                index, t,
                f"the interactive timeout is {time_text(self.timeout)} s, not the fixed {time_text(self.fixed)} s",
            )
        found = None
        heap = self.heap
        while heap and heap[0][0] < t and _past(heap[0][0], t):
            deadline, session, opened = heapq.heappop(heap)
            if self.opened.get(session) == opened:
                del self.opened[session]
                found = found or self.violation(
                    index, t,
                    f"session {session} is still active at t={time_text(t)}; its window opened at {time_text(opened)} "
                    f"and ran out at {time_text(deadline)}",
                )
        return found

    def judge(self, index: int, record: Change) -> Violation | None:
        if record.trigger == "batch_job_ended":  # a batch has no window: it deactivates as its job ends
            return None
        opened_at = self.opened.get(record.id)
        if opened_at is None:
            return self.violation(
                index, record.t, f"session {record.id} is deactivated though its interactive window is not open"
            )
        if not same_time(record.t, opened_at + self.timeout):
            return self.violation(
                index, record.t,
                f"session {record.id} is deactivated at t={time_text(record.t)}; "
                f"its window opened at {time_text(opened_at)} "
                f"and runs out at {time_text(opened_at + self.timeout)}",
            )
        return None

    def applied(self, index: int, record: Change) -> Violation | None:
        session = record.id if record.entity == "session" else record.session
        assert session is not None
        view = self.ledger.sessions.get(session)
        if view is None or view.state != "active":
            forget(self.opened, session)
            return None
        idle = view.queued == 0 and (self.queue_empty or view.running is None)
        if not idle:
            forget(self.opened, session)
        elif session not in self.opened:
            t = record.t
            self.opened[session] = t
            heapq.heappush(self.heap, (t + self.timeout, session, t))
            if t + self.timeout < t:
                self.ctx.clock_next()
        return None


class MaxExecutionTime(LiveProperty):
    name = "max-execution-time"
    rules = ("JOB-MAX-EXECUTION",)
    description = (
        "A running job leaves running no later than its max_execution_time (explicit, else the program's) "
        "after it started, and fails for it exactly then."
    )
    judges = (
        Requests("submit", accepted=True),
        Changes("job", src="queued"), Changes("job", src=None, dst=Outside(("queued",))), Changes("job", src="running"),
    )
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.limit: dict[str, float] = {}
        """accepted, not yet started job -> its max_execution_time."""
        self.deadlines = Deadlines()
        """running job -> when its max_execution_time runs out."""

    def clock(self, index: int, t: float) -> Violation | None:
        found = None
        for job, deadline in self.deadlines.passed(t):
            found = found or self.violation(
                index, t, f"job {job} still runs at t={time_text(t)}, past its max_execution_time {time_text(deadline)}"
            )
        return found

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, REQUEST):
            if record.job is not None:
                explicit = (record.args or {}).get("max_execution_time")
                limits = self.header.backends.get(record.backend or "")
                if isinstance(explicit, int | float) and not isinstance(explicit, bool):
                    self.limit[record.job] = float(explicit)
                elif limits is not None and "program_max_execution_time" in limits:
                    self.limit[record.job] = float(limits["program_max_execution_time"])
            return None
        job = record.id
        if record.src == "running":
            due = take(self.deadlines.due, job)
            if record.trigger == "max_execution_time_reached" and (due is None or not same_time(record.t, due)):
                expected = f"its limit runs out at {time_text(due)}" if due is not None else "its limit is unknown"
                return self.violation(
                    index, record.t, f"job {job} fails for max_execution_time at t={time_text(record.t)}; {expected}"
                )
            return None
        limit = take(self.limit, job)
        if record.dst == "running" and limit is not None:
            t = record.t
            self.deadlines.arm(job, t + limit)
            if t + limit < t:  # a negative limit: already past, for the next record to say
                self.ctx.clock_next()
        return None

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found = None
        for job, deadline in self.deadlines.passed(end_time):
            found = found or self.violation(index, end_time, f"job {job} still runs past {time_text(deadline)}")
        return [found] if found is not None else []
