"""Closing scenarios from the seeds' "Close a session" and the first-job warning of "Open a session".

Jobs take 10 s unless stated; interpretation defaults (a running job fails on close;
after a first-job cancel the session stays open and its later jobs fail).
"""

from __future__ import annotations

import pytest

from model.spec.validations import RequestRejected
from model.trace import Change
from tests.scenario_helpers import B0, Scenario


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE", "SESSION-CLOSE")
def test_closing_with_jobs_unfinished_fails_them_and_frees_the_backend() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.at(1).submit(backend=B0, job_id="f")
    sc.at(5).close("s")
    sc.settle()

    closed = sc.change("s", "closed")
    assert (closed.t, closed.src, closed.trigger) == (5.0, "active", "close")
    assert {"SESSION-CLOSE", "CLOSE-FAILS-INCOMPLETE"} <= set(closed.rules)
    for job in ("j1", "j2", "j3"):
        failed = sc.change(job, "failed")
        assert (failed.t, failed.reason, failed.trigger) == (5.0, "session_closed", "session_closed")
        assert "CLOSE-FAILS-INCOMPLETE" in failed.rules
    assert sc.start_order() == ["j1", "f"]
    assert sc.when("f", "running") == 5.0


@pytest.mark.rule("SESSION-CLOSE", "CONTEXT-CLOSE")
def test_closing_an_idle_session_lets_the_next_fair_share_job_start_at_the_close_time() -> None:
    """Seed 002: close() lets the scheduler run the next job without waiting for the session timeout."""
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(2).submit(backend=B0, job_id="f")
    sc.at(50).close("s")
    sc.settle()

    assert sc.when("j1", "completed") == 10.0, "closing after the result is in fails nothing"
    assert sc.when("s", "closed") == 50.0
    assert sc.when("f", "running") == 50.0
    assert not sc.entered("s", "inactive")


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE", "SESSION-START-FIRST-JOB")
def test_closing_a_pending_session_fails_its_queued_first_job() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0")
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(5).close("s")
    sc.settle()

    assert sc.path("s") == [(0.0, "pending"), (5.0, "closed")]
    assert sc.path("j1") == [(0.0, "queued"), (5.0, "failed")]
    assert sc.change("j1", "failed").reason == "session_closed"


@pytest.mark.rule("SESSION-CLOSED-REJECTS")
def test_submitting_to_a_closed_session_is_rejected() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(20).close("s")
    before = len(sc.changes())

    with pytest.raises(RequestRejected) as raised:
        sc.at(30).submit("s", job_id="j2")
    assert raised.value.code == "SESSION-CLOSED"
    assert raised.value.rules == ("SESSION-CLOSED-REJECTS",)
    assert "SESSION-CLOSED-REJECTS" in str(raised.value)
    rejected = sc.rejections()
    assert [(r.t, r.op, r.session, r.error) for r in rejected] == [(30.0, "submit", "s", "SESSION-CLOSED")]
    assert len(sc.changes()) == before
    assert "j2" not in sc.engine.jobs


@pytest.mark.rule("SESSION-CLOSE")
def test_closing_twice_is_accepted_and_changes_nothing() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    sc.at(20).close("s")
    changes = sc.changes()
    sc.at(40).close("s")

    assert sc.changes() == changes
    closes = [r for r in sc.requests() if r.op == "close"]
    assert [(r.t, r.error) for r in closes] == [(20.0, None), (40.0, None)]
    assert sc.engine.sessions["s"].closed_at == 20.0


@pytest.mark.rule("FIRST-JOB-CANCEL", "JOB-CANCEL")
def test_cancelling_a_queued_first_job_fails_the_later_jobs_even_those_submitted_afterwards() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0")
    e.open_session(B0, session_id="s")
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.at(3).cancel("j1")
    sc.at(4).submit("s", job_id="j4")  # accepted, then failed at once
    sc.settle()

    assert sc.path("j1") == [(0.0, "queued"), (3.0, "cancelled")]
    for job, t in (("j2", 3.0), ("j3", 3.0), ("j4", 4.0)):
        failed = sc.change(job, "failed")
        assert (failed.t, failed.reason, failed.trigger) == (t, "first_job_cancelled", "first_job_cancelled")
        assert "FIRST-JOB-CANCEL" in failed.rules
    assert sc.path("j4") == [(4.0, "queued"), (4.0, "failed")]
    assert [r.error for r in sc.requests() if r.job == "j4"] == [None]
    assert sc.start_order() == ["f0"]
    assert sc.path("s") == [(0.0, "pending")], "the session itself stays open (and never starts)"


@pytest.mark.rule("FIRST-JOB-CANCEL", "JOB-CANCEL", "TTL-INTERACTIVE")
def test_cancelling_a_running_first_job_fails_the_queued_ones_at_the_cancel_time() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit("s", job_id="j2")
    sc.at(1).submit(backend=B0, job_id="f")
    sc.at(4).cancel("j1")
    sc.settle()

    assert sc.path("j1") == [(0.0, "queued"), (0.0, "running"), (4.0, "cancelled")]
    assert (sc.when("j2", "failed"), sc.change("j2", "failed").reason) == (4.0, "first_job_cancelled")
    # the open session is idle from 4 s: it holds the device until the interactive timeout
    assert sc.when("s", "inactive") == 304.0
    assert sc.when("f", "running") == 304.0


@pytest.mark.rule("FIRST-JOB-CANCEL")
def test_cancelling_a_first_job_after_it_ended_is_refused_and_dooms_nothing() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    with pytest.raises(RequestRejected) as raised:
        sc.at(20).cancel("j1")
    assert raised.value.code == "JOB-FINISHED"
    sc.at(30).submit("s", job_id="j2")
    sc.settle()
    assert sc.entered("j2", "completed")
    assert not any(isinstance(c, Change) and c.reason == "first_job_cancelled" for c in sc.trace)
