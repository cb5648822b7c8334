"""The seeds' own example code runs against ``model.runtime`` and does what the seeds say.

The seed files are not available in CI, so the code blocks are kept here verbatim
(dedented), each with its seed file and lines. Only import lines are replaced (qiskit
-> ``model.runtime`` / ``model.runtime.stand_ins``), and a body that is just ``...``
becomes one Estimator job run; everything else executes exactly as written.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from model.runtime import (
    IBMInputValueError,
    IBMRuntimeError,
    JobStatus,
    QiskitRuntimeService,
    default_service,
    set_default_service,
)
from model.runtime.stand_ins import display
from model.sim.devices import Duration, simulator
from model.sim.engine import Engine
from model.spec.interpretations import Interpretation
from model.spec.validations import RequestRejected
from model.trace import MemoryTrace
from properties.conformance.checker import CONFORMS, check_file

# 002_04397b608e8efa11.txt §Prerequisites l.13-15
PREREQUISITES = """\
from qiskit_ibm_runtime import QiskitRuntimeService

service = QiskitRuntimeService()
"""

# 002_04397b608e8efa11.txt §Session class l.31-33
SESSION_CLASS = """\
session= Session(service=service, backend="ibmq_qasm_simulator")
estimator = Estimator(session=session)
sampler = Sampler(session=session)
"""

# 002_04397b608e8efa11.txt §Context manager l.41-43
CONTEXT_MANAGER = """\
with Session(service=service, backend="ibmq_qasm_simulator"):
  estimator = Estimator()
  sampler = Sampler()
"""

# 002_04397b608e8efa11.txt §Specify a backend l.57-59
BACKEND_BY_NAME = """\
backend = "ibmq_qasm_simulator"
with Session(backend=backend):
  ...
"""

# 002_04397b608e8efa11.txt §Specify a backend l.65-67
BACKEND_BY_OBJECT = """\
backend = service.get_backend("ibmq_qasm_simulator")
with Session(backend=backend):
  ...
"""

# 002_04397b608e8efa11.txt §Specify the session length l.81-82
SESSION_LENGTH = """\
with Session(service=service, backend=backend, max_time="25m"):
  ...
"""

# 002_04397b608e8efa11.txt §Specify the session length l.77, the sizing rule under the block above: "if you
# run five jobs within a session and each job is estimated to be five minutes long, the maximum time for the
# session should at least 25 min." As code, the block's body: five jobs, each awaited, then a sixth.
FIVE_JOBS_BODY = """\
  estimator = Estimator()
  for _ in range(5):
    estimator.run(circuit, observable).result()
  status_after_five = current_session().status()
  try:
    estimator.run(circuit, observable)
  except IBMRuntimeError as error:
    sixth = error
"""

# 002_04397b608e8efa11.txt §Close a session l.98-104
CLOSE_A_SESSION = """\
with Session(service=service, backend=backend) as session:
    estimator = Estimator()
    job = estimator.run(...)
    # Do not close here, the job might not be completed!
    result = job.result()
    # job.result() is blocking, so this job is now finished and the session can be safely closed.
    session.close()
"""

# 002_04397b608e8efa11.txt §Full example l.113-135
FULL_EXAMPLE = """\
from qiskit.circuit.random import random_circuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import QiskitRuntimeService, Session, Estimator, Options

circuit = random_circuit(2, 2, seed=1).decompose(reps=1)
observable = SparsePauliOp("IY")

options = Options()
options.optimization_level = 2
options.resilience_level = 2

service = QiskitRuntimeService()
with Session(service=service, backend="ibmq_qasm_simulator") as session:
    estimator = Estimator(options=options)
    job = estimator.run(circuit, observable)
    result = job.result()
    # Close the session only if all jobs are finished, and you don't need to run more in the session
    session.close()

display(circuit.draw("mpl"))
print(f" > Observable: {observable.paulis}")
print(f" > Expectation value: {result.values[0]}")
print(f" > Metadata: {result.metadata[0]}")
"""

# 000_217642dd304a7e23.txt §How to run a job in a session l.16-18
SEED_000_CONTEXT = """\
with Session(service) as session:
  estimator = Estimator(session=session, options=options) #primitive constructor
  estimator.run(circuit, parameters, observable) #job call
"""

IMPORTS = {
    "from qiskit.circuit.random import random_circuit": "from model.runtime.stand_ins import random_circuit",
    "from qiskit.quantum_info import SparsePauliOp": "from model.runtime.stand_ins import SparsePauliOp",
}
_RUNTIME_IMPORT = re.compile(r"^from qiskit_ibm_runtime import (.+)$")
# What the seeds' snippets take as already imported and defined.
CONTEXT = """\
from model.runtime import Estimator, Options, Sampler, Session
from model.runtime.stand_ins import SparsePauliOp, random_circuit
circuit = random_circuit(2, 2, seed=1)
observable = SparsePauliOp("IY")
"""
ELLIPSIS_BODY = "job = Estimator().run(circuit, observable); result = job.result()"


def adapt(code: str) -> str:
    """Replace only the import lines and the bare ``...`` bodies; fail if a copy drifted."""
    lines = []
    for line in code.splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped in IMPORTS:
            line = indent + IMPORTS[stripped]
        elif match := _RUNTIME_IMPORT.match(stripped):
            line = f"{indent}from model.runtime import {match.group(1)}"
        elif stripped == "...":
            line = indent + ELLIPSIS_BODY
        assert "qiskit" not in line, f"unreplaced qiskit line: {line!r}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def run(*blocks: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    ns: dict[str, Any] = {"display": display} if namespace is None else namespace
    for block in blocks:
        exec(compile(adapt(block), "<seed example>", "exec"), ns)
    return ns


@pytest.fixture(autouse=True)
def fresh_default_service() -> Iterator[None]:
    set_default_service(None)
    yield
    set_default_service(None)


def test_adapt_replaces_only_imports_and_ellipsis_bodies() -> None:
    adapted = adapt(FULL_EXAMPLE)
    assert adapted.count("\n") == FULL_EXAMPLE.count("\n")
    changed = [a for a, b in zip(adapted.splitlines(), FULL_EXAMPLE.splitlines(), strict=True) if a != b]
    assert len(changed) == 3 and all(line.startswith("from model.runtime") for line in changed)
    assert textwrap.dedent(adapt(BACKEND_BY_NAME)).splitlines()[-1].strip() == ELLIPSIS_BODY


@pytest.mark.rule("CONTEXT-PRIMITIVES", "CONTEXT-CLOSE", "SESSION-CLOSE")
def test_full_example_prints_an_expectation_value(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run(FULL_EXAMPLE)
    out = capsys.readouterr().out
    assert " > Observable: ['IY']" in out
    match = re.search(r"^ > Expectation value: (-?\d+\.\d+)$", out, re.MULTILINE)
    assert match is not None and -1.0 <= float(match.group(1)) <= 1.0
    assert "'optimization_level': 2" in out and "'resilience_level': 2" in out
    assert ns["session"].status() == "Closed"
    assert ns["job"].status() == JobStatus.DONE and ns["job"].session_id == ns["session"].session_id


@pytest.mark.rule("CONTEXT-PRIMITIVES", "SESSION-GROUPS-JOBS")
def test_session_class_example_feeds_both_primitives() -> None:
    ns = run(PREREQUISITES, CONTEXT, SESSION_CLASS)
    session = ns["session"]
    assert ns["estimator"].session is session and ns["sampler"].session is session
    jobs = [ns["estimator"].run(ns["circuit"], ns["observable"]), ns["sampler"].run(ns["circuit"])]
    for job in jobs:
        job.result()
        assert job.status() == JobStatus.DONE and job.session_id == session.session_id
    session.close()
    assert session.status() == "Closed"


@pytest.mark.rule("CONTEXT-PRIMITIVES", "CONTEXT-CLOSE")
def test_context_manager_example_primitives_use_the_session() -> None:
    ns = run(PREREQUISITES, CONTEXT, CONTEXT_MANAGER + "  job = estimator.run(circuit, observable)\n"
             "  sample = sampler.run(circuit).result()\n")
    session = ns["estimator"].session
    assert session is not None and ns["sampler"].session is session
    assert session.status() == "Closed"
    assert ns["job"].status() == JobStatus.DONE  # sample.result() ran the session's queue in order
    assert ns["sample"].quasi_dists


@pytest.mark.rule("BACKEND-NAME-OR-OBJECT", "CONTEXT-CLOSE")
def test_specify_a_backend_by_name_uses_the_default_service() -> None:
    ns = run(PREREQUISITES, CONTEXT, BACKEND_BY_NAME)
    job = ns["job"]
    assert job.status() == JobStatus.DONE and job.backend().name == "ibmq_qasm_simulator"
    assert job.backend().service is default_service() is not ns["service"]
    assert default_service().engine.sessions[job.session_id].state == "closed"


@pytest.mark.rule("BACKEND-NAME-OR-OBJECT", "CONTEXT-CLOSE")
def test_specify_a_backend_by_object_uses_its_service() -> None:
    ns = run(PREREQUISITES, CONTEXT, BACKEND_BY_OBJECT)
    job = ns["job"]
    assert job.status() == JobStatus.DONE and job.backend() is ns["backend"]
    assert ns["service"].engine.sessions[job.session_id].state == "closed"


@pytest.mark.rule("MAXTIME-PARAM", "MAXTIME-FORMAT", "MAXTIME-ASSIGNED")
@pytest.mark.parametrize("backend_block", [BACKEND_BY_NAME, BACKEND_BY_OBJECT], ids=["name", "object"])
def test_specify_the_session_length(backend_block: str) -> None:
    ns = run(PREREQUISITES, CONTEXT, backend_block, SESSION_LENGTH)
    job = ns["job"]
    record = ns["service"].engine.sessions[job.session_id]
    assert record.requested_max_time == 25 * 60 and record.max_time == 25 * 60
    assert job.status() == JobStatus.DONE and record.state == "closed"


@pytest.mark.rule("SESSION-CLOSE", "CLOSE-FAILS-INCOMPLETE")
def test_close_a_session_after_the_result() -> None:
    ns = run(PREREQUISITES, CONTEXT, BACKEND_BY_OBJECT, CLOSE_A_SESSION)
    assert ns["job"].status() == JobStatus.DONE and ns["session"].status() == "Closed"
    assert ns["result"].values and ns["job"].session_id == ns["session"].session_id


def sizing_by_engine() -> str:
    """The sizing example's requests made to the engine directly, each once every event due at
    its instant has run (the engine's ordering rule); the trace as JSON lines."""
    trace = MemoryTrace()
    engine = Engine([simulator(duration=Duration.fixed(300))], sink=trace)
    session = engine.open_session("ibmq_qasm_simulator", "25m")
    for _ in range(5):
        job = engine.submit(session.id, None)
        engine.run_until(engine.now + 300)
        assert job.state == "completed"
    assert session.state == "closed"
    with pytest.raises(RequestRejected, match="SESSION-CLOSED-REJECTS"):
        engine.submit(session.id, None)
    engine.close(session.id)
    return trace.jsonl()


@pytest.mark.rule("MAXTIME-PARAM", "MAXTIME-EXPIRY", "SESSION-CLOSED-REJECTS")
def test_five_five_minute_jobs_fill_a_25m_session(tmp_path: Path) -> None:
    """Through the runtime API, the engine and the checker alike: the fifth result() returns at
    t=1500 with the session expired, and a sixth job is refused, not accepted and then failed."""
    service = QiskitRuntimeService(backends=[simulator(duration=Duration.fixed(300))])
    context = CONTEXT + "from model.runtime import IBMRuntimeError, current_session\n"
    block = SESSION_LENGTH.replace("  ...\n", FIVE_JOBS_BODY)
    ns = run(context, block, namespace={"service": service, "backend": "ibmq_qasm_simulator", "display": display})
    assert service.now == 1500 and ns["status_after_five"] == "Closed"
    sixth = ns["sixth"]
    assert isinstance(sixth, IBMRuntimeError) and sixth.code == "SESSION-CLOSED"
    assert service.trace.jsonl() == sizing_by_engine()
    path = tmp_path / "sizing.jsonl"
    path.write_text(service.trace.jsonl(), encoding="utf-8")
    assert check_file(str(path)).status == CONFORMS


SEED_000_CONTEXT_DEFS = CONTEXT + "options = Options()\nparameters = [[0.1, 0.2]]\n"


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE", "CONTEXT-CLOSE", "BACKEND-REQUIRED")
def test_seed_000_example_exits_without_waiting_so_its_job_fails() -> None:
    service = QiskitRuntimeService(channel="ibm_cloud")  # seed 000 names no backend
    ns = run(SEED_000_CONTEXT_DEFS, SEED_000_CONTEXT, namespace={"service": service, "display": display})
    assert ns["session"].status() == "Closed"
    [job] = service.engine.jobs.values()
    assert job.state == "failed" and job.reason == "session_closed"
    assert job.session_id == ns["session"].session_id


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE")
def test_seed_000_example_job_finishes_under_close_running_job_finish() -> None:
    service = QiskitRuntimeService(
        channel="ibm_cloud", interpretation=Interpretation.of(CLOSE_RUNNING_JOB="finish")
    )
    run(SEED_000_CONTEXT_DEFS, SEED_000_CONTEXT, namespace={"service": service, "display": display})
    service.advance(60)
    [job] = service.engine.jobs.values()
    assert job.state == "completed"


@pytest.mark.rule("BACKEND-REQUIRED")
def test_seed_000_example_needs_a_backend_on_ibm_quantum() -> None:
    service = QiskitRuntimeService(channel="ibm_quantum")
    with pytest.raises(IBMInputValueError, match="BACKEND-REQUIRED"):
        run(SEED_000_CONTEXT_DEFS, SEED_000_CONTEXT, namespace={"service": service, "display": display})
    assert not service.engine.jobs
