# Seed 002's Full example for today's qiskit-ibm-runtime: V2 primitives take ISA circuits
# (transpiled for the backend) and a list of (circuit, observable) pubs; the session is the mode.
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit_ibm_runtime import QiskitRuntimeService, Session, EstimatorV2 as Estimator

circuit = random_circuit(2, 2, seed=1).decompose(reps=1)
observable = SparsePauliOp("IY")

service = QiskitRuntimeService()
backend = service.backend("ibmq_qasm_simulator")
pm = generate_preset_pass_manager(optimization_level=2, backend=backend)
isa_circuit = pm.run(circuit)
isa_observable = observable.apply_layout(isa_circuit.layout)

with Session(backend=backend) as session:
    estimator = Estimator(mode=session)
    job = estimator.run([(isa_circuit, isa_observable)])
    result = job.result()
    # Close the session only if all jobs are finished, and you don't need to run more in the session
    session.close()

print(f" > Observable: {observable.paulis}")
print(f" > Expectation value: {result[0].data.evs}")
print(f" > Metadata: {result[0].metadata}")
