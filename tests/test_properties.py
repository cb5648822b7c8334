"""The named properties: they hold on the engine's traces under every interpretation, and
each one fails, citing its rules, on a hand-made trace that breaks exactly what it checks.

Every hand-made case is built twice from the same steps, once conforming and once broken,
so a case shows both that the property can fail and that it fails for the broken line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from model.sim.devices import BackendConfig, Duration
from model.sim.engine import Engine
from model.spec.interpretations import Interpretation, all_profiles, profiles
from model.spec.lifecycles import LIFECYCLES
from model.spec.rules import RULES_BY_ID
from model.spec.validations import RequestRejected
from model.trace import Change, End, Header, MemoryTrace, Record, Request, loads_all
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.catalogue import ALL_PROPERTIES, PROPERTIES_BY_NAME, check_trace
from properties.invariants.suite import check_records

LIMITS = {"system_max_time": 28800.0, "program_max_execution_time": 28800.0}


def _declared_rules(entity: str, src: str | None, trigger: str, dst: str) -> tuple[str, ...]:
    if src is None:
        return ("SESSION-START-FIRST-JOB",) if entity == "session" else ("SCHED-FAIRSHARE",)
    for lc in LIFECYCLES:
        for t in lc.transitions:
            if lc.entity == entity and t.trigger == trigger and src in t.source and t.dest == dst:
                return t.rules
    return ()


class Trace:
    """A hand-made trace, built line by line (backends b0 and b1, both 8 h physical limits)."""

    def __init__(self, *, interactive_timeout: float | None = None, profile: str = "seeds", **choices: str) -> None:
        self.interpretation = Interpretation.of(profile, **choices)
        default = self.interpretation.rules.interactive_timeout
        timeout = interactive_timeout if interactive_timeout is not None else default
        header = Header(dict(self.interpretation), {"b0": LIMITS, "b1": LIMITS}, timeout, profile)
        self.records: list[Record] = [header]

    def request(
        self, t: float, op: str, *, backend: str | None = "b0", session: str | None = None, job: str | None = None,
        args: dict[str, Any] | None = None, error: str | None = None,
    ) -> Trace:
        rules = ("SESSION-CLOSED-REJECTS",) if error else ()
        self.records.append(Request(t, op, backend, session, job, args, error, rules, error and "refused"))
        return self

    def change(
        self, t: float, entity: str, id_: str, src: str | None, dst: str, trigger: str, *,
        session: str | None = None, backend: str = "b0", reason: str | None = None, max_time: float | None = None,
    ) -> Trace:
        rules = _declared_rules(entity, src, trigger, dst)
        self.records.append(Change(t, entity, id_, backend, session, src, dst, trigger, rules, reason, max_time))
        return self

    def open(self, t: float, sid: str, backend: str = "b0", max_time: object = None) -> Trace:
        self.request(t, "open", backend=backend, session=sid, args={"max_time": max_time})
        return self.change(t, "session", sid, None, "pending", "open", backend=backend)

    def submit(
        self, t: float, jid: str, sid: str | None = None, backend: str = "b0", mexec: float | None = None
    ) -> Trace:
        self.request(t, "submit", backend=backend, session=sid, job=jid, args={"max_execution_time": mexec})
        return self.change(t, "job", jid, None, "queued", "submit", session=sid, backend=backend)

    def start(self, t: float, jid: str, sid: str | None = None, backend: str = "b0") -> Trace:
        return self.change(t, "job", jid, "queued", "running", "start", session=sid, backend=backend)

    def end(
        self, t: float, jid: str, sid: str | None = None, *, dst: str = "completed", trigger: str = "complete",
        src: str = "running", reason: str | None = None, backend: str = "b0",
    ) -> Trace:
        return self.change(t, "job", jid, src, dst, trigger, session=sid, backend=backend, reason=reason)

    def session(
        self, t: float, sid: str, src: str, dst: str, trigger: str, backend: str = "b0", max_time: float | None = None
    ) -> Trace:
        return self.change(t, "session", sid, src, dst, trigger, backend=backend, max_time=max_time)

    def activate(self, t: float, sid: str, max_time: float | None = 28800.0, src: str = "pending") -> Trace:
        return self.session(t, sid, src, "active", "job_started", max_time=max_time if src == "pending" else None)

    def first_job(self, sid: str, jid: str, t: float = 0.0) -> Trace:
        """Open ``sid`` on b0, submit ``jid`` and start it, which activates the session."""
        return self.open(t, sid).submit(t, jid, sid).start(t, jid, sid).activate(t, sid)

    def when(self, condition: bool, step: Callable[[Trace], Trace]) -> Trace:
        return step(self) if condition else self


Case = Callable[[bool], Trace]


def _one_running(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1").submit(0, "f2").start(0, "f1")
    if broken:
        return tr.start(1, "f2")
    return tr.end(10, "f1").start(10, "f2")


def _one_active(broken: bool) -> Trace:
    tr = Trace().first_job("s1", "j1").open(0, "s2").submit(0, "j2", "s2").end(10, "j1", "s1")
    if not broken:
        tr.session(310, "s1", "active", "inactive", "interactive_timeout")
    return tr.start(310, "j2", "s2").activate(310, "s2")


def _jobs_first(broken: bool) -> Trace:
    tr = Trace().first_job("s1", "j1").submit(1, "f1").submit(2, "j2", "s1").end(10, "j1", "s1")
    return tr.start(10, "f1") if broken else tr.start(10, "j2", "s1")


def _held(broken: bool) -> Trace:
    tr = Trace().first_job("s1", "j1").submit(1, "f1").end(10, "j1", "s1")
    if broken:
        return tr.start(20, "f1")
    return tr.session(310, "s1", "active", "inactive", "interactive_timeout").start(310, "f1")


def _held_back(broken: bool) -> Trace:
    tr = Trace(IDLE_DEVICE="work_conserving").first_job("s1", "j1").end(10, "j1", "s1")
    tr.open(11, "s2").submit(12, "j2", "s2").submit(12, "f1")
    return tr.start(12, "j2", "s2") if broken else tr.start(12, "f1")


def _fifo(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "j1", "s1").submit(0, "j2", "s1")
    return tr.start(1, "j2" if broken else "j1", "s1").activate(1, "s1")


def _no_idle(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1")
    return tr.when(not broken, lambda t: t.start(0, "f1")).open(5, "s9")


def _activation_missing(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "j1", "s1").start(0, "j1", "s1")
    return tr.when(not broken, lambda t: t.activate(0, "s1")).end(10, "j1", "s1")


def _activation_without_start(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "j1", "s1")
    return tr.activate(0, "s1") if broken else tr.start(0, "j1", "s1").activate(0, "s1")


def _submit_after_close(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").request(5, "close", session="s1").session(5, "s1", "pending", "closed", "close")
    if broken:
        return tr.submit(6, "j1", "s1")
    return tr.request(6, "submit", session="s1", job="j1", error="SESSION-CLOSED")


def _queued_survives_close(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "f0").start(0, "f0").submit(1, "j1", "s1")
    tr.request(5, "close", session="s1").session(5, "s1", "pending", "closed", "close")
    if not broken:
        tr.end(5, "j1", "s1", src="queued", dst="failed", trigger="session_closed", reason="session_closed")
    return tr.open(6, "s9")


def _running_survives_close(broken: bool, close_running_job: str = "fail") -> Trace:
    tr = Trace(CLOSE_RUNNING_JOB=close_running_job).first_job("s1", "j1")
    tr.request(5, "close", session="s1").session(5, "s1", "active", "closed", "close")
    if broken:
        return tr.end(10, "j1", "s1")
    return tr.end(5, "j1", "s1", dst="failed", trigger="session_closed", reason="session_closed")


def _reopened(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").request(5, "close", session="s1").session(5, "s1", "pending", "closed", "close")
    return tr.when(broken, lambda t: t.session(6, "s1", "closed", "active", "job_started"))


def _job_revived(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1").start(0, "f1").end(10, "f1")
    return tr.when(broken, lambda t: t.change(11, "job", "f1", "completed", "running", "start"))


def _submit_lost(broken: bool) -> Trace:
    tr = Trace()
    if broken:
        tr.request(0, "submit", job="f1", args={"max_execution_time": None})
    else:
        tr.submit(0, "f1")
    return tr.open(1, "s9")


def _failed_without_reason(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1").start(0, "f1")
    return tr.end(3, "f1", dst="failed", trigger="device_error", reason=None if broken else "device_error")


def _first_cancel(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "f0").start(0, "f0").submit(1, "j1", "s1").submit(1, "j2", "s1")
    tr.request(5, "cancel", job="j1", session="s1").end(5, "j1", "s1", src="queued", dst="cancelled", trigger="cancel")
    if broken:
        return tr.end(10, "f0").start(10, "j2", "s1").activate(10, "s1")
    tr.end(5, "j2", "s1", src="queued", dst="failed", trigger="first_job_cancelled", reason="first_job_cancelled")
    return tr.end(10, "f0")


def _first_cancel_close(broken: bool) -> Trace:
    tr = Trace(FIRST_JOB_CANCEL="close_session").open(0, "s1").submit(0, "f0").start(0, "f0").submit(1, "j1", "s1")
    tr.request(5, "cancel", job="j1", session="s1").end(5, "j1", "s1", src="queued", dst="cancelled", trigger="cancel")
    tr.when(not broken, lambda t: t.session(5, "s1", "pending", "closed", "first_job_cancelled"))
    return tr.end(10, "f0")


def _drain_stalls(broken: bool) -> Trace:
    """Platform: a session closed with a job running, whose end does not close it."""
    tr = Trace(profile="platform").first_job("s1", "j1").request(5, "close", session="s1")
    tr.session(5, "s1", "active", "pending_closed", "close").end(10, "j1", "s1")
    return tr.when(not broken, lambda t: t.session(10, "s1", "pending_closed", "closed", "drained")).open(20, "s9")


def _closing_accepts(broken: bool) -> Trace:
    tr = Trace(profile="platform").first_job("s1", "j1").request(5, "close", session="s1")
    tr.session(5, "s1", "active", "pending_closed", "close")
    if broken:
        tr.submit(6, "j2", "s1").start(10, "j2", "s1").end(10, "j1", "s1").end(20, "j2", "s1")
        return tr.session(20, "s1", "pending_closed", "closed", "drained")
    tr.request(6, "submit", session="s1", job="j2", args={"max_execution_time": None}, error="SESSION-NOT-ACCEPTING")
    return tr.end(10, "j1", "s1").session(10, "s1", "pending_closed", "closed", "drained")


def _close_fails_jobs(broken: bool) -> Trace:
    tr = Trace(profile="platform").first_job("s1", "j1").submit(1, "j2", "s1").request(5, "close", session="s1")
    tr.session(5, "s1", "active", "pending_closed", "close")
    if broken:
        tr.end(5, "j2", "s1", src="queued", dst="failed", trigger="session_closed", reason="session_closed")
        return tr.end(10, "j1", "s1").session(10, "s1", "pending_closed", "closed", "drained")
    tr.end(10, "j1", "s1").start(10, "j2", "s1").end(20, "j2", "s1")
    return tr.session(20, "s1", "pending_closed", "closed", "drained")


def _cancel_ignored(broken: bool) -> Trace:
    tr = Trace().submit(0, "f0").start(0, "f0").submit(1, "f1").request(5, "cancel", job="f1")
    tr.when(not broken, lambda t: t.end(5, "f1", src="queued", dst="cancelled", trigger="cancel"))
    return tr.end(10, "f0")


def _close_ignored(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").request(5, "close", session="s1")
    return tr.when(not broken, lambda t: t.session(5, "s1", "pending", "closed", "close")).open(6, "s9")


def _max_time_missed(broken: bool) -> Trace:
    tr = Trace().open(0, "s1", max_time=100).submit(0, "j1", "s1").start(0, "j1", "s1").activate(0, "s1", 100.0)
    tr.end(10, "j1", "s1")
    tr.when(not broken, lambda t: t.session(100, "s1", "active", "closed", "max_time_reached"))
    return tr.open(150, "s9")


def _start_at_deadline(broken: bool) -> Trace:
    tr = Trace().open(0, "s1", max_time=20).submit(0, "j1", "s1").submit(0, "j2", "s1")
    tr.start(0, "j1", "s1").activate(0, "s1", 20.0).end(20, "j1", "s1")
    tr.when(broken, lambda t: t.start(20, "j2", "s1"))
    tr.session(20, "s1", "active", "closed", "max_time_reached")
    if broken:
        return tr.end(20, "j2", "s1", dst="failed", trigger="session_expired", reason="session_expired")
    return tr.end(20, "j2", "s1", src="queued", dst="failed", trigger="session_expired", reason="session_expired")


def _max_time_missing(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "j1", "s1").start(0, "j1", "s1")
    return tr.activate(0, "s1", None if broken else 28800.0)


def _max_time_value(broken: bool) -> Trace:
    tr = Trace().open(0, "s1", max_time="5m").submit(0, "j1", "s1").start(0, "j1", "s1")
    return tr.activate(0, "s1", 28800.0 if broken else 300.0)


def _max_time_above_system(broken: bool) -> Trace:
    tr = Trace()
    if broken:
        return tr.open(0, "s1", max_time=28801)
    return tr.request(0, "open", args={"max_time": 28801}, error="MAXTIME-ABOVE-SYSTEM")


def _job_above_max_time(broken: bool) -> Trace:
    tr = Trace().open(0, "s1", max_time=600)
    if broken:
        return tr.submit(1, "j1", "s1", mexec=600.0)
    args = {"max_execution_time": 600.0}
    return tr.request(1, "submit", session="s1", job="j1", args=args, error="MAXTIME-BELOW-JOB")


def _early_deactivation(broken: bool) -> Trace:
    tr = Trace().first_job("s1", "j1").end(10, "j1", "s1")
    return tr.session(200 if broken else 310, "s1", "active", "inactive", "interactive_timeout")


def _missed_deactivation(broken: bool) -> Trace:
    tr = Trace().first_job("s1", "j1").end(10, "j1", "s1")
    tr.when(not broken, lambda t: t.session(310, "s1", "active", "inactive", "interactive_timeout"))
    return tr.open(400, "s9")


def _wrong_window_value(broken: bool) -> Trace:
    return Trace(interactive_timeout=600.0 if broken else 300.0).open(0, "s1")


def _undeclared(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1")
    return tr.end(0, "f1", src="queued") if broken else tr.start(0, "f1").end(10, "f1")


def _wrong_reason(broken: bool) -> Trace:
    tr = Trace().first_job("s1", "j1").request(5, "close", session="s1").session(5, "s1", "active", "closed", "close")
    reason = "device_error" if broken else "session_closed"
    return tr.end(5, "j1", "s1", dst="failed", trigger="session_closed", reason=reason)


def _wrong_source(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1").start(0, "f1")
    return tr.end(10, "f1", src="queued" if broken else "running", trigger="cancel", dst="cancelled")


def _job_changes_session(broken: bool) -> Trace:
    tr = Trace().open(0, "s1").submit(0, "j1", "s1")
    return tr.start(0, "j1", None if broken else "s1").activate(0, "s1")


def _job_off_its_session_backend(broken: bool) -> Trace:
    return Trace().open(0, "s1").submit(0, "j1", "s1", backend="b1" if broken else "b0")


def _overrun(broken: bool) -> Trace:
    tr = Trace().submit(0, "f1", mexec=50.0).start(0, "f1")
    if broken:
        return tr.end(60, "f1")
    return tr.end(50, "f1", dst="failed", trigger="max_execution_time_reached", reason="max_execution_time_reached")


CASES: tuple[tuple[str, Case], ...] = (
    ("one-running-job-per-backend", _one_running),
    ("one-active-session-per-backend", _one_active),
    ("active-session-jobs-first", _jobs_first),
    ("held-backend", _held),
    ("other-sessions-held-back", _held_back),
    ("session-fifo", _fifo),
    ("no-idle-backend", _no_idle),
    ("activation-at-first-start", _activation_missing),
    ("activation-at-first-start", _activation_without_start),
    ("no-start-after-close", _submit_after_close),
    ("no-start-after-close", _queued_survives_close),
    ("no-start-after-close", _running_survives_close),
    ("closed-is-absorbing", _reopened),
    ("job-outcome-is-final", _job_revived),
    ("nothing-lost", _submit_lost),
    ("nothing-lost", _failed_without_reason),
    ("first-job-cancel", _first_cancel),
    ("first-job-cancel", _first_cancel_close),
    ("cancel-takes-effect", _cancel_ignored),
    ("close-takes-effect", _close_ignored),
    ("close-drains", _drain_stalls),
    ("close-drains", _closing_accepts),
    ("close-drains", _close_fails_jobs),
    ("max-time-respected", _max_time_missed),
    ("max-time-respected", _max_time_missing),
    ("max-time-respected", _start_at_deadline),
    ("max-time-value", _max_time_value),
    ("max-execution-time", _overrun),
    ("job-stays-in-session", _job_changes_session),
    ("job-stays-in-session", _job_off_its_session_backend),
    ("max-time-bounds", _max_time_above_system),
    ("max-time-bounds", _job_above_max_time),
    ("interactive-timeout", _early_deactivation),
    ("interactive-timeout", _missed_deactivation),
    ("interactive-timeout", _wrong_window_value),
    ("declared-transitions", _undeclared),
    ("declared-transitions", _wrong_reason),
    ("declared-transitions", _wrong_source),
)


def _violations(records: list[Record], prop: type[TraceProperty]) -> list[Violation]:
    return check_records(records, [prop])


@pytest.mark.rule(
    "SESSION-START-FIRST-JOB", "SCHED-FIRST-JOB-WAITS", "SCHED-PRIORITY", "SCHED-FAIRSHARE",
    "SCHED-ONE-AT-A-TIME", "SCHED-SESSION-FIFO", "SESSION-SINGLE-ACTIVE", "SESSION-REACTIVATE",
    "TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE", "MAXTIME-ASSIGNED", "MAXTIME-PARAM", "MAXTIME-FORMAT",
    "MAXTIME-BOUNDS", "MAXTIME-DEFAULT", "MAXTIME-SYSTEM-LIMIT", "MAXTIME-EXPIRY", "SESSION-CLOSE",
    "SESSION-CLOSED-REJECTS", "CLOSE-FAILS-INCOMPLETE", "CONTEXT-CLOSE", "FIRST-JOB-CANCEL", "JOB-CANCEL",
    "JOB-TERMINAL", "SESSION-GROUPS-JOBS", "BACKEND-FIXED", "JOB-MAX-EXECUTION",
    "PLATFORM-CLOSE-DRAINS", "PLATFORM-NOT-ACCEPTING",
)
@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n}:{c.__name__.strip('_')}" for n, c in CASES])
def test_property_fails_on_the_broken_trace_only(name: str, case: Case) -> None:
    prop = PROPERTIES_BY_NAME[name]
    assert _violations(case(False).records, prop) == []
    found = _violations(case(True).records, prop)
    assert found, f"{name} did not notice {case.__name__}"
    assert all(v.property == name for v in found)
    if prop is not PROPERTIES_BY_NAME["declared-transitions"]:
        assert set(prop.rules) <= set(found[0].rules)
    assert set(found[0].rules) <= set(RULES_BY_ID)


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE")
def test_running_job_may_finish_after_close_under_finish() -> None:
    prop = PROPERTIES_BY_NAME["no-start-after-close"]
    assert _violations(_running_survives_close(True, "finish").records, prop) == []
    assert _violations(_running_survives_close(True).records, prop)


@pytest.mark.rule("SCHED-FAIRSHARE", "SESSION-CLOSE")
def test_held_backend_only_binds_under_hold() -> None:
    broken = _held(True)
    assert _violations(broken.records, PROPERTIES_BY_NAME["held-backend"])
    header = broken.records[0]
    assert isinstance(header, Header)
    relaxed = Header({**header.interpretation, "INT-IDLE-DEVICE": "work_conserving"}, header.backends, 300.0)
    assert _violations([relaxed, *broken.records[1:]], PROPERTIES_BY_NAME["held-backend"]) == []


@pytest.mark.rule("SESSION-SINGLE-ACTIVE", "SCHED-FIRST-JOB-WAITS")
def test_other_sessions_may_run_unactivated_when_so_interpreted() -> None:
    broken = _held_back(True)
    header = broken.records[0]
    assert isinstance(header, Header)
    relaxed = Header({**header.interpretation, "INT-OTHER-SESSION-JOB": "run_unactivated"}, header.backends, 300.0)
    records = [relaxed, *broken.records[1:]]
    for name in ("other-sessions-held-back", "activation-at-first-start", "no-idle-backend"):
        assert _violations(records, PROPERTIES_BY_NAME[name]) == [], name


@pytest.mark.rule("TTL-INTERACTIVE")
def test_queue_empty_window_opens_while_the_last_job_runs() -> None:
    """Under queue_empty the window opens at the last job's start, not its end."""
    tr = Trace(INTERACTIVE_WINDOW="queue_empty").first_job("s1", "j1").end(10, "j1", "s1")
    tr.session(300, "s1", "active", "inactive", "interactive_timeout")
    assert _violations(tr.records, PROPERTIES_BY_NAME["interactive-timeout"]) == []
    late = Trace().first_job("s1", "j1").end(10, "j1", "s1")
    late.session(300, "s1", "active", "inactive", "interactive_timeout")
    assert _violations(late.records, PROPERTIES_BY_NAME["interactive-timeout"])


# ---------------------------------------------------------------------- engine traces

BACKENDS = (
    BackendConfig("b0", duration=Duration.fixed(10.0)),
    BackendConfig("b1", system_max_time=900.0, duration=Duration.exponential(20.0)),
)


def _iterative(engine: Engine) -> None:
    """A session iterates, idles past the window, comes back; fair-share jobs wait around it."""
    s1 = engine.open_session("b0")
    for _ in range(3):
        engine.submit(s1.id)
    engine.submit(None, "b0")
    engine.advance(100)
    engine.submit(s1.id)
    engine.advance(400)
    engine.submit(None, "b0")
    engine.submit(s1.id)
    engine.advance(30)
    s2 = engine.open_session("b0")
    engine.submit(s2.id)
    engine.advance(1000)
    engine.close(s1.id)
    engine.close(s2.id)
    engine.advance(100)


def _expiry(engine: Engine) -> None:
    """Sessions reach max_time with jobs running and queued, active and inactive."""
    s1 = engine.open_session("b0", max_time=25)
    for _ in range(4):
        engine.submit(s1.id)
    s2 = engine.open_session("b1")
    engine.submit(s2.id, duration=5.0)
    engine.advance(2000)
    with pytest.raises(RequestRejected):
        engine.submit(s1.id)


def _first_cancels(engine: Engine) -> None:
    """First jobs cancelled while queued and while running; later submissions follow."""
    s1 = engine.open_session("b0")
    engine.submit(None, "b0")
    first = engine.submit(s1.id)
    engine.submit(s1.id)
    engine.cancel(first.id)
    engine.advance(5)
    if s1.state != "closed":
        engine.submit(s1.id)
    s2 = engine.open_session("b1")
    running = engine.submit(s2.id, duration=50.0)
    engine.submit(s2.id)
    engine.advance(1)
    engine.cancel(running.id)
    if s2.state != "closed":
        engine.submit(s2.id)
    engine.advance(400)


def _rejections(engine: Engine) -> None:
    """Malformed and out-of-bounds requests, each refused and traced."""
    for bad in ("abc", 0, 1.5, 28801):
        with pytest.raises(RequestRejected):
            engine.open_session("b0", max_time=bad)
    s1 = engine.open_session("b1", max_time="10m")
    try:
        engine.submit(s1.id, max_execution_time=600.0)
    except RequestRejected as error:
        assert error.code == "MAXTIME-BELOW-JOB"
    engine.submit(s1.id, max_execution_time=5.0, duration=50.0)
    engine.advance(100)
    engine.close(s1.id)
    with pytest.raises(RequestRejected):
        engine.submit(s1.id)


SCENARIOS = (_iterative, _expiry, _first_cancels, _rejections)


def _engine_trace(interpretation: Interpretation, scenario: Callable[[Engine], None]) -> MemoryTrace:
    trace = MemoryTrace()
    scenario(Engine(BACKENDS, interpretation=interpretation, seed=7, sink=trace))
    return trace


@pytest.mark.rule(
    "SESSION-START-FIRST-JOB", "SCHED-FIRST-JOB-WAITS", "SCHED-PRIORITY", "SCHED-FAIRSHARE",
    "SCHED-ONE-AT-A-TIME", "SCHED-SESSION-FIFO", "SESSION-SINGLE-ACTIVE", "SESSION-REACTIVATE",
    "TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE", "MAXTIME-ASSIGNED", "MAXTIME-PARAM", "MAXTIME-FORMAT",
    "MAXTIME-BOUNDS", "MAXTIME-DEFAULT", "MAXTIME-SYSTEM-LIMIT", "MAXTIME-EXPIRY", "SESSION-CLOSE",
    "SESSION-CLOSED-REJECTS", "CLOSE-FAILS-INCOMPLETE", "CONTEXT-CLOSE", "FIRST-JOB-CANCEL", "JOB-CANCEL",
    "JOB-TERMINAL", "SESSION-GROUPS-JOBS", "BACKEND-FIXED", "JOB-MAX-EXECUTION",
    "PLATFORM-CLOSE-DRAINS", "PLATFORM-NOT-ACCEPTING",
)
@pytest.mark.parametrize("profile", list(all_profiles()))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__.strip("_") for s in SCENARIOS])
def test_engine_traces_satisfy_every_property(profile: str, scenario: Callable[[Engine], None]) -> None:
    trace = _engine_trace(all_profiles()[profile], scenario)
    assert check_trace(trace) == []
    # The same judgement from the JSON Lines form, as an outside checker reads it.
    assert check_trace([r for r in loads_all(trace.jsonl().splitlines()) if not isinstance(r, End)]) == []


@pytest.mark.rule("TTL-INTERACTIVE", "SESSION-REACTIVATE", "MAXTIME-EXPIRY", "FIRST-JOB-CANCEL")
def test_engine_scenarios_reach_what_the_properties_judge() -> None:
    """The passing traces are not vacuous: they contain the transitions the properties are about."""
    seen: set[tuple[str, str | None, str]] = set()
    for scenario in SCENARIOS:
        for record in _engine_trace(profiles()["default"], scenario):
            if isinstance(record, Change):
                seen.add((record.entity, record.src, record.trigger))
    for expected in (
        ("session", "active", "interactive_timeout"),
        ("session", "inactive", "job_started"),
        ("session", "active", "max_time_reached"),
        ("session", "inactive", "max_time_reached"),
        ("job", "queued", "first_job_cancelled"),
        ("job", "running", "session_expired"),
        ("job", "running", "cancel"),
    ):
        assert expected in seen, expected


@pytest.mark.rule("JOB-TERMINAL")
def test_registry_names_rules_and_descriptions() -> None:
    names = [p.name for p in ALL_PROPERTIES]
    assert len(names) == len(set(names))
    for prop in ALL_PROPERTIES:
        assert prop.name.replace("-", "").isalpha() and prop.name.islower(), prop.name
        assert prop.rules and set(prop.rules) <= set(RULES_BY_ID), prop.name
        assert prop.description.endswith(".") and prop.description.count(". ") == 0, prop.name
    assert {name for name, _ in CASES} == set(names), "every property has a failing case"
    cited = {r for p in ALL_PROPERTIES for r in p.rules}
    for test in (test_property_fails_on_the_broken_trace_only, test_engine_traces_satisfy_every_property):
        marked = {arg for mark in getattr(test, "pytestmark", []) if mark.name == "rule" for arg in mark.args}
        assert marked == cited, test.__name__


@pytest.mark.rule("TTL-INTERACTIVE", "FIRST-JOB-CANCEL")
def test_engine_restarts_the_window_for_a_job_of_a_doomed_session() -> None:
    """Regression: a job submitted to an active session whose first job was cancelled is queued
    (if only for an instant) before it fails, so the interactive window restarts then."""
    trace = MemoryTrace()
    engine = Engine(BACKENDS, seed=7, sink=trace)
    session = engine.open_session("b0")
    first = engine.submit(session.id, duration=50.0)
    engine.advance(10)
    engine.cancel(first.id)
    engine.advance(100)
    engine.submit(session.id)
    engine.advance(1000)
    deactivated = [r.t for r in trace if isinstance(r, Change) and r.trigger == "interactive_timeout"]
    assert deactivated == [410.0]
    assert check_trace(trace) == []


@pytest.mark.rule("JOB-TERMINAL")
def test_a_change_citing_an_unknown_rule_is_named() -> None:
    records = Trace().submit(0, "f1").start(0, "f1").records
    start = records[-1]
    assert isinstance(start, Change)
    records[-1] = start._replace(rules=(*start.rules, "NO-SUCH-RULE"))
    found = _violations(records, PROPERTIES_BY_NAME["declared-transitions"])
    assert [v.message for v in found] == ["job f1 cites unknown rule(s) NO-SUCH-RULE"]
