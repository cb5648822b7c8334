"""The engine's fast paths change nothing but speed.

* ``model.trace.dumps`` (templates, cached pieces) writes exactly the bytes of
  ``reference_dumps`` (``json.dumps`` of ``to_json``) for any record, odd values included;
* a run that records no trace (``null_sink``: no records are built) takes the same
  decisions as one that records it, and the in-memory and streamed traces agree;
* ``Engine.call_at`` callbacks run after the events due at their instant;
* with ``retain_finished=False`` the engine forgets finished jobs and, past a window,
  closed sessions, and its trace still conforms while the window holds them.
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.devices import BackendConfig, BackgroundLoad, Duration
from model.engine import Engine
from model.interpretations import profiles
from model.trace import Change, Header, JsonlWriter, MemoryTrace, Record, Request, dumps, reference_dumps
from model.validations import RequestRejected

texts = st.text(max_size=12)  # any code point: quotes, backslashes, controls, non-ASCII
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20), st.booleans(),
    st.sampled_from([0.0, -0.0, 1e-310, 1e300, 5.0, 123.456]),
)
scalars = st.one_of(st.none(), texts, numbers)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                      max_leaves=6)
ids = st.one_of(texts, st.sampled_from(["j1", "s1.0", "b0", "ünïcode", 'q"uote', "back\\slash"]))
rules = st.one_of(st.lists(texts, max_size=3).map(tuple), st.lists(texts, max_size=2))

changes = st.builds(
    Change, numbers, st.sampled_from(["job", "session"]) | texts, ids, ids, st.none() | ids,
    st.none() | texts, texts, texts, rules, st.none() | texts, st.none() | numbers,
)
requests = st.builds(
    Request, numbers, st.sampled_from(["open", "submit", "cancel", "close"]) | texts, st.none() | ids,
    st.none() | ids, st.none() | ids,
    st.none() | st.dictionaries(texts, values, max_size=4) | st.dictionaries(st.integers(), values, max_size=2),
    st.none() | st.sampled_from(["", "SESSION-CLOSED"]), rules, st.none() | texts,
)
headers = st.builds(Header, st.dictionaries(texts, texts, max_size=3),
                    st.dictionaries(texts, st.dictionaries(texts, numbers, max_size=2), max_size=2), numbers)


@given(st.lists(st.one_of(changes, requests, headers), max_size=8))
def test_fast_dumps_writes_the_reference_bytes(records: list[Record]) -> None:
    for record in records:
        assert dumps(record) == reference_dumps(record)


def test_a_recurring_time_object_and_an_equal_one_keep_their_own_text() -> None:
    """The repr cache goes by identity: 0.0 and -0.0 are equal but print differently."""
    zero, minus = 0.0, -0.0
    first = Change(zero, "job", "j", "b", None, None, "queued", "submit", ())
    second = Change(minus, "job", "j", "b", None, None, "queued", "submit", ())
    for record in (first, second, first, first, second):
        assert dumps(record) == reference_dumps(record)
    nan = Change(math.nan, "job", "j", "b", None, None, "queued", "submit", ())
    assert dumps(nan) == reference_dumps(nan)


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
        streamed = Engine(BACKENDS, interpretation=interpretation, seed=3, sink=JsonlWriter(stream))
        _drive(streamed)
        assert _state(quiet) == _state(traced) == _state(streamed), name
        assert stream.getvalue() == "".join(reference_dumps(r) + "\n" for r in memory), name


def test_a_callback_runs_after_the_events_due_at_its_instant() -> None:
    engine = Engine([BackendConfig("b0", duration=Duration.fixed(10.0))])
    seen: list[tuple[float, str | None]] = []
    job = engine.submit(None, "b0")
    engine.call_at(10.0, lambda: seen.append((engine.now, job.state)))
    engine.call_at(5.0, lambda: seen.append((engine.now, job.state)))
    engine.run()
    assert seen == [(5.0, "running"), (10.0, "completed")]


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
