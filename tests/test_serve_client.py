"""Today's qiskit-ibm-runtime client, unmodified, against ``sessionspec serve``, under each profile.

The server runs in a thread on a free loopback port; the client reaches it as its HTTP proxy,
exactly as a user's program does (docs/serve.md). Virtual time passes only while the client
waits (speed 0), so the outcomes are deterministic; each test ends by checking the server's
trace with ``sessionspec check``'s judge. The seed-era client (0.11.3) needs its own
environment: tests/clients/ and ``make test-clients``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
runtime = pytest.importorskip("qiskit_ibm_runtime")

from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit.random import random_circuit  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager  # noqa: E402

from model.serve.account import URL, environment, save_account  # noqa: E402
from model.serve.app import ServerThread  # noqa: E402
from model.serve.backends import DEFAULT_BACKEND, served_backend  # noqa: E402
from model.serve.state import RuntimeServer, Settings  # noqa: E402
from model.spec.interpretations import Interpretation  # noqa: E402
from properties.conformance.checker import CONFORMS, check_lines  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module", params=("platform", "seeds"))
def served(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    settings = Settings((served_backend(DEFAULT_BACKEND),), Interpretation.of(request.param), speed=0.0)
    with ServerThread(RuntimeServer(settings)) as thread:
        yield thread


def platform(served: ServerThread) -> bool:
    return served.server.settings.interpretation.is_platform


@pytest.fixture
def service(served: ServerThread, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("IAM_URL", "http://iam.sessionspec.example")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runtime.QiskitRuntimeService(
            channel="ibm_quantum_platform", token="sessionspec", url=URL, instance=served.server.settings.instance,
            proxies={"urls": {"http": served.proxy}},
        )


def conforms(served: ServerThread) -> None:
    with served.server.lock:
        text = served.server.trace_text()
    report = check_lines(text.splitlines(), "serve.jsonl")
    assert report.status == CONFORMS, report.lines


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def isa(backend: Any, circuit: QuantumCircuit) -> QuantumCircuit:
    result: QuantumCircuit = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
    return result


def test_the_seed_example_in_its_v2_form_gives_the_reference_value(served: ServerThread, service: Any) -> None:
    backend = service.backend(DEFAULT_BACKEND)
    circuit = isa(backend, random_circuit(2, 2, seed=1).decompose(reps=1))
    observable = SparsePauliOp("IY").apply_layout(circuit.layout)
    with runtime.Session(backend=backend, max_time="25m") as session:
        job = runtime.EstimatorV2(mode=session).run([(circuit, observable)])
        value = float(job.result()[0].data.evs)
        assert session.status() == "In progress, accepting new jobs"
        assert session.details()["max_time"] == 1500
        assert job.metrics()["usage"]["quantum_seconds"] == served.server.settings.job_seconds
        session.close()
    assert session.status() == "Closed"
    reference = random_circuit(2, 2, seed=1).decompose(reps=1)  # exact and noiseless, as the server's
    assert value == pytest.approx(float(Statevector(reference).expectation_value(SparsePauliOp("IY")).real))
    conforms(served)


def test_sampler_batch_job_mode_from_id_and_the_jobs_of_a_session(served: ServerThread, service: Any) -> None:
    backend = service.backend(DEFAULT_BACKEND)
    circuit = isa(backend, bell())
    with runtime.Batch(backend=backend) as batch:
        jobs = [runtime.SamplerV2(mode=batch).run([circuit], shots=100) for _ in range(2)]
        counts = [job.result()[0].data.meas.get_counts() for job in jobs]
    assert all(sum(c.values()) == 100 and set(c) <= {"00", "11"} for c in counts)
    listed = service.jobs(session_id=batch.session_id)
    assert sorted(j.job_id() for j in listed) == sorted(j.job_id() for j in jobs)
    again = runtime.Batch.from_id(batch.session_id, service)
    assert again.session_id == batch.session_id
    single = runtime.SamplerV2(mode=backend).run([circuit], shots=10)  # job mode: no session
    assert single.result()[0].data.meas.num_shots == 10 and single.session_id is None
    conforms(served)


def test_a_session_closed_with_queued_jobs(served: ServerThread, service: Any) -> None:
    backend = service.backend(DEFAULT_BACKEND)
    circuit = isa(backend, bell())
    session = runtime.Session(backend=backend)
    sampler = runtime.SamplerV2(mode=session)
    jobs = [sampler.run([circuit], shots=10) for _ in range(3)]
    session.close()
    if platform(served):
        assert session.status() == "In progress, not accepting new jobs"  # PLATFORM-CLOSE-DRAINS
        assert [job.result()[0].data.meas.num_shots for job in jobs] == [10] * 3
        assert session.status() == "Closed"
    else:
        assert [job.status() for job in jobs] == ["ERROR"] * 3  # CLOSE-FAILS-INCOMPLETE
        with pytest.raises(runtime.exceptions.RuntimeJobFailureError, match="CLOSE-FAILS-INCOMPLETE"):
            jobs[2].result()
    with pytest.raises(runtime.exceptions.IBMRuntimeError, match="closed"):
        sampler.run([circuit], shots=10)  # refused by the client itself; the server's refusal: test_serve.py
    conforms(served)


def test_a_cancelled_session(served: ServerThread, service: Any) -> None:
    backend = service.backend(DEFAULT_BACKEND)
    circuit = isa(backend, bell())
    session = runtime.Session(backend=backend)
    jobs = [runtime.SamplerV2(mode=session).run([circuit], shots=10) for _ in range(3)]
    session.cancel()
    assert session.status() == "Closed"
    statuses = [job.status() for job in jobs]
    if platform(served):
        assert statuses[1:] == ["CANCELLED", "CANCELLED"]  # PLATFORM-CANCEL-SESSION
        with pytest.raises(runtime.exceptions.RuntimeInvalidStateError):
            jobs[2].result()
    else:
        assert statuses == ["ERROR"] * 3  # the seeds have no cancel: their close
    conforms(served)


def test_a_session_left_open_by_an_interrupted_program(served: ServerThread, service: Any) -> None:
    backend = service.backend(DEFAULT_BACKEND)
    session = runtime.Session(backend=backend)
    runtime.SamplerV2(mode=session).run([isa(backend, bell())], shots=10).result()
    # The program is interrupted here (Ctrl-C): nobody calls close(). The session lives on.
    assert session.status() == "In progress, accepting new jobs"
    rules = served.server.settings.interpretation.rules
    with served.server.lock:
        served.server.advance(rules.interactive_timeout)
    assert session.status() == "Pending"  # inactive after the interactive timeout (TTL-INTERACTIVE)
    with served.server.lock:
        served.server.advance(rules.unused_timeout or 8 * 3600)
    assert session.status() == "Closed"  # platform: unused for 30 minutes; seeds: max_time (MAXTIME-EXPIRY)
    conforms(served)


def test_unknown_job_and_a_finished_job_cancelled(served: ServerThread, service: Any) -> None:
    with pytest.raises(runtime.exceptions.RuntimeJobNotFound):
        service.job("nope")
    backend = service.backend(DEFAULT_BACKEND)
    job = runtime.SamplerV2(mode=backend).run([isa(backend, bell())], shots=10)
    job.result()
    with pytest.raises(runtime.exceptions.RuntimeInvalidStateError):
        job.cancel()


def test_the_saved_account_and_the_environment_connect_with_no_arguments(
    served: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = served.server
    account_file = tmp_path / ".qiskit" / "qiskit-ibm.json"
    save_account(server.settings.instance, served.host, served.port, account_file)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("IAM_URL", "http://iam.sessionspec.example")
    for name in ("QISKIT_IBM_TOKEN", "QISKIT_IBM_URL", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = runtime.QiskitRuntimeService(filename=str(account_file))
    assert [b.name for b in saved.backends()] == [DEFAULT_BACKEND]
    account_file.unlink()
    for name, value in environment(server.settings.instance, served.host, served.port).items():
        monkeypatch.setenv(name, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_environment = runtime.QiskitRuntimeService()
    assert from_environment.backend(DEFAULT_BACKEND).name == DEFAULT_BACKEND


def test_a_job_past_its_max_execution_time(served: ServerThread, service: Any) -> None:
    backend = service.backend(DEFAULT_BACKEND)
    sampler = runtime.SamplerV2(mode=backend)
    sampler.options.max_execution_time = 2  # the device takes job_seconds (5 s): JOB-MAX-EXECUTION stops it
    job = sampler.run([isa(backend, bell())], shots=10)
    with pytest.raises(runtime.exceptions.RuntimeJobMaxTimeoutError, match="max_execution_time_reached"):
        job.result()
    conforms(served)


def test_the_client_side_sampler_of_the_executor_program(served: ServerThread, service: Any) -> None:
    from qiskit.circuit import Parameter
    from qiskit_ibm_runtime.executor_sampler import Sampler

    backend = service.backend(DEFAULT_BACKEND)
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    circuit.measure_all()
    with runtime.Session(backend=backend) as session:
        job = Sampler(mode=session).run([(isa(backend, circuit), [[0.0], [np.pi]])], shots=20)
        bits = job.result()[0].data.meas
    assert bits.shape == (2,) and bits.get_counts(0) == {"00": 20} and bits.get_counts(1) == {"11": 20}
    conforms(served)
