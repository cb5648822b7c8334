"""Mutants: the reference engine with exactly one rule broken, to measure the kit's power.

Each mutant subclasses :class:`~model.sim.engine.Engine` and overrides what it takes to break
one rule, among the engine's declared extension points only (``EXTENSION_POINTS``), and
carries a fixed scenario that exposes it, so that the offline checker can be shown a
recorded trace of it too. ``sessionspec mutants`` runs the live campaign against every
mutant, in process and, for a few, through the subprocess protocol
(``python -m properties.conformance.reference_iut --mutant NAME``); every one must be killed.

Each mutant is also an adapter factory: ``--adapter properties.conformance.mutants:session_lifo``.
"""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import click

from model.sim.engine import Engine
from model.sim.entities import BackendRecord, JobRecord, SessionRecord
from model.sim.ops import decode_operations
from model.sim.requests import OpenArgs
from model.spec.interpretations import Interpretation
from model.spec.lifecycles import SESSION_FINAL
from model.spec.max_time import parse_max_time
from model.spec.validations import RequestRejected
from properties.conformance.adapter import EngineIUT, Factory
from properties.conformance.campaign import CampaignConfig
from properties.conformance.draws import Op
from properties.conformance.prelude import run_conformance
from properties.conformance.subprocess_iut import StdioFactory

# ---------------------------------------------------------------------- the broken engines
# Each overrides only the engine's declared extension points (model.sim.engine.EXTENSION_POINTS).


class NoSessionPriority(Engine):
    """The active session's jobs get no priority: the fair-share queue's head starts instead."""

    def next_session_job(self, session: SessionRecord) -> JobRecord:
        head = session.backend.queue.first()
        assert head is not None  # the session's own job is queued at least
        return head


class TwoAtOnce(Engine):
    """A fair-share job submitted while the device is busy starts at once, on a phantom second device."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parallel: set[str] = set()

    def submit(self, *args: Any, **kwargs: Any) -> JobRecord:
        job = super().submit(*args, **kwargs)
        running = job.backend.running
        if job.state == "queued" and job.session is None and running is not None and running is not job:
            self._parallel.add(job.id)
            self.fire(self.job_fsm, job, "start", ("SCHED-FAIRSHARE",))
        return job

    def leave_device(self, job: JobRecord, dispatch: bool = True) -> None:
        if job.id in self._parallel:
            self._parallel.discard(job.id)
            job.ended_at = self.now
            job.token += 1
            return
        super().leave_device(job, dispatch)


class Interactive301(Engine):
    """The interactive window runs out one second late (301 s)."""

    interactive_window = Engine.interactive_window + 1.0


class Interactive299(Engine):
    """The interactive window runs out one second early (299 s)."""

    interactive_window = Engine.interactive_window - 1.0


class NoInteractiveTimeout(Engine):
    """Sessions are never deactivated by the interactive timeout."""

    def on_interactive_timeout(self, session: SessionRecord, token: int) -> None:
        return


class MaxTimeFromQueueing(Engine):
    """The max_time clock starts when the first job is queued, not when it starts."""

    def max_time_deadline(self, session: SessionRecord) -> float:
        assert session.max_time is not None and session.started_at is not None
        first = session.first_job
        origin = first.submitted_at if first is not None else session.started_at
        return origin + session.max_time


class MaxTimePausedWhileInactive(Engine):
    """The max_time clock does not run out while the session is inactive."""

    def on_max_time(self, session: SessionRecord, token: int) -> None:
        if session.state == "inactive":
            self.schedule(self.now + 300.0, self.on_max_time, session, token)
            return
        super().on_max_time(session, token)


class ExpiryDeactivates(Engine):
    """max_time only deactivates the session, which later jobs can reactivate."""

    def on_max_time(self, session: SessionRecord, token: int) -> None:
        if session.state == "active":
            self.fire(self.session_fsm, session, "interactive_timeout")
            self.dispatch(session.backend)


class DefaultFirstJobLimit(Engine):
    """Without max_time, the default is the first job's max_execution_time (seed 000), not the system's."""

    def effective_max_time(self, session: SessionRecord, first: JobRecord) -> float:
        if session.requested_max_time is not None:
            return float(session.requested_max_time)
        return min(session.backend.config.system_max_time, first.max_execution_time)


class _JobsOfClosedSessionsRun(Engine):
    """Support for mutants that keep jobs of a closed session: such a job runs as a plain one."""

    def start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        session = job.session
        if session is None or session.state not in SESSION_FINAL:
            super().start(job, why)
            return
        job.started_at = self.now
        job.backend.running = job
        session.n_queued -= 1
        session.running = job
        self.fire(self.job_fsm, job, "start", why)

    def _fail_running_only(self, session: SessionRecord, trigger: str) -> None:
        running = session.running
        if running is not None and running.state == "running" and self.job_fsm.allows("running", trigger):
            self.fire(self.job_fsm, running, trigger)
            self.leave_device(running)


class ClosedAccepts(_JobsOfClosedSessionsRun):
    """A job submitted to a closed session is accepted into it (and runs as a plain job)."""

    submit_checks = tuple(check for check in Engine.submit_checks if check.code != "SESSION-CLOSED")


class CloseKeepsQueued(_JobsOfClosedSessionsRun):
    """Closing a session fails its running job but leaves its queued jobs queued."""

    def fail_unfinished(self, session: SessionRecord, trigger: str) -> None:
        if trigger == "session_closed":
            self._fail_running_only(session, trigger)
        else:
            super().fail_unfinished(session, trigger)


class ExpirySparesQueued(_JobsOfClosedSessionsRun):
    """max_time expiry leaves the session's queued jobs queued."""

    def fail_unfinished(self, session: SessionRecord, trigger: str) -> None:
        if trigger == "session_expired":
            self._fail_running_only(session, trigger)
        else:
            super().fail_unfinished(session, trigger)


class CloseDropsQueued(Engine):
    """Closing a session silently drops its queued jobs: they end, but no trace line says so."""

    def fail_unfinished(self, session: SessionRecord, trigger: str) -> None:
        if trigger == "session_closed":
            for job in list(session.queue):
                if job.state == "queued":
                    job.state = "failed"
                    self.leave_queue(job)
            session.queue.clear()
        super().fail_unfinished(session, trigger)


class TimerBeforeJobEnd(Engine):
    """At the instant a session's max_time runs out, its expiry comes before its running job's end
    (the wrong same-instant order under INT-EXPIRY-TIE=job_first)."""

    def on_job_end(self, job: JobRecord, token: int) -> None:
        session = job.session
        if session is not None and session.deadline == self.now and session.state in ("active", "inactive"):
            self.on_max_time(session, 0)
        if job.state == "running":
            super().on_job_end(job, token)


OPEN_ABOVE_SYSTEM = next(check.refuses for check in Engine.open_checks if check.code == "MAXTIME-ABOVE-SYSTEM")
_LAX_PART = re.compile(r"([0-9]+)\s*([hms])", re.IGNORECASE)


def _lax_seconds(value: object) -> int | None:
    """A max_time string read part by part, in any order and with repeats ("2h 2h"): too lax."""
    if not isinstance(value, str) or not _LAX_PART.search(value):
        return None
    if _LAX_PART.sub("", value).strip():
        return None
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u.lower()] for n, u in _LAX_PART.findall(value)) or None


def _lax_format(engine: Any, o: OpenArgs) -> str | None:
    if o.max_time is None or _lax_seconds(o.max_time) is not None:
        return None
    try:
        parse_max_time(o.max_time)
    except RequestRejected as error:
        return error.detail
    return None


def _lax_above_system(engine: Any, o: OpenArgs) -> str | None:
    seconds = _lax_seconds(o.max_time)
    if seconds is None:
        return OPEN_ABOVE_SYSTEM(engine, o)
    limit = engine.backends[o.backend].config.system_max_time if o.backend in engine.backends else seconds
    # worded as the engine's own refusal, which the trace records with :g (model/sim/requests.py)
    return f"max_time {seconds} s is above the system max_time ({limit:g} s)" if seconds > limit else None


class LaxMaxTime(Engine):
    """max_time strings with repeated or reordered parts ("2h 2h", "5m 2h") are accepted."""

    open_checks = tuple(
        replace(check, refuses=_lax_format) if check.code == "MAXTIME-FORMAT" else
        replace(check, refuses=_lax_above_system) if check.code == "MAXTIME-ABOVE-SYSTEM" else check
        for check in Engine.open_checks
    )

    def read_max_time(self, max_time: object) -> int:
        lax = _lax_seconds(max_time)
        return lax if lax is not None else super().read_max_time(max_time)


class DuplicateIdsAccepted(Engine):
    """A session or job ID already taken is accepted again (the new entity replaces the old)."""

    open_checks = tuple(c for c in Engine.open_checks if c.code != "DUPLICATE-ID")
    submit_checks = tuple(c for c in Engine.submit_checks if c.code != "DUPLICATE-ID")


class FirstCancelIgnored(Engine):
    """Cancelling a session's first job has no consequence for its other jobs."""

    def first_job_cancelled(self, session: SessionRecord) -> None:
        self.dispatch(session.backend)


class SecondActive(Engine):
    """Another session's job at the head of the queue starts while a session is active, and activates it."""

    def guard_held_for_active_session(self, backend: BackendRecord) -> bool:
        active = backend.active_session
        if active is None:
            return False
        head = backend.queue.first()
        return not (head is not None and head.session is not None and head.session is not active)

    def start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        backend = job.backend
        other = backend.active_session
        if job.session is not None and other is not None and other is not job.session:
            backend.active_session = None
        super().start(job, why)
        if backend.active_session is None:
            backend.active_session = other


class FairShareFirst(Engine):
    """When the active session's job waits behind an older fair-share job, the fair-share job starts
    first (plain FIFO over the backend's queue; the device is still held while the session has nothing queued)."""

    def _contended(self, backend: BackendRecord) -> bool:
        head = backend.queue.first()
        return head is not None and head.session is None and super().guard_session_job_waiting(backend)

    def guard_session_job_waiting(self, backend: BackendRecord) -> bool:
        return super().guard_session_job_waiting(backend) and not self._contended(backend)

    def guard_held_for_active_session(self, backend: BackendRecord) -> bool:
        return super().guard_held_for_active_session(backend) and not self._contended(backend)

    def guard_fair_share_job_waiting(self, backend: BackendRecord) -> bool:
        if self._contended(backend):
            backend.candidate = backend.queue.first()
            return True
        return super().guard_fair_share_job_waiting(backend)


class StartAtDeadline(Engine):
    """A session's queued job still starts at the very instant its max_time runs out (a job ending
    there frees the device), and the expiry then fails it: the deadline compared with ``>=``."""

    def guard_session_job_waiting(self, backend: BackendRecord) -> bool:
        session = backend.active_session
        return session is not None and session.n_queued > 0 and session.deadline >= self.now


class SessionLifo(Engine):
    """The active session's newest queued job starts first."""

    def next_session_job(self, session: SessionRecord) -> JobRecord:
        return next(job for job in reversed(session.queue) if job.state == "queued")


class LostOnFault(Engine):
    """A job the device fails is lost: it never leaves running, and the device stays busy."""

    def on_job_end(self, job: JobRecord, token: int) -> None:
        if job.fault and job.duration <= job.max_execution_time:
            return
        super().on_job_end(job, token)


class DeviceHalfDuration(Engine):
    """The device runs each job for half the time it was given."""

    def start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        job.duration /= 2
        super().start(job, why)


class DeviceIgnoresFault(Engine):
    """The device completes a job the submit says it fails."""

    def start(self, job: JobRecord, why: tuple[str, ...]) -> None:
        job.fault = False
        super().start(job, why)


class InjectedFaultIgnored(Engine):
    """An injected device fault does nothing: the running job runs on."""

    def inject_fault(self, backend_name: str) -> JobRecord | None:
        return None


# ---------------------------------------------------------------------- mutants of the platform profile's rules


class PlatformCloseFails(Engine):
    """Under the platform a close fails the session's queued jobs instead of draining them."""

    def close(self, session_id: str) -> SessionRecord:
        session = super().close(session_id)
        if session.state == "pending_closed":
            self.fail_queued(session, "session_expired")
            self.dispatch(session.backend)
        return session


class PlatformWindow300(Engine):
    """Under the platform the interactive window is the seeds' 300 s, not 60 s."""

    interactive_window = 300.0


class PlatformNeverUnused(Engine):
    """Under the platform a session with no job never closes by itself (no unused-session timeout)."""

    def on_unused_timeout(self, session: SessionRecord, token: int) -> None:
        return


# ---------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Mutant:
    name: str
    rules: tuple[str, ...]
    engine: type[Engine]
    scenario: tuple[Op, ...]
    """A fixed scenario on the campaign's backends that exposes the mutant."""
    until: float = 2000.0
    offline: bool = True
    """Whether a recorded trace alone reveals it to ``check``: a trace carries no job durations, so a
    device that ends jobs at the wrong time, or a wrong order of a job's end and a timer at one instant,
    shows only with the device inputs: live, or to ``check --scenario``."""
    profile: str = "seeds"
    """The profile whose rule it breaks: its campaign and scenario run under that profile."""

    @property
    def interpretation(self) -> Interpretation:
        return Interpretation({}, self.profile)

    @property
    def breaks(self) -> str:
        return (self.engine.__doc__ or "").strip()

    def factory(self) -> Factory:
        """An adapter factory; plain data (a partial of module-level names), so it travels to a Dask worker."""
        return functools.partial(EngineIUT, engine_class=self.engine)


def _ops(*ops: dict[str, Any]) -> tuple[Op, ...]:
    return decode_operations(ops)


def _open(at: float, session: str, max_time: int | None = None, backend: str = "b0") -> dict[str, Any]:
    op: dict[str, Any] = {"at": at, "op": "open", "backend": backend, "session": session}
    if max_time is not None:
        op["max_time"] = max_time
    return op


def _job(at: float, job: str, session: str | None = None, duration: float = 10, **extra: Any) -> dict[str, Any]:
    target = {"session": session} if session is not None else {"backend": "b0"}
    return {"at": at, "op": "submit", "job": job, **target, "duration": duration, "fault": False, **extra}


MUTANTS: tuple[Mutant, ...] = (
    Mutant("no-session-priority", ("SCHED-PRIORITY",), NoSessionPriority,
           _ops(_open(0, "s1"), _job(0, "j1", "s1"), _job(0, "j2"), _job(0, "j3", "s1"))),
    Mutant("two-at-once", ("SCHED-ONE-AT-A-TIME",), TwoAtOnce, _ops(_job(0, "j1"), _job(0, "j2"))),
    Mutant("interactive-301", ("TTL-INTERACTIVE-VALUE",), Interactive301,
           _ops(_open(0, "s1"), _job(0, "j1", "s1"), _job(0, "j2"))),
    Mutant("interactive-299", ("TTL-INTERACTIVE-VALUE",), Interactive299,
           _ops(_open(0, "s1"), _job(0, "j1", "s1"), _job(0, "j2"))),
    Mutant("no-interactive-timeout", ("TTL-INTERACTIVE",), NoInteractiveTimeout,
           _ops(_open(0, "s1"), _job(0, "j1", "s1"), _job(0, "j2"))),
    Mutant("maxtime-from-queueing", ("MAXTIME-ASSIGNED",), MaxTimeFromQueueing,
           _ops(_open(0, "s1", 200), _job(0, "j0", duration=100), _job(0, "j1", "s1"))),
    Mutant("maxtime-paused-inactive", ("MAXTIME-ASSIGNED", "MAXTIME-EXPIRY"), MaxTimePausedWhileInactive,
           _ops(_open(0, "s1", 400), _job(0, "j1", "s1"))),
    Mutant("reactivation-after-expiry", ("MAXTIME-EXPIRY", "SESSION-REACTIVATE"), ExpiryDeactivates,
           _ops(_open(0, "s1", 200), _job(0, "j1", "s1"), _job(100, "j2", "s1"), _job(250, "j3", "s1"))),
    Mutant("default-first-job-limit", ("MAXTIME-DEFAULT",), DefaultFirstJobLimit,
           _ops(_open(0, "s1"), _job(0, "j1", "s1", max_execution_time=30))),
    Mutant("closed-accepts", ("SESSION-CLOSED-REJECTS",), ClosedAccepts,
           _ops(_open(0, "s1"), {"at": 0, "op": "close", "session": "s1"}, _job(0, "j1", "s1"))),
    Mutant("close-keeps-queued", ("CLOSE-FAILS-INCOMPLETE",), CloseKeepsQueued,
           _ops(_open(0, "s1"), _job(0, "j1", "s1", duration=100), _job(0, "j2", "s1"),
                {"at": 10, "op": "close", "session": "s1"})),
    Mutant("close-drops-queued", ("CLOSE-FAILS-INCOMPLETE",), CloseDropsQueued,
           _ops(_open(0, "s1"), _job(0, "j1", "s1", duration=100), _job(0, "j2", "s1"),
                {"at": 10, "op": "close", "session": "s1"})),
    Mutant("timer-before-job-end", ("MAXTIME-EXPIRY", "JOB-TERMINAL"), TimerBeforeJobEnd,
           _ops(_open(0, "s1", 100), _job(0, "j1", "s1", duration=100)), offline=False),
    Mutant("lax-max-time", ("MAXTIME-FORMAT",), LaxMaxTime,
           _ops({"at": 0, "op": "open", "backend": "b0", "session": "s1", "max_time": "5m 5m"})),
    Mutant("duplicate-ids-accepted", ("SESSION-GROUPS-JOBS",), DuplicateIdsAccepted,
           _ops(_job(0, "j1"), _job(0, "j1"))),
    Mutant("expiry-spares-queued", ("MAXTIME-EXPIRY",), ExpirySparesQueued,
           _ops(_open(0, "s1", 100), _job(0, "j1", "s1"), _job(50, "j2", "s1", duration=100),
                _job(50, "j3", "s1"))),
    Mutant("first-cancel-ignored", ("FIRST-JOB-CANCEL",), FirstCancelIgnored,
           _ops(_open(0, "s1"), _job(0, "j0", duration=100), _job(0, "j1", "s1"), _job(0, "j2", "s1"),
                {"at": 5, "op": "cancel", "job": "j1"})),
    Mutant("second-session-active", ("SESSION-SINGLE-ACTIVE",), SecondActive,
           _ops(_open(0, "s1"), _open(0, "s2"), _job(0, "j1", "s1"), _job(0, "j2", "s2"))),
    Mutant("fair-share-first", ("SCHED-PRIORITY",), FairShareFirst,
           _ops(_open(0, "s1"), _job(0, "j1", "s1", duration=100), _job(10, "j2"), _job(20, "j3", "s1"))),
    Mutant("start-at-deadline", ("MAXTIME-EXPIRY",), StartAtDeadline,
           _ops(_open(0, "s1", 400), _job(0, "j1", "s1", duration=390), _job(0, "j2", "s1"), _job(0, "j3", "s1"))),
    Mutant("session-lifo", ("SCHED-SESSION-FIFO",), SessionLifo,
           _ops(_open(0, "s1"), _job(0, "j1", "s1"), _job(0, "j2", "s1"), _job(0, "j3", "s1"))),
    Mutant("lost-on-fault", ("DEVICE-FAULT", "JOB-TERMINAL"), LostOnFault,
           _ops(_job(0, "j1", fault=True), _job(0, "j2"))),
    Mutant("device-half-duration", ("DEVICE-RUNS-DURATION",), DeviceHalfDuration,
           _ops(_job(0, "j1")), offline=False),
    Mutant("device-ignores-fault", ("DEVICE-RUNS-DURATION", "DEVICE-FAULT"), DeviceIgnoresFault,
           _ops(_job(0, "j1", fault=True)), offline=False),
    Mutant("injected-fault-ignored", ("DEVICE-RUNS-DURATION", "DEVICE-FAULT"), InjectedFaultIgnored,
           _ops(_job(0, "j1", duration=100), {"at": 10, "op": "fault", "backend": "b0"}), offline=False),
    # the platform profile's
    Mutant("platform-close-fails", ("PLATFORM-CLOSE-DRAINS",), PlatformCloseFails,
           _ops(_open(0, "s1"), _job(0, "j1", "s1", duration=100), _job(0, "j2", "s1"),
                {"at": 10, "op": "close", "session": "s1"}), profile="platform"),
    Mutant("platform-window-300", ("PLATFORM-ITTL-60S",), PlatformWindow300,
           _ops(_open(0, "s1"), _job(0, "j1", "s1"), _job(0, "j2")), profile="platform"),
    Mutant("platform-never-unused", ("PLATFORM-UNUSED-CLOSES",), PlatformNeverUnused,
           _ops(_open(0, "s1")), profile="platform"),
)

MUTANTS_BY_NAME: dict[str, Mutant] = {m.name: m for m in MUTANTS}

STDIO_MUTANTS = (
    "session-lifo", "interactive-301", "closed-accepts", "lost-on-fault",
    "close-keeps-queued", "close-drops-queued", "interactive-299", "timer-before-job-end", "lax-max-time",
    "duplicate-ids-accepted", "fair-share-first", "start-at-deadline",
)
"""Also run through the subprocess protocol."""

STDIO_IUT = "properties.conformance.reference_iut"
"""The module run as ``python -m`` for the stdio mutants: packaged, so that an installed wheel has it too."""


def __getattr__(name: str) -> Factory:
    """``mutants:session_lifo`` and the like: each mutant as an adapter factory."""
    mutant = MUTANTS_BY_NAME.get(name.replace("_", "-"))
    if mutant is None:
        raise AttributeError(name)
    return mutant.factory()


# ---------------------------------------------------------------------- the campaign against them


@dataclass(frozen=True)
class Row:
    mutant: str
    rules: tuple[str, ...]
    mode: str
    killed: bool
    examples: int
    """Sequences run until the kill (or in all): the prelude's, or the random campaign's."""
    seconds: float
    finding: str = ""
    stage: str = "random"
    """What killed it: ``prelude`` (the exhaustive prelude of the default run) or ``random`` (the campaign)."""


def stdio_command(name: str) -> list[str]:
    return [sys.executable, "-m", STDIO_IUT, "--mutant", name]


def run_mutants(
    *,
    examples: int | None = None,
    seed: int = 0,
    only: Sequence[str] = (),
    stdio: bool = True,
    progress: bool = False,
    timeout: float = 10.0,
    profile: str = "seeds",
) -> list[Row]:
    """The campaign against each mutant of ``profile``'s rules (in process; through stdio for
    :data:`STDIO_MUTANTS`), under that profile."""
    rows: list[Row] = []
    config = CampaignConfig(interpretation=Interpretation({}, profile))
    for mutant in MUTANTS:
        if (only and mutant.name not in only) or mutant.profile != profile:
            continue
        modes: list[tuple[str, Callable[[], Factory]]] = [("in-process", mutant.factory)]
        if stdio and mutant.name in STDIO_MUTANTS:
            command = stdio_command(mutant.name)
            modes.append(("stdio", functools.partial(StdioFactory, command, timeout=timeout)))
        for mode, make in modes:
            if progress:
                click.echo(f"mutant {mutant.name} ({mode})", err=True)
            started = time.perf_counter()
            result = run_conformance(
                make(), config, examples=examples, seed=seed, key=f"mutant:{mutant.name}", shrink=False
            )
            killed = result.finding is not None
            seconds = result.seconds_to_failure
            if seconds is None:
                seconds = time.perf_counter() - started
            prelude = result.prelude is not None and result.prelude.found
            rows.append(Row(
                mutant.name, mutant.rules, mode, killed, result.examples, seconds,
                result.finding.message if result.finding is not None else "", "prelude" if prelude else "random",
            ))
    return rows


def mutation_table(rows: Sequence[Row]) -> str:
    """The kill table as aligned text, with the mutation score."""
    header = ("mutant", "rule broken", "mode", "result", "by", "sequences", "time to kill")
    body = [
        (r.mutant, ", ".join(r.rules), r.mode, "killed" if r.killed else "SURVIVED", r.stage if r.killed else "-",
         str(r.examples), f"{r.seconds:.2f} s" if r.killed else "-")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in (header, *body)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    killed = sum(r.killed for r in rows)
    lines.append(f"mutation score: {killed}/{len(rows)} killed")
    return "\n".join(lines)
