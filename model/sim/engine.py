"""The reference engine: a deterministic discrete-event simulation of the session scheduler.

Virtual time only (:class:`model.sim.clock.Clock`): events due at the same instant run by
order class (device job ends before timers under INT-EXPIRY-TIE=job_first, after them under
expiry_first; client callbacks and background arrivals last), then in the order they were
scheduled; a client request made at t comes after every event due at t. No session job
starts at or after its session's max_time deadline.

Every state change goes through a trigger function of the dispatcher built from the
declaration (:class:`model.sim.dispatch.Dispatcher`): it selects the declared transition,
records it on the trace and runs its action, so the engine cannot take a transition the
declaration does not have. The engine is assembled from parts (:mod:`model.sim`); a
variant engine overrides only the :data:`EXTENSION_POINTS` and otherwise uses only those and
:data:`FOR_VARIANTS` (``tests/test_mutants.py`` holds the mutants and the replay engine to it).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from mypy_extensions import mypyc_attr

from model.sim.clock import ARRIVAL, JOB_END_FIRST, JOB_END_LAST
from model.sim.devices import BackendConfig, BackgroundLoad, backend_rng
from model.sim.dispatch import Dispatcher
from model.sim.dispatch import Observer as _Observer
from model.sim.entities import BackendRecord, JobRecord, SessionRecord
from model.sim.fair_share import FairShare, FifoQueue
from model.sim.requests import RequestHandling
from model.sim.retention import ForgetFinished, KeepAll, Retention
from model.spec.interpretations import DEFAULT, ExpiryTie, FirstJobFailure, Interpretation
from model.spec.lifecycles import JOB, SCHEDULER, SESSION
from model.spec.profiles import DEFAULT_PROFILE
from model.spec.validations import RequestRejected
from model.trace import Header, Sink, direct, emitter, null_sink

Observer = _Observer
"""Called as (lifecycle name, entity, trigger, chosen step) just before a state change."""

EXTENSION_POINTS: tuple[str, ...] = (
    # requests: which requests are refused, in which order (model.sim.requests)
    "open_checks", "submit_checks", "cancel_checks", "close_checks",
    # scheduling: who gets the device (model.sim.scheduling); the guards and actions the declaration names
    "next_session_job", "start", "effective_max_time",
    "guard_session_job_waiting", "guard_held_for_active_session", "guard_fair_share_job_waiting",
    # the device (model.sim.device)
    "on_job_end", "leave_device", "inject_fault",
    # timers (model.sim.timers): durations and expiries
    "interactive_window", "on_interactive_timeout", "max_time_deadline", "on_max_time", "on_unused_timeout",
    # how an accepted open's max_time is read (model.sim.requests)
    "read_max_time",
    # closing (model.sim.closing)
    "fail_unfinished", "first_job_cancelled", "first_job_failed", "job_left_session",
    "guard_session_has_unfinished_jobs", "guard_session_is_batch",
    # the public requests themselves
    "open_session", "submit", "cancel", "close", "cancel_session",
)
"""What a variant engine (a mutant, the replay engine) may override; everything else is the engine's own."""

FOR_VARIANTS: tuple[str, ...] = (
    # the clock (model.sim.clock)
    "now", "schedule", "discard", "run_before", "next_event_time", "pending_events", "step", "step_selected",
    # the records
    "backends", "sessions", "jobs",
    # state changes: through the declaration's dispatchers (model.sim.core), and the parts' own steps
    "fire", "job_fsm", "session_fsm", "dispatch", "leave_queue", "fail_queued", "end_running", "arm_unused",
    # settings, read-only: the order of device job ends at an instant, the timers (model.sim.timers.TimerSettings)
    "job_end_order", "timer_settings",
)
"""What a variant engine may call or read of the engine besides the :data:`EXTENSION_POINTS` (it overrides none
of these). Nothing whose name starts with ``_`` is either: the engine's private fields change without notice."""


@mypyc_attr(allow_interpreted_subclasses=True)
class Engine(RequestHandling):
    """The reference scheduler for one or more backends on one virtual clock.

    With ``retain_finished=False`` memory stays bounded by the live sessions and jobs: a
    finished job is forgotten at once (a later cancel naming it is rejected UNKNOWN-JOB,
    where a retaining engine says JOB-FINISHED), and a closed session once
    ``CLOSED_WINDOW`` sessions have closed after it (UNKNOWN-SESSION then). ``retention``
    replaces both policies by another.
    """

    # The state the parts share (model.sim.clock.Clock, model.sim.core.Core and the parts), as slots: an
    # engine holds more attributes than CPython 3.11 keeps in a compact instance dictionary (30), past
    # which every attribute access on the engine is a hashed lookup. A variant engine keeps a __dict__
    # for its own attributes.
    __slots__ = (
        "_checks_of", "_clock_at_open", "_deadlines", "_doom_on_failure", "_emit", "_emitter", "_fire_complete",
        "_fire_device_error", "_fire_interactive_timeout", "_fire_job_ended", "_fire_job_started",
        "_fire_max_execution_time", "_fire_max_time", "_fire_start", "_heap", "_job_end", "_job_ids", "_observer",
        "_seq", "_session_ids", "_skip_session_jobs", "_starts_before_deadline", "_submit_checks_for", "_tracing",
        "_unused_timeout", "_window_end", "_window_on_queue_empty", "_window_seconds", "backends", "dispatch",
        "events_processed", "interpretation", "job_end_order", "job_fsm", "jobs", "now", "policy", "reserved_ids",
        "retention", "scheduler_fsm", "seed", "session_fsm", "sessions",
    )

    DEFAULT_CLOSED_WINDOW = 1_000
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
        retention: Retention | None = None,
    ) -> None:
        if not backends:
            raise ValueError("an engine needs at least one backend")
        super().__init__()
        self.interpretation = interpretation
        self.policy = interpretation.policy
        self.seed = seed
        if retention is None:
            retention = KeepAll() if retain_finished else ForgetFinished(self.DEFAULT_CLOSED_WINDOW)
        self.retention = retention
        self._emit = direct(sink) if sink is not None else null_sink
        self._tracing = sink is not None and sink is not null_sink
        """False when nobody reads the trace: the hot path then builds no records at all."""
        self._emitter = emitter(sink if sink is not None else null_sink)
        """The sink as the hot path calls it: with a record's fields (a trace writer builds no record)."""
        self._session_ids = itertools.count(1)
        self._job_ids = itertools.count(1)
        self.reserved_ids: set[str] = set()
        self.backends: dict[str, BackendRecord] = {}
        for config in backends:
            if config.name in self.backends:
                raise ValueError(f"backend {config.name!r} is configured twice")
            self.backends[config.name] = BackendRecord(config, fair_share(), backend_rng(seed, config.name))
        self.sessions: dict[str, SessionRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self.job_end_order = JOB_END_FIRST if self.policy.expiry_tie is ExpiryTie.JOB_FIRST else JOB_END_LAST
        self._doom_on_failure = self.policy.first_job_failure is FirstJobFailure.AS_CANCEL
        self.init_requests()
        self.init_scheduling()
        self.init_timers()

        # The trigger functions record nothing when nobody reads the trace.
        bind, emit, cascade = self._bind, self._emitter if self._tracing else None, self.fail_unfinished
        self.session_fsm = Dispatcher(SESSION.under(interpretation), bind, clock=self, emit=emit, cascade=cascade)
        self.job_fsm = Dispatcher(JOB.under(interpretation), bind, clock=self, emit=emit, cascade=cascade)
        self.scheduler_fsm = Dispatcher(
            SCHEDULER.under(interpretation), bind, clock=self, emit=emit, cascade=cascade, optional=("dispatch",)
        )
        self.observer = observer
        job, session, scheduler = self.job_fsm.fire, self.session_fsm.fire, self.scheduler_fsm.fire
        self._fire_start = job["start"]
        self._fire_complete = job["complete"]
        self._fire_device_error = job["device_error"]
        self._fire_max_execution_time = job["max_execution_time_reached"]
        self._fire_job_started = session["job_started"]
        self._fire_interactive_timeout = session["interactive_timeout"]
        self._fire_max_time = session["max_time_reached"]
        self.dispatch = scheduler["dispatch"]  # optional in the declaration: a no-op while the device is busy
        self._fire_job_ended = scheduler["job_ended"]
        self._job_end = self.on_job_end  # bound once, not per event (a variant's override included)
        self._window_end = self.on_interactive_timeout

        self._emit(
            Header(
                interpretation.recorded(),
                {name: b.config.limits() for name, b in self.backends.items()},
                self._window_seconds,
                interpretation.profile or DEFAULT_PROFILE,
            )
        )

    @property
    def CLOSED_WINDOW(self) -> int:  # kept under its old constant's name
        """How many closed sessions this engine keeps when it forgets finished entities."""
        retention = self.retention
        return retention.window if isinstance(retention, ForgetFinished) else self.DEFAULT_CLOSED_WINDOW

    @CLOSED_WINDOW.setter
    def CLOSED_WINDOW(self, window: int) -> None:
        if isinstance(self.retention, ForgetFinished):
            self.retention.window = window

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

    def _backend(self, name: str) -> BackendRecord:
        try:
            return self.backends[name]
        except KeyError:
            known = ", ".join(self.backends)
            raise RequestRejected("BACKEND-UNKNOWN", f"unknown backend {name!r}; known: {known}") from None

    def inject_fault(self, backend_name: str) -> JobRecord | None:
        """The device fails its running job now (DEVICE-FAULT); None if it runs none."""
        job = self._backend(backend_name).running
        if job is None:
            return None
        self.end_running(job, "device_error")
        return job

    def add_background_load(self, load: BackgroundLoad, until: float | None = None) -> None:
        """Poisson arrivals of other users' fair-share jobs on one backend, from now until ``until``."""
        record = self._backend(load.backend)
        rng = backend_rng(self.seed, f"{load.backend}/background/{load.group}")
        rate = load.jobs_per_hour / 3600.0

        def arrive(_: object, __: int) -> None:
            if until is not None and self.now > until:
                return
            self.submit(None, record.name, duration=load.duration.draw(rng), group=load.group, program="background")
            self.schedule(self.now + rng.expovariate(rate), arrive, None, order=ARRIVAL)

        self.schedule(self.now + rng.expovariate(rate), arrive, None, order=ARRIVAL)
