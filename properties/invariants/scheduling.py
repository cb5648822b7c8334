"""Scheduling properties: who may run on a backend, and in what order.

Each judges job starts (``queued -> running``) against the live state the trace has
built: the job running on each backend, the session active there and what it has queued.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from model.spec.interpretations import IdleDevice, OtherSessionJob
from model.trace import Change, Header
from properties.invariants.base import Violation, forget, take
from properties.invariants.suite import Changes, Interest, LiveProperty

_STARTS: Final = (Changes("job", dst="running"),)


class OneRunningJobPerBackend(LiveProperty):
    name = "one-running-job-per-backend"
    rules = ("SCHED-ONE-AT-A-TIME",)
    description = "A backend never runs two jobs at the same instant."
    judges = (Changes("job", src="running"), Changes("job", dst="running"))
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.running: dict[str, str] = {}

    def judge(self, index: int, record: Change) -> Violation | None:
        backend, job = record.backend, record.id
        if record.src == "running" and self.running.get(backend) == job:
            del self.running[backend]
        if record.dst == "running":
            other = self.running.get(backend)
            self.running[backend] = job
            if other is not None and other != job:
                return self.violation(index, record.t, f"job {job} starts on {backend} while job {other} runs there")
        return None


class OneActiveSessionPerBackend(LiveProperty):
    name = "one-active-session-per-backend"
    rules = ("SESSION-SINGLE-ACTIVE",)
    description = "A backend never has two active sessions at the same instant, under every interpretation."
    judges = (Changes("session", src="active"), Changes("session", dst="active"))
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.active: dict[str, str] = {}

    def judge(self, index: int, record: Change) -> Violation | None:
        backend, session = record.backend, record.id
        if record.src == "active" and self.active.get(backend) == session:
            del self.active[backend]
        if record.dst == "active":
            other = self.active.get(backend)
            self.active[backend] = session
            if other is not None and other != session:
                return self.violation(
                    index, record.t, f"session {session} becomes active on {backend} while session {other} is active"
                )
        return None


class ActiveSessionJobsFirst(LiveProperty):
    name = "active-session-jobs-first"
    rules = ("SCHED-PRIORITY",)
    description = (
        "A job that starts while a session is active on its backend with jobs queued is one of that session's, "
        "unless that session expires at that very instant (its queued jobs can no longer start)."
    )
    judges = (*_STARTS, Changes("session", dst="closed"))

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.suspects: dict[str, Violation] = {}
        """active session -> the start that jumped its queue this instant, forgiven if it expires now."""

    def judge(self, index: int, record: Change) -> Violation | None:
        if record.entity == "session":
            if record.trigger == "max_time_reached":
                forget(self.suspects, record.id)
            return None
        active = self.ledger.active.get(record.backend)
        if active is None or active == record.session:
            return None
        view = self.ledger.sessions.get(active)
        if view is None or view.queued <= 0 or active in self.suspects:
            return None
        self.suspects[active] = self.violation(
            index, record.t,
            f"job {record.id} starts on {record.backend} while active session {active} has {view.queued} job(s) queued",
        )
        self.wake()
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        found = min(self.suspects.values(), key=lambda v: v.index, default=None)
        self.suspects.clear()
        return found


class HeldBackend(LiveProperty):
    name = "held-backend"
    rules = ("SCHED-FAIRSHARE", "SESSION-CLOSE")
    description = (
        "Under INT-IDLE-DEVICE=hold, no job outside the active session starts on its backend "
        "until that session is deactivated or closed."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.applies_here = self.interpretation.policy.idle_device is IdleDevice.HOLD

    def interest(self) -> tuple[Interest, Interest]:
        return (_STARTS if self.applies_here else ()), self.applies

    def judge(self, index: int, record: Change) -> Violation | None:
        active = self.ledger.active.get(record.backend)
        if active is None or active == record.session:
            return None
        owner = f"session {record.session}" if record.session else "the fair-share queue"
        return self.violation(
            index, record.t, f"job {record.id} of {owner} starts on {record.backend}, held by active session {active}"
        )


class OtherSessionsHeldBack(LiveProperty):
    name = "other-sessions-held-back"
    rules = ("SESSION-SINGLE-ACTIVE", "SCHED-FIRST-JOB-WAITS")
    description = (
        "While a session is active, no job of another session starts on its backend "
        "(every interpretation but INT-OTHER-SESSION-JOB=run_unactivated under work_conserving)."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        policy = self.interpretation.policy
        self.applies_here = not (
            policy.idle_device is IdleDevice.WORK_CONSERVING
            and policy.other_session_job is OtherSessionJob.RUN_UNACTIVATED
        )

    def interest(self) -> tuple[Interest, Interest]:
        return ((Changes("job", dst="running", session=True),) if self.applies_here else ()), self.applies

    def judge(self, index: int, record: Change) -> Violation | None:
        active = self.ledger.active.get(record.backend)
        if active is None or active == record.session:
            return None
        return self.violation(
            index, record.t,
            f"job {record.id} of session {record.session} starts on {record.backend} while session {active} is active",
        )


class SessionFifo(LiveProperty):
    name = "session-fifo"
    rules = ("SCHED-SESSION-FIFO",)
    description = "The jobs of one session start in the order they were submitted."
    judges = (
        Changes("job", src=None, dst="queued", session=True), Changes("job", dst="running", session=True),
        Changes("job", src="queued", session=True),
    )
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.order: dict[str, deque[str]] = {}
        """session -> its queued jobs in submission order (left-overs dropped lazily)."""
        self.queued: dict[str, str] = {}
        """queued job -> its session."""

    def judge(self, index: int, record: Change) -> Violation | None:
        job, session = record.id, record.session
        assert session is not None
        found = None
        if record.src is None and record.dst == "queued":
            self.order.setdefault(session, deque()).append(job)
            self.queued[job] = session
            return None
        session = self.queued.get(job, session)
        if record.dst == "running" and job in self.queued:
            order = self.order[session]
            while order and order[0] not in self.queued:
                order.popleft()
            if order and order[0] != job:
                found = self.violation(
                    index, record.t, f"job {job} of session {session} starts before job {order[0]}, submitted earlier"
                )
        if record.src == "queued" and take(self.queued, job) is not None:
            order = self.order[session]
            while order and order[0] not in self.queued:
                order.popleft()
            if not order:
                del self.order[session]
        return found


class NoIdleBackend(LiveProperty):
    name = "no-idle-backend"
    rules = ("SCHED-FAIRSHARE", "SCHED-PRIORITY")
    description = (
        "At the end of every instant, a backend that runs nothing has no queued job it may start "
        "(which jobs it may start depends on INT-IDLE-DEVICE and INT-OTHER-SESSION-JOB)."
    )
    applies = (Changes(),)

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        policy = self.interpretation.policy
        self.hold = policy.idle_device is IdleDevice.HOLD
        self.hold_back = policy.other_session_job is OtherSessionJob.HOLD_BACK
        self.queued: dict[str, int] = {}
        """backend -> number of queued jobs."""
        self.sessionless: dict[str, int] = {}
        """backend -> number of queued jobs outside any session."""
        self.touched: set[str] = set()

    def applied(self, index: int, record: Change) -> Violation | None:
        touched = self.touched
        if not touched:
            self.wake()
        touched.add(record.backend)
        if record.entity != "job":
            return None
        delta = (record.dst == "queued") - (record.src == "queued")
        if delta:
            backend = record.backend
            self.queued[backend] = self.queued.get(backend, 0) + delta
            if record.session is None:
                self.sessionless[backend] = self.sessionless.get(backend, 0) + delta
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        touched = self.touched
        running = self.ledger.running
        idle = [backend for backend in touched if backend not in running]
        touched.clear()
        for backend in sorted(idle):
            waiting = self._startable(backend)
            if waiting:
                return self.violation(index, self.ctx.now, f"backend {backend} stays idle with {waiting} it may start")
        return None

    def _startable(self, backend: str) -> str:
        queued = self.queued.get(backend, 0)
        if queued <= 0:
            return ""
        active = self.ledger.active.get(backend)
        if active is None:
            return f"{queued} queued job(s) and no active session"
        view = self.ledger.sessions.get(active)
        if view is not None and view.queued > 0:
            return f"{view.queued} queued job(s) of active session {active}"
        if self.hold:
            return ""
        free = self.sessionless.get(backend, 0)
        if self.hold_back:
            return f"{free} queued fair-share job(s)" if free > 0 else ""
        return f"{queued} queued job(s)"
