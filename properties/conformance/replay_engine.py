"""The reference engine as a replay target: its device is the trace, its memory a window.

Replaying a recorded trace, the engine must not invent device outcomes: jobs are
submitted with an infinite duration, so the only end the engine schedules itself is the
``max_execution_time`` timer (a decision the spec rules on), and the replay ends a
running job when the trace says the device did (:meth:`ReplayEngine.end_running`). Where
the kit knows what it told the device (:mod:`.inputs`), a job is submitted with its real
duration and fault instead, and its end by the device is the engine's decision.

Memory stays bounded by live sessions and jobs: finished jobs and closed sessions are
kept only in a window of the most recent ``window`` of each (so that cancelling a
finished job or reusing an ID is still judged exactly), then dropped.

With ``--all`` the replay resynchronises a backend after a divergence by adopting the
state the trace shows (:meth:`ReplayEngine.adopt`, fed by :class:`Observed`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from mypy_extensions import mypyc_attr

from model.sim.clock import TIMER
from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.entities import BackendRecord, JobRecord, SessionRecord
from model.sim.fair_share import FifoQueue
from model.sim.retention import RecentWindow
from model.spec.interpretations import (
    FirstJobCancel,
    FirstJobFailure,
    InteractiveWindow,
    Interpretation,
    MaxtimeClock,
    PlatformFirstJobCancel,
)
from model.spec.lifecycles import JOB_FINAL, JOB_OWN_FAILURES, SESSION_FINAL
from model.spec.max_time import parse_max_time
from model.spec.validations import RequestRejected
from model.trace import Change, Record, Request, Sink
from model.trace.timing import slack

DEVICE_TRIGGERS: Final = frozenset(("complete", "device_error"))
"""Job triggers that are device inputs, not scheduler decisions."""



@mypyc_attr(allow_interpreted_subclasses=True)
class ReplayEngine(Engine):
    """The reference engine, driven by a trace's inputs instead of drawn device outcomes."""

    def __init__(
        self, backends: Sequence[BackendConfig], *, interpretation: Interpretation, sink: Sink, window: int = 10_000
    ) -> None:
        super().__init__(backends, interpretation=interpretation, sink=sink, retention=RecentWindow(window))
        self._tidy_at = _SPARE_EVENTS
        """The number of pending events past which :meth:`drop_dead_events` looks for dead ones."""
        self.several = len(self.backends) > 1
        """Whether the trace has several backends, whose events at one instant :meth:`step_on` keeps apart."""
        self._selectors: dict[str | None, Callable[[Any], bool]] = {}
        """Per backend name, what selects the events of that backend (:meth:`step_on`)."""

    def drop_dead_events(self) -> None:
        """Drop the pending events of finished jobs and closed sessions, once the heap has doubled since it was
        last tidied: their handlers would do nothing. A job's max_execution_time timer outlives its run by
        hours, so left in place they would be most of the heap, and keep the job's record alive."""
        if self.pending_events > self._tidy_at:
            self.discard(_dead)
            self._tidy_at = 2 * self.pending_events + _SPARE_EVENTS

    # ------------------------------------------------------------------ the trace as device

    def advance_before(self, when: float) -> None:
        """Process every event due at an instant before ``when``, then set the clock to ``when``.

        A device outcome recorded at ``when`` is an input at its place in the trace: events
        due at the same instant that the trace shows after it happen after it, including one
        computed a little earlier (float noise apart: trace-format.md).
        """
        self.run_before(when - slack(when))
        if when > self.now:
            self.now = when

    def run_through(self, when: float, backend: str | None) -> None:
        """Process every event of ``backend`` due at or before the instant ``when``, including one computed a
        little later (float noise apart), then set the clock to ``when``: a request made then on ``backend``
        comes after them all. The other backends' events of that instant wait (:meth:`step_on`)."""
        edge = when + slack(when)
        if self.several:
            instant = when - slack(when)
            while self.step_on(backend, edge, instant):
                pass
        else:
            while (due := self.next_event_time) is not None and due <= edge:
                self.step()
        if when > self.now:
            self.now = when

    def step_on(self, backend: str | None, until: float, instant: float) -> bool:
        """Process the next event due at or before ``until``, passing over the other backends' events due at or
        after ``instant`` (``backend`` None, a request about no backend: every backend's); False when none is
        left to process.

        Backends are independent (a session and its jobs belong to one; each has its own device, queue and
        timers), so a trace may write the lines of different backends at one instant in any order: reaching
        one backend's line runs that backend's events of the instant, while another's wait for its own lines,
        such as a device end that the trace writes later and that its timer of that instant must follow. They
        run when their backend's lines call for them, or once the trace has gone past the instant."""
        selected = self._selectors.get(backend)
        if selected is None:
            record = self.backends.get(backend) if backend is not None else None
            selected = self._selectors[backend] = _on(record)
        return self.step_selected(until, instant, selected)

    def submit_recorded(self, request: Request, device: tuple[float, bool] | None = None) -> JobRecord:
        """Submit as the trace's request did, with the device outcome left to the trace, or, given
        ``device`` (the duration and fault the kit gave the job), decided by the engine."""
        args: Mapping[str, Any] = request.args or {}
        duration, fault = device if device is not None else (math.inf, False)
        return self.submit(
            request.session, request.backend, job_id=request.job,
            max_execution_time=args.get("max_execution_time"), duration=duration, fault=fault,
            group=str(args.get("group", "default")), program=str(args.get("program", "estimator")),
        )

    # ------------------------------------------------------------------ resynchronisation

    def adopt(self, name: str, seen: Observed) -> None:
        """Replace backend ``name``'s live state (records, queue, timers) by what the trace shows."""
        old = self.backends[name]
        self.discard(lambda target: _backend_of(target) == name)
        self._selectors.pop(name, None)
        backend = BackendRecord(old.config, FifoQueue(), old.rng)
        self.backends[name] = backend
        for job_id, job in list(self.jobs.items()):
            if job.backend is old and job.state not in JOB_FINAL:
                del self.jobs[job_id]
        for session in self.sessions.values():
            if session.backend is old and session.state != "closed":
                session.state = "closed"  # unless the trace shows it live: replaced below
                session.queue.clear()
                session.n_queued = 0
                session.running = None
        now = self.now
        timers = self.timer_settings
        live = [s for s in seen.sessions.values() if s.backend == name]
        for obs in live:
            record = SessionRecord(obs.id, backend, obs.requested)
            record.state = obs.state
            record.started_at = obs.started_at
            record.opened_at = obs.opened_at
            record.max_time = obs.max_time
            record.n_jobs = obs.n_jobs
            record.doomed = obs.doomed
            record.batch = obs.batch
            self.sessions[obs.id] = record
            if timers.unused_timeout is not None and record.state in ("pending", "inactive"):
                self.arm_unused(record)  # from now: when it was last used is not on the trace
            origin = obs.opened_at if timers.max_time_from_open else obs.started_at
            if origin is not None and obs.max_time is not None:
                self.schedule(max(now, origin + obs.max_time), self.on_max_time, record)
        running = [j for j in seen.jobs.values() if j.backend == name and j.state == "running"]
        kept = max(running, key=lambda j: j.started_at or 0.0).id if running else None
        for obs_job in seen.jobs.values():
            if obs_job.backend != name or (obs_job.state == "running" and obs_job.id != kept):
                continue  # a trace running two jobs at once: the spec can follow only one of them
            owner = self.sessions.get(obs_job.session) if obs_job.session is not None else None
            job = JobRecord(
                obs_job.id, backend, owner, max_execution_time=obs_job.met,
                explicit_max_execution_time=obs_job.explicit, duration=math.inf, fault=False,
                group=obs_job.group, program=obs_job.program, submitted_at=obs_job.submitted_at,
            )
            job.state = obs_job.state
            self.jobs[job.id] = job
            if job.state == "queued":
                backend.queue.push(job)
                if owner is not None:
                    owner.queue.append(job)
                    owner.n_queued += 1
            elif job.state == "running":
                job.started_at = obs_job.started_at if obs_job.started_at is not None else now
                backend.running = job
                backend.state = "busy"
                if owner is not None:
                    owner.running = job
                job.token += 1
                end = max(now, job.started_at + job.max_execution_time)
                self.schedule(end, self.on_job_end, job, job.token, self.job_end_order)
        for obs in live:
            record = self.sessions[obs.id]
            if obs.first_job is not None:
                record.first_job = self.jobs.get(obs.first_job) or _placeholder(obs.first_job, backend, record)
        active = seen.active.get(name)
        if active is not None and active in self.sessions:
            record = self.sessions[active]
            backend.active_session = record
            idle_since = seen.sessions[active].idle_since
            if idle_since is not None:
                record.window_deadline = record.window_timer = max(now, idle_since + timers.window_seconds)
                record.window_token += 1
                self.schedule(record.window_deadline, self.on_interactive_timeout, record, record.window_token, TIMER)


_SPARE_EVENTS: Final = 1024


def _dead(target: Any) -> bool:
    """Whether an event's target is a finished job or a closed session (its timers and device end are spent)."""
    if isinstance(target, JobRecord):
        return target.state in JOB_FINAL
    return isinstance(target, SessionRecord) and target.state in SESSION_FINAL


def _on(backend: BackendRecord | None) -> Callable[[Any], bool]:
    """What selects the events of ``backend`` (None: of no backend): every event's target is a job or a session."""
    return lambda target: target.backend is backend


def _backend_of(target: Any) -> str | None:
    backend = getattr(target, "backend", None)
    return getattr(backend, "name", None)


def _placeholder(job_id: str, backend: BackendRecord, session: SessionRecord) -> JobRecord:
    """Stands for a session's finished first job, so that a later cancel is not taken for it."""
    job = JobRecord(
        job_id, backend, session, max_execution_time=1.0, explicit_max_execution_time=False,
        duration=0.0, fault=False, group="default", program="estimator", submitted_at=0.0,
    )
    job.state = "completed"
    return job


# ---------------------------------------------------------------------- the trace's own state


@dataclass
class ObservedJob:
    id: str
    backend: str
    session: str | None
    state: str
    met: float
    explicit: bool
    submitted_at: float
    group: str
    program: str
    started_at: float | None = None


@dataclass
class ObservedSession:
    id: str
    backend: str
    state: str
    requested: int | None
    max_time: float | None = None
    started_at: float | None = None
    opened_at: float | None = None
    first_job: str | None = None
    n_jobs: int = 0
    n_queued: int = 0
    running: str | None = None
    doomed: str | None = None
    idle_since: float | None = None
    batch: bool = False


class Observed:
    """The live sessions and jobs as the trace shows them (no decisions taken, only recorded).

    Used by ``--all`` to resynchronise the engine; robust to traces that break the spec:
    a line about an entity it does not know is ignored.
    """

    def __init__(self, limits: Mapping[str, Mapping[str, float]], interpretation: Interpretation) -> None:
        self.limits = limits
        policy = interpretation.policy
        self.window_on_queue_empty = policy.interactive_window is InteractiveWindow.QUEUE_EMPTY
        self.clock_at_open = policy.maxtime_clock is MaxtimeClock.OPEN
        if interpretation.is_platform:
            self.doom_on_first_cancel = policy.platform_first_job_cancel is PlatformFirstJobCancel.FAIL_SUBSEQUENT
        else:
            self.doom_on_first_cancel = policy.first_job_cancel is FirstJobCancel.FAIL_SUBSEQUENT
        self.doom_on_first_failure = self.doom_on_first_cancel and policy.first_job_failure is FirstJobFailure.AS_CANCEL
        self.sessions: dict[str, ObservedSession] = {}
        self.jobs: dict[str, ObservedJob] = {}
        self.active: dict[str, str] = {}

    def update(self, record: Record) -> None:
        if isinstance(record, Request):
            self._request(record)
        elif isinstance(record, Change):
            if record.entity == "job":
                self._job(record)
            else:
                self._session(record)
            self._refresh_window(record.backend, record.t)

    def _request(self, request: Request) -> None:
        if request.error is not None:
            return
        args: Mapping[str, Any] = request.args or {}
        if request.op == "open" and request.session and request.backend:
            opened = self.sessions[request.session] = ObservedSession(
                request.session, request.backend, "pending", _requested(args.get("max_time")), opened_at=request.t,
                batch=args.get("mode") == "batch",
            )
            if self.clock_at_open:  # the max_time is fixed, and its clock started, at the open
                limit = self.limits.get(request.backend, {}).get("system_max_time")
                opened.max_time = float(opened.requested) if opened.requested is not None else limit
        elif request.op == "submit" and request.job and request.backend:
            met = args.get("max_execution_time")
            limits = self.limits.get(request.backend, {})
            self.jobs[request.job] = ObservedJob(
                request.job, request.backend, request.session, "queued",
                float(met) if isinstance(met, int | float) else float(limits.get("program_max_execution_time", 1.0)),
                met is not None, request.t, str(args.get("group", "default")), str(args.get("program", "estimator")),
            )
            session = self.sessions.get(request.session) if request.session else None
            if session is not None:
                session.n_jobs += 1
                session.n_queued += 1
                if session.first_job is None:
                    session.first_job = request.job
        elif request.op == "cancel" and request.job:
            job = self.jobs.get(request.job)
            session = self.sessions.get(job.session) if job is not None and job.session else None
            if session is not None and session.first_job == request.job and self.doom_on_first_cancel:
                session.doomed = "first_job_cancelled"

    def _job(self, change: Change) -> None:
        """The job takes the line's ``to`` state, whatever it was in before (a trace may skip lines)."""
        job = self.jobs.get(change.id)
        if job is None:
            return
        session = self.sessions.get(job.session) if job.session else None
        if job.state == "queued" and change.dst != "queued" and session is not None:
            session.n_queued -= 1
        if (
            self.doom_on_first_failure and session is not None and session.first_job == job.id
            and change.dst == "failed" and change.reason in JOB_OWN_FAILURES
        ):
            session.doomed = "first_job_failed"
        job.state = change.dst
        if change.dst == "running":
            job.started_at = change.t
            if session is not None:
                session.running = job.id
        elif change.dst in JOB_FINAL:
            del self.jobs[job.id]
        if change.dst != "running" and session is not None and session.running == job.id:
            session.running = None

    def _session(self, change: Change) -> None:
        session = self.sessions.get(change.id)
        if session is None:
            return
        if change.dst == "active":
            self.active[change.backend] = session.id
            if change.src == "pending":
                session.started_at = change.t
                session.max_time = change.max_time if change.max_time is not None else session.max_time
        elif change.dst == "pending_closed" and change.src == "active":
            pass  # a session closed while active keeps its backend while it drains (platform)
        elif self.active.get(change.backend) == session.id:
            del self.active[change.backend]
        session.state = change.dst
        if change.dst == "closed":
            del self.sessions[session.id]
        elif change.dst != "active":
            session.idle_since = None

    def _refresh_window(self, backend: str, t: float) -> None:
        active = self.active.get(backend)
        session = self.sessions.get(active) if active is not None else None
        if session is None or session.state != "active":  # a draining holder has no window
            return
        idle = session.n_queued == 0 and (self.window_on_queue_empty or session.running is None)
        if not idle:
            session.idle_since = None
        elif session.idle_since is None:
            session.idle_since = t


def _requested(max_time: object) -> int | None:
    if max_time is None:
        return None
    try:
        return parse_max_time(max_time)
    except RequestRejected:
        return None
