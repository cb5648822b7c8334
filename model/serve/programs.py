"""What a job computes: the primitives' results, real with qiskit, deterministic mock values without.

The server owes the client a result its own decoder accepts; which one depends on the program
and on the client generation, told by the job's parameters:

- **V1** (the seed-era client's ``Estimator``/``Sampler``: ``params.circuits``): plain JSON,
  ``{"values", "metadata"}`` or ``{"quasi_dists", "metadata"}``.
- **V2** (today's ``EstimatorV2``/``SamplerV2``: ``params.pubs``): a ``PrimitiveResult`` in the
  client's ``RuntimeEncoder`` form (``__type__``/``__value__`` objects, arrays as compressed
  ``np.save`` bytes).

With the ``serve-qiskit`` extra installed, the parameters are decoded by the client package's own
``RuntimeDecoder`` (QPY circuits, observables, parameter values) and evaluated exactly, without
noise, by qiskit's reference primitives (``StatevectorEstimator``, ``StatevectorSampler`` seeded
from the job ID), then encoded by its ``RuntimeEncoder``. Without it, nothing is decoded: every
expectation value is a deterministic number in [-1, 1] drawn from the job ID, and a sampler
returns all-zero shots of one bit; the metadata says ``"mock": true``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import random
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

MOCK_SHOTS = 1024

PROGRAMS = ("estimator", "sampler", "executor")
"""The programs a job may name (``program_id``): the primitives of both client generations and today's executor."""

MAX_STATE_QUBITS = 20
"""Qubits of the largest circuit a result is computed for: an exact statevector of ``2**n`` amplitudes."""
MAX_BOUND_CIRCUITS = 10_000
"""Parameter sets (circuits bound and simulated) one job's result may need, summed over its pubs or items."""
MAX_SAMPLED_SHOTS = 1_000_000
"""Shots one job's result may draw, summed over its pubs or items (shots × parameter sets)."""


class TooMuchWork(ValueError):
    """A job whose result would exceed one of the bounds above (docs/serve.md, "Results")."""


def requested_shots(params: dict[str, Any]) -> list[int]:
    """The shot counts a job's (still encoded) parameters ask for, wherever each client generation puts them:
    V2 ``shots``, ``options.default_shots`` and each pub's third item; V1 ``run_options.shots``; the
    executor's ``quantum_program.shots``. Values that are not integers are left to the evaluator."""
    found: list[object] = [params.get("shots"), (_dict(params.get("options"))).get("default_shots"),
                           _dict(params.get("run_options")).get("shots"),
                           _dict(params.get("quantum_program")).get("shots")]
    pubs = params.get("pubs")
    if isinstance(pubs, list) and params.get("version") != 1:
        found += [pub[2] for pub in pubs if isinstance(pub, list) and len(pub) == 3]
    return [n for n in found if isinstance(n, int) and not isinstance(n, bool)]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Budget:
    """Counts one job's evaluation against the bounds; TooMuchWork before the work is done, not after."""

    def __init__(self) -> None:
        self.bound = 0
        self.shots = 0

    def charge(self, num_qubits: int, parameter_sets: int, shots: int = 0) -> None:
        if num_qubits > MAX_STATE_QUBITS:
            raise TooMuchWork(f"a circuit of {num_qubits} qubits: exact results are computed for at most "
                              f"{MAX_STATE_QUBITS}")
        self.bound += parameter_sets
        self.shots += parameter_sets * shots
        if self.bound > MAX_BOUND_CIRCUITS:
            raise TooMuchWork(f"{self.bound} parameter sets: one job's result binds at most {MAX_BOUND_CIRCUITS}")
        if self.shots > MAX_SAMPLED_SHOTS:
            raise TooMuchWork(f"{self.shots} shots (shots x parameter sets): one job's result samples at most "
                              f"{MAX_SAMPLED_SHOTS}")

_QISKIT = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sessionspec-qiskit")
"""The one thread that runs qiskit, for the life of the process: qiskit's native code crashes the
process when a thread that used it ends and another thread uses it next (seen with qiskit 2.6 when
a server thread stops and a new one starts, as in the tests)."""


def qiskit_available() -> bool:
    """Whether real evaluation is possible (qiskit and the client package's codec are installed)."""
    return all(importlib.util.find_spec(name) is not None for name in ("qiskit", "qiskit_ibm_runtime"))


def kind(params: dict[str, Any]) -> str:
    """``v1``, ``v2`` or ``executor``: which result form the client expects."""
    if "pubs" in params:
        return "v2"
    if "quantum_program" in params:
        return "executor"
    return "v1"


class Evaluator:
    """Computes a job's result text from its program ID and raw (still encoded) parameters."""

    def __init__(self, real: bool | None = None) -> None:
        self.real = qiskit_available() if real is None else real

    @property
    def name(self) -> str:
        return "qiskit reference primitives" if self.real else "deterministic mock values"

    def result(self, program_id: str, params: dict[str, Any], job_id: str) -> str:
        """The body of ``GET /jobs/{id}/results``; ValueError if the parameters cannot be evaluated."""
        form = kind(params)
        if form == "executor" and not self.real:
            raise ValueError("the executor program's results need qiskit (the serve-qiskit extra)")
        if self.real:
            return _QISKIT.submit(_real, program_id, params, job_id, form).result()
        return _mock(program_id, params, job_id, form)


# ---------------------------------------------------------------------- mock values


def _draw(job_id: str) -> random.Random:
    return random.Random(hashlib.sha256(job_id.encode()).hexdigest())


def encoded_array(array: np.ndarray[Any, Any]) -> dict[str, Any]:
    """An array as the client's decoder reads it: ``np.save`` bytes, zlib-compressed, base64."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return {"__type__": "ndarray", "__value__": base64.standard_b64encode(zlib.compress(buffer.getvalue())).decode()}


def _typed(name: str, value: object) -> dict[str, Any]:
    return {"__type__": name, "__value__": value}


def _mock(program_id: str, params: dict[str, Any], job_id: str, form: str) -> str:
    rng = _draw(job_id)
    if form == "v1":
        n = len(params.get("circuit_indices") or params.get("circuits") or [None])
        if program_id == "sampler":
            meta = [{"shots": MOCK_SHOTS, "mock": True}] * n
            return json.dumps({"quasi_dists": [{"0x0": 1.0}] * n, "metadata": meta})
        values = [round(rng.uniform(-1.0, 1.0), 12) for _ in range(n)]
        return json.dumps({"values": values, "metadata": [{"variance": 0.0, "shots": MOCK_SHOTS, "mock": True}] * n})
    pubs = params.get("pubs") or []
    results = []
    default_shots = params.get("shots") or (params.get("options") or {}).get("default_shots") or MOCK_SHOTS
    budget = _Budget()
    for pub in pubs:
        if program_id == "sampler":
            given = pub[2] if isinstance(pub, list) and len(pub) > 2 else None
            shots = given if isinstance(given, int) and not isinstance(given, bool) and given > 0 else default_shots
            budget.charge(1, 1, int(shots))
            zeros = encoded_array(np.zeros((int(shots), 1), dtype=np.uint8))
            bits = _typed("BitArray", {"array": zeros, "num_bits": 1})
            data = _typed("DataBin", {"field_names": ["meas"], "shape": [], "fields": {"meas": bits}})
            results.append(_typed("SamplerPubResult", {"data": data, "metadata": {"mock": True}}))
        else:
            evs = encoded_array(np.array(round(rng.uniform(-1.0, 1.0), 12)))
            stds = encoded_array(np.array(0.0))
            fields = {"evs": evs, "stds": stds}
            data = _typed("DataBin", {"field_names": ["evs", "stds"], "shape": [], "fields": fields})
            results.append(_typed("PubResult", {"data": data, "metadata": {"mock": True}}))
    return json.dumps(_typed("PrimitiveResult", {"pub_results": results, "metadata": {"mock": True}}))


# ---------------------------------------------------------------------- real values


def _real(program_id: str, params: dict[str, Any], job_id: str, form: str) -> str:
    from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder

    seed = _draw(job_id).randrange(2**31)
    if form == "executor":
        return _executor(params, seed)
    decoded = json.loads(json.dumps(params), cls=RuntimeDecoder)
    if form == "v1":
        body = _v1_sampler(decoded) if program_id == "sampler" else _v1_estimator(decoded)
        return json.dumps(body, cls=RuntimeEncoder)
    from qiskit.primitives import StatevectorEstimator, StatevectorSampler
    from qiskit.primitives.containers.estimator_pub import EstimatorPub
    from qiskit.primitives.containers.sampler_pub import SamplerPub

    pubs = [tuple(pub) for pub in decoded["pubs"]]
    budget = _Budget()
    if program_id == "sampler":
        shots = int(decoded.get("shots") or (decoded.get("options") or {}).get("default_shots") or MOCK_SHOTS)
        for pub in pubs:
            coerced = SamplerPub.coerce(pub, shots)
            budget.charge(coerced.circuit.num_qubits, coerced.parameter_values.size, coerced.shots or shots)
        result = StatevectorSampler(default_shots=shots, seed=seed).run(pubs).result()
    else:
        estimator_pubs = [pub[:3] for pub in pubs]  # precision: the reference is exact
        for pub in estimator_pubs:
            coerced_pub = EstimatorPub.coerce(pub)
            budget.charge(coerced_pub.circuit.num_qubits, int(np.prod(coerced_pub.shape)))
        result = StatevectorEstimator(seed=seed).run(estimator_pubs).result()
    return json.dumps(result, cls=RuntimeEncoder)


def _bound(decoded: dict[str, Any], index: int, circuit: Any) -> Any:
    values = (decoded.get("parameter_values") or [])
    row = values[index] if index < len(values) else []
    return circuit.assign_parameters(list(row)) if len(row) else circuit


def _v1_estimator(decoded: dict[str, Any]) -> dict[str, Any]:
    from qiskit.quantum_info import SparsePauliOp, Statevector

    circuits, observables = decoded["circuits"], decoded["observables"]
    shots = (decoded.get("run_options") or {}).get("shots")
    budget = _Budget()
    for ci in decoded["circuit_indices"]:
        budget.charge(circuits[ci].num_qubits, 1)
    values, metadata = [], []
    for i, (ci, oi) in enumerate(zip(decoded["circuit_indices"], decoded["observable_indices"], strict=True)):
        state = Statevector(_bound(decoded, i, circuits[ci]).remove_final_measurements(inplace=False))
        observable = observables[oi]
        if not isinstance(observable, SparsePauliOp):
            observable = SparsePauliOp(observable)
        value = float(np.real(state.expectation_value(observable)))
        values.append(value)
        metadata.append({"variance": max(0.0, 1.0 - value * value), "shots": shots})
    return {"values": values, "metadata": metadata}


def _v1_sampler(decoded: dict[str, Any]) -> dict[str, Any]:
    """Exact quasi-distributions over the classical bits, keyed by the clbits' integer value (hex)."""
    from qiskit.quantum_info import Statevector

    circuits = decoded["circuits"]
    shots = (decoded.get("run_options") or {}).get("shots")
    budget = _Budget()
    for ci in decoded["circuit_indices"]:
        budget.charge(circuits[ci].num_qubits, 1)  # exact probabilities: no shot is drawn
    quasi_dists, metadata = [], []
    for i, ci in enumerate(decoded["circuit_indices"]):
        circuit = _bound(decoded, i, circuits[ci])
        written: dict[int, int] = {}  # clbit -> the qubit last measured into it
        for instruction in circuit.data:
            if instruction.operation.name == "measure":
                written[circuit.find_bit(instruction.clbits[0]).index] = circuit.find_bit(instruction.qubits[0]).index
        clbits = sorted(written)
        state = Statevector(circuit.remove_final_measurements(inplace=False))
        distribution: dict[str, float] = {}
        if clbits:
            for outcome, p in state.probabilities_dict(qargs=[written[c] for c in clbits]).items():
                value = sum(1 << clbit for j, clbit in enumerate(clbits) if outcome[-1 - j] == "1")
                if p > 1e-12:
                    key = hex(value)
                    distribution[key] = round(distribution.get(key, 0.0) + float(p), 12)
        else:
            distribution = {"0x0": 1.0}
        quasi_dists.append(distribution)
        metadata.append({"shots": shots})
    return {"quasi_dists": quasi_dists, "metadata": metadata}


def _executor(params: dict[str, Any], seed: int) -> str:
    """The executor program (today's client-side ``Sampler``): each circuit item sampled exactly, shot by shot.

    Items of the quantum program (schema v2.0) are circuits with a tensor of parameter values; each
    element of an item's shape is bound and sampled ``shots`` times by ``StatevectorSampler``, and each
    classical register comes back as booleans of shape ``(*shape, shots, size)``, bit 0 first.
    Samplex items (twirling, and today's client-side ``Estimator``) are not modelled: ValueError."""
    from ibm_quantum_schemas.common.tensor import CompressedTensorModel
    from ibm_quantum_schemas.executor.version_2_0.models import (
        ItemMetadataModel,
        MetadataModel,
        ParamsModel,
        QuantumProgramResultItemModel,
        QuantumProgramResultModel,
    )
    from qiskit.primitives import StatevectorSampler

    version = params.get("schema_version")
    if version != "v2.0":
        raise ValueError(f"executor parameters of schema {version!r}: only v2.0 is modelled")
    program = ParamsModel.model_validate(params).quantum_program
    if program.meas_level != "classified":
        raise ValueError(f"meas_level {program.meas_level!r}: only classified bits are modelled")
    sampler = StatevectorSampler(default_shots=program.shots, seed=seed)
    circuits = program.circuits.to_python()
    budget = _Budget()
    for circuit, item in zip(circuits, program.items, strict=True):
        if item.item_type != "circuit":
            raise ValueError("samplex items (twirling, the client-side Estimator) are not modelled")
        sets = int(np.prod(np.broadcast_shapes(tuple(item.shape), item.circuit_arguments.to_numpy().shape[:-1])))
        budget.charge(circuit.num_qubits, sets, program.shots)
    results = []
    for circuit, item in zip(circuits, program.items, strict=True):
        arguments = item.circuit_arguments.to_numpy()
        shape = np.broadcast_shapes(tuple(item.shape), arguments.shape[:-1])  # the item's shape extends the arguments'
        arguments = np.broadcast_to(arguments, shape + arguments.shape[-1:])
        bits = {creg.name: np.zeros((*shape, program.shots, creg.size), dtype=bool) for creg in circuit.cregs}
        for index in np.ndindex(shape):
            bound = circuit.assign_parameters(arguments[index]) if circuit.num_parameters else circuit
            data = sampler.run([bound]).result()[0].data
            for name, array in bits.items():
                array[index] = getattr(data, name).to_bool_array(order="little")
        results.append(QuantumProgramResultItemModel(
            results={name: CompressedTensorModel.from_numpy(array) for name, array in bits.items()},
            metadata=ItemMetadataModel(),
        ))
    model = QuantumProgramResultModel(
        data=results, metadata=MetadataModel(chunk_timing=[]), passthrough_data=program.passthrough_data,
        semantic_role=program.semantic_role,
    )
    text: str = model.model_dump_json()
    return text
