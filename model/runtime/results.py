"""Primitive results: deterministic stand-ins for what the device would return.

The spec says nothing about numbers, only about when a result exists. Values are
drawn from a ``random.Random`` seeded with the service seed and the job ID, so the
same run gives the same numbers and changing one job never changes another's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SHOTS = 4000
_MAX_OUTCOME_BITS = 16
_OUTCOMES = 8


@dataclass(frozen=True)
class EstimatorResult:
    values: list[float]
    metadata: list[dict[str, Any]]


@dataclass(frozen=True)
class SamplerResult:
    quasi_dists: list[dict[int, float]]
    metadata: list[dict[str, Any]]


PrimitiveResult = EstimatorResult | SamplerResult


def experiments(circuits: object) -> tuple[object, ...]:
    """The experiments of a ``run`` call: a list/tuple of circuits, or one circuit."""
    if isinstance(circuits, list | tuple):
        return tuple(circuits)
    return (circuits,)


def _rng(seed: int, job_id: str) -> random.Random:
    return random.Random(f"{seed}:{job_id}:result")


def _metadata(rng: random.Random, levels: dict[str, int], variance: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"shots": SHOTS, **levels}
    if variance:
        meta = {"variance": round(rng.uniform(0.0, 1.0), 6), **meta}
    return meta


def estimator_result(seed: int, job_id: str, circuits: Sequence[object], levels: dict[str, int]) -> EstimatorResult:
    rng = _rng(seed, job_id)
    values = [round(rng.uniform(-1.0, 1.0), 6) for _ in circuits]
    return EstimatorResult(values, [_metadata(rng, levels, True) for _ in circuits])


def sampler_result(seed: int, job_id: str, circuits: Sequence[object], levels: dict[str, int]) -> SamplerResult:
    rng = _rng(seed, job_id)
    dists: list[dict[int, float]] = []
    for circuit in circuits:
        qubits = getattr(circuit, "num_qubits", 1)
        bits = min(qubits, _MAX_OUTCOME_BITS) if isinstance(qubits, int) and qubits > 0 else 1
        outcomes = sorted(rng.sample(range(2**bits), min(2**bits, _OUTCOMES)))
        weights = [rng.random() + 1e-3 for _ in outcomes]
        total = sum(weights)
        dists.append({outcome: round(w / total, 6) for outcome, w in zip(outcomes, weights, strict=True)})
    return SamplerResult(dists, [_metadata(rng, levels, False) for _ in circuits])
