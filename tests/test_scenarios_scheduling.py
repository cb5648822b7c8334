"""Scheduling scenarios from the seeds' "How session jobs fit into the job queue", with exact times.

Every backend's jobs take 10 s unless a submission gives its own duration; all
interpretation options are the defaults (INT-IDLE-DEVICE=hold in particular).
"""

from __future__ import annotations

import itertools

import pytest

from model.sim.fair_share import WeightedFairShare, weighted
from tests.scenario_helpers import B0, B1, Scenario, backend


@pytest.mark.rule("SCHED-FIRST-JOB-WAITS", "SESSION-START-FIRST-JOB", "MAXTIME-ASSIGNED")
def test_first_session_job_waits_its_turn_and_the_session_starts_when_it_starts() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f1")
    e.submit(backend=B0, job_id="f2")
    e.open_session(B0, session_id="s")
    sc.at(1).submit("s", job_id="j1")

    sc.at(15)
    assert sc.engine.sessions["s"].state == "pending", "queued is not started"
    assert sc.path("s") == [(0.0, "pending")]

    sc.settle(until=25)
    assert sc.start_order() == ["f1", "f2", "j1"]
    assert sc.when("j1", "running") == 20.0
    assert "SCHED-FIRST-JOB-WAITS" in sc.change("j1", "running").rules
    activated = sc.change("s", "active")
    assert activated.t == 20.0
    assert "SESSION-START-FIRST-JOB" in activated.rules
    assert activated.max_time == 28800.0


@pytest.mark.rule("SCHED-PRIORITY", "SCHED-FIRST-JOB-WAITS")
def test_later_session_jobs_jump_the_fair_share_queue() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f1")
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e.submit(backend=B0, job_id="f2")
    e.submit(backend=B0, job_id="f3")
    sc.at(12).submit("s", job_id="j2")  # queued after f2 and f3, yet goes first
    sc.settle()

    assert sc.start_order() == ["f1", "j1", "j2", "f2", "f3"]
    assert sc.when("j1", "running") == 10.0
    assert sc.when("j2", "running") == 20.0
    assert "SCHED-PRIORITY" in sc.change("j2", "running").rules
    # j2 ends at 30; the held backend returns to fair share at the interactive timeout.
    assert sc.when("s", "inactive") == 330.0
    assert sc.when("f2", "running") == 330.0
    assert sc.when("f3", "running") == 340.0


@pytest.mark.rule("SCHED-ONE-AT-A-TIME")
def test_a_backend_runs_one_job_at_a_time() -> None:
    sc = Scenario()
    e = sc.at(0)
    for n, seconds in enumerate((7.0, 3.0, 12.0)):
        e.submit(backend=B0, job_id=f"f{n}", duration=seconds)
    e.open_session(B0, session_id="a")
    e.open_session(B0, session_id="b")
    for n in range(3):
        e.submit("a", job_id=f"a{n}", duration=5.0 + n)
        e.submit("b", job_id=f"b{n}", duration=4.0)
    e.submit(backend=B0, job_id="f3")
    sc.settle()

    intervals = sc.running_intervals(B0)
    assert len(intervals) == 10
    for (_, end, job), (start, _, nxt) in itertools.pairwise(intervals):
        assert end <= start, f"{nxt} started at {start} while {job} ran until {end}"
    # Back to back whenever something is waiting and no session holds the device.
    assert [start for start, _, _ in intervals[:4]] == [0.0, 7.0, 10.0, 22.0]


@pytest.mark.rule("SCHED-SUBMIT-WHILE-RUNNING", "SCHED-PRIORITY")
def test_session_jobs_submitted_while_one_runs_queue_behind_it() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1")
    e = sc.at(3)
    e.submit("s", job_id="j2")
    e.submit("s", job_id="j3")
    assert [(r.op, r.job, r.error) for r in sc.requests()[-2:]] == [("submit", "j2", None), ("submit", "j3", None)]
    assert sc.path("j2") == [(3.0, "queued")]
    sc.settle()

    assert [sc.when(j, "running") for j in ("j1", "j2", "j3")] == [0.0, 10.0, 20.0]
    assert sc.path("s")[:3] == [(0.0, "pending"), (0.0, "active"), (330.0, "inactive")]


@pytest.mark.rule("SCHED-SESSION-FIFO")
def test_session_jobs_start_in_submission_order() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    durations = (4.0, 1.0, 9.0, 2.0, 6.0)
    for n, seconds in enumerate(durations):
        e.submit("s", job_id=f"j{n}", duration=seconds)
    sc.settle()
    assert sc.start_order() == [f"j{n}" for n in range(5)]
    assert [sc.when(f"j{n}", "running") for n in range(5)] == [0.0, 4.0, 5.0, 14.0, 16.0]


@pytest.mark.rule("SCHED-SESSION-FIFO", "SCHED-FIRST-JOB-WAITS")
def test_session_fifo_holds_even_when_fair_share_would_pick_a_later_job() -> None:
    """Under weighted fair share, group 'a' outranks 'z' on a tie, yet the session's older job goes first."""
    sc = Scenario(fair_share=lambda: WeightedFairShare())
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0", group="x")
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1", group="z")
    e.submit("s", job_id="j2", group="a")
    sc.settle()
    assert sc.start_order() == ["f0", "j1", "j2"]


@pytest.mark.rule("SCHED-FAIRSHARE")
def test_without_sessions_jobs_run_in_fair_share_order_back_to_back() -> None:
    sc = Scenario()
    sc.at(0).open_session(B0, session_id="idle")  # a session with no jobs holds nothing
    sc.at(0).submit(backend=B0, job_id="f1", duration=5.0)
    sc.at(1).submit(backend=B0, job_id="f2")
    sc.at(2).submit(backend=B0, job_id="f3")
    sc.settle()
    assert sc.start_order() == ["f1", "f2", "f3"]
    assert [sc.when(f, "running") for f in ("f1", "f2", "f3")] == [0.0, 5.0, 15.0]
    assert all("SCHED-FAIRSHARE" in sc.change(f, "running").rules for f in ("f1", "f2", "f3"))
    assert sc.path("idle") == [(0.0, "pending")]


@pytest.mark.rule("SCHED-FAIRSHARE")
@pytest.mark.parametrize(
    ("weights", "order"),
    [
        # a1 runs first (alone); then the group with least usage per weight goes next.
        ({"a": 1.0, "b": 2.0}, ["a1", "b1", "b2", "a2"]),
        ({"a": 1.0, "b": 1.0}, ["a1", "b1", "a2", "b2"]),
        ({"a": 3.0, "b": 1.0}, ["a1", "b1", "a2", "b2"]),
    ],
)
def test_weighted_fair_share_orders_groups_by_usage_per_weight(weights: dict[str, float], order: list[str]) -> None:
    sc = Scenario(fair_share=weighted(weights.items()))
    e = sc.at(0)
    e.submit(backend=B0, job_id="a1", group="a")
    e.submit(backend=B0, job_id="a2", group="a")
    e.submit(backend=B0, job_id="b1", group="b")
    e.submit(backend=B0, job_id="b2", group="b")
    sc.settle()
    assert sc.start_order() == order
    assert [sc.when(j, "running") for j in order] == [0.0, 10.0, 20.0, 30.0]


@pytest.mark.rule("SCHED-FAIRSHARE")
def test_fifo_policy_ignores_groups() -> None:
    sc = Scenario()
    e = sc.at(0)
    for job, group in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")):
        e.submit(backend=B0, job_id=job, group=group)
    sc.settle()
    assert sc.start_order() == ["a1", "a2", "b1", "b2"]


@pytest.mark.rule("SCHED-ONE-AT-A-TIME", "SESSION-SINGLE-ACTIVE", "BACKEND-FIXED")
def test_two_backends_schedule_independently() -> None:
    sc = Scenario(backend(B0), backend(B1))
    e = sc.at(0)
    e.open_session(B0, session_id="s0")
    e.submit("s0", job_id="j0")
    e.open_session(B1, session_id="s1")
    e.submit("s1", job_id="k0")
    e = sc.at(5)
    e.submit(backend=B0, job_id="f0")  # held by s0
    e.submit(backend=B0, job_id="f0b")
    sc.at(400).submit(backend=B1, job_id="f1")  # s1 is inactive by now: runs at once
    sc.settle()

    assert sc.when("s0", "active") == sc.when("s1", "active") == 0.0, "one active session per backend, not overall"
    assert sc.when("f0", "running") == 310.0
    assert sc.when("f1", "running") == 400.0
    assert sc.start_order(B1) == ["k0", "f1"]
    assert sc.start_order(B0) == ["j0", "f0", "f0b"]


@pytest.mark.rule("SESSION-SINGLE-ACTIVE", "SESSION-REACTIVATE", "TTL-INTERACTIVE")
def test_a_second_session_waits_until_the_first_is_deactivated() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="A")
    e.submit("A", job_id="a1")
    e.open_session(B0, session_id="B")
    sc.at(5).submit("B", job_id="b1")
    sc.at(315).submit("A", job_id="a2")  # A is inactive now, B active and running b1
    sc.settle()

    assert sc.when("b1", "running") == 310.0
    assert sc.path("A")[:3] == [(0.0, "pending"), (0.0, "active"), (310.0, "inactive")]
    assert sc.path("B")[:2] == [(0.0, "pending"), (310.0, "active")]
    # the deactivation is recorded before the other session activates
    changes = sc.changes()
    assert changes.index(sc.change("A", "inactive")) < changes.index(sc.change("B", "active"))
    # a2 waits for B to deactivate (b1 ends 320, +300), then A is reactivated
    assert sc.when("B", "inactive") == 620.0
    assert sc.when("a2", "running") == 620.0
    reactivated = [c for c in sc.changes("A") if c.dst == "active"][1]
    assert (reactivated.t, reactivated.src, reactivated.rules) == (620.0, "inactive", ("SESSION-REACTIVATE",))
    _assert_single_active(sc)


def _assert_single_active(sc: Scenario) -> None:
    """Replay the session changes and check that at most one session per backend is active."""
    active: dict[str, set[str]] = {}
    for c in sc.changes():
        if c.entity != "session":
            continue
        held = active.setdefault(c.backend, set())
        held.discard(c.id)
        if c.dst == "active":
            held.add(c.id)
        assert len(held) <= 1, f"t={c.t}: {sorted(held)} active together on {c.backend}"


@pytest.mark.rule("SESSION-REACTIVATE", "MAXTIME-EXPIRY")
def test_an_inactive_session_is_reactivated_by_its_next_job_until_max_time() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=1000)
    e.submit("s", job_id="j1")
    sc.at(400).submit("s", job_id="j2")  # inactive since 310; the backend is free
    sc.settle()

    assert sc.path("s") == [
        (0.0, "pending"), (0.0, "active"), (310.0, "inactive"),
        (400.0, "active"), (710.0, "inactive"), (1000.0, "closed"),
    ]
    again = [c for c in sc.changes("s") if c.dst == "active"][1]
    assert again.rules == ("SESSION-REACTIVATE",)
    assert again.max_time is None, "reactivation does not restart the max_time clock"
    assert sc.when("j2", "running") == 400.0


@pytest.mark.rule("DEVICE-FAULT", "SCHED-PRIORITY")
def test_a_device_fault_fails_the_running_job_and_the_scheduler_moves_on() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    e.submit("s", job_id="j1", fault=True)
    e.submit("s", job_id="j2")
    e.submit(backend=B0, job_id="f")
    sc.at(13)
    failed = sc.engine.inject_fault(B0)
    assert failed is not None and failed.id == "j2"
    sc.settle()

    j1 = sc.change("j1", "failed")
    assert (j1.t, j1.reason, j1.trigger) == (10.0, "device_error", "device_error")
    assert "DEVICE-FAULT" in j1.rules
    assert sc.when("j2", "running") == 10.0
    j2 = sc.change("j2", "failed")
    assert (j2.t, j2.reason) == (13.0, "device_error")
    # the session survives its jobs' failures and holds the device until the interactive timeout
    assert sc.when("s", "inactive") == 313.0
    assert sc.when("f", "running") == 313.0


@pytest.mark.rule("DEVICE-FAULT")
def test_injecting_a_fault_into_an_idle_backend_changes_nothing() -> None:
    sc = Scenario()
    sc.at(0).submit(backend=B0, job_id="f")
    sc.at(50)
    before = len(sc.trace)
    assert sc.engine.inject_fault(B0) is None
    assert len(sc.trace) == before


@pytest.mark.rule("JOB-MAX-EXECUTION")
def test_a_job_fails_exactly_at_start_plus_max_execution_time() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.submit(backend=B0, job_id="f0")
    e.submit(backend=B0, job_id="long", max_execution_time=5.0, duration=20.0)
    e.submit(backend=B0, job_id="exact", max_execution_time=7.0, duration=7.0)
    e.submit(backend=B0, job_id="f1")
    sc.settle()

    assert sc.when("long", "running") == 10.0
    failed = sc.change("long", "failed")
    assert (failed.t, failed.reason) == (15.0, "max_execution_time_reached")
    assert failed.trigger == "max_execution_time_reached"
    assert "JOB-MAX-EXECUTION" in failed.rules
    assert sc.when("exact", "running") == 15.0
    assert sc.when("exact", "completed") == 22.0, "running exactly max_execution_time is allowed"
    assert sc.when("f1", "running") == 22.0


@pytest.mark.rule("JOB-MAX-EXECUTION")
def test_the_programs_max_execution_time_applies_to_jobs_that_set_none() -> None:
    sc = Scenario(backend(B0, program_max_execution_time=30.0))
    sc.at(0).submit(backend=B0, job_id="j", duration=50.0)
    sc.settle()
    assert sc.change("j", "failed").t == 30.0


@pytest.mark.rule("JOB-CANCEL", "SCHED-FAIRSHARE")
def test_cancel_a_queued_and_a_running_job() -> None:
    sc = Scenario()
    e = sc.at(0)
    for job in ("f1", "f2", "f3", "f4"):
        e.submit(backend=B0, job_id=job)
    sc.at(3).cancel("f2")
    sc.at(5).cancel("f1")
    sc.settle()

    assert sc.path("f2") == [(0.0, "queued"), (3.0, "cancelled")]
    assert sc.path("f1") == [(0.0, "queued"), (0.0, "running"), (5.0, "cancelled")]
    assert "JOB-CANCEL" in sc.change("f1", "cancelled").rules
    assert sc.when("f3", "running") == 5.0, "a cancelled running job frees the device at once"
    assert sc.when("f4", "running") == 15.0


@pytest.mark.rule("JOB-CANCEL", "SCHED-SESSION-FIFO")
def test_cancelling_a_later_session_job_leaves_the_others_alone() -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s")
    for job in ("j1", "j2", "j3"):
        e.submit("s", job_id=job)
    sc.at(4).cancel("j2")
    sc.settle()
    assert sc.start_order() == ["j1", "j3"]
    assert sc.when("j3", "running") == 10.0
    assert sc.entered("j3", "completed")
