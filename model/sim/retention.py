"""What the engine remembers of finished jobs and closed sessions.

A retaining engine keeps every record, so that a late request about a finished entity is
judged exactly (JOB-FINISHED, SESSION-CLOSED); the others keep memory bounded by the live
entities and say UNKNOWN-JOB or UNKNOWN-SESSION once they have forgotten.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from mypy_extensions import mypyc_attr

from model.sim.entities import JobRecord, SessionRecord
from model.spec.lifecycles import JOB_FINAL, SESSION_FINAL


@mypyc_attr(allow_interpreted_subclasses=True)
class Retention:
    """Called when a job has ended and when a session has closed, with the engine's table of them. A policy
    subclasses it (one base, so that the compiled engine calls it directly on every job's end)."""

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None:
        raise NotImplementedError

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None:
        raise NotImplementedError


class KeepAll(Retention):
    """Every job and session is kept."""

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None:
        """Kept."""

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None:
        """Kept."""


class ForgetFinished(Retention):
    """A finished job is forgotten at once; a closed session once ``window`` sessions have closed after it."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._closed: deque[str] = deque()
        """The closed sessions still kept, oldest first."""

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None:
        jobs.pop(job.id, None)

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None:
        closed = self._closed
        closed.append(session.id)
        if len(closed) > self.window:
            old = closed.popleft()
            stale = sessions.get(old)
            if stale is not None and stale.state in SESSION_FINAL:
                del sessions[old]
                stale.first_job = None  # break the session <-> first job cycle: freed at once


class RecentWindow(Retention):
    """The ``window`` most recently finished jobs and closed sessions are kept whole (what a replay needs of
    them); an older one is replaced in its table by a *ghost*, one record shared by the forgotten jobs of one
    backend, session and final state, or the forgotten sessions of one backend and final state. A later request
    naming it is judged by exactly these (its ID is taken, it has ended, on which backend, in which session), so
    that reusing an ID or cancelling a job that ended long ago is judged exactly however long the trace; memory
    grows by a table entry per entity."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._closed: OrderedDict[str, None] = OrderedDict()
        self._job_ghosts: dict[tuple[str, str | None, str], JobRecord] = {}
        self._session_ghosts: dict[tuple[str, str], SessionRecord] = {}

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None:
        finished = self._finished
        finished[job.id] = None
        if len(finished) > self.window:
            old, _ = finished.popitem(last=False)
            if (stale := jobs.get(old)) is not None and stale.state in JOB_FINAL:
                jobs[old] = self._job_ghost(stale)

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None:
        closed = self._closed
        closed[session.id] = None
        if len(closed) > self.window:
            old, _ = closed.popitem(last=False)
            if (stale := sessions.get(old)) is not None and stale.state in SESSION_FINAL:
                sessions[old] = self._session_ghost(stale)
                stale.first_job = None  # break the session <-> first job cycle: freed at once

    def ghosts(self) -> int:
        """How many distinct ghost records stand for the forgotten entities."""
        return len(self._job_ghosts) + len(self._session_ghosts)

    def _job_ghost(self, job: JobRecord) -> JobRecord:
        key = (job.backend_name, job.session_id, job.state)
        ghost = self._job_ghosts.get(key)
        if ghost is None:
            ghost = JobRecord(job.id, job.backend, None, job.max_execution_time, job.explicit_max_execution_time,
                              0.0, False, job.group, job.program, job.submitted_at)
            ghost.session_id = job.session_id
            ghost.state = job.state
            ghost.ended_at = job.ended_at
            self._job_ghosts[key] = ghost
        return ghost

    def _session_ghost(self, session: SessionRecord) -> SessionRecord:
        key = (session.backend_name, session.state)
        ghost = self._session_ghosts.get(key)
        if ghost is None:
            ghost = SessionRecord(session.id, session.backend, session.requested_max_time)
            ghost.state = session.state
            ghost.closed_at = session.closed_at
            self._session_ghosts[key] = ghost
        return ghost
