"""The engine's records of sessions, jobs and backends: plain slotted objects, no behaviour.

Their ``state`` attribute is owned by the lifecycle dispatchers; everything else is
bookkeeping the guards and timers read.
"""

from __future__ import annotations

import math
import random
from collections import deque
from typing import TYPE_CHECKING

from mypy_extensions import mypyc_attr

from model.sim.devices import BackendConfig

if TYPE_CHECKING:
    from model.sim.fair_share import FairShare


@mypyc_attr(allow_interpreted_subclasses=True)
class Stateful:
    """What a lifecycle's dispatcher reads and sets on every entity it fires on: its ``state``. One base, so that
    the compiled trigger functions read and set it as a field, not by name."""

    __slots__ = ("state",)

    state: str


class BackendRecord(Stateful):
    __slots__ = (
        "active_session", "candidate", "charges", "config", "default_max_execution_time", "name", "queue", "rng",
        "running",
    )

    def __init__(self, config: BackendConfig, queue: FairShare, rng: random.Random) -> None:
        self.name = config.name
        self.config = config
        self.default_max_execution_time = config.default_max_execution_time
        self.state = "idle"
        self.running: JobRecord | None = None
        self.active_session: SessionRecord | None = None
        self.queue = queue
        self.charges: bool = queue.charges
        """Whether the scheduler charges device time to the queue (FIFO keeps no account of usage)."""
        self.rng = rng
        self.candidate: JobRecord | None = None

    @property
    def id(self) -> str:
        return self.name


@mypyc_attr(allow_interpreted_subclasses=True)
class Traced(Stateful):
    """What a trace line names of a session or a job: its ID, its backend's and its session's (a session's own
    is None). One base, so that the compiled trigger functions read them as fields, not by name."""

    __slots__ = ("backend_name", "id", "session_id")

    id: str
    backend_name: str
    session_id: str | None


class SessionRecord(Traced):
    __slots__ = (
        "backend", "batch", "closed_at", "deadline", "doomed", "first_job", "max_time",
        "max_time_bound", "n_jobs", "n_queued", "opened_at", "queue", "requested_max_time", "running",
        "started_at", "unused_deadline", "window_deadline", "window_timer", "window_token",
    )

    def __init__(self, session_id: str, backend: BackendRecord, requested_max_time: int | None) -> None:
        self.id = session_id
        self.backend = backend
        self.backend_name = backend.name
        self.session_id = None
        """A session belongs to no session (the trace's ``session`` field of a session line)."""
        self.state = "pending"
        self.requested_max_time = requested_max_time
        self.max_time: float | None = None
        self.max_time_bound = float(requested_max_time or backend.config.system_max_time)
        self.started_at: float | None = None
        self.opened_at: float | None = None
        """When it was opened (the engine sets it): where INT-MAXTIME-CLOCK=open starts the max_time clock."""
        self.deadline = math.inf
        """started_at + max_time once started (opened_at + max_time from the open under INT-MAXTIME-CLOCK=open):
        no job of the session starts at or after it."""
        self.closed_at: float | None = None
        self.queue: deque[JobRecord] = deque()
        self.n_queued = 0
        self.n_jobs = 0
        self.running: JobRecord | None = None
        self.first_job: JobRecord | None = None
        self.doomed: str | None = None
        """The job trigger its later jobs fail with once its first job doomed them (first_job_cancelled or,
        under INT-FIRST-JOB-FAILURE=as_cancel, first_job_failed); None while they are not doomed."""
        self.window_token = 0
        """The open interactive window's identity: the event sequence number it took when it opened."""
        self.window_deadline: float | None = None
        """When the open interactive window runs out (None: no window open)."""
        self.window_timer: float | None = None
        """When the session's pending interactive-timeout event is due (None: it has none on the heap)."""
        self.batch = False
        """Platform: opened in batch mode (PLATFORM-BATCH): never exclusive, ends by itself when idle."""
        self.unused_deadline: float | None = None
        """Platform: when the unused-session timer runs out (PLATFORM-UNUSED-CLOSES); None: not armed."""

    def head(self) -> JobRecord | None:
        """The oldest queued job (SCHED-SESSION-FIFO); leavers are dropped lazily."""
        queue = self.queue
        while queue:
            job = queue[0]
            if job.state == "queued":
                return job
            queue.popleft()
        return None


class JobRecord(Traced):
    __slots__ = (
        "backend", "duration", "ended_at", "explicit_max_execution_time", "fault", "group",
        "max_execution_time", "program", "reason", "session", "started_at", "submitted_at", "token",
    )

    def __init__(
        self,
        job_id: str,
        backend: BackendRecord,
        session: SessionRecord | None,
        max_execution_time: float,
        explicit_max_execution_time: bool,
        duration: float,
        fault: bool,
        group: str,
        program: str,
        submitted_at: float,
    ) -> None:
        self.id = job_id
        self.backend = backend
        self.backend_name = backend.name
        self.session = session
        self.session_id = session.id if session is not None else None
        self.state = "queued"
        self.max_execution_time = max_execution_time
        self.explicit_max_execution_time = explicit_max_execution_time
        self.duration = duration
        self.fault = fault
        self.group = group
        self.program = program
        self.submitted_at = submitted_at
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.reason: str | None = None
        self.token = 0
