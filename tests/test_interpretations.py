"""Every option of every interpretation point makes an observable difference.

Each point has one scenario parametrised over all its options (default first) and a
table of what each option must produce; ``test_every_point_has_a_scenario`` keeps
the tables in step with the catalogue, so a new point or option fails here until
someone shows what it changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from model.spec.interpretations import (
    DEFAULT,
    INTERPRETATION_POINTS,
    POINTS_BY_ID,
    IdleDevice,
    Interpretation,
    InterpretationError,
    Policy,
    all_profiles,
    parse_choice,
    policy_attr,
    profiles,
)
from model.spec.lifecycles import LIFECYCLES, Transition
from model.spec.profiles import PROFILES
from model.spec.validations import RequestRejected
from tests.scenario_helpers import B0, Scenario, backend

EXPECTED: dict[str, Mapping[str, object]] = {}
"""Per interpretation point, per option: what its scenario must show."""


def options(point: str, expected: Mapping[str, object]) -> list[str]:
    """Register what each option of ``point`` must show and return the options to parametrise over."""
    EXPECTED[point] = expected
    return list(POINTS_BY_ID[point].option_names)


POINT_RULES = {
    "INT-MAXTIME-DEFAULT": ("MAXTIME-DEFAULT",),
    "INT-MAXTIME-UPPER-BOUND": ("MAXTIME-BOUNDS",),
    "INT-MAXTIME-JOB-BOUND": ("MAXTIME-BOUNDS",),
    "INT-IDLE-DEVICE": ("SCHED-FAIRSHARE", "TTL-INTERACTIVE"),
    "INT-OTHER-SESSION-JOB": ("SESSION-SINGLE-ACTIVE",),
    "INT-EXPIRY-RUNNING-JOB": ("MAXTIME-EXPIRY",),
    "INT-EXPIRY-TIE": ("MAXTIME-EXPIRY", "MAXTIME-PARAM"),
    "INT-CLOSE-RUNNING-JOB": ("CLOSE-FAILS-INCOMPLETE",),
    "INT-FIRST-JOB-CANCEL": ("FIRST-JOB-CANCEL",),
    "INT-INTERACTIVE-WINDOW": ("TTL-INTERACTIVE",),
    "INT-FIRST-JOB-FAILURE": ("FIRST-JOB-CANCEL",),
    "INT-SIMULATOR-MAXTIME": ("MAXTIME-SYSTEM-LIMIT", "MAXTIME-DEFAULT"),
    "INT-DEADLINE-REQUEST": ("TTL-INTERACTIVE", "MAXTIME-EXPIRY", "SESSION-CLOSED-REJECTS"),
    "INT-MAXTIME-CLOCK": ("MAXTIME-ASSIGNED", "MAXTIME-EXPIRY", "SESSION-START-FIRST-JOB"),
    "INT-CANCEL-RUNNING-JOB": ("PLATFORM-CANCEL-SESSION",),
    "INT-PLATFORM-FIRST-JOB-CANCEL": ("FIRST-JOB-CANCEL",),
    "INT-EXECUTION-LANES": ("SCHED-ONE-AT-A-TIME",),
}
"""The rules whose meaning each interpretation point settles."""

INTERPRETED_RULES = tuple(dict.fromkeys(r for rules in POINT_RULES.values() for r in rules))


@pytest.mark.parametrize(
    "point", [pytest.param(p.id, marks=pytest.mark.rule(*POINT_RULES[p.id])) for p in INTERPRETATION_POINTS]
)
def test_every_point_has_a_scenario_for_each_of_its_options(point: str) -> None:
    assert point in EXPECTED, f"{point} has no scenario in this module"
    assert set(EXPECTED[point]) == set(POINTS_BY_ID[point].option_names)
    outcomes = list(EXPECTED[point].values())
    assert all(a != b for i, a in enumerate(outcomes) for b in outcomes[i + 1:]), "options must differ"


# ---------------------------------------------------------------- the platform profile's own points


CANCEL_RUNNING_JOB = {"finish": ("completed", 10.0), "cancel": ("cancelled", 4.0)}
"""The running job's end state and time when its session is cancelled at 4 s."""


@pytest.mark.rule("PLATFORM-CANCEL-SESSION")
@pytest.mark.parametrize("option", options("INT-CANCEL-RUNNING-JOB", CANCEL_RUNNING_JOB))
def test_cancel_running_job(option: str) -> None:
    """cancel_session cancels the queued jobs and closes the session; the running one per the option."""
    sc = Scenario(profile="platform", cancel_running_job=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2")
    sc.at(4).cancel_session("s")
    sc.settle(until=100)
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (4.0, "closed")]
    assert sc.path("j2")[-1] == (4.0, "cancelled")
    state, when = CANCEL_RUNNING_JOB[option]
    assert sc.path("j1")[-1] == (when, state)


PLATFORM_FIRST_JOB_CANCEL = {"no_effect": ("completed", "completed"), "fail_subsequent": ("failed", "failed")}
"""What becomes of the queued job j2 and the later job j3 after the first job j1 is cancelled."""


@pytest.mark.rule("FIRST-JOB-CANCEL")
@pytest.mark.parametrize("option", options("INT-PLATFORM-FIRST-JOB-CANCEL", PLATFORM_FIRST_JOB_CANCEL))
def test_platform_first_job_cancel(option: str) -> None:
    sc = Scenario(profile="platform", platform_first_job_cancel=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2")
    sc.at(2).cancel("j1")
    sc.at(30).submit("s", job_id="j3")
    sc.settle(until=500)
    assert (sc.path("j2")[-1][1], sc.path("j3")[-1][1]) == PLATFORM_FIRST_JOB_CANCEL[option]


EXECUTION_LANES = {"one": ["j1", "j2", "j3"]}
"""One lane: the jobs start one after another, in order."""


@pytest.mark.rule("SCHED-ONE-AT-A-TIME")
@pytest.mark.parametrize("option", options("INT-EXECUTION-LANES", EXECUTION_LANES))
def test_execution_lanes(option: str) -> None:
    sc = Scenario(profile="platform", execution_lanes=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.settle(until=500)
    assert sc.start_order() == EXECUTION_LANES[option]
    assert [sc.when(job, "running") for job in ("j1", "j2", "j3")] == [0.0, 10.0, 20.0]


# ---------------------------------------------------------------- INT-IDLE-DEVICE


IDLE_DEVICE = {"hold": 410.0, "work_conserving": 10.0}
"""When the fair-share job submitted during the session's first job starts."""


@pytest.mark.rule("SCHED-FAIRSHARE", "TTL-INTERACTIVE", "SCHED-PRIORITY")
@pytest.mark.parametrize("option", options("INT-IDLE-DEVICE", IDLE_DEVICE))
def test_idle_device(option: str) -> None:
    """hold: a fair-share job waits out the interactive window; work_conserving: it runs in the gap."""
    sc = Scenario(idle_device=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(5).submit(backend=B0, job_id="f")
    sc.at(100).submit("s", job_id="j2")  # the session is still active under both
    sc.settle(until=2000)

    assert sc.when("f", "running") == IDLE_DEVICE[option]
    # the session's own behaviour is the same under both: active from 0 until 300 s after j2
    assert sc.path("s")[:3] == [(0.0, "pending"), (0.0, "active"), (410.0, "inactive")]
    assert sc.when("j2", "running") == 100.0


# ---------------------------------------------------------------- INT-OTHER-SESSION-JOB


OTHER_SESSION_JOB: dict[str, tuple[list[str], list[tuple[float, str]]]] = {
    "hold_back": (["a1", "f", "b1"], [(0.0, "pending"), (310.0, "active")]),
    "run_unactivated": (["a1", "b1", "f"], [(0.0, "pending")]),
}
"""The start order, and session B's path, under INT-IDLE-DEVICE=work_conserving."""


@pytest.mark.rule("SESSION-SINGLE-ACTIVE", "SCHED-FIRST-JOB-WAITS", "SCHED-FAIRSHARE")
@pytest.mark.parametrize("option", options("INT-OTHER-SESSION-JOB", OTHER_SESSION_JOB))
def test_other_session_job_under_work_conserving(option: str) -> None:
    """Another session's job at the head of the queue while A is active: held back, or run unactivated."""
    sc = Scenario(idle_device="work_conserving", other_session_job=option)
    e = sc.at(0)
    e.open_session(B0, session_id="A")
    e.submit("A", job_id="a1")
    e.open_session(B0, session_id="B")
    sc.at(5).submit("B", job_id="b1")
    sc.at(6).submit(backend=B0, job_id="f")
    sc.settle(until=500)

    order, b_path = OTHER_SESSION_JOB[option]
    assert sc.start_order() == order
    assert sc.path("B") == b_path
    if option == "hold_back":
        assert (sc.when("f", "running"), sc.when("b1", "running")) == (10.0, 310.0)
    else:
        assert (sc.when("b1", "running"), sc.when("f", "running")) == (10.0, 20.0)
    _assert_single_active(sc)


@pytest.mark.rule("SESSION-SINGLE-ACTIVE")
def test_other_session_job_makes_no_difference_under_hold() -> None:
    traces = []
    for option in POINTS_BY_ID["INT-OTHER-SESSION-JOB"].option_names:
        sc = Scenario(other_session_job=option)
        e = sc.at(0)
        e.open_session(B0, session_id="A")
        e.submit("A", job_id="a1")
        e.open_session(B0, session_id="B")
        sc.at(5).submit("B", job_id="b1")
        sc.at(6).submit(backend=B0, job_id="f")
        sc.settle(until=2000)
        assert sc.start_order() == ["a1", "b1", "f"]
        assert sc.when("f", "running") == 620.0
        traces.append(sc.trace[1:])
    assert traces[0] == traces[1]


def _assert_single_active(sc: Scenario) -> None:
    active: set[str] = set()
    for c in sc.changes():
        if c.entity == "session":
            active.discard(c.id)
            if c.dst == "active":
                active.add(c.id)
            assert len(active) <= 1, f"t={c.t}: {sorted(active)} active together"


# ---------------------------------------------------------------- INT-EXPIRY-RUNNING-JOB


RunningJobEnd = tuple[tuple[float, str, str | None], float]
"""The running job's last change (time, state, reason), and when the next fair-share job starts."""

EXPIRY_RUNNING_JOB: dict[str, RunningJobEnd] = {
    "fail": ((100.0, "failed", "session_expired"), 100.0),
    "finish": ((150.0, "completed", None), 150.0),
}


@pytest.mark.rule("MAXTIME-EXPIRY", "CLOSE-FAILS-INCOMPLETE")
@pytest.mark.parametrize("option", options("INT-EXPIRY-RUNNING-JOB", EXPIRY_RUNNING_JOB))
def test_expiry_running_job(option: str) -> None:
    sc = Scenario(expiry_running_job=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=100)
    e.submit("s", job_id="j1", duration=150.0)
    e.submit("s", job_id="j2")
    sc.at(1).submit(backend=B0, job_id="f")
    sc.settle()

    (end, state, reason), f_start = EXPIRY_RUNNING_JOB[option]
    last = sc.changes("j1")[-1]
    assert (last.t, last.dst, last.reason) == (end, state, reason)
    assert sc.when("s", "closed") == 100.0, "the session closes at max_time either way"
    assert (sc.when("j2", "failed"), sc.change("j2", "failed").reason) == (100.0, "session_expired")
    assert sc.when("f", "running") == f_start


# ---------------------------------------------------------------- INT-EXPIRY-TIE


EXPIRY_TIE: dict[str, tuple[str, str | None]] = {
    "job_first": ("completed", None),
    "expiry_first": ("failed", "session_expired"),
}
"""How the job that ends exactly at max_time ends."""


@pytest.mark.rule("MAXTIME-EXPIRY", "MAXTIME-PARAM")
@pytest.mark.parametrize("option", options("INT-EXPIRY-TIE", EXPIRY_TIE))
def test_expiry_tie(option: str) -> None:
    """A job ending at the very instant of max_time; in both options the next queued job never starts."""
    sc = Scenario(expiry_tie=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=100)
    e.submit("s", job_id="j1", duration=100.0)
    e.submit("s", job_id="j2", duration=10.0)
    sc.at(1).submit(backend=B0, job_id="f")
    sc.settle()

    last = sc.changes("j1")[-1]
    assert (last.t, last.dst, last.reason) == (100.0, *EXPIRY_TIE[option])
    assert not sc.entered("j2", "running"), "no session job starts at its session's deadline"
    assert (sc.when("j2", "failed"), sc.change("j2", "failed").reason) == (100.0, "session_expired")
    assert sc.when("s", "closed") == 100.0
    assert sc.when("f", "running") == 100.0


# ---------------------------------------------------------------- INT-CLOSE-RUNNING-JOB


CLOSE_RUNNING_JOB: dict[str, RunningJobEnd] = {
    "fail": ((5.0, "failed", "session_closed"), 5.0),
    "finish": ((10.0, "completed", None), 10.0),
}


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE", "SESSION-CLOSE")
@pytest.mark.parametrize("option", options("INT-CLOSE-RUNNING-JOB", CLOSE_RUNNING_JOB))
def test_close_running_job(option: str) -> None:
    sc = Scenario(close_running_job=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2")
    sc.at(1).submit(backend=B0, job_id="f")
    sc.at(5).close("s")
    sc.settle()

    (end, state, reason), f_start = CLOSE_RUNNING_JOB[option]
    last = sc.changes("j1")[-1]
    assert (last.t, last.dst, last.reason) == (end, state, reason)
    assert (sc.when("j2", "failed"), sc.change("j2", "failed").reason) == (5.0, "session_closed")
    assert sc.when("s", "closed") == 5.0
    assert sc.when("f", "running") == f_start


# ---------------------------------------------------------------- INT-FIRST-JOB-CANCEL


FIRST_JOB_CANCEL: dict[str, tuple[str, str | None]] = {
    "fail_subsequent": ("pending", None),
    "close_session": ("closed", "SESSION-CLOSED"),
}
"""The session's state after the cancel, and the code a later submission is rejected with."""


@pytest.mark.rule("FIRST-JOB-CANCEL", "SESSION-CLOSED-REJECTS")
@pytest.mark.parametrize("option", options("INT-FIRST-JOB-CANCEL", FIRST_JOB_CANCEL))
def test_first_job_cancel(option: str) -> None:
    """fail_subsequent: the session stays open and later jobs are accepted then failed;
    close_session: the session closes and later submissions are rejected."""
    sc = Scenario(first_job_cancel=option)
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0")
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2")
    sc.at(3).cancel("j1")
    assert (sc.when("j2", "failed"), sc.change("j2", "failed").reason) == (3.0, "first_job_cancelled")

    state, error = FIRST_JOB_CANCEL[option]
    assert sc.engine.sessions["s"].state == state
    e = sc.at(4)
    if error is None:
        e.submit("s", job_id="j3")
        assert sc.path("j3") == [(4.0, "queued"), (4.0, "failed")]
        assert sc.change("j3", "failed").reason == "first_job_cancelled"
    else:
        with pytest.raises(RequestRejected) as raised:
            e.submit("s", job_id="j3")
        assert raised.value.code == error
        closed = sc.change("s", "closed")
        assert (closed.t, closed.trigger) == (3.0, "first_job_cancelled")
        assert "FIRST-JOB-CANCEL" in closed.rules


# ---------------------------------------------------------------- INT-FIRST-JOB-FAILURE


FIRST_JOB_FAILURE: dict[str, tuple[str, str | None]] = {
    "unaffected": ("completed", None),
    "as_cancel": ("failed", "first_job_failed"),
}
"""How the second job of a session whose first job failed ends, and its failure reason."""


@pytest.mark.rule("FIRST-JOB-CANCEL", "DEVICE-FAULT", "JOB-MAX-EXECUTION")
@pytest.mark.parametrize("how", ["device_error", "max_execution_time_reached"])
@pytest.mark.parametrize("option", options("INT-FIRST-JOB-FAILURE", FIRST_JOB_FAILURE))
def test_first_job_failure(option: str, how: str) -> None:
    """unaffected: the later jobs run; as_cancel: they fail at once, as after a cancel (fail_subsequent)."""
    sc = Scenario(first_job_failure=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    if how == "device_error":
        e.submit("s", job_id="j1", fault=True)
    else:
        e.submit("s", job_id="j1", max_execution_time=5, duration=50.0)
    e.submit("s", job_id="j2")
    sc.settle(until=12)
    assert sc.change("j1", "failed").reason == how
    state, reason = FIRST_JOB_FAILURE[option]
    e = sc.at(60)  # j2 (10 s) has ended either way
    last = sc.changes("j2")[-1]
    assert (last.dst, last.reason) == (state, reason)
    if reason is not None:
        assert last.t == sc.when("j1", "failed")
        later = e.submit("s", job_id="j3")
        assert later.state == "failed" and sc.change("j3", "failed").reason == "first_job_failed"


@pytest.mark.rule("FIRST-JOB-CANCEL", "SESSION-CLOSED-REJECTS")
def test_first_job_failure_as_cancel_closes_the_session_under_close_session() -> None:
    sc = Scenario(first_job_failure="as_cancel", first_job_cancel="close_session")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1", fault=True)
    e.submit("s", job_id="j2")
    e = sc.at(11)
    closed = sc.change("s", "closed")
    assert (closed.t, closed.trigger) == (10.0, "first_job_failed")
    assert (sc.when("j2", "failed"), sc.change("j2", "failed").trigger) == (10.0, "first_job_failed")
    with pytest.raises(RequestRejected) as raised:
        e.submit("s", job_id="j3")
    assert raised.value.code == "SESSION-CLOSED"


@pytest.mark.rule("FIRST-JOB-CANCEL", "DEVICE-FAULT")
def test_a_later_job_that_fails_dooms_nothing_under_as_cancel() -> None:
    sc = Scenario(first_job_failure="as_cancel")
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2", fault=True)
    e.submit("s", job_id="j3")
    sc.settle()
    assert [sc.changes(j)[-1].dst for j in ("j1", "j2", "j3")] == ["completed", "failed", "completed"]


# ---------------------------------------------------------------- INT-SIMULATOR-MAXTIME


SIMULATOR_MAXTIME: dict[str, tuple[float, bool]] = {
    "three_hours": (10800.0, False),
    "physical_limit": (28800.0, True),
}
"""The default simulator's system max_time, and whether a session of max_time="4h" is accepted on it."""


@pytest.mark.rule("MAXTIME-SYSTEM-LIMIT", "MAXTIME-DEFAULT", "MAXTIME-BOUNDS")
@pytest.mark.parametrize("option", options("INT-SIMULATOR-MAXTIME", SIMULATOR_MAXTIME))
def test_simulator_maxtime(option: str) -> None:
    from model.runtime import QiskitRuntimeService, Session
    from model.runtime.exceptions import IBMInputValueError
    from model.trace import Header

    limit, four_hours = SIMULATOR_MAXTIME[option]
    service = QiskitRuntimeService(interpretation=Interpretation.of(simulator_maxtime=option))
    header = service.trace[0]
    assert isinstance(header, Header)
    assert header.backends["ibmq_qasm_simulator"]["system_max_time"] == limit
    assert ("INT-SIMULATOR-MAXTIME" in header.interpretation) == (option != "three_hours")
    if four_hours:
        with Session(service=service, backend="ibmq_qasm_simulator", max_time="4h"):
            pass
    else:
        with pytest.raises(IBMInputValueError, match="MAXTIME"):
            Session(service=service, backend="ibmq_qasm_simulator", max_time="4h")


# ---------------------------------------------------------------- INT-MAXTIME-CLOCK


MAXTIME_CLOCK: dict[str, tuple[float, str, str | None]] = {
    "first_job_start": (250.0, "completed", None),
    "open": (100.0, "failed", "session_expired"),
}
"""When the session (max_time 100, its first job waiting behind a 150 s job) closes, and how its job ends."""


@pytest.mark.rule("MAXTIME-ASSIGNED", "MAXTIME-EXPIRY", "SESSION-START-FIRST-JOB")
@pytest.mark.parametrize("option", options("INT-MAXTIME-CLOCK", MAXTIME_CLOCK))
def test_maxtime_clock(option: str) -> None:
    """first_job_start: the clock starts at 150 with the first job; open: it started at 0, and the session,
    still pending at 100, expires then with its queued job."""
    sc = Scenario(maxtime_clock=option)
    e = sc.at(0)
    e.submit(backend=B0, job_id="f", duration=150.0)
    e.open_session(B0, session_id="s", max_time=100)
    e.submit("s", job_id="j1")
    sc.settle()
    closed_at, state, reason = MAXTIME_CLOCK[option]
    closed = sc.change("s", "closed")
    assert (closed.t, closed.trigger) == (closed_at, "max_time_reached")
    last = sc.changes("j1")[-1]
    assert (last.dst, last.reason) == (state, reason)
    assert sc.entered("s", "active") == (option == "first_job_start")


@pytest.mark.rule("MAXTIME-ASSIGNED", "MAXTIME-DEFAULT")
def test_maxtime_clock_open_fixes_max_time_at_the_open() -> None:
    """Under open the max_time is fixed before any job exists: first_job_limit cannot shrink it, and a
    session that starts later keeps its deadline from the open."""
    sc = Scenario(backend(system_max_time=1000.0), maxtime_clock="open", maxtime_default="first_job_limit")
    e = sc.at(0)
    e.submit(backend=B0, job_id="f", duration=150.0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1", max_execution_time=50)
    sc.settle()
    started = sc.change("s", "active")
    assert (started.t, started.max_time) == (150.0, 1000.0)
    assert sc.when("s", "inactive") == 460.0
    closed = sc.change("s", "closed")
    assert (closed.t, closed.trigger) == (1000.0, "max_time_reached")  # 1000 s from the open, not from 150


# ---------------------------------------------------------------- INT-DEADLINE-REQUEST


DEADLINE_REQUEST: dict[str, tuple[str, str]] = {
    "after_timers": ("inactive", "SESSION-CLOSED"),
}
"""What a submit at the window's end finds, and the code a submit at max_time is rejected with."""


@pytest.mark.rule("TTL-INTERACTIVE", "MAXTIME-EXPIRY", "SESSION-CLOSED-REJECTS")
@pytest.mark.parametrize("option", options("INT-DEADLINE-REQUEST", DEADLINE_REQUEST))
def test_deadline_request(option: str) -> None:
    """A fixed reading: the timer due at an instant comes before a request made at it."""
    window_state, code = DEADLINE_REQUEST[option]
    sc = Scenario(deadline_request=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")  # 10 s: the window opens at 10 and ends at 310
    e = sc.at(310)
    assert sc.engine.sessions["s"].state == window_state
    e.submit("s", job_id="j2")
    assert sc.change("s", window_state).t == 310.0
    assert sc.trace.index(sc.change("s", window_state)) < sc.trace.index(
        next(r for r in sc.requests() if r.job == "j2")
    )

    sc = Scenario(deadline_request=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=100)
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2", duration=85.0)  # ends at 95, its window would run to 395
    e = sc.at(100)
    with pytest.raises(RequestRejected) as raised:
        e.submit("s", job_id="j3")
    assert raised.value.code == code
    assert sc.change("s", "closed").t == 100.0


# ---------------------------------------------------------------- INT-INTERACTIVE-WINDOW


INTERACTIVE_WINDOW: dict[str, tuple[float, list[str]]] = {
    "session_idle": (710.0, ["j1", "j2", "f"]),
    "queue_empty": (300.0, ["j1", "f", "j2"]),
}
"""When the session deactivates, and the start order."""


@pytest.mark.rule("TTL-INTERACTIVE", "SESSION-REACTIVATE", "SCHED-PRIORITY")
@pytest.mark.parametrize("option", options("INT-INTERACTIVE-WINDOW", INTERACTIVE_WINDOW))
def test_interactive_window(option: str) -> None:
    """A 400 s job: session_idle opens the window when it ends; queue_empty when it starts."""
    sc = Scenario(interactive_window=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1", duration=400.0)
    sc.at(1).submit(backend=B0, job_id="f")
    sc.at(350).submit("s", job_id="j2")
    sc.settle(until=5000)

    deactivated, order = INTERACTIVE_WINDOW[option]
    assert sc.when("s", "inactive") == deactivated
    assert sc.start_order() == order
    if option == "queue_empty":
        assert sc.when("f", "running") == 400.0
        assert sc.when("j2", "running") == 410.0
        assert "SESSION-REACTIVATE" in sc.change("j2", "running").rules
    else:
        assert sc.when("j2", "running") == 400.0
        assert sc.when("f", "running") == 710.0


# ---------------------------------------------------------------- INT-MAXTIME-DEFAULT


MAXTIME_DEFAULT: dict[str, tuple[float, float]] = {
    "system_limit": (28800.0, 28800.0),
    "first_job_limit": (600.0, 100.0),
}
"""max_time of a session whose first job takes the program's 600 s limit, and of one whose first job sets 100 s."""


@pytest.mark.rule("MAXTIME-DEFAULT", "MAXTIME-ASSIGNED", "MAXTIME-SYSTEM-LIMIT")
@pytest.mark.parametrize("option", options("INT-MAXTIME-DEFAULT", MAXTIME_DEFAULT))
def test_maxtime_default(option: str) -> None:
    """Without max_time: the system limit, or min(system limit, the first job's max_execution_time)."""
    sc = Scenario(backend(B0, program_max_execution_time=600.0), maxtime_default=option)
    e = sc.at(0)
    e.open_session(B0, session_id="program")  # first job uses the program's 600 s
    e.submit("program", job_id="p1")
    e.open_session(B0, session_id="explicit")  # first job sets 100 s
    e.submit("explicit", job_id="x1", max_execution_time=100.0)
    e.open_session(B0, session_id="given", max_time=5000)
    e.submit("given", job_id="g1")
    sc.settle(until=100000)

    program, explicit = MAXTIME_DEFAULT[option]
    assert sc.change("program", "active").max_time == program
    assert sc.when("program", "closed") == 0.0 + program
    assert sc.change("explicit", "active").max_time == explicit
    assert sc.when("explicit", "closed") == sc.when("explicit", "active") + explicit
    assert sc.change("given", "active").max_time == 5000.0, "an explicit max_time wins under both"


@pytest.mark.rule("MAXTIME-DEFAULT", "MAXTIME-SYSTEM-LIMIT")
@pytest.mark.parametrize("option", POINTS_BY_ID["INT-MAXTIME-DEFAULT"].option_names)
def test_maxtime_default_never_exceeds_the_system_limit(option: str) -> None:
    sc = Scenario(backend(B0, system_max_time=3600.0, program_max_execution_time=3600.0), maxtime_default=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1", max_execution_time=3599.0)
    sc.settle()
    expected = 3600.0 if option == "system_limit" else 3599.0
    assert sc.change("s", "active").max_time == expected


# ---------------------------------------------------------------- INT-MAXTIME-UPPER-BOUND


MAXTIME_UPPER_BOUND: dict[str, str | None] = {"inclusive": None, "strict": "MAXTIME-ABOVE-SYSTEM"}
"""The code opening a session with max_time equal to the system limit is rejected with."""


@pytest.mark.rule("MAXTIME-BOUNDS", "MAXTIME-SYSTEM-LIMIT")
@pytest.mark.parametrize("option", options("INT-MAXTIME-UPPER-BOUND", MAXTIME_UPPER_BOUND))
def test_maxtime_upper_bound(option: str) -> None:
    """max_time equal to the system limit (8 h): accepted when inclusive, rejected when strict."""
    sc = Scenario(maxtime_upper_bound=option)
    e = sc.at(0)
    error = MAXTIME_UPPER_BOUND[option]
    for value in (28800, "8h", "480m"):
        if error is None:
            assert e.open_session(B0, max_time=value).requested_max_time == 28800
        else:
            with pytest.raises(RequestRejected) as raised:
                e.open_session(B0, max_time=value)
            assert raised.value.code == error
    assert e.open_session(B0, max_time=28799).requested_max_time == 28799
    with pytest.raises(RequestRejected) as above:
        e.open_session(B0, max_time="8h 1s")
    assert above.value.code == "MAXTIME-ABOVE-SYSTEM"


# ---------------------------------------------------------------- INT-MAXTIME-JOB-BOUND


MAXTIME_JOB_BOUND: dict[str, str | tuple[float, str]] = {
    "reject_explicit": "MAXTIME-BELOW-JOB",
    "allow": (600.0, "session_expired"),
}
"""The rejection code, or when and why the accepted over-long job fails."""


@pytest.mark.rule("MAXTIME-BOUNDS", "MAXTIME-EXPIRY")
@pytest.mark.parametrize("option", options("INT-MAXTIME-JOB-BOUND", MAXTIME_JOB_BOUND))
def test_maxtime_job_bound(option: str) -> None:
    """A job whose max_execution_time is not below max_time: rejected, or accepted and cut off by expiry."""
    sc = Scenario(maxtime_job_bound=option)
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=600)
    e.submit("s", job_id="below", max_execution_time=599.0, duration=5.0)
    e.submit("s", job_id="unset", duration=5.0)
    expected = MAXTIME_JOB_BOUND[option]
    if isinstance(expected, str):
        for met in (600.0, 900.0):
            with pytest.raises(RequestRejected) as raised:
                e.submit("s", max_execution_time=met)
            assert raised.value.code == expected
        assert [r.error for r in sc.rejections()] == [expected, expected]
    else:
        e.submit("s", job_id="same", max_execution_time=600.0, duration=5.0)
        e.submit("s", job_id="long", max_execution_time=900.0, duration=700.0)
        sc.settle()
        assert sc.entered("same", "completed")
        failed = sc.change("long", "failed")
        assert (failed.t, failed.reason) == expected
    assert sc.entered("below", "queued") and sc.entered("unset", "queued")


# ---------------------------------------------------------------- the configuration itself


@pytest.mark.rule(*INTERPRETED_RULES)
def test_interpretation_fills_defaults() -> None:
    seeds = [p for p in INTERPRETATION_POINTS if p.id in DEFAULT.rules.points]
    assert dict(Interpretation()) == {p.id: p.default for p in seeds}
    assert Interpretation() == DEFAULT
    assert DEFAULT.name == "default"
    chosen = Interpretation.of(idle_device="work_conserving")
    assert chosen["INT-IDLE-DEVICE"] == "work_conserving"
    assert chosen.differences() == {"INT-IDLE-DEVICE": "work_conserving"}
    assert chosen.name == "INT-IDLE-DEVICE=work_conserving"


@pytest.mark.rule(*INTERPRETED_RULES)
def test_an_unknown_interpretation_id_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InterpretationError, match=r"unknown interpretation 'INT-NOPE'; known: INT-MAXTIME-DEFAULT"):
        Interpretation({"INT-NOPE": "x"})
    with pytest.raises(InterpretationError, match="unknown interpretation 'INT-IDLE'"):
        Interpretation.of(idle="hold")


@pytest.mark.rule(*INTERPRETED_RULES)
def test_an_unknown_option_is_refused_with_the_allowed_ones() -> None:
    allowed = r"INT-IDLE-DEVICE: unknown option 'greedy'; allowed: hold, work_conserving"
    with pytest.raises(InterpretationError, match=allowed):
        Interpretation.of(idle_device="greedy")


@pytest.mark.rule(*INTERPRETED_RULES)
def test_parse_choice() -> None:
    assert parse_choice("idle-device=work_conserving") == ("INT-IDLE-DEVICE", "work_conserving")
    assert parse_choice(" INT-FIRST-JOB-CANCEL = close_session ") == ("INT-FIRST-JOB-CANCEL", "close_session")
    with pytest.raises(InterpretationError, match="expected ID=option"):
        parse_choice("idle-device")


@pytest.mark.rule(*INTERPRETED_RULES)
@pytest.mark.parametrize("rule_set", list(PROFILES))
def test_profiles_cover_every_option_of_every_point(rule_set: str) -> None:
    found = profiles(rule_set)
    base = Interpretation({}, rule_set)
    assert found["default" if rule_set == "seeds" else rule_set] == base
    points = [p for p in INTERPRETATION_POINTS if p.id in base.rules.points]
    covered = {(point, option) for profile in found.values() for point, option in profile.items()}
    wanted = {(p.id, o) for p in points for o in p.option_names} | set(base.rules.fixed.items())
    assert covered == wanted
    assert len(found) == 1 + sum(len(p.options) - 1 for p in points)
    for name, profile in found.items():
        assert len(profile.differences()) <= 1, f"{name} changes more than one point"
        assert profile.profile == rule_set


def test_a_profile_fixes_its_points_and_leaves_out_those_that_do_not_arise() -> None:
    platform = Interpretation({}, "platform")
    assert platform["INT-EXPIRY-RUNNING-JOB"] == "finish" and "INT-CLOSE-RUNNING-JOB" not in platform
    assert platform.name == "platform" and Interpretation(platform).profile == "platform"
    with pytest.raises(InterpretationError, match="fixed to 'finish' under profile platform"):
        Interpretation({"INT-EXPIRY-RUNNING-JOB": "fail"}, "platform")
    with pytest.raises(InterpretationError, match="'INT-CLOSE-RUNNING-JOB' under profile platform"):
        Interpretation({"INT-CLOSE-RUNNING-JOB": "fail"}, "platform")
    with pytest.raises(InterpretationError, match="'INT-CANCEL-RUNNING-JOB' under profile seeds"):
        Interpretation({"INT-CANCEL-RUNNING-JOB": "cancel"})
    with pytest.raises(InterpretationError, match="unknown profile 'cloud'; known: seeds, platform"):
        Interpretation({}, "cloud")
    assert Interpretation.of(profile="platform", expiry_tie="expiry_first").name == (
        "platform:INT-EXPIRY-TIE=expiry_first"
    )


# ---------------------------------------------------------------------- the typed policy


@pytest.mark.rule(*INTERPRETED_RULES)
@pytest.mark.parametrize("name", list(all_profiles()))
def test_every_point_has_a_policy_attribute_holding_its_option(name: str) -> None:
    interpretation = all_profiles()[name]
    policy = interpretation.policy
    assert [f.name for f in dataclasses.fields(Policy)] == [policy_attr(p.id) for p in INTERPRETATION_POINTS]
    for point in INTERPRETATION_POINTS:
        value = getattr(policy, policy_attr(point.id))
        assert value == interpretation.get(point.id, point.default)
        assert [str(member) for member in type(value)] == list(point.option_names)


def test_the_policy_is_built_once_frozen_and_follows_equality() -> None:
    chosen = Interpretation.of(idle_device="work_conserving")
    assert chosen.policy is chosen.policy
    assert chosen.policy.idle_device is IdleDevice.WORK_CONSERVING
    assert DEFAULT.policy.idle_device is IdleDevice.HOLD
    assert Interpretation.of(idle_device="work_conserving").policy == chosen.policy != DEFAULT.policy
    with pytest.raises(dataclasses.FrozenInstanceError):
        chosen.policy.idle_device = IdleDevice.HOLD  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = chosen.policy.idle_devices  # type: ignore[attr-defined]  # a typo cannot be silently False


def test_a_policy_of_an_unknown_option_raises() -> None:
    choices = {**DEFAULT, "INT-IDLE-DEVICE": "greedy"}
    with pytest.raises(InterpretationError, match="INT-IDLE-DEVICE: unknown option 'greedy'; allowed: hold"):
        Policy.of(choices)


def test_only_if_names_declared_points_and_options() -> None:
    for lifecycle in LIFECYCLES:
        for transition in lifecycle.transitions:
            for key, option in transition.only_if:
                assert option in POINTS_BY_ID[key].option_names
    with pytest.raises(InterpretationError, match="unknown interpretation 'INT-IDLE-DEVIC'"):
        Transition("dispatch", ("idle",), "busy", (), only_if=(("INT-IDLE-DEVIC", "hold"),))
    with pytest.raises(InterpretationError, match="'holds' is not an option; allowed: hold, work_conserving"):
        Transition("dispatch", ("idle",), "busy", (), only_if=(("INT-IDLE-DEVICE", "holds"),))
