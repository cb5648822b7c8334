"""The rule catalogue: every normative statement of the seeds, under a stable ID.

Rule IDs are the vocabulary of the whole project: machine transitions, timers,
validations, properties, tests, error messages and trace lines cite them. IDs
never change meaning; a rule that is withdrawn keeps its ID retired, never reused.
Statements are paraphrases; ``sources`` point at the seed text (file, section, lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SEED_SESSIONS = "000_217642dd304a7e23.txt"
SEED_RUN_PRIMITIVE = "002_04397b608e8efa11.txt"
SEED_TITLES = {
    SEED_SESSIONS: "Working with sessions",
    SEED_RUN_PRIMITIVE: "Run a primitive in a session",
}

Origin = Literal["seed", "assumption"]


@dataclass(frozen=True)
class Source:
    """A position in a seed document: file, section heading and 1-based line range."""

    seed: str
    section: str
    lines: tuple[int, int]

    def cite(self) -> str:
        first, last = self.lines
        span = f"{first}" if first == last else f"{first}-{last}"
        return f"{self.seed} §{self.section} l.{span}"


DOCS = "https://docs.quantum.ibm.com/guides/"
PAGE_MODES = DOCS + "execution-modes"
PAGE_FAQ = DOCS + "execution-modes-faq"
PAGE_RUN_SESSION = DOCS + "run-jobs-session"
PAGE_MAX_TIME = DOCS + "max-execution-time"
PAGE_RUN_BATCH = DOCS + "run-jobs-batch"
PAGE_TITLES = {
    PAGE_MODES: "Introduction to execution modes",
    PAGE_FAQ: "Qiskit Runtime execution modes FAQs",
    PAGE_RUN_SESSION: "Run jobs in a session",
    PAGE_MAX_TIME: "Maximum execution time for Qiskit Runtime workloads",
    PAGE_RUN_BATCH: "Run jobs in a batch",
}
"""The platform profile's sources: pages of IBM's documentation (the Qiskit/documentation repository's
``docs/guides/<name>``), cited by URL and section."""


@dataclass(frozen=True)
class Page:
    """A section of a documentation page, for the platform profile's rules."""

    url: str
    section: str

    def cite(self) -> str:
        return f"{self.url} §{self.section}"


@dataclass(frozen=True)
class Rule:
    """One normative statement: ID, short title, paraphrase and where it comes from.

    ``origin`` is ``seed`` for statements of the seeds and ``assumption`` for the
    few the model needs that the seeds imply but never state (each says why).
    """

    id: str
    title: str
    statement: str
    sources: tuple[Source | Page, ...]
    origin: Origin = "seed"
    interpretation: str | None = None
    profiles: tuple[str, ...] = ("seeds", "platform")
    """The profiles under which the rule is in force (model.spec.profiles)."""


def _s(seed: str, section: str, first: int, last: int | None = None) -> Source:
    return Source(seed, section, (first, last if last is not None else first))


_A = SEED_SESSIONS
_B = SEED_RUN_PRIMITIVE

RULES: tuple[Rule, ...] = (
    Rule(
        "SESSION-GROUPS-JOBS",
        "A session groups iterative jobs",
        "A session is a named group of jobs sent by one client to one backend; every job "
        "belongs to at most one session and keeps that session for life.",
        (_s(_A, "Working with sessions", 4), _s(_B, "Open a session", 20)),
    ),
    Rule(
        "SESSION-START-FIRST-JOB",
        "A session starts when its first job starts",
        "Opening a session does not start it: it stays pending until the first of its jobs "
        "begins to run on the device. Queueing a job is not starting it.",
        (
            _s(_A, "Working with sessions", 4),
            _s(_A, "How to run a job in a session", 10),
            _s(_B, "Open a session", 37),
        ),
    ),
    Rule(
        "SCHED-FIRST-JOB-WAITS",
        "The first session job queues normally",
        "A job of a session that is not active (pending, or inactive) gets no priority: it "
        "waits for its turn in the backend's regular fair-share queue.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
    ),
    Rule(
        "SCHED-PRIORITY",
        "Active session jobs go first",
        "While a session is active, its queued jobs are started before any other queued job "
        "on the same backend.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
    ),
    Rule(
        "SCHED-FAIRSHARE",
        "Otherwise the fair-share queue runs",
        "When no active session has a job to start, the backend takes the next job of its "
        "regular fair-share queue.",
        (_s(_A, "How session jobs fit into the job queue", 24), _s(_A, "How long a session stays active", 39)),
    ),
    Rule(
        "SCHED-ONE-AT-A-TIME",
        "One job at a time per backend",
        "A backend runs at most one job at any instant, session or not.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
    ),
    Rule(
        "SCHED-SUBMIT-WHILE-RUNNING",
        "Submitting does not wait for running jobs",
        "A client may submit further jobs to a session while one of its jobs runs; they are "
        "accepted and queue behind it.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
    ),
    Rule(
        "SCHED-SESSION-FIFO",
        "Session jobs start in submission order",
        "Jobs of one session start in the order they were submitted. The seeds speak of "
        "iterative calls and a queue without naming another order; the model makes FIFO "
        "explicit so that it can be checked.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
        origin="assumption",
    ),
    Rule(
        "SESSION-SINGLE-ACTIVE",
        "At most one active session per backend",
        "Another session can start or take priority only after the active one is deactivated "
        "or closed; its jobs then take priority until it is deactivated or closed in turn.",
        (_s(_A, "How long a session stays active", 39),),
    ),
    Rule(
        "SESSION-REACTIVATE",
        "An inactive session is reactivated by its next job",
        "When the scheduler takes a job of an inactive session whose max_time has not been "
        "reached, the session becomes active again, until its max_time.",
        (_s(_A, "How long a session stays active", 39),),
    ),
    Rule(
        "TTL-INTERACTIVE",
        "Interactive timeout deactivates",
        "If no job of an active session is queued within the interactive window, the session "
        "becomes inactive (not closed) and regular job selection resumes on its backend.",
        (_s(_A, "How long a session stays active", 39), _s(_B, "Specify the session length", 84)),
        interpretation="INT-INTERACTIVE-WINDOW",
    ),
    Rule(
        "TTL-INTERACTIVE-VALUE",
        "The interactive window is 5 minutes, fixed",
        "The interactive window lasts 300 seconds and cannot be configured by the client.",
        (_s(_B, "Specify the session length", 84),),
        profiles=("seeds",),
    ),
    Rule(
        "MAXTIME-ASSIGNED",
        "A started session has a maximum lifetime",
        "When a session starts it is given a maximum timeout; the clock for it starts at the "
        "session's start (its first job's start) and keeps running while it is inactive.",
        (_s(_A, "How long a session stays active", 29), _s(_B, "Specify the session length", 73)),
    ),
    Rule(
        "MAXTIME-PARAM",
        "max_time sets the maximum lifetime",
        "The client sets the maximum timeout with the max_time parameter when opening the "
        "session; it may exceed a program's max_execution_time.",
        (_s(_A, "How long a session stays active", 29), _s(_B, "Specify the session length", 75)),
    ),
    Rule(
        "MAXTIME-FORMAT",
        "max_time is seconds or an h/m/s string",
        "max_time is a positive whole number of seconds, or a string of hour, minute and "
        "second parts such as \"2h 30m 40s\".",
        (_s(_B, "Specify the session length", 75),),
    ),
    Rule(
        "MAXTIME-BOUNDS",
        "max_time lies between the job's limit and the system's",
        "max_time must exceed the max_execution_time of the session's jobs and must not exceed "
        "the system's max_time.",
        (_s(_B, "Specify the session length", 75),),
        interpretation="INT-MAXTIME-UPPER-BOUND",
    ),
    Rule(
        "MAXTIME-DEFAULT",
        "Default max_time",
        "Without max_time, the session's maximum timeout defaults to a system-derived value; "
        "the two seeds name different values.",
        (_s(_A, "How long a session stays active", 32, 35), _s(_B, "Specify the session length", 75)),
        interpretation="INT-MAXTIME-DEFAULT",
    ),
    Rule(
        "MAXTIME-SYSTEM-LIMIT",
        "System limit of 8 hours on physical systems",
        "A physical backend's system limit on max_time is 8 hours (28,800 s). Other backends "
        "carry their own configured limit.",
        (_s(_A, "How long a session stays active", 34),),
    ),
    Rule(
        "MAXTIME-EXPIRY",
        "At max_time the session closes for good",
        "When max_time has elapsed since the session started, it is closed permanently and "
        "forcefully, whatever its state; it never becomes active again.",
        (_s(_A, "How long a session stays active", 37), _s(_B, "Specify the session length", 73)),
        interpretation="INT-EXPIRY-RUNNING-JOB",
    ),
    Rule(
        "SESSION-CLOSE",
        "Closing frees the backend at once",
        "A client may close a session at any time; the scheduler then stops giving it priority "
        "without waiting for any timeout.",
        (_s(_B, "Close a session", 91),),
        profiles=("seeds",),
    ),
    Rule(
        "SESSION-CLOSED-REJECTS",
        "A closed session takes no jobs",
        "A job submitted to a closed session, closed by the client or expired, is rejected.",
        (_s(_B, "Close a session", 91), _s(_B, "Specify the session length", 73)),
    ),
    Rule(
        "CLOSE-FAILS-INCOMPLETE",
        "Closing fails the session's unfinished jobs",
        "Jobs of a session that have not completed when it is closed fail.",
        (_s(_B, "Close a session", 94),),
        interpretation="INT-CLOSE-RUNNING-JOB",
        profiles=("seeds",),
    ),
    Rule(
        "CONTEXT-CLOSE",
        "Leaving the context closes the session",
        "A session opened as a context manager is closed when the block is exited.",
        (_s(_A, "How to run a job in a session", 10), _s(_A, "How long a session stays active", 41)),
    ),
    Rule(
        "CONTEXT-PRIMITIVES",
        "Primitives use the session they are given or are created in",
        "A primitive constructed with a session, or inside a session's context manager, sends "
        "its jobs to that session.",
        (_s(_B, "Session class", 27), _s(_B, "Context manager", 37)),
    ),
    Rule(
        "FIRST-JOB-CANCEL",
        "Cancelling the first job dooms the session's other jobs",
        "The first job's data is cached for the later jobs; if the first job of a session is "
        "cancelled, the session's later jobs all fail.",
        (_s(_B, "Open a session", 23),),
        interpretation="INT-FIRST-JOB-CANCEL",
    ),
    Rule(
        "BACKEND-REQUIRED",
        "A backend is required on the IBM Quantum channel",
        "Opening a session on the ibm_quantum channel without a backend is an error; on the "
        "ibm_cloud channel the service chooses one.",
        (_s(_B, "Specify a backend", 49),),
    ),
    Rule(
        "BACKEND-FIXED",
        "A session's backend is fixed and single",
        "A session runs on exactly one backend, chosen when it is opened; it cannot be changed "
        "nor several given.",
        (_s(_B, "Specify a backend", 49),),
    ),
    Rule(
        "BACKEND-NAME-OR-OBJECT",
        "The backend is given by name or object",
        "The session's backend may be given as its name or as a backend object from the service.",
        (_s(_B, "Specify a backend", 51, 67),),
    ),
    Rule(
        "JOB-CANCEL",
        "Queued and running jobs can be cancelled",
        "A client may cancel a queued or running job, which ends cancelled and frees the "
        "device. The seeds presuppose cancelling (first-job cancel) without stating it.",
        (_s(_B, "Open a session", 23),),
        origin="assumption",
    ),
    Rule(
        "JOB-MAX-EXECUTION",
        "A job may not run past its max_execution_time",
        "A running job that reaches its max_execution_time fails. The seeds name the job's and "
        "the program's max_execution_time as limits without saying what enforces them.",
        (_s(_A, "How long a session stays active", 29, 35), _s(_B, "Specify the session length", 75)),
        origin="assumption",
    ),
    Rule(
        "DEVICE-FAULT",
        "The device can fail a job",
        "A running job may fail through a device error; the failure carries its reason. Needed "
        "to say what the scheduler does when a job ends early.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
        origin="assumption",
    ),
    Rule(
        "DEVICE-RUNS-DURATION",
        "The device runs a job for the time it is given",
        "The mock device ends a running job exactly when its duration (given with the submit) has "
        "run: it completes, or fails with a device error if the submit says the device fails it; "
        "an injected device fault fails the running job at once. The seeds give jobs a run time "
        "without naming who decides it; the conformance kit gives it, so it can judge the device's "
        "end of each job as a decision.",
        (_s(_A, "How session jobs fit into the job queue", 24),),
        origin="assumption",
    ),
    Rule(
        "JOB-TERMINAL",
        "Job outcomes are final and explained",
        "completed, failed and cancelled are final states; every failure records why. Every "
        "accepted job reaches exactly one of them or is still queued or running.",
        (_s(_B, "Close a session", 94), _s(_B, "Open a session", 23)),
        origin="assumption",
    ),
    # The platform profile's rules (model.spec.profiles): today's documentation, cited by page.
    Rule(
        "PLATFORM-CLOSE-DRAINS",
        "Closing stops accepting jobs, then drains them",
        "Closing a session (the client's close(), or PATCH /sessions/{id} with accepting_jobs false) "
        "makes it stop accepting jobs; its queued and running jobs run to completion, and the session "
        "is closed as soon as none is left, without waiting for the interactive timeout. Leaving the "
        "context manager closes it so.",
        (Page(PAGE_FAQ, "What happens to my jobs if a session is closed?"), Page(PAGE_RUN_SESSION, "Close a session")),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-NOT-ACCEPTING",
        "A session that does not accept jobs rejects them",
        "A job submitted to a session that is closing (accepting_jobs false) or closed is rejected.",
        (Page(PAGE_FAQ, "What happens to my jobs if a session is closed?"), Page(PAGE_RUN_SESSION, "Close a session")),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-CANCEL-SESSION",
        "Cancelling a session cancels its pending jobs and ends it",
        "A client may cancel a session (Session.cancel(), DELETE /sessions/{id}/close): its queued jobs "
        "are cancelled and the session is closed at once.",
        (Page(PAGE_FAQ, "What happens to my jobs if a session is closed?"), Page(PAGE_RUN_SESSION, "Cancel a session")),
        interpretation="INT-CANCEL-RUNNING-JOB",
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-ITTL-60S",
        "The interactive window is 60 seconds, after each job",
        "The interactive timeout is 60 seconds and cannot be changed by the client; the window starts "
        "when a job of the session completes and none is left queued or running. A deactivated session "
        "is reactivated by a later job through the normal queue.",
        (Page(PAGE_MODES, "Session mode"), Page(PAGE_FAQ, "Is there an interactive timeout (ITTL) with session mode?")),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-UNUSED-CLOSES",
        "An unused session closes by itself after 30 minutes",
        "A session to which no job has been submitted for 30 minutes, and which has no job queued or "
        "running, closes by itself. The 30 minutes run from its opening or its last submission, and "
        "anew from the end of its last job.",
        (Page(PAGE_RUN_SESSION, "Session length"),),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-EXPIRY-RUNNING-FINISH",
        "At max_time running jobs finish and queued jobs fail",
        "When a session reaches its max_time it ends: the jobs it still has queued fail, and a job "
        "already running runs to its end.",
        (Page(PAGE_MAX_TIME, "Session maximum execution time"), Page(PAGE_RUN_SESSION, "Session length")),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-SESSION-EXCLUSIVE",
        "An active session has the device to itself",
        "In session mode the session has exclusive use of the device while it is active: no other "
        "job runs on it, not even a calibration, until the session is deactivated or closed.",
        (
            Page(PAGE_MODES, "Session mode"),
            Page(PAGE_FAQ, "Can sessions be interrupted by QPU upgrades or calibrations?"),
        ),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-MAXTIME-DEFAULT",
        "max_time defaults to the system limit and may equal it",
        "Without max_time a session's maximum time is the system's (8 hours on paid plans; instances "
        "may differ); an explicit max_time may be at most that, and a job's max_execution_time is not "
        "checked against it.",
        (Page(PAGE_MAX_TIME, "Session maximum execution time"), Page(PAGE_RUN_SESSION, "Specify the session length")),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-BATCH",
        "A batch is not exclusive and ends by itself",
        "A session opened in batch mode gets no exclusive use of the device: it is active only while one "
        "of its jobs runs, and its queued jobs wait in the fair-share queue beside other users' jobs. A "
        "batch with nothing queued or running ends by itself shortly after its last job ends (the 60 s "
        "interactive window, read as 'shortly').",
        (Page(PAGE_MODES, "Batch mode"), Page(PAGE_RUN_BATCH, "Run jobs in a batch")),
        profiles=("platform",),
    ),
    Rule(
        "PLATFORM-STATES",
        "Server states and accepting_jobs",
        "The server reports a session as open, active, inactive, pending_inactive, pending_closed or "
        "closed, with an accepting_jobs flag; a closing session accepts no jobs and is in progress until "
        "its jobs are done. The trace maps these onto its states (docs/trace-format.md).",
        (Page(PAGE_RUN_SESSION, "Session status"), Page(PAGE_FAQ, "What happens to my jobs if a session is closed?")),
        origin="assumption",
        profiles=("platform",),
    ),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """Look a rule up by ID; an unknown ID is a programming error worth failing loudly on."""
    try:
        return RULES_BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule ID {rule_id!r}") from None
