"""Scenarios the seed-era client (qiskit-ibm-runtime 0.11.3) plays against ``sessionspec serve``.

Run by tests/test_serve_seed_client.py with that client's own Python (``make test-clients``),
with the saved default account pointing at the server: ``python seed_era.py SCENARIO``.
Each prints one line per observation, ``key: value``, for the test to read.
"""

import sys

from qiskit import QuantumCircuit
from qiskit_ibm_runtime import QiskitRuntimeService, Sampler, Session


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def close_with_queued_jobs(service: QiskitRuntimeService) -> None:
    """A session closed while jobs are queued (the seeds: they fail)."""
    session = Session(service=service, backend="ibmq_qasm_simulator")
    sampler = Sampler(session=session)
    first = sampler.run(bell())
    print(f"first: {first.result().quasi_dists[0]}")
    queued = [sampler.run(bell()) for _ in range(2)]
    session.close()
    for job in queued:
        print(f"queued: {job.status().name}")


def interrupted(service: QiskitRuntimeService) -> None:
    """A program that opens a session, runs a job, and is interrupted (Ctrl-C) before it closes it."""
    session = Session(service=service, backend="ibmq_qasm_simulator")
    job = Sampler(session=session).run(bell())
    job.result()
    print(f"session: {session.session_id}")
    raise KeyboardInterrupt


if __name__ == "__main__":
    {"close_with_queued_jobs": close_with_queued_jobs, "interrupted": interrupted}[sys.argv[1]](QiskitRuntimeService())
