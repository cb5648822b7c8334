"""Lines of different backends at one instant may come in any order (docs/conformance.md, timing conventions).

Backends are independent in the spec (a session and its jobs belong to one; each has its own device, queue and
timers), so ``check`` judges each backend's lines in their own order, whatever the order of the others' at that
instant. Shuffling the events of different backends within an instant of a reference trace, or their change lines
one by one (a request's event stays whole), keeps it conforming; and a trace so shuffled with a decision left out
still diverges: the shuffle hides no finding.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from model.sim.engine import Engine
from model.sim.ops import Cancel, CancelSession, Close, EngineImplementation, Open, Submit, apply
from model.spec.interpretations import Interpretation, all_profiles
from model.trace import MemoryTrace
from properties.conformance.campaign import DEFAULT_BACKENDS
from properties.conformance.checker import check_lines
from properties.conformance.draws import Op, operations, resolve
from tests.scenario_helpers import jsonl_lines
from tests.test_checker import FLUSH, TWO_EXPIRIES, engine_lines, find_line, scenario

DEVICE_TRIGGERS = ("complete", "device_error")


def _renamed(op: Op, suffix: str) -> Op:
    """``op`` with the session and job IDs it names given ``suffix``: the other backend's, no ID shared."""
    if isinstance(op, Open | Close | CancelSession) and op.session is not None:
        return msgspec.structs.replace(op, session=op.session + suffix)
    if isinstance(op, Submit):
        return msgspec.structs.replace(
            op, session=None if op.session is None else op.session + suffix,
            job=None if op.job is None else op.job + suffix,
        )
    if isinstance(op, Cancel):
        return msgspec.structs.replace(op, job=op.job + suffix)
    return op


def two_backends(
    first: Sequence[Any], second: Sequence[Any], interpretation: Interpretation,
) -> tuple[list[Op], float]:
    """One drawn sequence on b0, another on b1 (each on its own IDs), merged by time: the same drawn sequence
    on both makes their instants coincide most (b1's limits differ, so they part as their sessions expire)."""
    ops0, end0 = resolve(first, DEFAULT_BACKENDS[:1], interpretation)
    ops1, end1 = resolve(second, DEFAULT_BACKENDS[1:], interpretation)
    merged = heapq.merge(ops0, [_renamed(op, "b") for op in ops1], key=lambda op: op.at)
    return list(merged), max(end0, end1)


def event_units(ops: Sequence[Op], until: float, interpretation: Interpretation) -> tuple[list[str], list[int]]:
    """The reference's trace of ``ops`` (what :func:`engine_lines` gives, byte for byte), and where each of its
    events' lines begin: one event's lines (a request and the changes it causes; a job's end and what follows
    from it; a timer's) stay together, in their order (docs/contract.md, the order of events at one instant)."""
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), interpretation=interpretation, sink=trace)
    target = EngineImplementation(engine)
    starts: list[int] = []

    def run_to(when: float) -> None:
        while (due := engine.next_event_time) is not None and due <= when:
            starts.append(len(trace))
            engine.step()
        engine.run_until(when)

    for op in ops:
        run_to(op.at)
        starts.append(len(trace))
        apply(target, op)
    run_to(until)
    lines = jsonl_lines(trace.jsonl())
    return lines, sorted(set(starts) - {len(trace)})


def _owners(lines: Sequence[str]) -> list[str | None]:
    """Each line's backend, as the spec sees it: a state change's own; a request's, the backend of the session
    or job it names if that exists then (a request refused BACKEND-FIXED records the client's), else the one it
    names (None: it concerns no backend)."""
    sessions: dict[str, str] = {}
    jobs: dict[str, str] = {}
    owners: list[str | None] = []
    for line in lines:
        obj = json.loads(line)
        backend = obj.get("backend")
        if obj["type"] == "request":
            op, session, job = obj["op"], obj.get("session"), obj.get("job")
            if op in ("submit", "close", "cancel_session") and session in sessions:
                backend = sessions[session]
            elif op == "cancel" and job in jobs:
                backend = jobs[job]
            if obj["outcome"] == "accepted" and op == "open":
                sessions[session] = backend
            elif obj["outcome"] == "accepted" and op == "submit":
                jobs[job] = backend
        owners.append(backend)
    return owners


def shuffled_across_backends(lines: Sequence[str], starts: Sequence[int], rng: random.Random) -> tuple[list[str], int]:
    """The lines with the events of different backends at each instant interleaved at random, and how many
    instants had events of more than one backend. Each backend's events keep their order, and an event's lines
    stay together. So do the requests among themselves: they are inputs in one ID space, so two of them the
    other way round may have other outcomes (``test_checker`` moves requests of different backends)."""
    owners = _owners(lines)
    bounds = [*starts, len(lines)]
    events = [list(range(a, b)) for a, b in itertools.pairwise(bounds)]
    out = list(lines[: starts[0]]) if starts else list(lines)
    shared = 0
    first = 0
    while first < len(events):
        t = json.loads(lines[events[first][0]])["t"]
        last = first + 1
        while last < len(events) and json.loads(lines[events[last][0]])["t"] == t:
            last += 1
        units = events[first:last]
        shared += len({owners[unit[0]] for unit in units}) > 1
        while units:
            # an event may go next when no event before it is of its backend, nor a request if it is one
            ready = [
                unit for pos, unit in enumerate(units)
                if not any(_ordered(lines, owners, other[0], unit[0]) for other in units[:pos])
            ]
            chosen = rng.choice(ready)
            units.remove(chosen)
            out.extend(lines[i] for i in chosen)
        first = last
    return out, shared


def _ordered(lines: Sequence[str], owners: Sequence[str | None], first: int, then: int) -> bool:
    """Whether the event led by line ``first`` must stay before the one led by ``then``."""
    return owners[first] == owners[then] or (_is_request(lines[first]) and _is_request(lines[then]))


def _is_request(line: str) -> bool:
    return line.startswith('{"type":"request"')


def _decisions(lines: Sequence[str]) -> list[int]:
    """The indices of the state-change lines that are the scheduler's decisions (not the device's job ends)."""
    return [
        i for i, line in enumerate(lines)
        if not _is_request(line) and i > 0 and json.loads(line).get("trigger") not in DEVICE_TRIGGERS
    ]


SEEDS = sorted(name for name, interpretation in all_profiles().items() if not interpretation.is_platform)
PLATFORM = sorted(name for name, interpretation in all_profiles().items() if interpretation.is_platform)
EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.mark.parametrize("profile", SEEDS)
@EXAMPLES
@given(first=operations(1), second=operations(1), mirror=st.booleans(), seed=st.integers(0, 2**32),
       by_line=st.booleans())
def test_lines_of_different_backends_at_one_instant_may_come_in_any_order(
    profile: str, first: list[Any], second: list[Any], mirror: bool, seed: int, by_line: bool,
) -> None:
    shuffled_and_judged(profile, first, first if mirror else second, seed, by_line)


@pytest.mark.parametrize("profile", PLATFORM)
@EXAMPLES
@given(first=operations(1, platform=True), second=operations(1, platform=True), mirror=st.booleans(),
       seed=st.integers(0, 2**32), by_line=st.booleans())
def test_lines_of_different_backends_at_one_instant_may_come_in_any_order_on_the_platform(
    profile: str, first: list[Any], second: list[Any], mirror: bool, seed: int, by_line: bool,
) -> None:
    shuffled_and_judged(profile, first, first if mirror else second, seed, by_line)


def shuffled_and_judged(profile: str, first: list[Any], second: list[Any], seed: int, by_line: bool) -> None:
    """The reference trace of ``first`` on b0 and ``second`` on b1, its backends' events at each instant
    shuffled (``by_line``: their lines, an event's lines parted by the other backend's), conforms; with one
    decision left out (at an instant of both backends, if there is one), it diverges."""
    interpretation = all_profiles()[profile]
    ops, end = two_backends(first, second, interpretation)
    until = end + FLUSH
    lines, starts = event_units(ops, until, interpretation)
    assert lines == engine_lines(ops, until, interpretation)
    if by_line and starts:  # every change line its own unit, but a request's event stays whole
        bounds = [*starts, len(lines)]
        starts = sorted({
            i for a, b in itertools.pairwise(bounds) for i in ((a,) if _is_request(lines[a]) else range(a, b))
        })
    rng = random.Random(seed)
    moved, shared = shuffled_across_backends(lines, starts, rng)
    event(f"instants with events of both backends: {'some' if shared else 'none'}")
    report = check_lines(moved, "t.jsonl", until=until)
    assert report.status == 0, "\n".join(report.lines)
    decisions = _decisions(moved)
    if decisions:
        owners = _owners(moved)
        times = [json.loads(line).get("t") for line in moved]
        both = [i for i in decisions if len({o for o, t in zip(owners, times, strict=True) if t == times[i]}) > 1]
        dropped = rng.choice(both or decisions)
        broken = [line for i, line in enumerate(moved) if i != dropped]
        report = check_lines(broken, "t.jsonl", until=until)
        assert report.status == 1, f"left out {moved[dropped]!r}, yet:\n" + "\n".join(report.lines)


def test_a_backends_own_lines_keep_their_order() -> None:
    """The freedom is between backends: a device end written after its own backend's expiry at that instant
    diverges (the expiry failed the running job first), whatever the other backend's lines do."""
    lines = engine_lines(TWO_EXPIRIES, 500)
    end = find_line(lines, id="j1", to="completed")
    expiry = find_line(lines, id="s1", trigger="max_time_reached")
    assert end < expiry
    lines.insert(end, lines.pop(expiry))  # b1's expiry before b1's own device end at that instant
    report = check_lines(lines, "t.jsonl", until=500)
    assert report.status == 1
    assert "got t=100 job j1 (s1 on b1) running -> completed [complete]" in "\n".join(report.lines), report.lines


def test_another_backends_line_between_a_start_and_the_activation_it_causes_conforms() -> None:
    """Found by an outsider (FA-2): the activation check read "the line right before" over the whole trace, not
    the backend's own lines, so another backend's line between a job's start and its session's activation was
    called a missed activation."""
    ops = scenario(
        {"at": 0, "op": "submit", "backend": "b0", "job": "j1", "duration": 10, "fault": False},
        {"at": 0, "op": "open", "backend": "b0", "session": "s1"},
        {"at": 0, "op": "submit", "session": "s1", "job": "j2", "duration": 10, "fault": False},
        {"at": 0, "op": "submit", "backend": "b1", "job": "j3", "duration": 10, "fault": False},
    )
    lines = engine_lines(ops, 500)
    start = find_line(lines, id="j2", to="running")
    activation = find_line(lines, id="s1", to="active")
    assert activation == start + 1
    end = find_line(lines, id="j3", to="completed")
    assert end > activation
    lines.insert(activation, lines.pop(end))  # b1's line between b0's start and the activation it causes
    assert find_line(lines, id="j3", to="completed") == start + 1
    report = check_lines(lines, "t.jsonl", until=500)
    assert report.status == 0, "\n".join(report.lines)
