"""The coverage model: derived from the declaration, counted from a reference trace."""

from __future__ import annotations

from model.sim.engine import Engine
from model.sim.ops import Close, Open, Submit
from model.spec.interpretations import DEFAULT
from model.spec.lifecycles import SESSION
from model.spec.validations import PRECEDENCE
from model.trace import MemoryTrace, Record
from properties.conformance.campaign import CampaignConfig
from properties.conformance.coverage import Coverage, situations, transition_key
from properties.conformance.ops import apply_to_engine


def _trace(ops: list[Open | Submit | Close], until: float = 3000.0) -> list[Record]:
    config = CampaignConfig()
    sink = MemoryTrace()
    engine = Engine(list(config.backends), interpretation=config.interpretation, sink=sink)
    for op in ops:
        engine.run_until(op.at)
        apply_to_engine(engine, op)
    engine.run_until(until)
    return list(sink)


def test_situations_are_derived_from_the_declaration() -> None:
    keys = {s.key for s in situations(DEFAULT)}
    for t in SESSION.under(DEFAULT).transitions:
        for source in t.source:
            assert transition_key("session", source, t.dest, t.trigger) in keys
    for op, codes in PRECEDENCE.items():
        assert {f"{op} rejected {code}" for code in codes} <= keys
    assert "timer interactive fires" in keys and "timer max_execution_time fires" in keys


def test_close_with_queued_is_counted_and_unreached_ones_are_listed() -> None:
    coverage = Coverage()
    coverage.observe_all(_trace([
        Open(at=0, backend="b0", session="s1"),
        Submit(at=0, session="s1", job="j1", duration=100),
        Submit(at=0, session="s1", job="j2", duration=100),
        Close(at=10, session="s1"),
    ]))
    assert coverage.counts["close-with-queued"] == 1
    assert coverage.counts[transition_key("job", "queued", "failed", "session_closed")] == 1
    missing = {s.key for s in coverage.missing()}
    assert "close-with-queued" not in missing and "duplicate-job-id" in missing
    assert "never reached:" in coverage.report() and "duplicate-job-id" in coverage.report()
