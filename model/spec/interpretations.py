"""Named interpretations: where the seeds are silent, ambiguous or contradict each other.

Each interpretation has an ID, the question it settles, the seed positions that
raise it, its options and a default. An :class:`Interpretation` is the spec
configuration: one chosen option per interpretation. The engine, the machine
declarations and the properties all read it; nothing picks an option silently.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, get_type_hints

from model.spec.profiles import DEFAULT_PROFILE, PROFILES, Profile, ProfileError, profile
from model.spec.rules import PAGE_FAQ, PAGE_MODES, Page, Source
from model.spec.rules import SEED_RUN_PRIMITIVE as _B
from model.spec.rules import SEED_SESSIONS as _A


@dataclass(frozen=True)
class Option:
    name: str
    meaning: str


@dataclass(frozen=True)
class InterpretationPoint:
    """One open question of the seeds, with its options; the first option is the default."""

    id: str
    question: str
    why: str
    sources: tuple[Source | Page, ...]
    options: tuple[Option, ...]
    rationale: str
    in_every_header: bool = True
    """False for points added after the trace format's first catalogue: a header lists such a point only
    when its option is not the default, so that traces written before it keep their bytes and read the
    same (a reader takes a point a header leaves out at its default)."""

    @property
    def default(self) -> str:
        return self.options[0].name

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(option.name for option in self.options)


INTERPRETATION_POINTS: tuple[InterpretationPoint, ...] = (
    InterpretationPoint(
        "INT-MAXTIME-DEFAULT",
        "What is a session's max_time when the client gives none?",
        "Seed 000 says the smaller of the system limit and the initial job's (program's) "
        "max_execution_time; seed 002 says the system's max_time.",
        (Source(_A, "How long a session stays active", (32, 35)), Source(_B, "Specify the session length", (75, 75))),
        (
            Option("system_limit", "the backend's system max_time (seed 002)"),
            Option(
                "first_job_limit",
                "min(system max_time, max_execution_time of the session's first job), fixed "
                "when the session starts (seed 000)",
            ),
        ),
        "Seed 002 is the task-level page that states the default outright; seed 000's value "
        "would make a session no longer than one job, defeating its purpose.",
    ),
    InterpretationPoint(
        "INT-MAXTIME-UPPER-BOUND",
        "May max_time equal the system's max_time?",
        "Seed 002 requires max_time to be less than the system's max_time, yet makes that very "
        "value the default.",
        (Source(_B, "Specify the session length", (75, 75)),),
        (
            Option("inclusive", "max_time <= system max_time is accepted"),
            Option("strict", "max_time < system max_time; an explicit value equal to it is rejected"),
        ),
        "A default that the validation would reject cannot be meant; 'less than' is read as "
        "'no more than'.",
    ),
    InterpretationPoint(
        "INT-MAXTIME-JOB-BOUND",
        "Is a job whose max_execution_time is not below its session's max_time accepted?",
        "Seed 002 says max_time has to be greater than the job's max_execution_time; seed 000 "
        "only says it can be greater than the program's, with no sanction either way.",
        (Source(_A, "How long a session stays active", (29, 29)), Source(_B, "Specify the session length", (75, 75))),
        (
            Option(
                "reject_explicit",
                "a job that sets max_execution_time >= its session's max_time is rejected at "
                "submission; a job that sets none is not checked",
            ),
            Option("allow", "no check; the job is accepted and max_time expiry governs"),
        ),
        "Seed 002 states the bound as a requirement; a job that sets no limit cannot break it, "
        "which keeps seed 002's own max_time=\"25m\" example usable.",
    ),
    InterpretationPoint(
        "INT-EXPIRY-TIE",
        "A session job ends at the very instant its session reaches max_time: did it end in time?",
        "Seed 002 sizes max_time as at least the sum of the job durations (five 5-minute jobs need at "
        "least 25 min), so a job ending exactly at max_time should count as in time; both seeds "
        "close the session at max_time without saying which of two simultaneous events comes first.",
        (Source(_B, "Specify the session length", (77, 77)), Source(_A, "How long a session stays active", (37, 37))),
        (
            Option(
                "job_first",
                "device job ends due at an instant come before timers due at it: the job completes, "
                "then the session expires",
            ),
            Option(
                "expiry_first",
                "timers come first: the session expires and the job is treated per INT-EXPIRY-RUNNING-JOB",
            ),
        ),
        "It is the reading under which seed 002's own sizing advice holds. In both options no job of "
        "a session starts at or after its max_time. A fair-share job may: under INT-IDLE-DEVICE=hold "
        "the device stays held for the session until its expiry, so one starts only after the "
        "session's closed line at that instant; under work_conserving, when the session's running "
        "job ends at its max_time under job_first, the freed device takes the next fair-share job "
        "at once, before the expiry at the same instant.",
    ),
    InterpretationPoint(
        "INT-IDLE-DEVICE",
        "While a session is active with no job queued, does the backend run fair-share jobs?",
        "Seed 000 says the fair-share queue runs when there are no session jobs; seed 002 says "
        "closing lets the scheduler run the next job without waiting for the session timeout, "
        "and both say regular selection 'resumes' at deactivation.",
        (
            Source(_A, "How session jobs fit into the job queue", (24, 24)),
            Source(_A, "How long a session stays active", (39, 39)),
            Source(_B, "Close a session", (91, 91)),
        ),
        (
            Option("hold", "the backend is held for the active session until it is deactivated or closed"),
            Option("work_conserving", "fair-share jobs run whenever the active session has none queued"),
        ),
        "'Resumes' and 'without waiting for the session timeout' only make sense if regular "
        "selection is suspended while a session is active.",
    ),
    InterpretationPoint(
        "INT-OTHER-SESSION-JOB",
        "Under work_conserving, what happens to another session's job at the head of the "
        "fair-share queue while a session is active?",
        "Seed 000 lets a job start an additional session only after the active one is "
        "deactivated, but work-conserving selection can reach such a job first.",
        (Source(_A, "How long a session stays active", (39, 39)),),
        (
            Option("hold_back", "it stays queued; the next job without a session runs instead"),
            Option(
                "run_unactivated",
                "it runs as a plain fair-share job and its session's state does not change",
            ),
        ),
        "Only hold_back keeps at most one session active per backend, which seed 000 implies.",
    ),
    InterpretationPoint(
        "INT-EXPIRY-RUNNING-JOB",
        "At max_time expiry, what happens to the session's running job?",
        "Both seeds say the session is closed (seed 002: forcefully) at max_time and that no "
        "more jobs may be submitted; neither says what becomes of a job that is running.",
        (Source(_A, "How long a session stays active", (37, 37)), Source(_B, "Specify the session length", (73, 73))),
        (
            Option("fail", "the running job fails (reason session_expired), like the queued ones"),
            Option("finish", "the running job runs to its end; only the queued ones fail"),
        ),
        "'Forcefully closed', and seed 002's rule that unfinished jobs of a closed session fail.",
    ),
    InterpretationPoint(
        "INT-CLOSE-RUNNING-JOB",
        "When a client closes a session, what happens to its running job?",
        "Seed 002 warns that session jobs not completed at close will fail, but its own "
        "examples (and seed 000's) exit the context manager without waiting.",
        (Source(_B, "Close a session", (94, 94)), Source(_A, "How to run a job in a session", (16, 18))),
        (
            Option("fail", "the running job fails (reason session_closed), like the queued ones"),
            Option("finish", "the running job runs to its end; only the queued ones fail"),
        ),
        "The warning is explicit and covers every job that is not completed.",
    ),
    InterpretationPoint(
        "INT-FIRST-JOB-CANCEL",
        "After a session's first job is cancelled, what happens to the session?",
        "Seed 002 says subsequent session jobs will all fail, but not whether the session "
        "itself closes.",
        (Source(_B, "Open a session", (23, 23)),),
        (
            Option(
                "fail_subsequent",
                "the session stays open; its queued jobs fail at once and every later job fails "
                "as soon as it is submitted (reason first_job_cancelled); such a doomed submit is "
                "queued for an instant, so it restarts an active session's interactive window",
            ),
            Option(
                "close_session",
                "the session closes (trigger first_job_cancelled); queued jobs fail and later "
                "submissions are rejected",
            ),
        ),
        "The seed speaks of jobs failing, not of the session closing.",
    ),
    InterpretationPoint(
        "INT-INTERACTIVE-WINDOW",
        "When does the interactive window open?",
        "Both seeds say the session is deactivated if no session job is queued 'within that "
        "window' without saying when the window starts.",
        (Source(_A, "How long a session stays active", (39, 39)), Source(_B, "Specify the session length", (84, 84))),
        (
            Option(
                "session_idle",
                "when the active session has no job queued and none running (its last job ended)",
            ),
            Option("queue_empty", "when the active session has no job queued, even while one runs"),
        ),
        "The window measures the client's think time between iterations, which starts when "
        "the last job's result is available. In both options every accepted submit to the session "
        "closes the window, which opens again as the option says, so it restarts even on a "
        "submit whose job fails at once (doomed under INT-FIRST-JOB-CANCEL=fail_subsequent).",
    ),
    InterpretationPoint(
        "INT-FIRST-JOB-FAILURE",
        "A session's first job fails (device error, or its max_execution_time): are its later jobs doomed?",
        "Seed 002 dooms the later jobs when the first job is cancelled, because they use the data "
        "cached from it; a first job that fails may have cached nothing either, but the seed names "
        "only the cancel.",
        (Source(_B, "Open a session", (22, 23)),),
        (
            Option("unaffected", "the later jobs run as usual; only a cancelled first job dooms them"),
            Option(
                "as_cancel",
                "a first job that fails dooms the later jobs as a cancelled one does, per "
                "INT-FIRST-JOB-CANCEL (reason and trigger first_job_failed)",
            ),
        ),
        "The seed states the consequence of a cancel only; a failure is the client's to see and "
        "react to (it may close the session), and no seed line says a failed job's data is lost.",
        in_every_header=False,
    ),
    InterpretationPoint(
        "INT-SIMULATOR-MAXTIME",
        "What is a simulator backend's system max_time (the default and upper bound of max_time)?",
        "Seed 000 gives the system limit of physical systems only (8 hours); seed 002's examples run "
        "on ibmq_qasm_simulator and send the reader to another page for the system limit.",
        (
            Source(_A, "How long a session stays active", (32, 35)),
            Source(_B, "Specify the session length", (75, 75)),
            Source(_B, "Open a session", (31, 31)),
        ),
        (
            Option("three_hours", "3 h (10800 s)"),
            Option("physical_limit", "8 h (28800 s), the physical systems' limit of seed 000"),
        ),
        "It is the value the model has always used for the mock ibmq_qasm_simulator: the seeds give "
        "none, and the page seed 002 points to (outside the seeds) set simulators apart from physical "
        "systems. Only the runtime API's and golden runs' simulator backend reads it; a trace carries "
        "every backend's limit in its header.",
        in_every_header=False,
    ),
    InterpretationPoint(
        "INT-MAXTIME-CLOCK",
        "When does a session's max_time clock start: when its first job starts, or when it is opened?",
        "Seed 002 says a session is started when its first job starts (not when it is queued) and "
        "assigns max_time 'when a session is started', yet in the next sentence it expires 'after the "
        "session has been open the specified amount of time'; seed 000 also starts it at the first job.",
        (
            Source(_B, "Context manager", (37, 37)),
            Source(_B, "Specify the session length", (73, 73)),
            Source(_A, "How long a session stays active", (29, 29)),
        ),
        (
            Option("first_job_start", "when the session starts: its first job starts on the device"),
            Option(
                "open",
                "when the session is opened; its max_time is fixed then (the requested value, else the "
                "system limit: INT-MAXTIME-DEFAULT's first_job_limit needs a job and does not apply), and a "
                "session still pending at its deadline expires (pending -> closed, its queued jobs fail "
                "session_expired)",
            ),
        ),
        "Three sentences of the two seeds tie max_time to the session's start and define the start as "
        "the first job's; 'open' in the fourth is read as 'started', not as the moment Session() is called.",
        in_every_header=False,
    ),
    InterpretationPoint(
        "INT-DEADLINE-REQUEST",
        "A request arrives at the very instant a session timer runs out (its interactive window or "
        "max_time): does it come before the timer or after it?",
        "Both seeds say what happens 'after' max_time is reached and when no job is queued 'within' "
        "the window, but not which of a request and a deadline at the same instant comes first.",
        (
            Source(_A, "How long a session stays active", (37, 39)),
            Source(_B, "Specify the session length", (73, 73)),
            Source(_B, "Specify the session length", (84, 84)),
        ),
        (
            Option(
                "after_timers",
                "the timer comes first: a submit at the window's end finds the session inactive (its "
                "job queues normally and may reactivate it); any request at max_time finds the session "
                "closed (a submit is rejected with SESSION-CLOSED)",
            ),
        ),
        "A fixed reading, not a choice: a window or a max_time is a half-open span [start, "
        "start + length), so at its end the time is up. Requests made at an instant come after every "
        "event due at it (the order classes of the contract), so a client reacting at t to a job end "
        "at t cannot slip in before a timer due at t either; ordering requests first would need a "
        "request to be placed between the events of one instant, which no trace could show.",
        in_every_header=False,
    ),
    # Points of the platform profile (model.spec.profiles): today's documentation leaves these open.
    InterpretationPoint(
        "INT-CANCEL-RUNNING-JOB",
        "When a client cancels a session (cancel_session), what happens to its running job?",
        "The FAQ says Session.cancel() (DELETE /sessions/{id}/close) cancels all pending session "
        "jobs; it says nothing of a job already running.",
        (Page(PAGE_FAQ, "What happens to my jobs if a session is closed?"),),
        (
            Option("finish", "the running job runs to its end; only the queued ones are cancelled"),
            Option("cancel", "the running job is cancelled too"),
        ),
        "'Pending' jobs are the ones not yet running; a running job is left alone unless cancelled "
        "by itself.",
    ),
    InterpretationPoint(
        "INT-PLATFORM-FIRST-JOB-CANCEL",
        "Under the platform, does cancelling a session's first job still doom its later jobs?",
        "The seeds said later session jobs fail because the first job's data is cached; today's "
        "pages no longer say so, nor the opposite.",
        (Page(PAGE_MODES, "Session mode"),),
        (
            Option("no_effect", "nothing follows: the session and its other jobs go on"),
            Option(
                "fail_subsequent",
                "as the seeds said: its queued jobs fail at once and every later job fails as soon as "
                "it is submitted (reason first_job_cancelled)",
            ),
        ),
        "A rule the documentation dropped is not assumed to hold.",
    ),
    InterpretationPoint(
        "INT-EXECUTION-LANES",
        "How many jobs run on a backend at once?",
        "The FAQ says the degree of parallelism is five for most backends today, and that jobs "
        "submitted together in a session run in parallel; the seeds ran one job at a time.",
        (Page(PAGE_FAQ, "How many jobs can run in parallel for a specific backend?"),),
        (
            Option("one", "one execution lane: the device runs one job at a time (SCHED-ONE-AT-A-TIME)"),
        ),
        "Several lanes are not modelled: every property of the kit assumes one running job per "
        "backend. The point is named so that the choice is visible, and open to a later option.",
    ),
)

POINTS_BY_ID: dict[str, InterpretationPoint] = {p.id: p for p in INTERPRETATION_POINTS}


class InterpretationError(ValueError):
    """An interpretation ID or option that the catalogue does not know."""


# ---------------------------------------------------------------------- the typed policy
# One enum per interpretation point, its members the point's options: code compares
# ``policy.idle_device is IdleDevice.HOLD``, so that a misspelt point or option is a mypy
# error and an AttributeError, never a comparison that is silently False. The enums are
# checked against the points at import (:func:`_check_policy`).


class MaxTimeDefault(StrEnum):
    SYSTEM_LIMIT = "system_limit"
    FIRST_JOB_LIMIT = "first_job_limit"


class MaxTimeUpperBound(StrEnum):
    INCLUSIVE = "inclusive"
    STRICT = "strict"


class MaxTimeJobBound(StrEnum):
    REJECT_EXPLICIT = "reject_explicit"
    ALLOW = "allow"


class ExpiryTie(StrEnum):
    JOB_FIRST = "job_first"
    EXPIRY_FIRST = "expiry_first"


class IdleDevice(StrEnum):
    HOLD = "hold"
    WORK_CONSERVING = "work_conserving"


class OtherSessionJob(StrEnum):
    HOLD_BACK = "hold_back"
    RUN_UNACTIVATED = "run_unactivated"


class ExpiryRunningJob(StrEnum):
    FAIL = "fail"
    FINISH = "finish"


class CloseRunningJob(StrEnum):
    FAIL = "fail"
    FINISH = "finish"


class FirstJobCancel(StrEnum):
    FAIL_SUBSEQUENT = "fail_subsequent"
    CLOSE_SESSION = "close_session"


class InteractiveWindow(StrEnum):
    SESSION_IDLE = "session_idle"
    QUEUE_EMPTY = "queue_empty"


class FirstJobFailure(StrEnum):
    UNAFFECTED = "unaffected"
    AS_CANCEL = "as_cancel"


class SimulatorMaxtime(StrEnum):
    THREE_HOURS = "three_hours"
    PHYSICAL_LIMIT = "physical_limit"


class MaxtimeClock(StrEnum):
    FIRST_JOB_START = "first_job_start"
    OPEN = "open"


class DeadlineRequest(StrEnum):
    AFTER_TIMERS = "after_timers"
class CancelRunningJob(StrEnum):
    FINISH = "finish"
    CANCEL = "cancel"


class PlatformFirstJobCancel(StrEnum):
    NO_EFFECT = "no_effect"
    FAIL_SUBSEQUENT = "fail_subsequent"


class ExecutionLanes(StrEnum):
    ONE = "one"


@dataclass(frozen=True, slots=True)
class Policy:
    """One interpretation's choices, typed: one attribute per point (its ID without ``INT-``,
    in snake case), valued by the point's enum. Get it as ``interpretation.policy``."""

    maxtime_default: MaxTimeDefault
    maxtime_upper_bound: MaxTimeUpperBound
    maxtime_job_bound: MaxTimeJobBound
    expiry_tie: ExpiryTie
    idle_device: IdleDevice
    other_session_job: OtherSessionJob
    expiry_running_job: ExpiryRunningJob
    close_running_job: CloseRunningJob
    first_job_cancel: FirstJobCancel
    interactive_window: InteractiveWindow
    first_job_failure: FirstJobFailure
    simulator_maxtime: SimulatorMaxtime
    maxtime_clock: MaxtimeClock
    deadline_request: DeadlineRequest
    cancel_running_job: CancelRunningJob
    platform_first_job_cancel: PlatformFirstJobCancel
    execution_lanes: ExecutionLanes

    @classmethod
    def of(cls, choices: Mapping[str, str]) -> Policy:
        """The policy of a set of choices (an :class:`Interpretation`'s); an unknown option raises.

        A point the choices leave out (one that does not arise under their profile) takes its default."""
        values: dict[str, Any] = {}
        for point in INTERPRETATION_POINTS:
            kind = _ENUMS[point.id]
            try:
                values[policy_attr(point.id)] = kind(choices.get(point.id, point.default))
            except ValueError:
                allowed = ", ".join(point.option_names)
                raise InterpretationError(
                    f"{point.id}: unknown option {choices.get(point.id)!r}; allowed: {allowed}"
                ) from None
        return cls(**values)


def policy_attr(point_id: str) -> str:
    """The :class:`Policy` attribute of an interpretation point: ``INT-IDLE-DEVICE`` -> ``idle_device``."""
    return point_id.removeprefix("INT-").lower().replace("-", "_")


def _check_policy() -> dict[str, type[StrEnum]]:
    """Each point has exactly one Policy attribute, whose enum lists exactly its options, in order."""
    hints = get_type_hints(Policy)
    attrs = [f.name for f in dataclasses.fields(Policy)]
    expected = [policy_attr(p.id) for p in INTERPRETATION_POINTS]
    if attrs != expected:
        raise AssertionError(f"Policy attributes {attrs} do not match the interpretation points {expected}")
    enums: dict[str, type[StrEnum]] = {}
    for point in INTERPRETATION_POINTS:
        kind = hints[policy_attr(point.id)]
        if tuple(member.value for member in kind) != point.option_names:
            raise AssertionError(f"{kind.__name__} does not list the options of {point.id}: {point.option_names}")
        enums[point.id] = kind
    return enums


_ENUMS = _check_policy()


@dataclass(frozen=True)
class Interpretation(Mapping[str, str]):
    """The spec configuration: a profile, and one option chosen per interpretation point of it.

    Build it with :meth:`of`, which fills defaults and rejects unknown IDs and options
    with a message that lists what is allowed. ``profile`` (:mod:`model.spec.profiles`)
    defaults to the profile of ``choices`` when they are an Interpretation, else to
    ``seeds``. As a mapping it holds the points open under the profile and those the
    profile fixes (what a trace header records), never the points that do not arise in it.
    """

    choices: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None
    policy: Policy = field(init=False, repr=False, compare=False)
    """The same choices as a typed :class:`Policy`: what code branches on (built once, here)."""

    def __post_init__(self) -> None:
        name = self.profile
        if name is None:
            given = getattr(self.choices, "profile", None)  # an Interpretation's, or Choices'
            name = given if isinstance(given, str) else DEFAULT_PROFILE
        try:
            rules = profile(name)
        except ProfileError as error:
            raise InterpretationError(str(error)) from None
        full = {p.id: rules.fixed.get(p.id, p.default) for p in INTERPRETATION_POINTS if rules.arises(p.id)}
        for key, value in self.choices.items():
            point = POINTS_BY_ID.get(key)
            if point is None or not rules.arises(key):
                known = ", ".join(p for p in POINTS_BY_ID if p in rules.points)
                where = "" if point is None else f" under profile {name}"
                raise InterpretationError(f"unknown interpretation {key!r}{where}; known: {known}")
            if value not in point.option_names:
                allowed = ", ".join(point.option_names)
                raise InterpretationError(f"{key}: unknown option {value!r}; allowed: {allowed}")
            if key in rules.fixed and value != rules.fixed[key]:
                raise InterpretationError(
                    f"{key}: fixed to {rules.fixed[key]!r} under profile {name}, not {value!r}"
                )
            full[key] = value
        object.__setattr__(self, "profile", name)
        object.__setattr__(self, "choices", MappingProxyType(full))
        object.__setattr__(self, "policy", Policy.of(full))

    @classmethod
    def of(cls, profile: str | None = None, **overrides: str) -> Interpretation:
        """Defaults plus overrides given with underscores for dashes, e.g. ``IDLE_DEVICE``."""
        return cls({_key(name): value for name, value in overrides.items()}, profile)

    @property
    def rules(self) -> Profile:
        """The profile in force (its fixed values: the interactive window, the unused timeout...)."""
        assert self.profile is not None
        return PROFILES[self.profile]

    @property
    def is_platform(self) -> bool:
        return self.profile == "platform"

    def __getitem__(self, key: str) -> str:
        return self.choices[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)

    def recorded(self) -> dict[str, str]:
        """The choices a trace header lists (and the stdio ``init`` line sends): every choice, less the
        default ones of points not ``in_every_header`` (a reader takes a point left out at its default,
        so headers written before such a point existed keep their bytes)."""
        return {
            k: v for k, v in self.choices.items() if POINTS_BY_ID[k].in_every_header or v != POINTS_BY_ID[k].default
        }

    def differences(self) -> dict[str, str]:
        """Only the choices that differ from the profile's defaults (for names and titles)."""
        return {k: v for k, v in self.choices.items() if v != POINTS_BY_ID[k].default and k not in self.rules.fixed}

    @property
    def name(self) -> str:
        diff = self.differences()
        base = "default" if self.profile == DEFAULT_PROFILE else f"{self.profile}"
        if not diff:
            return base
        chosen = ",".join(f"{k}={v}" for k, v in diff.items())
        return chosen if self.profile == DEFAULT_PROFILE else f"{base}:{chosen}"

    def __hash__(self) -> int:
        return hash((self.profile, tuple(sorted(self.choices.items()))))


def _key(name: str) -> str:
    key = name.upper().replace("_", "-")
    return key if key.startswith("INT-") else f"INT-{key}"


DEFAULT = Interpretation()


@functools.lru_cache(maxsize=64)
def _interpretation(choices: frozenset[tuple[str, str]], profile: str | None) -> Interpretation:
    return Interpretation(dict(choices), profile)


def interpretation_of(choices: Mapping[str, str], profile: str | None = None) -> Interpretation:
    """The interpretation of ``choices`` under ``profile`` (a trace header's, say), built once per
    distinct pair: an Interpretation is immutable, and checking one is costly next to a short trace."""
    return _interpretation(frozenset(choices.items()), profile)


def parse_choice(text: str) -> tuple[str, str]:
    """Parse ``ID=option`` from the command line; the INT- prefix may be left out."""
    if "=" not in text:
        raise InterpretationError(f"expected ID=option, got {text!r}")
    key, _, value = text.partition("=")
    return _key(key.strip()), value.strip()


class Choices(dict[str, str]):
    """Interpretation choices as a user gave them, with the profile they were given under:
    ``Interpretation(choices)`` takes both."""

    def __init__(self, choices: Mapping[str, str] = {}, profile: str = DEFAULT_PROFILE) -> None:
        super().__init__(choices)
        self.profile = profile


def parse_choices(values: Iterable[str], profile: str | None = None) -> Choices:
    """``ID=option`` texts as a validated mapping of choices (the INT- prefix may be left out), carrying the
    profile they are for (default: the seeds').

    Raises :class:`InterpretationError` naming the bad choice (or an unknown profile)."""
    chosen = dict(parse_choice(value) for value in values)
    interpretation = Interpretation(chosen, profile)
    assert interpretation.profile is not None
    return Choices(chosen, interpretation.profile)


def profiles(profile: str | None = None) -> dict[str, Interpretation]:
    """A profile's default interpretation plus one per non-default option of its open points: what the
    test campaigns cover. Without ``profile``, the seeds' (keys as they always were)."""
    if profile is None or profile == DEFAULT_PROFILE:
        result = {"default": DEFAULT}
        prefix = ""
        base = DEFAULT
    else:
        base = Interpretation({}, profile)
        prefix = f"{profile}:"
        result = {profile: base}
    for point in INTERPRETATION_POINTS:
        if point.id not in base.rules.points:
            continue
        for option in point.options[1:]:
            result[f"{prefix}{point.id}={option.name}"] = Interpretation({point.id: option.name}, base.profile)
    return result


def all_profiles() -> dict[str, Interpretation]:
    """:func:`profiles` of every profile, the seeds' first."""
    result: dict[str, Interpretation] = {}
    for name in PROFILES:
        result.update(profiles(name))
    return result


PLATFORM_DEFAULT = Interpretation({}, "platform")
"""The platform profile's default interpretation."""
