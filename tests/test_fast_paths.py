"""The engine's fast paths change nothing but speed, and the writer writes each line by its definition.

* ``model.trace.dumps`` writes the JSON object of a record's line (docs/trace-format.md: keys in
  order, absent keys left out), which the reader reads back as the same record;
* a run that records no trace (``null_sink``: no records are built) takes the same
  decisions as one that records it, and the in-memory and streamed traces agree;
* ``Engine.call_at`` callbacks run after the events due at their instant;
* a deadline (``Clock.schedule_deadline``, a heap apart) runs exactly where ``schedule`` would have run it,
  counted alike, whichever way the clock is driven;
* an engine's state lives in the slots ``Engine.__slots__`` lists, whatever ran on it;
* with ``retain_finished=False`` the engine forgets finished jobs and, past a window,
  closed sessions, and its trace still conforms while the window holds them.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import build
from model.sim.clock import ARRIVAL, JOB_END_FIRST, TIMER, Clock
from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.sim.engine import Engine
from model.spec.interpretations import profiles
from model.spec.lifecycles import JOB, SESSION
from model.spec.profiles import PROFILE_NAMES
from model.spec.validations import RequestRejected
from model.trace import Change, Header, JsonlWriter, MemoryTrace, Record, Request, dumps
from model.trace.reader import line_record

texts = st.text(min_size=1, max_size=12)  # any code point but lone surrogates: quotes, backslashes, controls
times = st.floats(min_value=0.0, max_value=1e12, allow_nan=False) | st.sampled_from([0.0, 5.0, 123.456, 1e-7])
rules = st.lists(st.from_regex(r"\A[A-Z][A-Z0-9-]{0,8}\Z"), max_size=3).map(tuple)
positive = st.floats(min_value=1e-3, max_value=1e9)
jobs = st.builds(
    Change, times, st.just("job"), texts, texts, st.none() | texts, st.none() | st.sampled_from(JOB.state_names),
    st.sampled_from([s for s in JOB.state_names if s != "failed"]), texts, rules, st.none() | texts, st.none(),
)
failures = st.builds(Change, times, st.just("job"), texts, texts, st.none() | texts,
                     st.sampled_from(["queued", "running"]), st.just("failed"), texts, rules, texts, st.none())
sessions = st.builds(
    Change, times, st.just("session"), texts, texts, st.none(), st.none() | st.sampled_from(SESSION.state_names),
    st.sampled_from(SESSION.state_names), texts, rules, st.none(), st.none() | positive,
)
args = (
    st.none() | st.fixed_dictionaries({"max_time": st.none() | st.integers(1, 10**6) | texts})
    | st.fixed_dictionaries({"max_execution_time": st.none() | positive, "group": texts, "program": texts})
)
accepted = st.builds(Request, times, st.sampled_from(["cancel", "close"]), texts, texts, texts, args, st.none(),
                     st.just(()), st.none())
rejected = st.builds(Request, times, st.sampled_from(["open", "submit", "cancel", "close"]), texts, texts, texts,
                     args, texts, rules, texts)
headers = st.builds(Header, st.dictionaries(texts, texts, max_size=3),
                    st.dictionaries(texts, st.fixed_dictionaries({"system_max_time": positive,
                                                                  "program_max_execution_time": positive}),
                                    min_size=1, max_size=2), positive, st.sampled_from(PROFILE_NAMES))


def _documented(record: Record) -> dict[str, Any]:
    """The line of a record as docs/trace-format.md lists its keys (written out here, not by the writer)."""
    if isinstance(record, Header):
        profile = {} if record.profile == "seeds" else {"profile": record.profile}  # absent: the default
        return {"type": "header", "format": "sessionspec-trace", "version": 1, **profile,
                "interactive_timeout": record.interactive_timeout, "interpretation": dict(record.interpretation),
                "backends": {k: dict(v) for k, v in record.backends.items()}}
    if isinstance(record, Change):
        line: dict[str, Any] = {"type": record.entity, "t": record.t, "id": record.id, "backend": record.backend}
        if record.session is not None:
            line["session"] = record.session
        line.update({"from": record.src, "to": record.dst, "trigger": record.trigger, "rules": list(record.rules)})
        for key in ("reason", "max_time"):
            if getattr(record, key) is not None:
                line[key] = getattr(record, key)
        return line
    line = {"type": "request", "t": record.t, "op": record.op}
    line.update({k: getattr(record, k) for k in ("backend", "session", "job") if getattr(record, k) is not None})
    if record.args:
        line["args"] = dict(record.args)
    line["outcome"] = "rejected" if record.error else "accepted"
    if record.error:
        line.update({"error": record.error, "rules": list(record.rules), "message": record.message})
    return line


@given(st.lists(st.one_of(jobs, failures, sessions, accepted, rejected, headers), max_size=8))
def test_the_writer_writes_each_line_by_its_definition_and_the_reader_reads_it_back(records: list[Record]) -> None:
    for record in records:
        text = dumps(record)
        skeleton = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # the line without its strings' contents
        assert "\n" not in text and " " not in skeleton  # compact: no space outside a string
        decoded = json.loads(text)
        expected = _documented(record)
        assert decoded == expected and list(decoded) == list(expected)
        assert line_record(1, text) == record
        assert line_record(1, text.encode()) == record


def test_zero_and_minus_zero_and_small_times_keep_their_own_text() -> None:
    for t, text in ((0.0, '"t":0.0,'), (-0.0, '"t":-0.0,'), (120.0, '"t":120.0,'), (0.1, '"t":0.1,')):
        assert text in dumps(Change(t, "job", "j", "b", None, None, "queued", "submit", ()))


def _drive(engine: Engine) -> None:
    engine.add_background_load(BackgroundLoad("b1", 60, group="bg"), until=4000)
    sessions = [engine.open_session("b0", max_time=900), engine.open_session("b1"), engine.open_session("b0")]
    for k in range(60):
        session = sessions[k % 3]
        with contextlib.suppress(RequestRejected):
            engine.submit(session.id, max_execution_time=(None, 20.0, 500.0)[k % 3])
        engine.submit(None, "b0" if k % 2 else "b1", group=f"g{k % 3}")
        if k % 17 == 5:
            with contextlib.suppress(RequestRejected):
                engine.cancel(f"j{k}")
        engine.advance(37.0 if k % 5 else 350.0)
    engine.close(sessions[1].id)
    engine.run()


def _state(engine: Engine) -> Any:
    return (
        engine.now, engine.events_processed,
        sorted((j.id, j.state, j.reason, j.started_at, j.ended_at) for j in engine.jobs.values()),
        sorted((s.id, s.state, s.started_at, s.closed_at) for s in engine.sessions.values()),
    )


BACKENDS = [
    BackendConfig("b0", duration=Duration.exponential(30.0), fault_rate=0.05),
    BackendConfig("b1", duration=Duration.uniform(5.0, 60.0), program_max_execution_time=40.0),
]


def test_tracing_or_not_the_engine_takes_the_same_decisions() -> None:
    for name, interpretation in profiles().items():
        quiet = Engine(BACKENDS, interpretation=interpretation, seed=3)
        _drive(quiet)
        memory = MemoryTrace()
        traced = Engine(BACKENDS, interpretation=interpretation, seed=3, sink=memory)
        _drive(traced)
        stream = io.StringIO()
        with JsonlWriter(stream) as writer:
            streamed = Engine(BACKENDS, interpretation=interpretation, seed=3, sink=writer)
            _drive(streamed)
        assert _state(quiet) == _state(traced) == _state(streamed), name
        assert stream.getvalue() == memory.jsonl(), name


def test_the_engine_state_is_in_its_slots() -> None:
    """An attribute a part sets outside ``Engine.__slots__`` would cost every access on the engine a lookup."""
    if build() == "compiled":
        pytest.skip("a compiled class has no instance dictionary at all")
    for name, interpretation in profiles().items():
        engine = Engine(BACKENDS, interpretation=interpretation, seed=3, sink=MemoryTrace())
        _drive(engine)
        assert vars(engine) == {}, (name, sorted(vars(engine)))


def test_a_callback_runs_after_the_events_due_at_its_instant() -> None:
    engine = Engine([BackendConfig("b0", duration=Duration.fixed(10.0))])
    seen: list[tuple[float, str | None]] = []
    job = engine.submit(None, "b0")
    engine.call_at(10.0, lambda: seen.append((engine.now, job.state)))
    engine.call_at(5.0, lambda: seen.append((engine.now, job.state)))
    engine.run()
    assert seen == [(5.0, "running"), (10.0, "completed")]


events = st.lists(
    st.tuples(st.sampled_from([0.0, 1.0, 2.5, 7.0, 1e4]), st.sampled_from([JOB_END_FIRST, TIMER, ARRIVAL]),
              st.booleans()),
    max_size=30,
)
"""(time, order class, whether a timer goes on as a deadline): times repeat, so that ties are common."""


def _run_clock(planned: list[tuple[float, int, bool]], apart: bool, drive: str) -> tuple[object, ...]:
    clock = Clock()
    ran: list[tuple[float, int]] = []
    seen: list[float | None] = []
    for k, (when, order, deadline) in enumerate(planned):
        if apart and deadline and order == TIMER:
            clock.schedule_deadline(when, lambda target, token: ran.append((clock.now, target)), k)
        else:
            clock.schedule(when, lambda target, token: ran.append((clock.now, target)), k, order=order)
    if drive == "step":
        while clock.step():
            seen.append(clock.next_event_time)
    elif drive == "run_before":
        for when in (1.0, 2.5, 1e5):
            clock.run_before(when)
            seen.append(clock.next_event_time)
    else:
        clock.run(stop=lambda: len(ran) >= 5, until=2.5)
        seen.append(clock.next_event_time)
        clock.run()
    return ran, seen, [clock.events_processed, clock.now]


@given(events)
def test_a_deadline_runs_where_a_scheduled_timer_would(planned: list[tuple[float, int, bool]]) -> None:
    for drive in ("step", "run_before", "run"):
        assert _run_clock(planned, True, drive) == _run_clock(planned, False, drive), drive


def test_forgetting_engines_keep_a_window_of_closed_sessions() -> None:
    engine = Engine([BackendConfig("b0", duration=Duration.fixed(1.0))], retain_finished=False)
    engine.CLOSED_WINDOW = 2
    for k in range(4):
        session = engine.open_session("b0", session_id=f"s{k}")
        engine.submit(session.id, job_id=f"j{k}")
        engine.advance(5.0)
        engine.close(session.id)
    assert not engine.jobs, "finished jobs are forgotten at once"
    assert sorted(engine.sessions) == ["s2", "s3"]
    with pytest.raises(RequestRejected) as closed:
        engine.submit("s3")
    assert closed.value.code == "SESSION-CLOSED"
    with pytest.raises(RequestRejected) as forgotten:
        engine.submit("s0")
    assert forgotten.value.code == "UNKNOWN-SESSION"
