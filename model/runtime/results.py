"""Primitive results: deterministic stand-ins for what the device would return.

The seeds' (V1) ``EstimatorResult`` and ``SamplerResult``, and today's (V2) ``PrimitiveResultV2``
of ``PubResult``s whose ``data`` holds ``evs``/``stds`` (Estimator) or a ``meas`` bit array
with ``get_counts()`` (Sampler).

The spec says nothing about numbers, only about when a result exists. Values are
drawn from a ``random.Random`` seeded with the service seed and the job ID, so the
same run gives the same numbers and changing one job never changes another's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

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


# ---------------------------------------------------------------------- today's (V2) results

V2_MAX_OUTCOME_BITS = 8
"""Sampler V2 counts cover at most 2**8 outcomes (the stand-in circuits carry no physics)."""


class BitArray:
    """The shots of one classical register, reduced to the counts the client reads from it."""

    def __init__(self, counts: dict[str, int], num_bits: int) -> None:
        self._counts = dict(counts)
        self.num_bits = num_bits

    @property
    def num_shots(self) -> int:
        return sum(self._counts.values())

    def get_counts(self) -> dict[str, int]:
        """Bitstring -> how many shots gave it."""
        return dict(self._counts)

    def get_bitstrings(self) -> list[str]:
        """One bitstring per shot, grouped by outcome."""
        return [bits for bits, n in self._counts.items() for _ in range(n)]

    def __repr__(self) -> str:
        return f"BitArray(<shots={self.num_shots}, num_bits={self.num_bits}>)"


class DataBin:
    """A pub's named results: ``data.evs`` and ``data.stds`` (Estimator), ``data.meas`` (Sampler)."""

    def __init__(self, **fields: Any) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("_fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(f"DataBin has no field {name!r}; it has {', '.join(fields) or 'none'}")

    def keys(self) -> list[str]:
        return list(self._fields)

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __repr__(self) -> str:
        return f"DataBin({', '.join(f'{k}={v!r}' for k, v in self._fields.items())})"


@dataclass(frozen=True)
class PubResult:
    """One pub's result: its data and metadata."""

    data: DataBin
    metadata: dict[str, Any]


class PrimitiveResultV2(Sequence[PubResult]):
    """A V2 job's result: one :class:`PubResult` per pub, indexable like the client's ``PrimitiveResult``."""

    def __init__(self, pubs: Sequence[PubResult], metadata: dict[str, Any]) -> None:
        self._pubs = tuple(pubs)
        self.metadata = metadata

    @overload
    def __getitem__(self, index: int) -> PubResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PubResult]: ...
    def __getitem__(self, index: int | slice) -> PubResult | Sequence[PubResult]:
        return self._pubs[index]

    def __len__(self) -> int:
        return len(self._pubs)

    def __repr__(self) -> str:
        return f"PrimitiveResult({list(self._pubs)!r}, metadata={self.metadata!r})"


def _observables(pub: object) -> object:
    return pub[1] if isinstance(pub, tuple | list) and len(pub) > 1 else None


def estimator_result_v2(seed: int, job_id: str, pubs: Sequence[object], precision: float) -> PrimitiveResultV2:
    """Expectation values in [-1, 1], one per observable of each pub (a list for a list of them)."""
    rng = _rng(seed, job_id)
    results: list[PubResult] = []
    for pub in pubs:
        observables = _observables(pub)
        several = isinstance(observables, list | tuple)
        count = len(observables) if isinstance(observables, list | tuple) else 1
        evs = [round(rng.uniform(-1.0, 1.0), 6) for _ in range(count)]
        stds = [round(precision * rng.uniform(0.5, 1.5), 6) for _ in range(count)]
        data = DataBin(evs=evs if several else evs[0], stds=stds if several else stds[0])
        results.append(PubResult(data, {"target_precision": precision}))
    return PrimitiveResultV2(results, {"version": 2})


def sampler_result_v2(seed: int, job_id: str, pubs: Sequence[object], shots: int) -> PrimitiveResultV2:
    """Counts over at most 2**8 outcomes of each pub's circuit, ``shots`` in all, in register ``meas``."""
    rng = _rng(seed, job_id)
    results: list[PubResult] = []
    for pub in pubs:
        circuit = pub[0] if isinstance(pub, tuple | list) and pub else pub
        pub_shots = pub[2] if isinstance(pub, tuple | list) and len(pub) > 2 and isinstance(pub[2], int) else shots
        qubits = getattr(circuit, "num_qubits", 1)
        bits = min(qubits, V2_MAX_OUTCOME_BITS) if isinstance(qubits, int) and qubits > 0 else 1
        outcomes = sorted(rng.sample(range(2**bits), min(2**bits, _OUTCOMES)))
        weights = [rng.random() + 1e-3 for _ in outcomes]
        counts: dict[str, int] = {}
        for outcome in rng.choices(outcomes, weights, k=pub_shots):
            key = format(outcome, f"0{bits}b")
            counts[key] = counts.get(key, 0) + 1
        data = DataBin(meas=BitArray(dict(sorted(counts.items())), bits))
        results.append(PubResult(data, {"shots": pub_shots}))
    return PrimitiveResultV2(results, {"version": 2})
