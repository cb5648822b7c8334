"""The stateful campaign: Hypothesis drives the engine with random client requests, device
faults and time steps, under every interpretation of both profiles (seeds and platform: there also
cancel_session and the drain of a closed session), and after every step holds it to
every named property (incrementally over the new trace lines), to direct invariants of its
own state, and to the ``transitions`` shadow of the declaration.
"""

from __future__ import annotations

import re
import unittest
from collections import Counter
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from model.sim.devices import BackendConfig, Duration
from model.sim.engine import Engine
from model.spec.interpretations import DEFAULT, Interpretation, MaxTimeJobBound, MaxTimeUpperBound, all_profiles
from model.spec.validations import RequestRejected
from model.trace import Header, MemoryTrace, Request
from properties.conformance.coverage import Coverage
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.catalogue import ALL_PROPERTIES
from tests.support.shadow import Shadow, ShadowMismatch

BACKENDS = (
    BackendConfig("b0", system_max_time=900.0, duration=Duration.fixed(10.0)),
    BackendConfig("b1", system_max_time=3600.0, program_max_execution_time=600.0, duration=Duration.exponential(40.0)),
    BackendConfig("b2", duration=Duration.exponential(120.0), fault_rate=0.1),
)
SYSTEM = {b.name: b.system_max_time for b in BACKENDS}

# max_time values and the seconds they mean (None: malformed, MAXTIME-FORMAT); edges of
# the 300 s window and of each backend's system limit are there on purpose.
MAX_TIMES: tuple[tuple[object, int | None], ...] = (
    (1, 1), (10, 10), (60, 60), (299, 299), (300, 300), (301, 301), (600, 600), (900, 900),
    (3600, 3600), (28800, 28800), (28801, 28801), ("5m", 300), ("10m 30s", 630), ("15m", 900),
    ("1h", 3600), ("2h 30m 40s", 9040), ("120", 120),
    (0, None), (-5, None), (1.5, None), (True, None), ("abc", None), ("1h 1h", None), ("", None),
)
MAX_EXECUTION_TIMES = (None, 5.0, 60.0, 299.0, 301.0, 600.0, 900.0, 3600.0)
DURATIONS = (None, 1.0, 5.0, 50.0, 299.0, 300.0, 301.0)
ADVANCES = (1.0, 10.0, 299.0, 300.0, 301.0, 600.0, 3600.0)
MIN_STEPS = 50
"""At 30 steps a profile sees a handful of reactivations per 200 examples; at 50, about a hundred."""

backend_names = st.sampled_from([b.name for b in BACKENDS])
max_times = st.one_of(st.none(), st.sampled_from(MAX_TIMES))
job_options = st.fixed_dictionaries({
    "max_execution_time": st.sampled_from(MAX_EXECUTION_TIMES),
    "duration": st.sampled_from(DURATIONS),
    "fault": st.sampled_from((None, False, True)),
})


@pytest.mark.rule(
    "SCHED-ONE-AT-A-TIME", "SESSION-SINGLE-ACTIVE", "SCHED-PRIORITY", "SCHED-FAIRSHARE", "SCHED-SESSION-FIFO",
    "SESSION-START-FIRST-JOB", "SESSION-REACTIVATE", "TTL-INTERACTIVE", "MAXTIME-ASSIGNED", "MAXTIME-EXPIRY",
    "MAXTIME-FORMAT", "MAXTIME-BOUNDS", "SESSION-CLOSE", "SESSION-CLOSED-REJECTS", "CLOSE-FAILS-INCOMPLETE",
    "FIRST-JOB-CANCEL", "JOB-CANCEL", "JOB-TERMINAL", "JOB-MAX-EXECUTION", "DEVICE-FAULT",
    "PLATFORM-CLOSE-DRAINS", "PLATFORM-NOT-ACCEPTING", "PLATFORM-CANCEL-SESSION", "PLATFORM-UNUSED-CLOSES",
    "PLATFORM-ITTL-60S", "PLATFORM-EXPIRY-RUNNING-FINISH", "PLATFORM-BATCH",
)
class SessionCampaign(RuleBasedStateMachine):
    """Random client sessions against the engine under one interpretation."""

    interpretation: ClassVar[Interpretation] = DEFAULT
    sessions = Bundle("sessions")
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.bound: dict[str, float] = {}
        self.fresh(seed=0)

    def fresh(self, seed: int) -> None:
        """A new engine with its shadow, and property checkers that have read its header."""
        self.trace = MemoryTrace()
        self.engine = Engine(BACKENDS, interpretation=self.interpretation, seed=seed, sink=self.trace)
        self.shadow = Shadow.attach(self.engine, strict=False)
        header = self.trace[0]
        assert isinstance(header, Header)
        self.checkers: list[TraceProperty] = [cls(header) for cls in ALL_PROPERTIES]
        self.seen = 1

    @initialize(
        target=sessions,
        seed=st.integers(0, 2**16),
        opening=st.lists(st.tuples(backend_names, max_times, st.integers(0, 3)), max_size=3),
    )
    def seeded(self, seed: int, opening: list[tuple[str, tuple[object, int | None] | None, int]]) -> Any:
        """A fresh engine with a drawn seed (device durations and faults), and a few sessions
        already opened with jobs queued, so that even the simplest examples exercise timers."""
        self.fresh(seed)
        opened = []
        for backend, max_time, n_jobs in opening:
            session = self.open_session(backend, max_time)
            if isinstance(session, str):
                opened.append(session)
                for _ in range(n_jobs):
                    self.engine.submit(session)
        return multiple(*opened)

    # ------------------------------------------------------------------ helpers

    def rejected(self, code: str, call: Any, *args: Any, **kwargs: Any) -> None:
        """The request must raise RequestRejected with ``code`` and leave a rejected line."""
        with pytest.raises(RequestRejected) as caught:
            call(*args, **kwargs)
        assert caught.value.code == code
        last = self.trace[-1]
        assert isinstance(last, Request) and last.error == code, last

    # ------------------------------------------------------------------ client requests

    @rule(target=sessions, backend=backend_names, max_time=max_times)
    def open_session(self, backend: str, max_time: tuple[object, int | None] | None) -> Any:
        value, seconds = max_time if max_time is not None else (None, None)
        system = SYSTEM[backend]
        strict = self.interpretation.policy.maxtime_upper_bound is MaxTimeUpperBound.STRICT
        if value is not None and seconds is None:
            self.rejected("MAXTIME-FORMAT", self.engine.open_session, backend, max_time=value)
            return multiple()
        if seconds is not None and (seconds > system or (strict and seconds == system)):
            self.rejected("MAXTIME-ABOVE-SYSTEM", self.engine.open_session, backend, max_time=value)
            return multiple()
        session = self.engine.open_session(backend, max_time=value)
        self.bound[session.id] = float(seconds if seconds is not None else system)
        return session.id

    @rule(target=jobs, session=sessions, options=st.lists(job_options, min_size=1, max_size=3))
    def submit_to_session(self, session: str, options: list[dict[str, Any]]) -> Any:
        """One to three jobs in a row, as an iterative client does."""
        submitted = []
        for one in options:
            record = self.engine.sessions[session]
            explicit = one["max_execution_time"]
            bound_applies = self.interpretation.policy.maxtime_job_bound is MaxTimeJobBound.REJECT_EXPLICIT
            if record.state == "closed":
                self.rejected("SESSION-CLOSED", self.engine.submit, session, **one)
            elif record.state == "pending_closed":
                self.rejected("SESSION-NOT-ACCEPTING", self.engine.submit, session, **one)
            elif bound_applies and explicit is not None and explicit >= self.bound[session]:
                self.rejected("MAXTIME-BELOW-JOB", self.engine.submit, session, **one)
            else:
                submitted.append(self.engine.submit(session, **one).id)
        return multiple(*submitted)

    @precondition(lambda self: any(s.state == "inactive" for s in self.engine.sessions.values()))
    @rule(target=jobs, pick=st.integers(0, 7), options=job_options)
    def resume_inactive_session(self, pick: int, options: dict[str, Any]) -> Any:
        """A client comes back to a session the interactive timeout deactivated (SESSION-REACTIVATE)."""
        inactive = sorted(s.id for s in self.engine.sessions.values() if s.state == "inactive")
        return self.submit_to_session(inactive[pick % len(inactive)], [options])

    @rule(target=jobs, backend=backend_names, options=job_options)
    def submit_fair_share(self, backend: str, options: dict[str, Any]) -> str:
        return self.engine.submit(None, backend, **options).id

    @rule(backend=backend_names, chance=st.integers(0, 9))
    def submit_to_unknown_session(self, backend: str, chance: int) -> None:
        """Rarely (a drawn 1 in 10), a job for a session that does not exist."""
        if chance == 0:
            self.rejected("UNKNOWN-SESSION", self.engine.submit, "no-such-session", backend)

    @rule(job=jobs)
    def cancel(self, job: str) -> None:
        if self.engine.jobs[job].state in ("completed", "failed", "cancelled"):
            self.rejected("JOB-FINISHED", self.engine.cancel, job)
        else:
            assert self.engine.cancel(job).state == "cancelled"

    @rule(session=sessions)
    def cancel_first_job(self, session: str) -> None:
        """The client cancels its session's first job (FIRST-JOB-CANCEL), if it has one."""
        first = self.engine.sessions[session].first_job
        if first is not None:
            self.cancel(first.id)

    @rule(session=sessions)
    def close(self, session: str) -> None:
        record = self.engine.sessions[session]
        busy = record.state != "closed" and (record.n_queued > 0 or record.running is not None)
        # the seeds close at once; the platform drains: pending_closed while a job is queued or running
        expected = "pending_closed" if busy and self.interpretation.is_platform else "closed"
        if record.state == "pending_closed":
            expected = "pending_closed"
        assert self.engine.close(session).state == expected

    @precondition(lambda self: self.interpretation.is_platform)
    @rule(target=sessions, backend=backend_names)
    def open_batch(self, backend: str) -> str:
        """A batch (platform): not exclusive, it ends by itself once idle (PLATFORM-BATCH)."""
        session = self.engine.open_session(backend, mode="batch")
        self.bound[session.id] = SYSTEM[backend]
        return session.id

    @precondition(lambda self: self.interpretation.is_platform)
    @rule(session=sessions)
    def cancel_session(self, session: str) -> None:
        """The client cancels the session (platform): its queued jobs are cancelled and it closes."""
        queued = [job for job in self.engine.sessions[session].queue if job.state == "queued"]
        assert self.engine.cancel_session(session).state == "closed"
        assert all(job.state == "cancelled" for job in queued)

    @rule(backend=backend_names)
    def inject_fault(self, backend: str) -> None:
        running = self.engine.backends[backend].running
        failed = self.engine.inject_fault(backend)
        assert failed is running
        assert failed is None or failed.reason == "device_error"

    @rule(seconds=st.sampled_from(ADVANCES))
    def advance(self, seconds: float) -> None:
        self.engine.advance(seconds)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def properties_hold(self) -> None:
        found: list[Violation] = []
        trace = self.trace
        for index in range(self.seen, len(trace)):
            record = trace[index]
            assert not isinstance(record, Header)
            for checker in self.checkers:
                violation = checker.observe(index, record)
                if violation is not None:
                    found.append(violation)
        self.seen = len(trace)
        assert not found, "\n".join(map(str, found))

    @invariant()
    def engine_state_consistent(self) -> None:
        engine = self.engine
        running = Counter(j.backend.name for j in engine.jobs.values() if j.state == "running")
        queued = Counter(j.session.id for j in engine.jobs.values() if j.state == "queued" and j.session)
        for name, backend in engine.backends.items():
            assert running[name] <= 1, f"{name} runs {running[name]} jobs"
            assert (backend.running is None) == (running[name] == 0), name
            assert backend.running is None or backend.running.state == "running", name
            assert (backend.state == "busy") == (backend.running is not None), name
            active = backend.active_session
            holding = ("active", "pending_closed")  # a session closed while active drains with priority (platform)
            assert active is None or (active.state in holding and active.backend is backend), name
        for session in engine.sessions.values():
            if session.state == "active":
                assert session.backend.active_session is session, session.id
            assert session.n_queued == queued[session.id], session.id

    @invariant()
    def shadow_agrees(self) -> None:
        assert not self.shadow.errors, "\n".join(self.shadow.errors)

    def teardown(self) -> None:
        coverage = COVERAGE.setdefault(self.interpretation.name, Coverage(self.interpretation))
        coverage.observe_all(self.trace)
        last = self.trace[-1]
        end = 0.0 if isinstance(last, Header) else last.t
        index = len(self.trace) - 1
        found = [v for checker in self.checkers for v in checker.finish(index, end)]
        assert not found, "\n".join(map(str, found))


COVERAGE: dict[str, Coverage] = {}
"""What the campaigns exercised, per interpretation (properties/conformance/coverage.py), reported at the end."""


@pytest.fixture(scope="module", autouse=True)
def _report_coverage(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for name, coverage in sorted(COVERAGE.items()):
        if reporter is not None:
            reporter.write_line(f"stateful campaign, {name}: {coverage.report()}")


def _class_name(profile: str) -> str:
    return "Test" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", profile) if part)


def _campaign(profile: str, interpretation: Interpretation) -> type[unittest.TestCase]:
    machine: type[SessionCampaign] = type(
        f"SessionCampaign_{_class_name(profile)}", (SessionCampaign,), {"interpretation": interpretation}
    )
    case: type[unittest.TestCase] = machine.TestCase
    # The active profile decides the examples (ci: 200 per interpretation). Steps are at least
    # MIN_STEPS: reactivations, expiries and first-job cancels need room to happen at all.
    active = settings()
    steps = max(active.stateful_step_count, MIN_STEPS)
    case.settings = settings(active, deadline=None, stateful_step_count=steps)  # type: ignore[attr-defined]
    for mark in getattr(SessionCampaign, "pytestmark", []):
        case = pytest.mark.rule(*mark.args)(case)
    return case


for _profile, _interpretation in all_profiles().items():
    globals()[_class_name(_profile)] = _campaign(_profile, _interpretation)


@pytest.mark.rule("SCHED-PRIORITY", "SCHED-FAIRSHARE")
def test_shadow_catches_a_guard_the_dispatcher_does_not_use() -> None:
    """The shadow asks the engine's guards afresh: a guard that changes behind the dispatcher shows."""

    class Patchable(Engine):
        """A subclass of its own, so that patching a guard on its instance leaves Engine untouched."""

    engine = Patchable([BackendConfig("b0", duration=Duration.fixed(10.0))])
    Shadow.attach(engine)
    engine.guard_held_for_active_session = lambda backend: True  # type: ignore[method-assign]
    with pytest.raises(ShadowMismatch, match="dispatch"):
        engine.submit(None, "b0")


@pytest.mark.rule("SESSION-START-FIRST-JOB")
def test_shadow_catches_a_state_the_declaration_does_not_have() -> None:
    """An engine entity moved behind the declaration's back is refused on its next fire."""
    engine = Engine([BackendConfig("b0", duration=Duration.fixed(10.0))])
    shadow = Shadow.attach(engine, strict=False)
    session = engine.open_session("b0")
    engine.submit(session.id)
    engine.advance(20.0)
    session.state = "pending"
    engine.advance(400.0)
    engine.close(session.id)
    assert shadow.errors and "shadow is in" in shadow.errors[0]


@pytest.mark.rule("JOB-TERMINAL", "SCHED-ONE-AT-A-TIME")
def test_shadow_agrees_on_a_plain_run() -> None:
    engine = Engine([BackendConfig("b0", duration=Duration.fixed(10.0))])
    shadow = Shadow.attach(engine)
    session = engine.open_session("b0")
    for _ in range(3):
        engine.submit(session.id)
    engine.submit(None, "b0")
    engine.advance(1000.0)
    assert shadow.fired > 0 and not shadow.errors
    # Every job ended, so its machine was dropped; the session and the backend stay shadowed.
    assert {kind for kind, _ in shadow.machines} == {"session", "scheduler"}
