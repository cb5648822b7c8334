"""``sessionspec serve`` without a real client: the REST answers, errors, routing, clock mapping, trace.

Requests go through Starlette's test client (httpx) to the ASGI application, on a server whose
virtual time passes only while a client waits (speed 0), so every answer is deterministic.
The real clients drive it in tests/test_serve_client.py (today's) and tests/clients/ (seed era).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from model.serve.app import create_app
from model.serve.backends import generated, served_backend
from model.serve.clock import WallClock
from model.serve.programs import Evaluator
from model.serve.state import RuntimeServer, Settings
from model.spec.interpretations import Interpretation
from properties.conformance.checker import CONFORMS, check_lines

API = "http://quantum.sessionspec.example/api/v1"
LEGACY = "http://us-east.quantum-computing.sessionspec.example"
BACKEND = "ibmq_qasm_simulator"


def make_server(**overrides: Any) -> RuntimeServer:
    settings = Settings((served_backend(BACKEND, None),), speed=0.0, **overrides)
    return RuntimeServer(settings, evaluator=Evaluator(real=False))


@pytest.fixture
def server() -> RuntimeServer:
    return make_server()


@pytest.fixture
def client(server: RuntimeServer) -> Iterator[TestClient]:
    with TestClient(create_app(server), base_url="http://127.0.0.1") as test_client:
        yield test_client


def conforms(server: RuntimeServer) -> None:
    report = check_lines(server.trace_text().splitlines(), "serve.jsonl")
    assert report.status == CONFORMS, report.lines


def estimator_job(session_id: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"program_id": "estimator", "backend": BACKEND, "params": {"pubs": [["c", {"Z": 1}]]}}
    if session_id is not None:
        body["session_id"] = session_id
    return {**body, **extra}


def poll_until_final(client: TestClient, job_id: str) -> str:
    for _ in range(20):
        status = str(client.get(f"{API}/jobs/{job_id}").json()["state"]["status"])
        if status in ("Completed", "Failed", "Cancelled"):
            return status
    raise AssertionError(f"job {job_id} never ended")


# ---------------------------------------------------------------------- service look-ups


def test_the_look_ups_of_the_client_are_answered_on_every_host(client: TestClient) -> None:
    token = client.post("http://iam.sessionspec.example/identity/token", content=b"grant_type=x").json()
    assert token["token_type"] == "Bearer" and token["access_token"].count(".") == 2
    items = client.post("http://api.global-search-tagging.sessionspec.example/v3/resources/search",
                        json={"query": "service_name:quantum-computing"}).json()["items"]
    assert items[0]["crn"].startswith("crn:v1:") and items[0]["doc"]["extensions"]
    plan = client.get("http://globalcatalog.sessionspec.example/api/v1/plan-open").json()
    assert plan["metadata"]["pricing"]["type"] == "free"


def test_backends_for_each_client_generation(client: TestClient) -> None:
    current = client.get(f"{API}/backends", params={"include_mocks": "True"}).json()["devices"]
    assert [d["name"] for d in current] == [BACKEND] and current[0]["status"]["name"] == "online"
    assert client.get(f"{LEGACY}/backends").json() == {"devices": [BACKEND]}
    configuration = client.get(f"{API}/backends/{BACKEND}/configuration").json()
    assert configuration["backend_name"] == BACKEND and configuration["simulator"] is False
    assert client.get(f"{API}/backends/{BACKEND}/properties").json()["qubits"]
    status = client.get(f"{LEGACY}/backends/{BACKEND}/status").json()
    assert status["state"] is True and status["length_queue"] == 0
    missing = client.get(f"{API}/backends/nowhere/configuration")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "BACKEND-UNKNOWN"


def test_the_generated_device_is_consistent() -> None:
    configuration, properties = generated("b", n_qubits=3)
    assert configuration["n_qubits"] == len(properties["qubits"]) == 3
    assert {g["gate"] for g in properties["gates"]} == set(configuration["basis_gates"])


# ---------------------------------------------------------------------- sessions and jobs


def test_a_session_of_todays_client_runs_a_job_and_closes(client: TestClient, server: RuntimeServer) -> None:
    session = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND, "max_ttl": 1500}).json()
    sid = session["id"]
    assert session["state"] == "open" and session["accepting_jobs"] is True
    job = client.post(f"{API}/jobs", json=estimator_job(sid)).json()
    assert job["backend"] == BACKEND and job["session_id"] == sid
    assert poll_until_final(client, job["id"]) == "Completed"
    result = client.get(f"{API}/jobs/{job['id']}/results").json()
    assert result["__type__"] == "PrimitiveResult"
    details = client.get(f"{API}/sessions/{sid}").json()
    # active with nothing queued or running: the server's pending_inactive (docs/trace-format.md)
    assert details["state"] == "pending_inactive" and details["max_ttl"] == 1500 and details["last_job_completed"]
    metrics = client.get(f"{API}/jobs/{job['id']}/metrics").json()
    assert metrics["usage"]["quantum_seconds"] == server.settings.job_seconds
    assert client.patch(f"{API}/sessions/{sid}", json={"accepting_jobs": False}).status_code == 204
    assert client.get(f"{API}/sessions/{sid}").json()["state"] == "closed"
    refused = client.post(f"{API}/jobs", json=estimator_job(sid))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SESSION-CLOSED"
    assert "SESSION-CLOSED-REJECTS" in refused.json()["error"]["message"]
    conforms(server)


def test_the_seed_era_client_opens_the_session_with_its_first_job(client: TestClient, server: RuntimeServer) -> None:
    body = {"program_id": "estimator", "backend": BACKEND, "start_session": True, "session_time": None,
            "params": {"circuits": ["c"], "circuit_indices": [0], "observables": ["Z"], "observable_indices": [0]}}
    job = client.post(f"{LEGACY}/jobs", json=body).json()
    assert job["session_id"] == job["id"] == "j1"
    # it started at once; lock-step: the poll moves time on to its end, the next change of its state
    assert client.get(f"{LEGACY}/jobs/j1").json()["state"]["status"] == "Completed"
    values = client.get(f"{LEGACY}/jobs/j1/results").json()
    assert len(values["values"]) == 1 and -1 <= values["values"][0] <= 1
    second = client.post(f"{LEGACY}/jobs", json={**body, "start_session": False, "session_id": "j1"}).json()
    assert second["session_id"] == "j1"
    assert client.delete(f"{LEGACY}/sessions/j1/close").status_code == 204
    assert client.get(f"{LEGACY}/jobs/{second['id']}").json()["state"]["status"] == "Failed"  # seeds: close fails it
    conforms(server)


def test_errors_carry_the_status_and_body_the_client_parses(client: TestClient) -> None:
    unknown = client.get(f"{API}/jobs/nope")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "UNKNOWN-JOB"
    assert client.get(f"{API}/jobs/nope/results").status_code == 404
    assert client.get(f"{API}/sessions/nope").status_code == 404
    assert client.delete(f"{API}/sessions/nope/close").status_code == 404
    bad_time = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND, "max_ttl": "2h 2h"})
    assert bad_time.status_code == 400 and bad_time.json()["error"]["code"] == "MAXTIME-FORMAT"
    no_session = client.post(f"{API}/jobs", json=estimator_job("s404"))
    assert no_session.status_code == 400 and no_session.json()["error"]["code"] == "UNKNOWN-SESSION"
    job = client.post(f"{API}/jobs", json=estimator_job()).json()
    poll_until_final(client, job["id"])
    finished = client.post(f"{API}/jobs/{job['id']}/cancel")
    assert finished.status_code == 409 and finished.json()["error"]["code"] == "JOB-FINISHED"
    assert client.post(f"{API}/jobs", content=b"[1]").status_code == 400
    opening = {"program_id": "estimator", "backend": "nowhere", "start_session": True, "params": {}}
    unknown_backend = client.post(f"{LEGACY}/jobs", json=opening)  # a 404 would read as "program not found"
    assert unknown_backend.status_code == 400 and unknown_backend.json()["error"]["code"] == "BACKEND-UNKNOWN"


@pytest.mark.parametrize("body", [
    b'{"mode": "dedicated", "backend": "ibmq_qasm_simulator", "max_ttl": "\\ud800"}',  # a lone surrogate
    b'{"mode": "dedicated", "backend": "ibmq_qasm_simulator", "max_ttl": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    b'{"mode": "dedicated", "backend": "ibmq_qasm_simulator", "max_ttl": NaN}',
    b'{"mode": "dedicated", "backend": "ibmq_qasm_simulator", "max_ttl": 1' + b"0" * 400 + b"}",
    b"\xff\xfe{}",
])
def test_a_body_that_is_no_usable_json_is_a_400_and_the_server_goes_on(
    client: TestClient, server: RuntimeServer, body: bytes,
) -> None:
    """A lone surrogate reached the trace, which the writer cannot encode: every later request failed with
    500 (the record stayed pending); deep nesting was a 500 too. The body is decoded by the one strict loader."""
    refused = client.post(f"{API}/sessions", content=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["message"].startswith("the request body is not usable JSON: ")
    opened = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND, "max_ttl": 600})
    assert opened.status_code == 200
    conforms(server)


@pytest.mark.parametrize("mode", [3600, "exclusive", ["batch"]])
def test_a_mode_the_client_never_sends_is_a_400(client: TestClient, server: RuntimeServer, mode: object) -> None:
    """Found by fuzzing: ``"mode": 3600`` opened a dedicated session."""
    refused = client.post(f"{API}/sessions", json={"mode": mode, "backend": BACKEND})
    assert refused.status_code == 400, refused.text
    assert "a session's mode is 'dedicated' or 'batch'" in refused.json()["error"]["message"]
    assert client.post(f"{API}/sessions", json={"backend": BACKEND}).status_code == 200  # no mode: dedicated
    conforms(server)


def test_an_empty_name_is_a_400_and_the_trace_stays_readable(client: TestClient, server: RuntimeServer) -> None:
    """An empty backend or session name reached the trace, whose lines cannot carry one: check refused the
    server's own trace as unusable."""
    assert client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": ""}).status_code == 400
    assert client.post(f"{API}/jobs", json={**estimator_job(), "backend": ""}).status_code == 400
    assert client.post(f"{API}/jobs", json=estimator_job("")).status_code == 400
    conforms(server)


def test_a_session_job_for_another_backend_is_refused() -> None:
    backends = (served_backend(BACKEND, None), served_backend("other", None))
    server = RuntimeServer(Settings(backends, speed=0.0), evaluator=Evaluator(real=False))
    with TestClient(create_app(server), base_url="http://127.0.0.1") as client:
        sid = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
        refused = client.post(f"{API}/jobs", json={**estimator_job(sid), "backend": "other"})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "BACKEND-FIXED"
        listed = client.get(f"{API}/backends").json()["devices"]
        assert [d["name"] for d in listed] == [BACKEND, "other"]
    conforms(server)


def test_a_device_fault_fails_the_running_job(client: TestClient, server: RuntimeServer) -> None:
    job = client.post(f"{API}/jobs", json=estimator_job()).json()["id"]  # it starts at once
    failed = client.post("/sessionspec/fault", json={"backend": BACKEND}).json()
    assert failed["failed"] == job and failed["jobs"][job] == "failed"
    state = client.get(f"{API}/jobs/{job}").json()["state"]
    assert state["status"] == "Failed" and "DEVICE-FAULT" in state["reason"]
    assert "DEVICE-FAULT" in client.get(f"{API}/jobs/{job}/results").text  # the error text the client shows
    assert client.post("/sessionspec/fault", json={"backend": BACKEND}).json()["failed"] is None
    assert client.post("/sessionspec/fault", json={"backend": "nowhere"}).status_code == 404
    conforms(server)


def test_jobs_are_listed_newest_first_and_by_session(client: TestClient) -> None:
    sid = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
    ids = [client.post(f"{API}/jobs", json=estimator_job(sid)).json()["id"] for _ in range(3)]
    client.post(f"{API}/jobs", json=estimator_job())
    listed = client.get(f"{API}/jobs", params={"session_id": sid, "exclude_params": "true"}).json()
    assert [j["id"] for j in listed["jobs"]] == ids[::-1] and listed["count"] == 3
    assert "params" not in listed["jobs"][0]
    assert client.get(f"{API}/jobs", params={"session_id": "s99"}).json()["jobs"] == []  # as the service does
    assert len(client.get(f"{API}/jobs", params={"limit": "2"}).json()["jobs"]) == 2


# ---------------------------------------------------------------------- the pain points (platform-rules.md)

PROFILES = ("seeds", "platform")


@pytest.fixture(params=PROFILES)
def profiled(request: pytest.FixtureRequest) -> Iterator[tuple[str, RuntimeServer, TestClient]]:
    server = make_server(interpretation=Interpretation.of(request.param))
    with TestClient(create_app(server), base_url="http://127.0.0.1") as test_client:
        yield request.param, server, test_client


def test_a_session_closed_with_queued_jobs(profiled: tuple[str, RuntimeServer, TestClient]) -> None:
    profile, server, client = profiled
    sid = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
    ids = [client.post(f"{API}/jobs", json=estimator_job(sid)).json()["id"] for _ in range(3)]
    client.patch(f"{API}/sessions/{sid}", json={"accepting_jobs": False})
    details = client.get(f"{API}/sessions/{sid}").json()
    assert details["accepting_jobs"] is False
    refused = client.post(f"{API}/jobs", json=estimator_job(sid))
    code = "SESSION-CLOSED" if profile == "seeds" else "SESSION-NOT-ACCEPTING"
    assert refused.status_code == 409 and refused.json()["error"]["code"] == code
    if profile == "seeds":
        states = [client.get(f"{API}/jobs/{j}").json()["state"] for j in ids]
        assert [s["status"] for s in states] == ["Failed"] * 3  # CLOSE-FAILS-INCOMPLETE
        assert "CLOSE-FAILS-INCOMPLETE" in states[1]["reason"]
        assert details["state"] == "closed"
    else:
        assert details["state"] == "pending_closed"  # PLATFORM-CLOSE-DRAINS: the jobs run to completion
        assert [poll_until_final(client, j) for j in ids] == ["Completed"] * 3
        assert client.get(f"{API}/sessions/{sid}").json()["state"] == "closed"  # closed once drained
    conforms(server)


def test_a_cancelled_session(profiled: tuple[str, RuntimeServer, TestClient]) -> None:
    profile, server, client = profiled
    sid = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
    ids = [client.post(f"{API}/jobs", json=estimator_job(sid)).json()["id"] for _ in range(3)]
    assert client.delete(f"{API}/sessions/{sid}/close").status_code == 204
    assert client.get(f"{API}/sessions/{sid}").json()["state"] == "closed"
    statuses = [client.get(f"{API}/jobs/{j}").json()["state"]["status"] for j in ids]
    if profile == "seeds":
        assert statuses == ["Failed"] * 3  # no cancel in the seeds: the seed-era client's close
    else:
        assert statuses[1:] == ["Cancelled", "Cancelled"]  # PLATFORM-CANCEL-SESSION: queued jobs cancelled
    conforms(server)


def test_a_session_left_open_by_an_interrupted_program(profiled: tuple[str, RuntimeServer, TestClient]) -> None:
    profile, server, client = profiled
    sid = client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": BACKEND}).json()["id"]
    job = client.post(f"{API}/jobs", json=estimator_job(sid)).json()["id"]
    poll_until_final(client, job)
    # the program dies here: nobody closes the session; time goes on
    window = server.settings.interpretation.rules.interactive_timeout
    client.post("/sessionspec/advance", json={"seconds": window})
    assert client.get(f"{API}/sessions/{sid}").json()["state"] == "inactive"  # TTL-INTERACTIVE
    if profile == "platform":
        state = client.post("/sessionspec/advance", json={"seconds": 1800}).json()
        assert state["sessions"][sid] == "closed"  # an unused session closes after 30 minutes
    else:
        state = client.post("/sessionspec/advance", json={"seconds": 8 * 3600}).json()
        assert state["sessions"][sid] == "closed"  # only max_time ends it under the seeds (MAXTIME-EXPIRY)
    assert client.post("/sessionspec/advance", json={"seconds": -1}).status_code == 400
    conforms(server)


def test_a_batch_is_the_engines_batch_under_platform_and_a_session_under_seeds(
    profiled: tuple[str, RuntimeServer, TestClient],
) -> None:
    profile, server, client = profiled
    bid = client.post(f"{API}/sessions", json={"mode": "batch", "backend": BACKEND}).json()["id"]
    job = client.post(f"{API}/jobs", json=estimator_job(bid)).json()["id"]
    assert poll_until_final(client, job) == "Completed"
    assert client.get(f"{API}/sessions/{bid}").json()["mode"] == "batch"
    opened = [line for line in server.trace_text().splitlines() if '"op":"open"' in line]
    assert ('"mode":"batch"' in opened[0]) == (profile == "platform")  # PLATFORM-BATCH
    conforms(server)


# ---------------------------------------------------------------------- time


def test_think_time_counts_at_the_stated_speed() -> None:
    now = [100.0]
    clock = WallClock(2.0, lambda: now[0])
    now[0] += 1.5
    assert clock.owed() == 3.0 and clock.owed() == 0.0
    with pytest.raises(ValueError):
        WallClock(-1.0)


def test_a_poll_moves_time_to_the_next_change_of_the_job_only() -> None:
    now = [0.0]
    server = RuntimeServer(Settings((served_backend(BACKEND, None),), speed=1.0), evaluator=Evaluator(real=False),
                           wall=lambda: now[0])
    sid = server.create_session({"backend": BACKEND})["id"]
    first = server.create_job(estimator_job(sid))["id"]
    server.create_job(estimator_job(sid))
    assert server.engine.now == 0.0  # no wall time passed: the first job started at once
    assert server.job(first)["state"]["status"] == "Completed" and server.engine.now == server.settings.job_seconds
    now[0] += 7.0  # the client thinks for 7 s
    server.sync()
    assert server.engine.now == server.settings.job_seconds + 7.0
