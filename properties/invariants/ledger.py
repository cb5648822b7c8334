"""The live state a trace describes, rebuilt from its Change lines alone.

Several properties judge a record against "what is live right now" (which job runs on
a backend, which session is active there, how many jobs a session has queued). The
ledger keeps exactly that and forgets a job when it ends and a session when it closes,
so memory follows the number of live entities, not the length of the trace. It never
trusts the trace: inconsistent lines (unknown IDs, impossible states) are absorbed
without raising, and the properties report them.
"""

from __future__ import annotations

from typing import Final

from model.spec.lifecycles import JOB, SESSION
from model.trace import Change

SESSION_FINAL: Final = SESSION.final_states
JOB_FINAL: Final = JOB.final_states


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
    """Live sessions and jobs, the running job and the active session of each backend.

    One ledger serves every property of a :class:`~properties.invariants.suite.Suite`, applied once per
    change line (it was once one per property: a third of the checker's time).
    """

    __slots__ = ("active", "jobs", "running", "sessions")

    def __init__(self) -> None:
        self.sessions: dict[str, SessionView] = {}
        self.jobs: dict[str, JobView] = {}
        self.running: dict[str, str] = {}
        """backend -> ID of the job running there."""
        self.active: dict[str, str] = {}
        """backend -> ID of the session active there."""

    def owner(self, backend: str | None, session: str | None, job: str | None) -> str | None:
        """The backend a request concerns (docs/conformance.md): that of the live session or job it names, else
        the one it names (a refused request records the client's, which may be another)."""
        if session is not None:
            view = self.sessions.get(session)
            if view is not None:
                return view.backend
        if job is not None:
            found = self.jobs.get(job)
            if found is not None:
                return found.backend
        return backend

    def apply(self, record: Change) -> None:
        entity = record.entity
        if entity == "job":
            self._job(record)
        elif entity == "session":
            self._session(record)

    def _session(self, record: Change) -> None:
        sid = record.id
        dst = record.dst
        if record.src is None:
            view = SessionView(sid, record.backend, dst)
            self.sessions[sid] = view
        else:
            found = self.sessions.get(sid)
            if found is None:
                return
            view = found
            if view.state == "active" and self.active.get(view.backend) == sid:
                del self.active[view.backend]
            view.state = dst
        if dst == "active":
            self.active[view.backend] = sid
        if dst in SESSION_FINAL:
            del self.sessions[sid]

    def _job(self, record: Change) -> None:
        """Leave the job's old state, enter the new one (queued counts, running jobs), forget it if it ended."""
        jid = record.id
        dst = record.dst
        if record.src is None:
            job = JobView(jid, record.backend, record.session, dst)
            self.jobs[jid] = job
        else:
            found = self.jobs.get(jid)
            if found is None:
                return
            job = found
            state = job.state
            if state == "queued":
                if job.session is not None and (session := self.sessions.get(job.session)) is not None:
                    session.queued -= 1
            elif state == "running":
                if self.running.get(job.backend) == jid:
                    del self.running[job.backend]
                if (
                    job.session is not None and (session := self.sessions.get(job.session)) is not None
                    and session.running == jid
                ):
                    session.running = None
            job.state = dst
        if dst == "queued":
            if job.session is not None and (session := self.sessions.get(job.session)) is not None:
                session.queued += 1
        elif dst == "running":
            self.running[job.backend] = jid
            if job.session is not None and (session := self.sessions.get(job.session)) is not None:
                session.running = jid
        elif dst in JOB_FINAL:
            del self.jobs[jid]
