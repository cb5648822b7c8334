"""Timeout scenarios from the seeds' "How long a session stays active" and "Specify the session length".

Jobs take 10 s unless stated; interpretation defaults (the interactive window opens
when the session has nothing queued and nothing running).
"""

from __future__ import annotations

import pytest

from model.spec.lifecycles import INTERACTIVE_TIMEOUT
from model.spec.validations import RequestRejected
from model.trace import Header
from tests.scenario_helpers import B0, Scenario


@pytest.mark.rule("TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE")
def test_an_idle_gap_deactivates_at_exactly_last_job_end_plus_300_s() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(309.999)
    assert sc.engine.sessions["s"].state == "active"
    sc.at(310)
    assert sc.engine.sessions["s"].state == "inactive", "deactivated, not closed"

    off = sc.change("s", "inactive")
    assert (off.t, off.src, off.trigger) == (310.0, "active", "interactive_timeout")
    assert set(off.rules) >= {"TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE"}


@pytest.mark.rule("TTL-INTERACTIVE-VALUE")
def test_the_interactive_window_is_300_s_and_stated_in_the_trace_header() -> None:
    assert INTERACTIVE_TIMEOUT == 300.0
    header = Scenario().trace[0]
    assert isinstance(header, Header)
    assert header.interactive_timeout == 300.0


@pytest.mark.rule("TTL-INTERACTIVE", "SCHED-PRIORITY")
def test_a_job_submitted_299_s_after_the_last_one_ended_keeps_the_session_active() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit(backend=B0, job_id="f")
    sc.at(309).submit("s", job_id="j2")
    sc.settle(until=2000)

    assert sc.when("j2", "running") == 309.0
    assert sc.path("s")[:3] == [(0.0, "pending"), (0.0, "active"), (619.0, "inactive")]
    assert sc.when("f", "running") == 619.0, "fair share waits for the window after the last session job"


@pytest.mark.rule("TTL-INTERACTIVE", "SESSION-REACTIVATE")
def test_a_job_submitted_exactly_at_the_deadline_comes_after_the_timeout() -> None:
    """Events due at t run before a request made at t: the session deactivates, then reactivates."""
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(310).submit("s", job_id="j2")
    assert sc.path("s") == [(0.0, "pending"), (0.0, "active"), (310.0, "inactive"), (310.0, "active")]
    assert sc.when("j2", "running") == 310.0


@pytest.mark.rule("TTL-INTERACTIVE", "SCHED-FIRST-JOB-WAITS", "SESSION-REACTIVATE")
def test_after_the_gap_the_session_queues_normally_and_reactivates_when_its_job_is_taken() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(320).submit(backend=B0, job_id="f", duration=100.0)  # regular selection resumed at 310
    sc.at(330).submit("s", job_id="j2")
    sc.at(335).submit(backend=B0, job_id="g")
    sc.at(345).submit("s", job_id="j3")
    sc.settle(until=2000)

    assert sc.when("f", "running") == 320.0
    assert sc.when("j2", "running") == 420.0, "an inactive session's job waits its turn"
    assert "SESSION-REACTIVATE" in sc.change("j2", "running").rules
    back = [c for c in sc.changes("s") if c.dst == "active"][1]
    assert (back.t, back.src, back.rules) == (420.0, "inactive", ("SESSION-REACTIVATE",))
    assert sc.when("j3", "running") == 430.0, "once reactivated, its jobs take priority again"
    assert sc.when("g", "running") == 740.0


@pytest.mark.rule("MAXTIME-ASSIGNED", "MAXTIME-EXPIRY", "MAXTIME-PARAM")
def test_max_time_counts_from_the_first_job_start_and_runs_on_while_inactive() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0", duration=50.0)
    e.open_session(B0, session_id="s", max_time=1000)
    e.submit("s", job_id="j1")  # queued at 0, starts at 50
    sc.settle()

    assert sc.path("s") == [(0.0, "pending"), (50.0, "active"), (360.0, "inactive"), (1050.0, "closed")]
    armed = sc.change("s", "active")
    assert armed.max_time == 1000.0
    assert "MAXTIME-ASSIGNED" in armed.rules
    closed = sc.change("s", "closed")
    assert (closed.src, closed.trigger, closed.rules) == ("inactive", "max_time_reached", ("MAXTIME-EXPIRY",))


@pytest.mark.rule("MAXTIME-EXPIRY", "SESSION-CLOSED-REJECTS")
def test_expiry_fails_queued_jobs_and_later_submissions_are_rejected() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0", duration=50.0)
    e.open_session(B0, session_id="s", max_time=1000)
    e.submit("s", job_id="j1")
    sc.at(1030).submit(backend=B0, job_id="busy", duration=1000.0)  # s is inactive: runs at once
    sc.at(1040).submit("s", job_id="j2")  # waits behind busy
    sc.at(1050)
    failed = sc.change("j2", "failed")
    assert (failed.t, failed.reason, failed.trigger) == (1050.0, "session_expired", "session_expired")
    assert "MAXTIME-EXPIRY" in failed.rules
    assert sc.entered("busy", "running") and not sc.entered("busy", "failed"), "other jobs are untouched"

    with pytest.raises(RequestRejected) as raised:
        sc.at(1060).submit("s", job_id="j3")
    assert raised.value.code == "SESSION-CLOSED"
    last = sc.requests()[-1]
    assert (last.op, last.error, last.rules) == ("submit", "SESSION-CLOSED", ("SESSION-CLOSED-REJECTS",))
    assert "j3" not in sc.engine.jobs


@pytest.mark.rule("MAXTIME-EXPIRY", "SCHED-FAIRSHARE")
def test_expiry_while_active_fails_the_running_and_queued_jobs_and_frees_the_backend() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time="100s")
    e.submit("s", job_id="j1", duration=60.0)
    e.submit("s", job_id="j2", duration=60.0)
    e.submit("s", job_id="j3")
    e.submit(backend=B0, job_id="f")
    sc.settle()

    assert sc.when("s", "closed") == 100.0
    assert sc.when("j1", "completed") == 60.0
    assert [(sc.when(j, "failed"), sc.change(j, "failed").reason) for j in ("j2", "j3")] == [
        (100.0, "session_expired"), (100.0, "session_expired"),
    ]
    assert sc.when("f", "running") == 100.0


@pytest.mark.rule("MAXTIME-ASSIGNED", "SESSION-START-FIRST-JOB")
def test_a_session_whose_first_job_never_starts_never_expires() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="blocker", duration=5000.0)
    e.open_session(B0, session_id="s", max_time=100)
    e.submit("s", job_id="j1")
    sc.at(4000)
    assert sc.path("s") == [(0.0, "pending")]
    sc.settle()
    assert sc.when("s", "active") == 5000.0
    assert sc.when("s", "closed") == 5100.0
