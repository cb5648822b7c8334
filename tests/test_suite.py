"""The property suite: one shared ledger and context, records dispatched by declared interest.

Sharing must change nothing: the catalogue run as one suite reports exactly what each property
reports running alone, on the engine's traces and on traces damaged line by line.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.sim.engine import Engine
from model.spec.interpretations import Interpretation, profiles
from model.trace import Change, Header, MemoryTrace, Record, Request
from properties.conformance.campaign import DEFAULT_BACKENDS
from properties.conformance.draws import operations, resolve
from properties.invariants.base import Violation
from properties.invariants.catalogue import ALL_PROPERTIES
from properties.invariants.suite import ANY, Changes, Interest, LiveProperty, Outside, Requests, Suite, check_records
from tests.scenario_helpers import engine_trace

STATES = {
    "job": [None, "queued", "running", "completed", "failed", "cancelled"],
    "session": [None, "pending", "active", "inactive", "closed"],
}
TRIGGERS = ["start", "complete", "cancel", "close", "max_time_reached", "interactive_timeout", "job_started", "submit",
            "device_error", "max_execution_time_reached", "session_closed", "session_expired", "first_job_cancelled"]


def _damaged(records: list[Record], rng: random.Random, edits: int) -> list[Record]:
    """Drop, repeat, swap or edit records (time kept non-decreasing, as the reader requires)."""
    out = list(records)
    for _ in range(edits):
        if len(out) < 3:
            break
        i = rng.randrange(1, len(out))
        record = out[i]
        kind = rng.randrange(6)
        if kind == 0:
            del out[i]
        elif kind == 1:
            out.insert(i, record)
        elif kind == 2 and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        elif isinstance(record, Change):
            edit: tuple[str, Any] = rng.choice([
                ("src", rng.choice(STATES[record.entity])), ("dst", rng.choice(STATES[record.entity][1:])),
                ("trigger", rng.choice(TRIGGERS)), ("session", rng.choice([None, "s1", "s2"])),
                ("id", rng.choice(["j1", "j2", "s1"])), ("t", record.t + rng.choice([0.0, 1.0, 300.0])),
                ("max_time", rng.choice([None, 0.0, 100.0])), ("rules", rng.choice([(), ("NOT-A-RULE",)])),
            ])
            fields: dict[str, Any] = dict([edit])
            out[i] = record._replace(**fields)
        elif isinstance(record, Request):
            edit = rng.choice([
                ("op", rng.choice(["open", "submit", "cancel", "close"])),
                ("error", rng.choice([None, "JOB-FINISHED", "UNKNOWN-SESSION", "MAXTIME-FORMAT"])),
                ("job", rng.choice([None, "j1", "j9"])), ("session", rng.choice([None, "s1", "s9"])),
                ("args", rng.choice([None, {"max_time": "2h 2h"}, {"max_execution_time": -5}])),
            ])
            fields = dict([edit])
            out[i] = record._replace(**fields)
    last = 0.0
    for i, record in enumerate(out[1:], start=1):
        assert not isinstance(record, Header)
        if record.t < last:
            out[i] = record._replace(t=last)
        last = max(last, record.t)
    return out


def _alone(records: list[Record]) -> list[tuple[int, int, Violation]]:
    header = records[0]
    assert isinstance(header, Header)
    props = [cls(header) for cls in ALL_PROPERTIES]
    found = []
    for index, record in enumerate(records[1:], start=1):
        assert not isinstance(record, Header)
        for pos, prop in enumerate(props):
            violation = prop.observe(index, record)
            if violation is not None:
                found.append((index, pos, violation))
    end = records[-1].t if len(records) > 1 else 0.0  # type: ignore[union-attr]
    for pos, prop in enumerate(props):
        found += [(len(records), pos, v) for v in prop.finish(len(records) - 1, end)]
    return sorted(found, key=lambda item: item[:2])


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    abstract=operations(len(DEFAULT_BACKENDS)), profile=st.sampled_from(sorted(profiles())),
    seed=st.integers(0, 2**32), edits=st.sampled_from([0, 1, 3, 10]), timeout=st.sampled_from([300.0, 200.0]),
)
def test_one_shared_suite_reports_what_each_property_reports_alone(
    abstract: Any, profile: str, seed: int, edits: int, timeout: float
) -> None:
    ops, end = resolve(abstract, DEFAULT_BACKENDS)
    trace = engine_trace(ops, end + 2000, Interpretation(profiles()[profile]))
    header = trace[0]
    assert isinstance(header, Header)
    records = _damaged([Header(header.interpretation, header.backends, timeout), *trace[1:]], random.Random(seed),
                       edits)
    shared = check_records(records, ALL_PROPERTIES)
    assert shared == [violation for _, _, violation in _alone(records)]


class _Probe(LiveProperty):
    name: ClassVar[str] = "probe"
    rules: ClassVar[tuple[str, ...]] = ("JOB-TERMINAL",)
    description: ClassVar[str] = "counts the records its hooks see; raises on request at a chosen record"
    judges = (Changes("job", dst="running"), Requests("cancel", accepted=True))
    applies = (Changes("session", src=Outside({None})),)
    uses_ledger = False
    crash_at: ClassVar[int | None] = None

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.judged: list[Record] = []
        self.applied_to: list[Record] = []

    def judge(self, index: int, record: Any) -> Violation | None:
        if index == self.crash_at:
            raise RuntimeError("boom")
        self.judged.append(record)
        return None

    def applied(self, index: int, record: Any) -> Violation | None:
        self.applied_to.append(record)
        return None


def _basic_trace() -> list[Record]:
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), sink=trace)
    session = engine.open_session("b0")
    first = engine.submit(session.id, duration=10, fault=False)
    engine.submit(session.id, duration=10, fault=False)
    engine.cancel(first.id)
    engine.advance(100)
    engine.close(session.id)
    return list(trace)


def test_hooks_see_only_the_records_they_declare() -> None:
    header, *records = _basic_trace()
    assert isinstance(header, Header)
    probe = _Probe(header)
    suite = Suite([probe])
    for index, record in enumerate(records, start=1):
        assert suite.observe(index, record) is None  # type: ignore[arg-type]
    assert probe.judged == [
        r for r in records
        if (isinstance(r, Change) and r.entity == "job" and r.dst == "running")
        or (isinstance(r, Request) and r.op == "cancel" and r.error is None)
    ]
    assert probe.applied_to == [r for r in records if isinstance(r, Change) and r.entity == "session" and r.src]
    assert probe.judged and probe.applied_to


@pytest.mark.parametrize(("pattern", "key", "matches"), [
    (Changes(), ("job", None, "queued", False), True),
    (Changes("job", src=None), ("job", None, "queued", False), True),
    (Changes("job", src=None), ("job", "queued", "running", False), False),
    (Changes("job", dst=frozenset(("running", "completed"))), ("job", "queued", "running", True), True),
    (Changes("job", dst=Outside(("queued",))), ("job", None, "queued", True), False),
    (Changes("job", session=True), ("job", "queued", "running", False), False),
    (Changes(ANY, "active"), ("session", "active", "inactive", False), True),
])
def test_change_patterns(pattern: Changes, key: Any, matches: bool) -> None:
    assert pattern.matches(key) is matches


def test_a_property_that_crashes_is_dropped_and_the_others_go_on() -> None:
    header, *records = _basic_trace()
    assert isinstance(header, Header)
    start = next(i for i, r in enumerate(records, start=1) if isinstance(r, Change) and r.dst == "running")

    class Crashing(_Probe):
        crash_at = start

    crashing, witness = Crashing(header), _Probe(header)
    suite = Suite([crashing, witness], tolerant=True)
    for index, record in enumerate(records, start=1):
        suite.observe(index, record)  # type: ignore[arg-type]
    assert suite.broken == ["property probe could not judge this trace (RuntimeError: boom)"]
    assert crashing.judged == [] and crashing.applied_to == []  # nothing after (or at) its crash
    assert len(witness.judged) > 1
    with pytest.raises(RuntimeError):  # not tolerant: the error is the caller's
        strict = Suite([Crashing(header)])
        for index, record in enumerate(records, start=1):
            strict.observe(index, record)  # type: ignore[arg-type]


class _ClassData(LiveProperty):
    """A user's property as users write it: interpreted, ``judges`` as class data (also under a compiled suite)."""

    name: ClassVar[str] = "class-data"
    rules: ClassVar[tuple[str, ...]] = ("JOB-TERMINAL",)
    description: ClassVar[str] = "no job starts (a violation at every start)"
    judges = (Changes("job", dst="running"),)
    uses_ledger = False

    def judge(self, index: int, record: Any) -> Violation | None:
        return self.violation(index, record.t, f"job {record.id} starts")


class _PerInstance(_ClassData):
    """``interest`` overridden where the instance decides (here: nothing, whatever the class data says)."""

    def interest(self) -> tuple[Interest, Interest]:
        return (), self.applies


def test_an_interpreted_subclass_declares_its_records_as_class_data() -> None:
    header, *records = _basic_trace()
    assert isinstance(header, Header)
    starts = [i for i, r in enumerate(records, start=1) if isinstance(r, Change) and r.entity == "job"
              and r.dst == "running"]
    assert starts
    found = check_records([header, *records], [_ClassData, _PerInstance])
    assert [(v.property, v.index) for v in found] == [("class-data", i) for i in starts]
