"""The seed-era client (qiskit-ibm-runtime 0.11.3, qiskit 0.44.3) against ``sessionspec serve``.

That client installs only pinned, beside an old qiskit, so it lives in its own environment,
built by ``make test-clients``, which names its Python in ``SESSIONSPEC_SEED_CLIENT_PYTHON``;
without it these tests are skipped. The server runs in this process (seeds profile, speed 0);
``sessionspec serve --save-account``'s account file, in a temporary home, is all the client is
given: seed 002's Full example runs verbatim (``examples/serve/seed002_full.py``, under a
``display`` as a notebook has).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_seed_examples import FULL_EXAMPLE

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "serve"
SEED_CLIENT = os.environ.get("SESSIONSPEC_SEED_CLIENT_PYTHON")


def test_the_shipped_example_is_seed_002s_full_example_verbatim() -> None:
    assert (EXAMPLES / "seed002_full.py").read_text(encoding="utf-8") == FULL_EXAMPLE


needs_client = pytest.mark.skipif(not SEED_CLIENT, reason="SESSIONSPEC_SEED_CLIENT_PYTHON unset (make test-clients)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[object, dict[str, str]]]:
    pytest.importorskip("uvicorn")
    from model.serve.account import save_account
    from model.serve.app import ServerThread
    from model.serve.backends import DEFAULT_BACKEND, served_backend
    from model.serve.state import RuntimeServer, Settings

    server = RuntimeServer(Settings((served_backend(DEFAULT_BACKEND),), speed=0.0))
    with ServerThread(server) as thread:
        save_account(server.settings.instance, thread.host, thread.port, tmp_path / ".qiskit" / "qiskit-ibm.json")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QISKIT_IBM_", "IAM_URL"))}
        env.update(HOME=str(tmp_path), MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
        yield thread, env


def run(env: dict[str, str], *args: str, check: bool = True) -> str:
    assert SEED_CLIENT is not None
    done = subprocess.run([SEED_CLIENT, *args], env=env, capture_output=True, text=True, timeout=600, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}")
    return done.stdout


def conforms(server: object) -> None:
    from model.serve.state import RuntimeServer
    from properties.conformance.checker import CONFORMS, check_lines

    assert isinstance(server, RuntimeServer)
    with server.lock:
        report = check_lines(server.trace_text().splitlines(), "serve.jsonl")
    assert report.status == CONFORMS, report.lines


@needs_client
def test_seed_002s_full_example_runs_verbatim(served: tuple[object, dict[str, str]]) -> None:
    thread, env = served
    out = run(env, str(EXAMPLES / "notebook.py"), str(EXAMPLES / "seed002_full.py"))
    assert " > Observable: ['IY']" in out
    assert " > Expectation value: 0.0" in out  # exact: Statevector(circuit) in the client's qiskit 0.44 says the same
    server = thread.server  # type: ignore[attr-defined]
    assert server.state()["sessions"] == {"j1": "closed"}  # the first job's ID is the session's
    conforms(server)


@needs_client
def test_a_session_closed_with_queued_jobs(served: tuple[object, dict[str, str]]) -> None:
    thread, env = served
    out = run(env, str(ROOT / "tests" / "clients" / "seed_era.py"), "close_with_queued_jobs")
    assert "first: {0: 0.5, 3: 0.5}" in out
    assert out.count("queued: ERROR") == 2  # the seeds: closing fails unfinished jobs (CLOSE-FAILS-INCOMPLETE)
    conforms(thread.server)  # type: ignore[attr-defined]


@needs_client
def test_a_session_left_open_by_an_interrupted_program(served: tuple[object, dict[str, str]]) -> None:
    thread, env = served
    out = run(env, str(ROOT / "tests" / "clients" / "seed_era.py"), "interrupted", check=False)
    session_id = out.split("session: ")[1].split()[0]
    server = thread.server  # type: ignore[attr-defined]
    with server.lock:
        assert server.state()["sessions"][session_id] == "active"  # orphaned: nobody closed it
        server.advance(300)
        assert server.state()["sessions"][session_id] == "inactive"
        server.advance(8 * 3600)
        assert server.state()["sessions"][session_id] == "closed"  # max_time ends it
    conforms(server)
