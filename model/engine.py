"""The reference engine: a deterministic discrete-event simulation of the session scheduler.

Virtual time only: a heap of (time, order, sequence, handler, target, token) events,
no threads, no sleeps. Events due at the same instant run by ``order`` (device job
ends before timers under INT-EXPIRY-TIE=job_first, after them under expiry_first;
background arrivals last), then in the order they were scheduled; a client request
made at time t comes after every event due at t. No session job starts at or after
its session's max_time deadline.
Every state change goes through a trigger function that the dispatcher generates
from the declaration (:func:`model.dispatch.compile_triggers`; :meth:`Engine._fire` by
trigger name, or directly on the hot path): it selects the declared transition,
records it on the trace and runs its action, so the engine cannot take a transition
the declaration does not have.

Timers (interactive window, max_time, max_execution_time) are heap events that
are cancelled lazily: by bumping a token, or for the interactive window by closing it
(a session keeps at most one window timer on the heap; see ``_update_window``).
"""

from __future__ import annotations

import heapq
import itertools
import math
import types
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mypy_extensions import mypyc_attr

from model.devices import BackendConfig, BackgroundLoad, backend_rng
from model.dispatch import Dispatcher, Fire, Step
from model.dispatch import Observer as _Observer
from model.entities import BackendRecord, JobRecord, SessionRecord
from model.fair_share import Eligible, FairShare, FifoQueue
from model.interpretations import DEFAULT, Interpretation
from model.lifecycles import INTERACTIVE_TIMEOUT, JOB, SCHEDULER, SESSION
from model.max_time import parse_max_time
from model.trace import Change, Header, MemoryTrace, Request, Sink, null_sink
from model.validations import RequestRejected

Observer = _Observer
"""Called as (lifecycle name, entity, trigger, chosen step) just before a state change."""

_SUBMIT_RULES_SESSION = ("SESSION-GROUPS-JOBS", "SCHED-SUBMIT-WHILE-RUNNING")
_SUBMIT_RULES_PLAIN = ("SCHED-FAIRSHARE",)
_OPEN_RULES = ("SESSION-START-FIRST-JOB",)
_TERMINAL = frozenset(("completed", "failed", "cancelled"))
# Orders of events due at the same instant (INT-EXPIRY-TIE).
_JOB_END_FIRST, _TIMER, _JOB_END_LAST, _ARRIVAL = 0, 1, 2, 3


@mypyc_attr(allow_interpreted_subclasses=True)
class Engine:
    """The reference scheduler for one or more backends on one virtual clock.

    With ``retain_finished=False`` memory stays bounded by the live sessions and jobs: a
    finished job is forgotten at once (a later cancel naming it is rejected UNKNOWN-JOB,
    where a retaining engine says JOB-FINISHED), and a closed session once
    ``CLOSED_WINDOW`` sessions have closed after it (UNKNOWN-SESSION then).
    """

    CLOSED_WINDOW = 1_000
    """How many closed sessions an engine that does not retain finished entities keeps."""

    def __init__(
        self,
        backends: Sequence[BackendConfig],
        *,
        interpretation: Interpretation = DEFAULT,
        seed: int = 0,
        sink: Sink | None = None,
        fair_share: Callable[[], FairShare] = FifoQueue,
        retain_finished: bool = True,
        observer: Observer | None = None,
    ) -> None:
        if not backends:
            raise ValueError("an engine needs at least one backend")
        self.interpretation = interpretation
        self.seed = seed
        self.now = 0.0
        self.retain_finished = retain_finished
        self._observer = observer
        self._emit: Sink = sink if sink is not None else null_sink
        self._tracing = sink is not None and sink is not null_sink
        """False when nobody reads the trace: the hot path then builds no records at all."""
        if isinstance(sink, MemoryTrace) and type(sink).__call__ is MemoryTrace.__call__:
            self._emit = sink.append  # what calling it does, minus a Python frame per record
        self._heap: list[tuple[float, int, int, Callable[[Any, int], None], Any, int]] = []
        self._seq = itertools.count()
        self._session_ids = itertools.count(1)
        self._job_ids = itertools.count(1)
        self.backends: dict[str, BackendRecord] = {}
        for config in backends:
            if config.name in self.backends:
                raise ValueError(f"backend {config.name!r} is configured twice")
            self.backends[config.name] = BackendRecord(config, fair_share(), backend_rng(seed, config.name))
        self.sessions: dict[str, SessionRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self.events_processed = 0
        self._closed: deque[str] = deque()
        """With ``retain_finished=False``: the closed sessions still kept, oldest first."""

        self._hold = interpretation["INT-IDLE-DEVICE"] == "hold"
        self._hold_back = interpretation["INT-OTHER-SESSION-JOB"] == "hold_back"
        self._window_on_queue_empty = interpretation["INT-INTERACTIVE-WINDOW"] == "queue_empty"
        self._default_first_job = interpretation["INT-MAXTIME-DEFAULT"] == "first_job_limit"
        self._strict_upper = interpretation["INT-MAXTIME-UPPER-BOUND"] == "strict"
        self._job_bound = interpretation["INT-MAXTIME-JOB-BOUND"] == "reject_explicit"
        self._close_on_first_cancel = interpretation["INT-FIRST-JOB-CANCEL"] == "close_session"
        self._job_end_order = _JOB_END_FIRST if interpretation["INT-EXPIRY-TIE"] == "job_first" else _JOB_END_LAST
        self._skip_session_jobs = not self._hold and self._hold_back
        """Fair-share selection passes over session jobs while a session is active."""
        self._eligible: Eligible = self._before_deadline
        """Bound once: the scheduler asks the fair-share queue after every job."""
        self._job_end: Callable[[JobRecord, int], None] = self._on_job_end
        """Bound once: every job start pushes it."""

        # The trigger functions are generated with the sink fixed: none records when nobody reads.
        bind, emit, cascade = self._bind, self._emit if self._tracing else None, self._cascade
        self.session_fsm: Dispatcher[SessionRecord] = Dispatcher(
            SESSION.under(interpretation), bind, clock=self, emit=emit, cascade=cascade
        )
        self.job_fsm: Dispatcher[JobRecord] = Dispatcher(
            JOB.under(interpretation), bind, clock=self, emit=emit, cascade=cascade
        )
        self.scheduler_fsm: Dispatcher[BackendRecord] = Dispatcher(
            SCHEDULER.under(interpretation), bind, clock=self, emit=emit, cascade=cascade, optional=("dispatch",)
        )
        self.observer = observer
        # The hot path's triggers, each the dispatcher's generated function (``_fire`` by name does the same).
        job, session, scheduler = self.job_fsm.fire, self.session_fsm.fire, self.scheduler_fsm.fire
        self._fire_start: Fire = job["start"]
        self._fire_complete: Fire = job["complete"]
        self._fire_device_error: Fire = job["device_error"]
        self._fire_max_execution_time: Fire = job["max_execution_time_reached"]
        self._fire_job_started: Fire = session["job_started"]
        self._fire_interactive_timeout: Fire = session["interactive_timeout"]
        self._fire_max_time: Fire = session["max_time_reached"]
        self._fire_dispatch: Fire = scheduler["dispatch"]
        self._fire_job_ended: Fire = scheduler["job_ended"]
        if type(self)._dispatch is Engine._dispatch and not _COMPILED:  # the generated function itself, a call less
            self._dispatch = self._fire_dispatch  # type: ignore[method-assign, assignment]

        self._emit(
            Header(
                dict(interpretation),
                {name: b.config.limits() for name, b in self.backends.items()},
                INTERACTIVE_TIMEOUT,
            )
        )

    @property
    def observer(self) -> Observer | None:
        """The observer of every lifecycle (set one lifecycle's alone on its dispatcher's ``observer``)."""
        return self._observer

    @observer.setter
    def observer(self, observer: Observer | None) -> None:
        self._observer = observer
        for fsm in (self.session_fsm, self.job_fsm, self.scheduler_fsm):
            fsm.observer = observer

    def _bind(self, name: str) -> Callable[[Any], Any]:
        method: Callable[[Any], Any] = getattr(self, name)
        return method

    # ------------------------------------------------------------------ clock

    def _at(
        self, when: float, handler: Callable[[Any, int], None], target: Any, token: int = 0, order: int = _TIMER
    ) -> None:
        heapq.heappush(self._heap, (when, order, next(self._seq), handler, target, token))

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        """Run ``callback()`` at virtual time ``when``: a client acting from inside the run.

        The callback may make requests (open, submit, cancel, close) and schedule further
        callbacks. Like a request made at ``when``, it comes after every event due then
        (callbacks and background arrivals due at the same instant run in the order they
        were scheduled); ``when`` may not lie in the past.
        """
        if when < self.now:
            raise ValueError(f"cannot schedule in the past: now {self.now}, asked {when}")
        _push(self._heap, (when, _ARRIVAL, next(self._seq), _call, callback, 0))

    @property
    def next_event_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def step(self) -> bool:
        """Process the next event; False when none is left."""
        if not self._heap:
            return False
        when, _, _, handler, target, token = heapq.heappop(self._heap)
        self.now = when
        self.events_processed += 1
        handler(target, token)
        return True

    def run_until(self, when: float) -> None:
        """Process every event due at or before ``when``, then set the clock to ``when``."""
        if when < self.now:
            raise ValueError(f"cannot run back in time: now {self.now}, asked {when}")
        self._drain(when)
        self.now = float(when)

    def _drain(self, until: float | None) -> None:
        """``step()`` until no event is left (or none is due at or before ``until``), as one loop.

        ``events_processed`` is brought up to date when the loop ends (``run`` with a ``stop``
        predicate steps one event at a time, so the predicate may read it).
        """
        heap = self._heap
        pop = heapq.heappop
        done = 0
        try:
            if until is None:
                while heap:
                    when, _, _, handler, target, token = pop(heap)
                    self.now = when
                    done += 1
                    handler(target, token)
            else:
                while heap and heap[0][0] <= until:
                    when, _, _, handler, target, token = pop(heap)
                    self.now = when
                    done += 1
                    handler(target, token)
        finally:
            self.events_processed += done

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative duration ({seconds})")
        self.run_until(self.now + seconds)

    def run(self, stop: Callable[[], bool] | None = None, until: float | None = None) -> bool:
        """Process events until ``stop()`` holds, the next event lies past ``until``, or none is left.

        Returns whether ``stop`` was satisfied (always False without one).
        """
        heap = self._heap
        if stop is None:
            self._drain(until)
            if until is not None and until > self.now:
                self.now = float(until)
            return False
        while True:
            if stop():
                return True
            if not heap or (until is not None and heap[0][0] > until):
                if until is not None and until > self.now:
                    self.now = float(until)
                return False
            self.step()

    # ------------------------------------------------------------------ transitions

    def _fire(
        self, fsm: Dispatcher[Any], entity: Any, trigger: str, extra_rules: tuple[str, ...] = ()
    ) -> Step | None:
        """Fire ``trigger`` on ``entity`` through the dispatcher's generated function for it."""
        fire = fsm.fire.get(trigger)
        if fire is None:
            return fsm.select(entity, trigger)  # not declared at all: raises InvalidTrigger
        return fire(entity, extra_rules)

    def _dispatch(self, backend: BackendRecord) -> None:
        """Let the scheduler pick the next job if the device is free (``dispatch`` is optional: a no-op when busy)."""
        self._fire_dispatch(backend)

    # ------------------------------------------------------------------ scheduler guards and actions

    def guard_session_job_waiting(self, backend: BackendRecord) -> bool:
        session = backend.active_session
        return session is not None and session.n_queued > 0 and session.deadline > self.now

    def guard_held_for_active_session(self, backend: BackendRecord) -> bool:
        return backend.active_session is not None

    def guard_fair_share_job_waiting(self, backend: BackendRecord) -> bool:
        if self._skip_session_jobs and backend.active_session is not None:
            candidate = backend.candidate = backend.queue.first(_sessionless)
        else:
            candidate = backend.candidate = backend.queue.first(self._eligible)
        return candidate is not None

    def _before_deadline(self, job: JobRecord) -> bool:
        """A session job may start only before its session's max_time deadline (MAXTIME-EXPIRY)."""
        session = job.session
        return session is None or session.deadline > self.now

    def action_start_session_job(self, backend: BackendRecord) -> None:
        session: SessionRecord = backend.active_session  # type: ignore[assignment]  # its guard saw one
        job: JobRecord = session.head()  # type: ignore[assignment]  # with a job queued
        self._start(job, ("SCHED-PRIORITY", "SCHED-SESSION-FIFO"))

    def action_start_fair_share_job(self, backend: BackendRecord) -> None:
        job: JobRecord = backend.candidate  # type: ignore[assignment]  # its guard found one
        backend.candidate = None
        session = job.session
        if session is None:
            self._start(job, ("SCHED-FAIRSHARE",))
            return
        head: JobRecord = session.head()  # type: ignore[assignment]  # the candidate at least
        waits = "SESSION-REACTIVATE" if session.state == "inactive" else "SCHED-FIRST-JOB-WAITS"
        self._start(head, ("SCHED-FAIRSHARE", waits))

    def _start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        backend = job.backend
        session = job.session
        job.started_at = self.now
        backend.running = job
        if session is not None:
            session.n_queued -= 1
            session.running = job
        self._fire_start(job, why)
        if session is not None:
            if session.state != "active" and backend.active_session is None:
                if session.state == "pending":
                    session.started_at = self.now
                    session.max_time = self._effective_max_time(session, job)
                self._fire_job_started(session)
                backend.active_session = session
            self._update_window(session)

    def _effective_max_time(self, session: SessionRecord, first: JobRecord) -> float:
        if session.requested_max_time is not None:
            return float(session.requested_max_time)
        system = session.backend.config.system_max_time
        if self._default_first_job:
            return min(system, first.max_execution_time)
        return system

    # ------------------------------------------------------------------ job actions and device

    def action_arm_max_execution_time(self, job: JobRecord) -> None:
        """Arm the max_execution_time timer and the device's end of the job as one event."""
        token = job.token = job.token + 1
        run = job.max_execution_time if job.duration > job.max_execution_time else job.duration
        _push(self._heap, (self.now + run, self._job_end_order, next(self._seq), self._job_end, job, token))

    def _on_job_end(self, job: JobRecord, token: int) -> None:
        if job.token != token or job.state != "running":
            return
        if job.duration > job.max_execution_time:
            self._fire_max_execution_time(job)
        elif job.fault:
            self._fire_device_error(job)
        else:
            self._fire_complete(job)
        self._left_device(job)

    def _left_device(self, job: JobRecord, dispatch: bool = True) -> None:
        """The job stopped running (any outcome): free the device and let the scheduler go on."""
        backend = job.backend
        job.ended_at = self.now
        job.token += 1
        backend.running = None
        if backend.charges:  # FIFO keeps no account of usage
            assert job.started_at is not None
            backend.queue.charge(job, self.now - job.started_at)
        self._fire_job_ended(backend)
        session = job.session
        if session is not None:
            session.running = None
            self._update_window(session)
        self._forget(job)
        if dispatch:
            self._dispatch(backend)

    def _left_queue(self, job: JobRecord) -> None:
        """The job left ``queued`` without starting (cancelled or failed)."""
        job.ended_at = self.now
        session = job.session
        if session is not None:
            session.n_queued -= 1
            self._update_window(session)
        self._forget(job)

    def _forget(self, job: JobRecord) -> None:
        if not self.retain_finished:
            self.jobs.pop(job.id, None)

    def inject_fault(self, backend_name: str) -> JobRecord | None:
        """The device fails its running job now (DEVICE-FAULT); None if it runs none."""
        job = self._backend(backend_name).running
        if job is None:
            return None
        self._fire(self.job_fsm, job, "device_error")
        self._left_device(job)
        return job

    # ------------------------------------------------------------------ session timers and actions

    def _update_window(self, session: SessionRecord) -> None:
        """Open or close the interactive window per INT-INTERACTIVE-WINDOW (TTL-INTERACTIVE).

        A window is identified by the event sequence number it takes when it opens (its
        ``window_token``), and its timeout event is keyed (deadline, timer order, that number),
        so it runs exactly where a timer pushed at the opening would. Most windows close within
        seconds, so the event is pushed lazily: a session keeps at most one timeout event on
        the heap (at ``window_timer``, never later than a window opened since); when it comes
        due for a window that has closed, it pushes the open window's own event, if any.
        """
        if session.state != "active":
            return
        if session.n_queued == 0 and (self._window_on_queue_empty or session.running is None):  # idle
            if session.window_deadline is None:
                deadline = session.window_deadline = self.now + INTERACTIVE_TIMEOUT
                token = session.window_token = next(self._seq)
                if session.window_timer is None:
                    session.window_timer = deadline
                    _push(self._heap, (deadline, _TIMER, token, self._on_interactive_timeout, session, token))
        elif session.window_deadline is not None:
            session.window_deadline = None

    def _on_interactive_timeout(self, session: SessionRecord, token: int) -> None:
        session.window_timer = None
        deadline = session.window_deadline
        if deadline is None or session.state != "active":
            return  # the window closed (a job queued or ran, or the session left active)
        if token != session.window_token:
            # Armed by a window that has since closed; the open one's event goes on now, as keyed at its opening.
            token = session.window_token
            session.window_timer = deadline
            _push(self._heap, (deadline, _TIMER, token, self._on_interactive_timeout, session, token))
            return
        self._fire_interactive_timeout(session)
        self._dispatch(session.backend)

    def action_arm_max_time(self, session: SessionRecord) -> None:
        assert session.started_at is not None and session.max_time is not None
        session.deadline = session.started_at + session.max_time
        self._at(session.deadline, self._on_max_time, session)

    def _on_max_time(self, session: SessionRecord, _token: int) -> None:
        if session.state == "closed":
            return
        self._fire_max_time(session)
        self._dispatch(session.backend)

    def action_release_backend(self, session: SessionRecord) -> None:
        """The session stops holding its backend: deactivated or closed."""
        backend = session.backend
        if backend.active_session is session:
            backend.active_session = None
        session.window_deadline = None  # the interactive window closes
        if session.state == "closed":
            session.closed_at = self.now
            if not self.retain_finished:
                # Kept while among the last CLOSED_WINDOW closed sessions (a late submit or close
                # is still judged exactly, SESSION-CLOSED), then forgotten: UNKNOWN-SESSION.
                closed = self._closed
                closed.append(session.id)
                if len(closed) > self.CLOSED_WINDOW:
                    old = closed.popleft()
                    stale = self.sessions.get(old)
                    if stale is not None and stale.state == "closed":
                        del self.sessions[old]
                        stale.first_job = None  # break the session <-> first job cycle: freed at once

    def _cascade(self, session: SessionRecord, trigger: str) -> None:
        """Fail the unfinished jobs of a closing session with the job trigger the closing names."""
        for job in list(session.queue):
            if job.state == "queued":
                self._fire(self.job_fsm, job, trigger)
                self._left_queue(job)
        session.queue.clear()
        running = session.running
        if running is not None and running.state == "running" and self.job_fsm.allows("running", trigger):
            self._fire(self.job_fsm, running, trigger)
            self._left_device(running)

    # ------------------------------------------------------------------ client requests

    def _reject(self, request: Request, code: str, message: str) -> RequestRejected:
        error = RequestRejected(code, message)
        args = {k: _recordable(v) for k, v in request.args.items()} if request.args else request.args
        self._emit(request._replace(args=args, error=code, rules=error.rules, message=error.detail))
        return error

    def _backend(self, name: str) -> BackendRecord:
        try:
            return self.backends[name]
        except KeyError:
            known = ", ".join(self.backends)
            raise RequestRejected("BACKEND-UNKNOWN", f"unknown backend {name!r}; known: {known}") from None

    def open_session(
        self, backend: str | None, max_time: object = None, session_id: str | None = None
    ) -> SessionRecord:
        """Open a session (pending until its first job starts)."""
        request = Request(self.now, "open", backend, session_id, None, {"max_time": max_time})
        if backend is None:
            raise self._reject(request, "BACKEND-REQUIRED", "a session needs a backend")
        if backend not in self.backends:
            raise self._reject(request, "BACKEND-UNKNOWN", f"unknown backend {backend!r}")
        record = self.backends[backend]
        if session_id is not None and session_id in self.sessions:
            raise self._reject(request, "DUPLICATE-ID", f"session {session_id!r} already exists")
        seconds: int | None = None
        if max_time is not None:
            try:
                seconds = parse_max_time(max_time)
            except RequestRejected as error:
                raise self._reject(request, error.code, error.detail) from None
            limit = record.config.system_max_time
            if seconds > limit or (self._strict_upper and seconds == limit):
                relation = "below" if self._strict_upper else "at most"
                raise self._reject(
                    request, "MAXTIME-ABOVE-SYSTEM",
                    f"max_time {seconds} s must be {relation} the system max_time of {backend} ({limit:g} s)",
                )
        if session_id is None:
            session_id = self._fresh(self._session_ids, "s", self.sessions)
        session = SessionRecord(session_id, record, seconds)
        self.sessions[session_id] = session
        self._emit(request._replace(session=session_id))
        self._emit(Change(self.now, "session", session_id, backend, None, None, "pending", "open", _OPEN_RULES))
        return session

    def submit(
        self,
        session_id: str | None = None,
        backend: str | None = None,
        *,
        job_id: str | None = None,
        max_execution_time: object = None,  # any object: a malformed one is rejected (and traced)
        duration: float | None = None,
        fault: bool | None = None,
        group: str = "default",
        program: str = "estimator",
    ) -> JobRecord:
        """Submit a job to a session, or to a backend's fair-share queue when no session is given."""
        session: SessionRecord | None = None
        if session_id is not None:
            session = self.sessions.get(session_id)
            if session is None:
                raise self._reject_submit(
                    "UNKNOWN-SESSION", f"unknown session {session_id!r}",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            if backend is not None and backend != session.backend_name:
                raise self._reject_submit(
                    "BACKEND-FIXED", f"session {session_id} runs on {session.backend_name}, not {backend}",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            backend = session.backend_name
            if session.state == "closed":
                raise self._reject_submit(
                    "SESSION-CLOSED", f"session {session_id} is closed",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            record = session.backend  # a live session's backend is always known
        else:
            if backend is None:
                raise self._reject_submit(
                    "BACKEND-REQUIRED", "a job outside a session needs a backend",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            known = self.backends.get(backend)
            if known is None:
                raise self._reject_submit(
                    "BACKEND-UNKNOWN", f"unknown backend {backend!r}",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            record = known
        if job_id is not None and job_id in self.jobs:
            raise self._reject_submit(
                "DUPLICATE-ID", f"job {job_id!r} already exists",
                backend, session_id, job_id, max_execution_time, group, program,
            )
        if max_execution_time is None:
            explicit = False
            met = record.default_max_execution_time
        else:
            explicit = True
            if isinstance(max_execution_time, bool) or not isinstance(max_execution_time, int | float) or (
                not 0 < max_execution_time < math.inf
            ):
                raise self._reject_submit(
                    "MAX-EXECUTION-TIME-FORMAT",
                    f"max_execution_time must be a positive number of seconds, got {max_execution_time!r}",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            if session is not None and self._job_bound and max_execution_time >= session.max_time_bound:
                raise self._reject_submit(
                    "MAXTIME-BELOW-JOB",
                    f"max_execution_time {max_execution_time:g} s is not below the max_time "
                    f"{session.max_time_bound:g} s of session {session.id}",
                    backend, session_id, job_id, max_execution_time, group, program,
                )
            met = float(max_execution_time)
        if duration is None:
            duration = record.config.duration.draw(record.rng)
        elif type(duration) is not float:
            duration = float(duration)
        if fault is None:
            fault = record.rng.random() < record.config.fault_rate
        if job_id is None:
            job_id = self._fresh(self._job_ids, "j", self.jobs)
        # Positional (id, backend, session, max_execution_time, explicit, duration, fault, group,
        # program, submitted_at): keywords cost a quarter of a microsecond per job.
        job = JobRecord(job_id, record, session, met, explicit, duration, fault, group, program, self.now)
        self.jobs[job_id] = job
        if self._tracing:
            self._emit(self._submit_request(backend, session_id, job_id, max_execution_time, group, program))
            self._emit(
                _new_record(Change, (
                    self.now, "job", job_id, backend, session_id, None, "queued", "submit",
                    _SUBMIT_RULES_SESSION if session is not None else _SUBMIT_RULES_PLAIN, None, None,
                ))
            )
        record.queue.push(job)
        if session is not None:
            session.queue.append(job)
            session.n_queued += 1
            session.n_jobs += 1
            if session.first_job is None:
                session.first_job = job
            # Queued, if only for an instant: the interactive window closes, to restart when the session
            # is idle again (TTL-INTERACTIVE). This is _update_window with a job queued: an open window
            # implies an active session.
            if session.window_deadline is not None:
                session.window_deadline = None
            if session.doomed:
                self._fire(self.job_fsm, job, "first_job_cancelled")
                self._left_queue(job)
                return job
        if record.state == "idle":  # _dispatch's own test, saving a call when the device is busy
            self._dispatch(record)
        return job

    def _reject_submit(
        self, code: str, message: str, backend: str | None, session_id: str | None, job_id: str | None,
        max_execution_time: object, group: str, program: str,
    ) -> RequestRejected:
        request = self._submit_request(backend, session_id, job_id, max_execution_time, group, program)
        return self._reject(request, code, message)

    def _submit_request(
        self, backend: str | None, session_id: str | None, job_id: str | None, max_execution_time: object,
        group: str, program: str,
    ) -> Request:
        args = {"max_execution_time": max_execution_time, "group": group, "program": program}
        return _new_record(Request, (self.now, "submit", backend, session_id, job_id, args, None, (), None))

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued or running job (JOB-CANCEL); FIRST-JOB-CANCEL follows for a first job."""
        request = Request(self.now, "cancel", None, None, job_id, None)
        job = self.jobs.get(job_id)
        if job is None:
            raise self._reject(request, "UNKNOWN-JOB", f"unknown job {job_id!r}")
        request = request._replace(backend=job.backend.name, session=job.session_id)
        if job.state in _TERMINAL:
            raise self._reject(request, "JOB-FINISHED", f"job {job_id} has already ended ({job.state})")
        self._emit(request)
        was_running = job.state == "running"
        self._fire(self.job_fsm, job, "cancel")
        session = job.session
        first = session is not None and session.first_job is job and session.state != "closed"
        # The first job's consequences come before the freed device is dispatched again.
        if was_running:
            self._left_device(job, dispatch=not first)
        else:
            self._left_queue(job)
        if first:
            assert session is not None
            self._first_job_cancelled(session)
        elif not was_running:
            self._dispatch(job.backend)
        return job

    def _first_job_cancelled(self, session: SessionRecord) -> None:
        if self._close_on_first_cancel:
            self._fire(self.session_fsm, session, "first_job_cancelled")
        else:
            session.doomed = True
            for job in list(session.queue):
                if job.state == "queued":
                    self._fire(self.job_fsm, job, "first_job_cancelled")
                    self._left_queue(job)
            session.queue.clear()
        self._dispatch(session.backend)

    def close(self, session_id: str) -> SessionRecord:
        """Close a session (SESSION-CLOSE); closing a closed session is accepted and changes nothing."""
        request = Request(self.now, "close", None, session_id, None, None)
        session = self.sessions.get(session_id)
        if session is None:
            raise self._reject(request, "UNKNOWN-SESSION", f"unknown session {session_id!r}")
        self._emit(request._replace(backend=session.backend.name))
        if session.state != "closed":
            self._fire(self.session_fsm, session, "close")
            self._dispatch(session.backend)
        return session

    # ------------------------------------------------------------------ background load

    def add_background_load(self, load: BackgroundLoad, until: float | None = None) -> None:
        """Poisson arrivals of other users' fair-share jobs on one backend, from now until ``until``."""
        record = self._backend(load.backend)
        rng = backend_rng(self.seed, f"{load.backend}/background/{load.group}")
        rate = load.jobs_per_hour / 3600.0

        def arrive(_: object, __: int) -> None:
            if until is not None and self.now > until:
                return
            self.submit(None, record.name, duration=load.duration.draw(rng), group=load.group, program="background")
            self._at(self.now + rng.expovariate(rate), arrive, None, order=_ARRIVAL)

        self._at(self.now + rng.expovariate(rate), arrive, None, order=_ARRIVAL)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _fresh(counter: Iterable[int], prefix: str, taken: dict[str, Any]) -> str:
        for n in counter:
            candidate = f"{prefix}{n}"
            if candidate not in taken:
                return candidate
        raise AssertionError("unreachable")


_push = heapq.heappush


def _sessionless(job: JobRecord) -> bool:
    return job.session is None


def _call(callback: Callable[[], None], _token: int) -> None:
    callback()


_COMPILED = not isinstance(_call, types.FunctionType)
"""Whether mypyc compiled this module: methods are then read-only, and a call to one costs no frame."""

_new_record = tuple.__new__
"""``tuple.__new__(Change, fields)``: a trace record without NamedTuple's Python-level ``__new__``."""


def _recordable(value: object) -> object:
    """A rejected argument as the trace can hold it: JSON scalars as given, anything else
    (NaN, infinities, arbitrary objects) by its repr, so that the line stays valid JSON."""
    if value is None or isinstance(value, str | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return repr(value)
