"""The live state a trace describes, rebuilt from its Change lines alone.

Several properties judge a record against "what is live right now" (which job runs on
a backend, which session is active there, how many jobs a session has queued). The
ledger keeps exactly that and forgets a job when it ends and a session when it closes,
so memory follows the number of live entities, not the length of the trace. It never
trusts the trace: inconsistent lines (unknown IDs, impossible states) are absorbed
without raising, and the properties report them.
"""

from __future__ import annotations

from model.lifecycles import JOB, SESSION
from model.trace import Change, Header, Request
from properties.base import TraceProperty, Violation

SESSION_FINAL = SESSION.final_states
JOB_FINAL = JOB.final_states
EPSILON = 1e-9


def same_time(a: float, b: float) -> bool:
    """Float times equal up to rounding (traces may come from other implementations)."""
    return abs(a - b) <= EPSILON * max(1.0, abs(a), abs(b))


class SessionView:
    """A live session as the trace tells it."""

    __slots__ = ("backend", "id", "queued", "running", "state")

    def __init__(self, session_id: str, backend: str, state: str) -> None:
        self.id = session_id
        self.backend = backend
        self.state = state
        self.queued = 0
        self.running: str | None = None


class JobView:
    """A live (queued or running) job as the trace tells it."""

    __slots__ = ("backend", "id", "session", "state")

    def __init__(self, job_id: str, backend: str, session: str | None, state: str) -> None:
        self.id = job_id
        self.backend = backend
        self.session = session
        self.state = state


class Ledger:
    """Live sessions and jobs, the running job and the active session of each backend."""

    __slots__ = ("active", "jobs", "running", "sessions")

    def __init__(self) -> None:
        self.sessions: dict[str, SessionView] = {}
        self.jobs: dict[str, JobView] = {}
        self.running: dict[str, str] = {}
        """backend -> ID of the job running there."""
        self.active: dict[str, str] = {}
        """backend -> ID of the session active there."""

    def apply(self, record: Change) -> None:
        if record.entity == "session":
            self._session(record)
        elif record.entity == "job":
            self._job(record)

    def _session(self, record: Change) -> None:
        sid = record.id
        if record.src is None:
            view = SessionView(sid, record.backend, record.dst)
            self.sessions[sid] = view
        else:
            found = self.sessions.get(sid)
            if found is None:
                return
            view = found
            if view.state == "active" and self.active.get(view.backend) == sid:
                del self.active[view.backend]
            view.state = record.dst
        if record.dst == "active":
            self.active[view.backend] = sid
        if record.dst in SESSION_FINAL:
            del self.sessions[sid]

    def _job(self, record: Change) -> None:
        jid = record.id
        if record.src is None:
            job = JobView(jid, record.backend, record.session, record.dst)
            self.jobs[jid] = job
        else:
            found = self.jobs.get(jid)
            if found is None:
                return
            job = found
            self._leave(job)
            job.state = record.dst
        self._enter(job)
        if record.dst in JOB_FINAL:
            del self.jobs[jid]

    def _leave(self, job: JobView) -> None:
        session = self.sessions.get(job.session) if job.session is not None else None
        if job.state == "queued" and session is not None:
            session.queued -= 1
        elif job.state == "running":
            if self.running.get(job.backend) == job.id:
                del self.running[job.backend]
            if session is not None and session.running == job.id:
                session.running = None

    def _enter(self, job: JobView) -> None:
        session = self.sessions.get(job.session) if job.session is not None else None
        if job.state == "queued" and session is not None:
            session.queued += 1
        elif job.state == "running":
            self.running[job.backend] = job.id
            if session is not None:
                session.running = job.id

    def session_of(self, job_id: str) -> str | None:
        job = self.jobs.get(job_id)
        return job.session if job is not None else None


class LiveProperty(TraceProperty):
    """A property judged against the ledger, record by record and at the end of each instant.

    ``judge`` sees a record before the ledger applies it, ``applied`` after. ``instant_ended``
    runs when virtual time moves past an instant (and once more at the end of the trace):
    whatever an implementation must do "at once" has to be done by then.
    """

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.ledger = Ledger()
        self.now = 0.0

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        ended = None
        if record.t > self.now and not same_time(record.t, self.now):
            ended = self.instant_ended(index, record.t)
            self.now = record.t
        before = self.judge(index, record)
        if isinstance(record, Change):
            self.ledger.apply(record)
        after = self.applied(index, record)
        return ended or before or after

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        return None

    def applied(self, index: int, record: Request | Change) -> Violation | None:
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        """The instant ``self.now`` is over; the next record (or the end) is at ``next_t``."""
        return None

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found = self.instant_ended(index, max(end_time, self.now))
        return [found] if found is not None else []
