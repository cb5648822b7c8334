"""``sessionspec serve`` hardening from an outside user's report: what one request may ask of the server.

Mock results (no qiskit needed) on a server at speed 0, through Starlette's test client, as in
tests/test_serve.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from model.runtime.platform import details
from model.serve.app import create_app
from model.serve.backends import served_backend
from model.serve.clock import MAX_ADVANCE_TO
from model.serve.programs import MAX_SAMPLED_SHOTS, Evaluator
from model.serve.state import Deferred, RuntimeServer, Settings
from model.spec.interpretations import Interpretation

API = "http://quantum.sessionspec.example/api/v1"
LEGACY = "http://us-east.quantum-computing.sessionspec.example"
BACKEND = "ibmq_qasm_simulator"


@pytest.fixture
def server() -> RuntimeServer:
    return RuntimeServer(Settings((served_backend(BACKEND, None),), speed=0.0), evaluator=Evaluator(real=False))


@pytest.fixture
def client(server: RuntimeServer) -> Iterator[TestClient]:
    with TestClient(create_app(server), base_url="http://127.0.0.1") as test_client:
        yield test_client


def sampler_job(pubs: list[Any], **params: Any) -> dict[str, Any]:
    return {"program_id": "sampler", "backend": BACKEND, "params": {"pubs": pubs, "version": 2, **params}}


@pytest.mark.parametrize("params", [
    {"pubs": [["c", None, 100_001]], "version": 2},                      # SamplerV2.run(..., shots=)
    {"pubs": [["c"]], "version": 2, "options": {"default_shots": 10**8}},  # options.default_shots
    {"circuits": ["c"], "circuit_indices": [0], "run_options": {"shots": 10**9}},  # the seed-era V1 sampler
])
def test_more_shots_than_the_backend_runs_are_refused_at_submit(
    client: TestClient, server: RuntimeServer, params: dict[str, Any],
) -> None:
    """10**8 shots were accepted, and the exact sampler grew until the kernel killed the server."""
    max_shots = server.backends[BACKEND].configuration["max_shots"]
    refused = client.post(f"{API}/jobs", json={"program_id": "sampler", "backend": BACKEND, "params": params})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "TOO-MANY-SHOTS" and f"at most {max_shots}" in error["message"]
    assert server.jobs == {} and server.engine.jobs == {}
    session = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
    in_session = {"program_id": "sampler", "session_id": session, "params": params}  # the session's backend
    assert client.post(f"{API}/jobs", json=in_session).status_code == 400
    opening = {"program_id": "sampler", "backend": BACKEND, "start_session": True, "params": params}
    assert client.post(f"{LEGACY}/jobs", json=opening).status_code == 400
    assert list(server.sessions) == [session]  # the refused first job opened no session
    ok = client.post(f"{API}/jobs", json=sampler_job([["c", None, max_shots]]))
    assert ok.status_code == 200, ok.text


def test_a_result_beyond_the_evaluation_bound_is_refused_not_computed(client: TestClient) -> None:
    """Each pub within max_shots, but together more shots than one result may draw: 400, the server goes on."""
    pubs = [["c", None, 100_000]] * (MAX_SAMPLED_SHOTS // 100_000 + 1)
    job = client.post(f"{API}/jobs", json=sampler_job(pubs)).json()["id"]
    refused = client.get(f"{API}/jobs/{job}/results")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "RESULT-UNAVAILABLE"
    assert f"at most {MAX_SAMPLED_SHOTS}" in refused.json()["error"]["message"]
    small = client.post(f"{API}/jobs", json=sampler_job([["c", None, 10]])).json()["id"]
    assert client.get(f"{API}/jobs/{small}/results").status_code == 200


def test_a_result_is_evaluated_outside_the_servers_lock(client: TestClient, server: RuntimeServer) -> None:
    """A 5 million shot result held the lock (and the event loop) for 47 s: every other client stalled."""
    job = client.post(f"{API}/jobs", json=sampler_job([["c", None, 10]])).json()["id"]
    with server.lock:
        prepared = server.prepare_results(job)
    assert isinstance(prepared, Deferred)
    assert '"PrimitiveResult"' in prepared.work()
    assert server.prepare_results(job) == prepared.work()  # computed once, then served as text


def platform_client() -> tuple[RuntimeServer, TestClient]:
    settings = Settings((served_backend(BACKEND, None),), Interpretation.of("platform"), speed=0.0)
    server = RuntimeServer(settings, evaluator=Evaluator(real=False))
    return server, TestClient(create_app(server), base_url="http://127.0.0.1")


def run_job(client: TestClient, session: str) -> None:
    job = client.post(f"{API}/jobs", json={"program_id": "estimator", "session_id": session,
                                           "params": {"pubs": [["c", {"Z": 1}]]}}).json()["id"]
    while client.get(f"{API}/jobs/{job}").json()["status"] != "Completed":
        pass


def test_elapsed_time_is_the_platforms_usage_not_the_time_since_the_start() -> None:
    """``elapsed_time`` was now - started_at: 75 s and 175 s after a 5 s job and 70 s / 170 s idle; the docs
    (runtime-platform.md, platform-rules.md) count a session's active periods only: 65 s. A batch counts
    device time only. Serve's details are model.runtime.platform's, dates aside."""
    server, client = platform_client()
    with client:
        session = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
        run_job(client, session)
        client.post(f"{API}/sessionspec/advance", json={"seconds": 70})
        assert client.get(f"{API}/sessions/{session}").json()["elapsed_time"] == 65
        client.post(f"{API}/sessionspec/advance", json={"seconds": 100})
        body = client.get(f"{API}/sessions/{session}").json()
        assert body["elapsed_time"] == 65 and body["state"] == "inactive"
        assert body["active_ttl"] == body["max_ttl"] is not None
        assert [stamp["status"] for stamp in body["timestamps"]] == ["open", "active", "inactive"]
        assert all(stamp["timestamp"].endswith("Z") for stamp in body["timestamps"])
        shared = details(server.engine, server.trace, server.sessions[session].record)
        assert body["elapsed_time"] == shared["elapsed_time"] and body["state"] == shared["state"]
        batch = client.post(f"{API}/sessions", json={"mode": "batch", "backend": BACKEND}).json()["id"]
        for _ in range(3):
            run_job(client, batch)
            client.post(f"{API}/sessionspec/advance", json={"seconds": 30})
        assert client.get(f"{API}/sessions/{batch}").json()["elapsed_time"] == 15


@pytest.mark.parametrize("seconds", [1e14, 1e308, MAX_ADVANCE_TO + 1])
def test_advance_is_bounded_where_dates_and_timers_hold(client: TestClient, server: RuntimeServer,
                                                        seconds: float) -> None:
    """1e14 s made every later request a 500 (OverflowError in the epoch's date); at 1e308 the server's own
    trace failed check (t + 1800 == t)."""
    refused = client.post(f"{API}/sessionspec/advance", json={"seconds": seconds})
    assert refused.status_code == 400 and "beyond which" in refused.json()["error"]["message"]
    assert server.engine.now == 0
    assert client.post(f"{API}/sessionspec/advance", json={"seconds": MAX_ADVANCE_TO}).status_code == 200
    opened = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND})
    assert opened.status_code == 200 and opened.json()["created_at"].endswith("Z")
    assert client.post(f"{API}/sessionspec/advance", json={"seconds": 1}).status_code == 400


def test_the_seed_client_pins_are_written_once_and_hold_the_provider() -> None:
    """The pins resolved qiskit-ibm-provider 0.7.3, whose QPY reader breaks every parametrized circuit (checked
    in a scratch venv: 0.7.2 decodes them). The Makefile and docs/serve.md name the one requirements file."""
    root = Path(__file__).parent.parent
    pins = (root / "examples" / "serve" / "seed-client.txt").read_text().splitlines()
    assert "qiskit-ibm-provider==0.7.2" in pins and "qiskit-ibm-runtime==0.11.3" in pins
    assert "pip install --quiet -r examples/serve/seed-client.txt" in (root / "Makefile").read_text()
    assert "pip install -r examples/serve/seed-client.txt" in (root / "docs" / "serve.md").read_text()


@pytest.mark.parametrize("value", ["no", 0, 1, [], {}])
def test_accepting_jobs_must_be_a_boolean(client: TestClient, server: RuntimeServer, value: object) -> None:
    """``{"accepting_jobs": "no"}`` answered 204 and was ignored."""
    session = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
    refused = client.patch(f"{API}/sessions/{session}", json={"accepting_jobs": value})
    assert refused.status_code == 400 and "accepting_jobs must be true or false" in refused.text
    assert client.get(f"{API}/sessions/{session}").json()["accepting_jobs"] is True


def test_a_job_for_an_unknown_program_is_a_404(client: TestClient, server: RuntimeServer) -> None:
    """``program_id: "../../etc"`` was accepted as a job; the service answers 404 (the client: program not found)."""
    refused = client.post(f"{API}/jobs", json={"program_id": "../../etc", "backend": BACKEND, "params": {}})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "PROGRAM-UNKNOWN"
    assert server.engine.jobs == {}


def test_a_lone_surrogate_body_is_refused_with_that_reason(client: TestClient) -> None:
    """The reason read "not JSON: Input data was truncated" (msgspec's word for an escaped lone surrogate)."""
    refused = client.post(f"{API}/sessions", content=b'{"backend": "\\ud800"}')
    assert refused.status_code == 400 and "a lone surrogate" in refused.json()["error"]["message"]
