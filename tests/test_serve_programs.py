"""What a served job computes: exact values with qiskit, mock values the client's decoder still reads."""

from __future__ import annotations

import json

import pytest

from model.serve.programs import Evaluator, kind

qiskit = pytest.importorskip("qiskit")
runtime = pytest.importorskip("qiskit_ibm_runtime")

from qiskit import QuantumCircuit  # noqa: E402
from qiskit.quantum_info import SparsePauliOp  # noqa: E402

V2_ESTIMATOR = {"pubs": [[QuantumCircuit(1), {"Z": 1.0}]], "version": 2}


def encoded(params: dict[str, object]) -> dict[str, object]:
    """The parameters as the client sends them (its RuntimeEncoder)."""
    loaded: dict[str, object] = json.loads(json.dumps(params, cls=runtime.RuntimeEncoder))
    return loaded


def test_the_form_is_told_by_the_parameters() -> None:
    assert kind({"pubs": []}) == "v2" and kind({"circuits": []}) == "v1" and kind({"quantum_program": {}}) == "executor"
    with pytest.raises(ValueError, match="executor"):
        Evaluator(real=False).result("executor", {"quantum_program": {}}, "j1")
    with pytest.raises(ValueError, match="schema 'v9'"):
        Evaluator(real=True).result("executor", {"schema_version": "v9", "quantum_program": {}}, "j1")


def test_v1_sampler_keys_outcomes_by_classical_bits() -> None:
    circuit = QuantumCircuit(3, 2)
    circuit.x(2)
    circuit.h(0)
    circuit.measure(2, 0)  # clbit 0 reads qubit 2 (always 1), clbit 1 reads qubit 0 (half the time)
    circuit.measure(0, 1)
    params = encoded({"circuits": [circuit], "circuit_indices": [0], "parameter_values": [[]]})
    result = json.loads(Evaluator(real=True).result("sampler", params, "j1"))
    assert result["quasi_dists"] == [{"0x1": 0.5, "0x3": 0.5}]


def test_v1_estimator_is_exact() -> None:
    circuit = QuantumCircuit(1)
    circuit.x(0)
    params = encoded({"circuits": [circuit], "circuit_indices": [0], "observables": [SparsePauliOp("Z")],
                      "observable_indices": [0], "parameter_values": [[]], "run_options": {"shots": 10}})
    result = json.loads(Evaluator(real=True).result("estimator", params, "j1"))
    assert result["values"] == [-1.0] and result["metadata"][0]["shots"] == 10


@pytest.mark.parametrize("real", [True, False])
def test_v2_results_decode_as_the_client_decodes_them(real: bool) -> None:
    text = Evaluator(real=real).result("estimator", encoded(V2_ESTIMATOR), "j1")
    decoded = json.loads(text, cls=runtime.RuntimeDecoder)
    value = float(decoded[0].data.evs)
    assert value == 1.0 if real else -1.0 <= value <= 1.0
    assert text == Evaluator(real=real).result("estimator", encoded(V2_ESTIMATOR), "j1")  # deterministic
    measured = QuantumCircuit(1)
    measured.measure_all()
    sampled = json.loads(Evaluator(real=real).result("sampler", encoded({"pubs": [[measured, None, 8]]}), "j2"),
                         cls=runtime.RuntimeDecoder)
    assert sampled[0].data.meas.get_counts() == {"0": 8}
