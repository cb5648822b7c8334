"""The one declaration of the session, job and scheduler lifecycles.

States, transitions (with guards, actions and rule IDs), and timers are data here
and nowhere else. :mod:`model.spec.machines` builds ``transitions`` machines from it
(the literal executable spec), :mod:`model.sim.dispatch` compiles it into the engine's
fast dispatcher, and the diagrams and the rule catalogue read it.

Guard and action names are the callback names of the ``transitions`` model; the
engine implements each as a method ``guard_<name>`` / ``action_<name>``.
A transition may apply only under some interpretation options (``only_if``). States,
transitions and timers also name the profiles they belong to (``profiles``,
:mod:`model.spec.profiles`): the seeds' and the platform's lifecycles are this one
declaration, each selected by :meth:`Lifecycle.under`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from model.spec.interpretations import DEFAULT, POINTS_BY_ID, Interpretation, InterpretationError
from model.spec.profiles import PLATFORM, PROFILES, SEEDS

INTERACTIVE_TIMEOUT = PROFILES[SEEDS].interactive_timeout
"""The seeds' interactive window in seconds (TTL-INTERACTIVE-VALUE): fixed, not client-configurable.
Each profile has its own (:attr:`model.spec.profiles.Profile.interactive_timeout`)."""

BOTH: tuple[str, ...] = (SEEDS, PLATFORM)
"""Every profile: the default of a declared element's ``profiles``."""
ONLY_SEEDS: tuple[str, ...] = (SEEDS,)
ONLY_PLATFORM: tuple[str, ...] = (PLATFORM,)


def _check_profiles(what: str, profiles: tuple[str, ...]) -> None:
    unknown = [name for name in profiles if name not in PROFILES]
    if unknown or not profiles:
        raise InterpretationError(f"{what}: unknown profiles {unknown}; known: {', '.join(PROFILES)}")


@dataclass(frozen=True)
class State:
    name: str
    doc: str
    final: bool = False
    profiles: tuple[str, ...] = BOTH

    def __post_init__(self) -> None:
        _check_profiles(f"state {self.name}", self.profiles)


@dataclass(frozen=True)
class Transition:
    """One declared transition. Several with the same trigger and source are tried in order."""

    trigger: str
    source: tuple[str, ...]
    dest: str
    rules: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    action: str | None = None
    reason: str | None = None
    """For transitions into ``failed``: the failure reason recorded on the job."""
    cascade: str | None = None
    """For session transitions into ``closed``: the job trigger fired on its unfinished jobs."""
    timer: str | None = None
    """The timer whose expiry fires this trigger, if any."""
    only_if: tuple[tuple[str, str], ...] = ()
    """(interpretation ID, option) pairs that must all be chosen; checked against the points when declared."""
    records_max_time: bool = False
    """Whether its trace line records the session's max_time (the session's start), beyond the transitions
    whose action arms the max_time clock, which always do."""
    doc: str = ""
    profiles: tuple[str, ...] = BOTH
    """The profiles under which it is declared."""

    def __post_init__(self) -> None:
        _check_profiles(f"transition {self.trigger}", self.profiles)
        for key, option in self.only_if:
            point = POINTS_BY_ID.get(key)
            if point is None:
                raise InterpretationError(f"transition {self.trigger}: only_if names unknown interpretation {key!r}")
            if option not in point.option_names:
                allowed = ", ".join(point.option_names)
                raise InterpretationError(
                    f"transition {self.trigger}: only_if {key}={option!r} is not an option; allowed: {allowed}"
                )

    def applies(self, interpretation: Interpretation) -> bool:
        """Declared under the interpretation's profile, and every ``only_if`` option chosen (a point that
        does not arise under the profile counts as its default)."""
        if interpretation.profile not in self.profiles:
            return False
        choices = interpretation.choices
        return all(choices.get(key, POINTS_BY_ID[key].default) == option for key, option in self.only_if)


@dataclass(frozen=True)
class Timer:
    """A virtual-time timer: when it is armed, disarmed, how long it runs, what it fires."""

    name: str
    trigger: str
    duration: str
    armed: str
    disarmed: str
    rules: tuple[str, ...]
    profiles: tuple[str, ...] = BOTH

    def __post_init__(self) -> None:
        _check_profiles(f"timer {self.name}", self.profiles)


_UNDER: dict[tuple[int, Interpretation], tuple[Lifecycle, Lifecycle]] = {}
"""Lifecycle.under's answers: (the lifecycle, by identity, and the interpretation) -> (it, its narrowing)."""


@dataclass(frozen=True)
class Lifecycle:
    name: str
    entity: str
    doc: str
    states: tuple[State, ...]
    initial: str
    transitions: tuple[Transition, ...]
    timers: tuple[Timer, ...] = ()
    traced: bool = True
    """Whether its transitions are trace lines (the scheduler's show on the job lines instead)."""

    def under(self, interpretation: Interpretation) -> Lifecycle:
        """The lifecycle as it stands under one interpretation: the states, transitions and timers of
        other profiles, and the transitions of options not chosen, removed (worked out once per
        lifecycle and interpretation: every engine built asks)."""
        known = _UNDER.get((id(self), interpretation))
        if known is not None and known[0] is self:
            return known[1]
        profile = interpretation.profile
        narrowed = replace(
            self,
            states=tuple(state for state in self.states if profile in state.profiles),
            transitions=tuple(t for t in self.transitions if t.applies(interpretation)),
            timers=tuple(timer for timer in self.timers if profile in timer.profiles),
        )
        if len(_UNDER) < 1024:
            _UNDER[(id(self), interpretation)] = (self, narrowed)
        return narrowed

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(state.name for state in self.states if state.final)

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    def targets(self, source: str, trigger: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.trigger == trigger and source in t.source)


_LIVE = ("pending", "active", "inactive")

SESSION = Lifecycle(
    name="session",
    entity="session",
    doc="A session on one backend, from open to closed (closed is absorbing).",
    states=(
        State("pending", "opened; none of its jobs has started yet (the platform's open)"),
        State("active", "its queued jobs take priority on its backend"),
        State("inactive", "deactivated by the interactive timeout; its jobs queue normally"),
        State(
            "pending_closed",
            "closing: accepts no job (accepting_jobs false); its queued and running jobs run to completion",
            profiles=ONLY_PLATFORM,
        ),
        State("closed", "closed by the client, by max_time expiry or by first-job cancel", final=True),
    ),
    initial="pending",
    transitions=(
        Transition(
            "job_started", ("pending",), "active",
            ("SESSION-START-FIRST-JOB", "MAXTIME-ASSIGNED", "MAXTIME-DEFAULT"),
            action="arm_max_time", only_if=(("INT-MAXTIME-CLOCK", "first_job_start"),),
            doc="its first job starts on the device; the max_time clock starts",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "job_started", ("pending",), "active",
            ("SESSION-START-FIRST-JOB", "MAXTIME-ASSIGNED", "MAXTIME-DEFAULT"),
            action="arm_max_time",
            doc="its first job starts on the device; the max_time clock starts",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "job_started", ("pending",), "active",
            ("SESSION-START-FIRST-JOB", "MAXTIME-ASSIGNED", "MAXTIME-DEFAULT"),
            only_if=(("INT-MAXTIME-CLOCK", "open"),), records_max_time=True,
            doc="its first job starts on the device; the max_time clock runs since it opened",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "job_started", ("inactive",), "active", ("SESSION-REACTIVATE",),
            doc="the scheduler takes one of its jobs before max_time",
        ),
        Transition(
            "interactive_timeout", ("active",), "inactive",
            ("TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE"),
            timer="interactive", action="release_backend",
            doc="no session job queued for the interactive window",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "batch_job_ended", ("active",), "inactive", ("PLATFORM-BATCH",),
            conditions=("session_is_batch",), action="release_backend",
            doc="a batch's job ended and none of its jobs runs: it gives the device back at once",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "batch_ended", ("inactive",), "closed", ("PLATFORM-BATCH",),
            conditions=("session_unused",), timer="batch_end", action="release_backend",
            doc="a batch with nothing queued or running for the 60 s window after its last job",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "interactive_timeout", ("active",), "inactive",
            ("TTL-INTERACTIVE", "PLATFORM-ITTL-60S"),
            timer="interactive", action="release_backend",
            doc="no session job queued or running for the 60 s window after its last job",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "max_time_reached", ("active", "inactive"), "closed", ("MAXTIME-EXPIRY",),
            timer="max_time", cascade="session_expired", action="release_backend",
            doc="max_time has elapsed since the session started",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "max_time_reached", ("active", "inactive", "pending_closed"), "closed",
            ("MAXTIME-EXPIRY", "PLATFORM-EXPIRY-RUNNING-FINISH"),
            timer="max_time", cascade="session_expired", action="release_backend",
            doc="max_time has elapsed since the session started: queued jobs fail, a running one finishes",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "max_time_reached", ("pending",), "closed", ("MAXTIME-EXPIRY",),
            timer="max_time", cascade="session_expired", action="release_backend",
            only_if=(("INT-MAXTIME-CLOCK", "open"),),
            doc="max_time has elapsed since it opened, before any of its jobs started",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "close", _LIVE, "closed",
            ("SESSION-CLOSE", "CLOSE-FAILS-INCOMPLETE", "CONTEXT-CLOSE"),
            cascade="session_closed", action="release_backend",
            doc="the client closes it (or leaves its context manager)",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "close", _LIVE, "pending_closed", ("PLATFORM-CLOSE-DRAINS", "CONTEXT-CLOSE", "PLATFORM-BATCH"),
            conditions=("session_is_batch", "session_has_unfinished_jobs"), action="release_backend",
            doc="the client closes a batch with jobs queued or running: it drains them without holding the device",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "close", _LIVE, "pending_closed", ("PLATFORM-CLOSE-DRAINS", "CONTEXT-CLOSE"),
            conditions=("session_has_unfinished_jobs",),
            doc="the client closes it with jobs queued or running: it stops accepting jobs and drains them",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "close", _LIVE, "closed", ("PLATFORM-CLOSE-DRAINS", "CONTEXT-CLOSE"),
            action="release_backend",
            doc="the client closes it with no job queued or running: closed at once",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "drained", ("pending_closed",), "closed", ("PLATFORM-CLOSE-DRAINS",),
            action="release_backend",
            doc="the last job of a closing session ended",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "cancel_session", (*_LIVE, "pending_closed"), "closed", ("PLATFORM-CANCEL-SESSION",),
            cascade="session_cancelled", action="release_backend",
            doc="the client cancels it: its queued jobs are cancelled",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "unused_timeout", ("pending", "inactive"), "closed", ("PLATFORM-UNUSED-CLOSES",),
            conditions=("session_unused",), timer="unused", action="release_backend",
            doc="no job submitted, queued or running for 30 minutes",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "first_job_cancelled", _LIVE, "closed", ("FIRST-JOB-CANCEL",),
            cascade="first_job_cancelled", action="release_backend",
            only_if=(("INT-FIRST-JOB-CANCEL", "close_session"),),
            doc="its first job was cancelled",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "first_job_failed", _LIVE, "closed", ("FIRST-JOB-CANCEL",),
            cascade="first_job_failed", action="release_backend",
            only_if=(("INT-FIRST-JOB-FAILURE", "as_cancel"), ("INT-FIRST-JOB-CANCEL", "close_session")),
            doc="its first job failed",
            profiles=ONLY_SEEDS,
        ),
    ),
    timers=(
        Timer(
            "interactive", "interactive_timeout", "300 s (fixed)",
            armed="the interactive window opens (INT-INTERACTIVE-WINDOW) while active",
            disarmed="a job of the session is queued, or it leaves active",
            rules=("TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE"),
            profiles=ONLY_SEEDS,
        ),
        Timer(
            "interactive", "interactive_timeout", "60 s (fixed)",
            armed="a job of the active session ends and none is left queued or running",
            disarmed="a job of the session is queued, or it leaves active",
            rules=("TTL-INTERACTIVE", "PLATFORM-ITTL-60S"),
            profiles=ONLY_PLATFORM,
        ),
        Timer(
            "max_time", "max_time_reached", "the session's max_time",
            armed="the session starts (its first job starts); under INT-MAXTIME-CLOCK=open, it opens",
            disarmed="the session closes; never by deactivation",
            rules=("MAXTIME-ASSIGNED", "MAXTIME-EXPIRY"),
        ),
        Timer(
            "batch_end", "batch_ended", "60 s (fixed)",
            armed="a job of an inactive batch ends",
            disarmed="a job is submitted to it, or it closes",
            rules=("PLATFORM-BATCH",),
            profiles=ONLY_PLATFORM,
        ),
        Timer(
            "unused", "unused_timeout", "1800 s (fixed)",
            armed="the session opens, a job is submitted to it, or one of its jobs ends",
            disarmed="the session closes or starts closing",
            rules=("PLATFORM-UNUSED-CLOSES",),
            profiles=ONLY_PLATFORM,
        ),
    ),
)

JOB = Lifecycle(
    name="job",
    entity="job",
    doc="A job on one backend, in at most one session, from submission to its outcome.",
    states=(
        State("queued", "accepted and waiting for the device"),
        State("running", "on the device"),
        State("completed", "the device finished it", final=True),
        State("failed", "ended without a result; the reason says why", final=True),
        State("cancelled", "cancelled by the client", final=True),
    ),
    initial="queued",
    transitions=(
        Transition(
            "start", ("queued",), "running", ("SCHED-ONE-AT-A-TIME",),
            action="arm_max_execution_time",
            doc="the scheduler gives it the device",
        ),
        Transition("complete", ("running",), "completed", ("JOB-TERMINAL",), doc="the device finishes it"),
        Transition(
            "device_error", ("running",), "failed", ("DEVICE-FAULT",), reason="device_error",
            doc="the device reports an error",
        ),
        Transition(
            "max_execution_time_reached", ("running",), "failed", ("JOB-MAX-EXECUTION",),
            reason="max_execution_time_reached", timer="max_execution_time",
            doc="it has run for its max_execution_time",
        ),
        Transition("cancel", ("queued", "running"), "cancelled", ("JOB-CANCEL",), doc="the client cancels it"),
        Transition(
            "session_closed", ("queued",), "failed", ("CLOSE-FAILS-INCOMPLETE",),
            reason="session_closed", doc="its session was closed before it started",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "session_closed", ("running",), "failed", ("CLOSE-FAILS-INCOMPLETE",),
            reason="session_closed", only_if=(("INT-CLOSE-RUNNING-JOB", "fail"),),
            doc="its session was closed while it ran",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "session_cancelled", ("queued",), "cancelled", ("PLATFORM-CANCEL-SESSION",),
            doc="its session was cancelled before it started",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "session_cancelled", ("running",), "cancelled", ("PLATFORM-CANCEL-SESSION",),
            only_if=(("INT-CANCEL-RUNNING-JOB", "cancel"),),
            doc="its session was cancelled while it ran",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "session_expired", ("queued",), "failed", ("MAXTIME-EXPIRY",),
            reason="session_expired", doc="its session reached max_time before it started",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "session_expired", ("queued",), "failed", ("MAXTIME-EXPIRY", "PLATFORM-EXPIRY-RUNNING-FINISH"),
            reason="session_expired", doc="its session reached max_time before it started",
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "session_expired", ("running",), "failed", ("MAXTIME-EXPIRY",),
            reason="session_expired", only_if=(("INT-EXPIRY-RUNNING-JOB", "fail"),),
            doc="its session reached max_time while it ran",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "first_job_cancelled", ("queued",), "failed", ("FIRST-JOB-CANCEL",),
            reason="first_job_cancelled", doc="its session's first job was cancelled",
            profiles=ONLY_SEEDS,
        ),
        Transition(
            "first_job_cancelled", ("queued",), "failed", ("FIRST-JOB-CANCEL",),
            reason="first_job_cancelled", doc="its session's first job was cancelled",
            only_if=(("INT-PLATFORM-FIRST-JOB-CANCEL", "fail_subsequent"),),
            profiles=ONLY_PLATFORM,
        ),
        Transition(
            "first_job_failed", ("queued",), "failed", ("FIRST-JOB-CANCEL",),
            reason="first_job_failed", only_if=(("INT-FIRST-JOB-FAILURE", "as_cancel"),),
            doc="its session's first job failed",
            profiles=ONLY_SEEDS,
        ),
    ),
    timers=(
        Timer(
            "max_execution_time", "max_execution_time_reached", "the job's max_execution_time",
            armed="the job starts", disarmed="the job leaves running",
            rules=("JOB-MAX-EXECUTION",),
        ),
    ),
)

SCHEDULER = Lifecycle(
    name="scheduler",
    entity="backend",
    doc="One backend's scheduler: the device runs one job at a time; dispatch picks the next.",
    states=(
        State("idle", "the device runs no job"),
        State("busy", "the device runs exactly one job"),
    ),
    initial="idle",
    transitions=(
        Transition(
            "dispatch", ("idle",), "busy", ("SCHED-PRIORITY", "SCHED-SESSION-FIFO"),
            conditions=("session_job_waiting",), action="start_session_job",
            doc="the active session's oldest queued job goes first",
        ),
        Transition(
            "dispatch", ("idle",), "busy",
            ("SCHED-FAIRSHARE", "SCHED-FIRST-JOB-WAITS", "SESSION-SINGLE-ACTIVE"),
            conditions=("fair_share_job_waiting",), unless=("held_for_active_session",),
            action="start_fair_share_job",
            only_if=(("INT-IDLE-DEVICE", "hold"),),
            doc="no session is active: the fair-share queue's next job",
        ),
        Transition(
            "dispatch", ("idle",), "busy",
            ("SCHED-FAIRSHARE", "SCHED-FIRST-JOB-WAITS", "SESSION-SINGLE-ACTIVE"),
            conditions=("fair_share_job_waiting",), action="start_fair_share_job",
            only_if=(("INT-IDLE-DEVICE", "work_conserving"),),
            doc="the fair-share queue's next eligible job",
        ),
        Transition(
            "job_ended", ("busy",), "idle", ("SCHED-ONE-AT-A-TIME",),
            doc="the running job completed, failed or was cancelled",
        ),
    ),
    traced=False,
)

LIFECYCLES: tuple[Lifecycle, ...] = (SESSION, JOB, SCHEDULER)

JOB_FINAL: frozenset[str] = JOB.final_states
"""The states a job ends in (completed, failed, cancelled), from the declaration."""
JOB_UNSUCCESSFUL: frozenset[str] = JOB_FINAL - {"completed"}
"""The states a job ends in without a result (failed, cancelled): those a view shows with a reason."""
SESSION_FINAL: frozenset[str] = SESSION.final_states
"""The states a session ends in (closed), from the declaration."""
_CASCADES = frozenset(t.cascade for t in SESSION.transitions if t.cascade is not None)
JOB_OWN_FAILURES: frozenset[str] = frozenset(
    t.reason for t in JOB.transitions
    if t.dest == "failed" and "running" in t.source and t.reason is not None and t.trigger not in _CASCADES
)
"""The reasons a running job fails for by itself, not by its session's end (device_error,
max_execution_time_reached): the failures INT-FIRST-JOB-FAILURE is about."""
LIFECYCLES_BY_NAME: dict[str, Lifecycle] = {lc.name: lc for lc in LIFECYCLES}


def declared(interpretation: Interpretation = DEFAULT) -> tuple[Lifecycle, ...]:
    """Every lifecycle as it stands under ``interpretation``."""
    return tuple(lc.under(interpretation) for lc in LIFECYCLES)


def guard_attr(name: str) -> str:
    """The implementing object's method for a declared guard (a ``transitions`` condition)."""
    return f"guard_{name}"


def action_attr(name: str) -> str:
    """The implementing object's method for a declared action (a ``transitions`` after-callback)."""
    return f"action_{name}"


def guard_names() -> tuple[str, ...]:
    names = (n for lc in LIFECYCLES for t in lc.transitions for n in (*t.conditions, *t.unless))
    return tuple(dict.fromkeys(names))

