"""What the engine remembers of finished jobs and closed sessions.

A retaining engine keeps every record, so that a late request about a finished entity is
judged exactly (JOB-FINISHED, SESSION-CLOSED); the others keep memory bounded by the live
entities and say UNKNOWN-JOB or UNKNOWN-SESSION once they have forgotten.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Protocol

from model.sim.entities import JobRecord, SessionRecord
from model.spec.lifecycles import JOB_FINAL, SESSION_FINAL


class Retention(Protocol):
    """Called when a job has ended and when a session has closed, with the engine's table of them."""

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None: ...

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None: ...


class KeepAll:
    """Every job and session is kept."""

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None:
        """Kept."""

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None:
        """Kept."""


class ForgetFinished:
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


class RecentWindow:
    """The ``window`` most recently finished jobs and closed sessions are kept (what a replay needs)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._closed: OrderedDict[str, None] = OrderedDict()

    def job_ended(self, jobs: dict[str, JobRecord], job: JobRecord) -> None:
        finished = self._finished
        finished[job.id] = None
        if len(finished) > self.window:
            old, _ = finished.popitem(last=False)
            if (stale := jobs.get(old)) is not None and stale.state in JOB_FINAL:
                del jobs[old]

    def session_closed(self, sessions: dict[str, SessionRecord], session: SessionRecord) -> None:
        closed = self._closed
        closed[session.id] = None
        if len(closed) > self.window:
            old, _ = closed.popitem(last=False)
            if (stale := sessions.get(old)) is not None and stale.state in SESSION_FINAL:
                del sessions[old]
                stale.first_job = None  # break the session <-> first job cycle: freed at once
