"""What the engine's parts share, and the hooks each part provides to the others.

The engine (:class:`model.sim.engine.Engine`) is assembled from parts stacked on this core,
one class each, in a single chain (``Core`` < ``Closing`` < ``Timers`` < ``Device`` <
``Scheduling`` < ``RequestHandling`` < ``Engine``): :mod:`~model.sim.closing` (what a closing
session does to its jobs), :mod:`~model.sim.timers` (the session timers),
:mod:`~model.sim.device` (jobs on and off the device), :mod:`~model.sim.scheduling` (who gets
the device) and :mod:`~model.sim.requests` (client requests and their validation). A chain,
not mixins, because the compiled build (``setup.py``) makes them native classes, which allow
single inheritance only; a part still reaches the others only through the hooks below. The methods below
are the engine's extension points (see ``EXTENSION_POINTS`` in :mod:`model.sim.engine`):
a variant engine, such as a mutant, overrides these and nothing private.
"""

from __future__ import annotations

from typing import Any

from mypy_extensions import mypyc_attr

from model.sim.clock import Clock, Handler
from model.sim.dispatch import Dispatcher, Step, Trigger
from model.sim.entities import BackendRecord, JobRecord, SessionRecord
from model.sim.retention import Retention
from model.spec.interpretations import Interpretation, Policy
from model.trace import Emitter, Sink


@mypyc_attr(allow_interpreted_subclasses=True)
class Core(Clock):
    """The records, the policy, the trigger functions and the trace the parts work on."""

    interpretation: Interpretation
    policy: Policy
    seed: int
    backends: dict[str, BackendRecord]
    sessions: dict[str, SessionRecord]
    jobs: dict[str, JobRecord]
    retention: Retention
    job_end_order: int
    """The clock order of device job ends (INT-EXPIRY-TIE)."""
    session_fsm: Dispatcher[SessionRecord]
    job_fsm: Dispatcher[JobRecord]
    scheduler_fsm: Dispatcher[BackendRecord]
    _skip_session_jobs: bool
    _window_on_queue_empty: bool
    _doom_on_failure: bool
    """INT-FIRST-JOB-FAILURE=as_cancel: a failing first job dooms its session's later jobs."""
    _clock_at_open: bool
    """INT-MAXTIME-CLOCK=open: the max_time clock starts when the session opens."""
    _window_seconds: float
    """The interactive window in force: the profile's, or a variant engine's ``interactive_window``."""
    _unused_timeout: float | None
    """The profile's unused-session timeout (None: the profile has none)."""
    _emit: Sink
    _emitter: Emitter
    _tracing: bool
    _fire_start: Trigger
    _fire_complete: Trigger
    _fire_device_error: Trigger
    _fire_max_execution_time: Trigger
    _fire_job_started: Trigger
    _fire_interactive_timeout: Trigger
    _fire_max_time: Trigger
    _fire_job_ended: Trigger
    _job_end: Handler
    """:meth:`on_job_end` (a variant's, if it overrides it), bound once: the event every job start pushes."""
    _window_end: Handler
    """:meth:`on_interactive_timeout`, likewise: the event an interactive window pushes."""

    def fire(self, fsm: Dispatcher[Any], entity: Any, trigger: str, extra_rules: tuple[str, ...] = ()) -> Step | None:
        """Fire ``trigger`` on ``entity`` through its lifecycle's dispatcher (raises if it is not declared)."""
        fire = fsm.fire.get(trigger)
        if fire is None:
            return fsm.select(entity, trigger)  # not declared at all: raises InvalidTrigger
        return fire.on(entity, extra_rules)

    dispatch: Trigger
    """The scheduler's ``dispatch`` trigger: pick the next job if the device is free (a no-op when busy)."""

    # Provided by the parts (the engine's class puts them before this one).

    def start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        """Give the device to ``job``; ``why`` are the rules of the choice (scheduling)."""
        raise NotImplementedError

    def leave_device(self, job: JobRecord, dispatch: bool = True) -> None:
        """``job`` stopped running, whatever the outcome (device)."""
        raise NotImplementedError

    def leave_queue(self, job: JobRecord) -> None:
        """``job`` left ``queued`` without starting (device)."""
        raise NotImplementedError

    def update_window(self, session: SessionRecord) -> None:
        """Open or close the session's interactive window (timers)."""
        raise NotImplementedError

    def arm_max_time_at_open(self, session: SessionRecord) -> None:
        """Start a just-opened session's max_time clock, under INT-MAXTIME-CLOCK=open (timers)."""
        raise NotImplementedError

    def first_job_cancelled(self, session: SessionRecord) -> None:
        """The session's first job was cancelled (closing)."""
        raise NotImplementedError

    def first_job_failed(self, session: SessionRecord) -> None:
        """The session's first job failed, under INT-FIRST-JOB-FAILURE=as_cancel (closing)."""
        raise NotImplementedError

    def dooms_by_failing(self, job: JobRecord) -> bool:
        """Whether ``job``, failing now, dooms its session's later jobs (closing)."""
        raise NotImplementedError

    def arm_unused(self, session: SessionRecord) -> None:
        """(Re-)arm the platform's unused-session timer from now (timers)."""
        raise NotImplementedError

    def job_left_session(self, session: SessionRecord) -> None:
        """A job of ``session`` ended (device): re-arm its unused timer, end its drain (closing)."""
        raise NotImplementedError
