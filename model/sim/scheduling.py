"""The scheduling policy: the scheduler lifecycle's guards and actions, and starting a job.

The declaration (:data:`model.spec.lifecycles.SCHEDULER`) says which dispatch transition is
tried first; these say whether each may be taken and which job it starts.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from model.sim.device import Device
from model.sim.entities import BackendRecord, JobRecord, SessionRecord
from model.spec.interpretations import IdleDevice, MaxTimeDefault, OtherSessionJob
from model.trace.timing import earlier


@mypyc_attr(allow_interpreted_subclasses=True)
class Scheduling(Device):
    """Who gets the device next (SCHED-PRIORITY, SCHED-SESSION-FIFO, SCHED-FAIRSHARE)."""

    def init_scheduling(self) -> None:
        policy = self.policy
        self._skip_session_jobs = (
            policy.idle_device is IdleDevice.WORK_CONSERVING and policy.other_session_job is OtherSessionJob.HOLD_BACK
        )
        """Fair-share selection passes over session jobs while a session is active."""
        self._starts_before_deadline = self._before_deadline
        """The eligibility test handed to the fair-share queue, bound once."""

    def guard_session_job_waiting(self, backend: BackendRecord) -> bool:
        session = backend.active_session
        return session is not None and session.n_queued > 0 and earlier(self.now, session.deadline)

    def guard_held_for_active_session(self, backend: BackendRecord) -> bool:
        return backend.active_session is not None

    def guard_fair_share_job_waiting(self, backend: BackendRecord) -> bool:
        if self._skip_session_jobs and backend.active_session is not None:
            candidate = backend.candidate = backend.queue.first(_sessionless)
        else:
            candidate = backend.candidate = backend.queue.first(self._starts_before_deadline)
        return candidate is not None

    def _before_deadline(self, job: JobRecord) -> bool:
        """A session job may start only before its session's max_time deadline (MAXTIME-EXPIRY): at an instant
        earlier than it by more than float noise (trace-format.md)."""
        session = job.session
        return session is None or earlier(self.now, session.deadline)

    def next_session_job(self, session: SessionRecord) -> JobRecord:
        """Extension point: which job of the active session starts (SCHED-SESSION-FIFO: its oldest)."""
        job = session.head()
        assert job is not None  # the guard saw one queued
        return job

    def action_start_session_job(self, backend: BackendRecord) -> None:
        session = backend.active_session
        assert session is not None  # its guard saw one
        self.start(self.next_session_job(session), ("SCHED-PRIORITY", "SCHED-SESSION-FIFO"))

    def action_start_fair_share_job(self, backend: BackendRecord) -> None:
        job = backend.candidate
        assert job is not None  # its guard found one
        backend.candidate = None
        session = job.session
        if session is None:
            self.start(job, ("SCHED-FAIRSHARE",))
            return
        head = session.head()  # the candidate at least
        assert head is not None
        waits = "SESSION-REACTIVATE" if session.state == "inactive" else "SCHED-FIRST-JOB-WAITS"
        self.start(head, ("SCHED-FAIRSHARE", waits))

    def start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        """Extension point: give the device to ``job``, activating its session if it may."""
        backend = job.backend
        session = job.session
        job.started_at = self.now
        backend.running = job
        if session is not None:
            session.n_queued -= 1
            session.running = job
        self._fire_start.on(job, why)
        if session is not None:
            state = session.state  # a closing session's job runs without activating it (PLATFORM-CLOSE-DRAINS)
            if state != "active" and state != "pending_closed" and backend.active_session is None:
                if session.state == "pending":
                    session.started_at = self.now
                    if session.max_time is None:  # else fixed at the open (INT-MAXTIME-CLOCK=open)
                        session.max_time = self.effective_max_time(session, job)
                self._fire_job_started.on(session)
                backend.active_session = session
            self.update_window(session)

    def effective_max_time(self, session: SessionRecord, first: JobRecord) -> float:
        """Extension point: the max_time a starting session gets (MAXTIME-DEFAULT, INT-MAXTIME-DEFAULT)."""
        if session.requested_max_time is not None:
            return float(session.requested_max_time)
        system = session.backend.config.system_max_time
        if self.policy.maxtime_default is MaxTimeDefault.FIRST_JOB_LIMIT:
            return min(system, first.max_execution_time)
        return system


def _sessionless(job: JobRecord) -> bool:
    return job.session is None
