"""The benchmark's models agree on every workload shape (benchmarks/shapes.py), at a tiny size.

Not a benchmark: no timing. A benchmark whose models disagree compares different work, so
this holds the engine, the hand-written heapq loop and (where SimPy is installed, the
``bench`` extra) the SimPy model to the same outcome, and each shape to the behaviour it
is meant to stress.
"""

from __future__ import annotations

import importlib.util

import pytest

from benchmarks.outcome import Outcome
from benchmarks.shapes import MODELS, SHAPES, run

HAVE_SIMPY = importlib.util.find_spec("simpy") is not None


def _outcomes(shape: str) -> dict[str, Outcome]:
    wl = SHAPES[shape].workload(SHAPES[shape].tiny, seed=3)
    return {model: run(wl, model) for model in MODELS if model != "simpy" or HAVE_SIMPY}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_models_agree(shape: str) -> None:
    outcomes = _outcomes(shape)
    engine = outcomes.pop("engine")
    assert engine.finished > 0
    for model, outcome in outcomes.items():
        assert engine.differences(outcome) == [], model


def test_a_disagreement_is_seen() -> None:
    """The comparison can fail: one job ending a microsecond later is a difference."""
    a, b = Outcome(), Outcome()
    a.job_ended("j1", "completed", 1.0)
    b.job_ended("j1", "completed", 1.000001)
    assert a.differences(b)


def test_each_shape_stresses_its_subject() -> None:
    iterative, open_loop, churn = (_outcomes(name)["engine"] for name in ("iterative", "open_loop", "churn"))
    assert iterative.closed.get("close", 0) > 0 and iterative.activations > 0
    # open loop: sessions deactivate in their long gaps and reactivate through the fair-share queue
    assert open_loop.deactivations > 0 and open_loop.activations > open_loop.closed.get("close", 0)
    # churn: closes with work left, cancels (some too late), expiries
    counts = churn.counts()
    assert counts.get("failed:session_closed", 0) > 0 and counts.get("cancelled", 0) > 0
    assert churn.cancel_rejected > 0 and churn.closed.get("max_time_reached", 0) > 0
