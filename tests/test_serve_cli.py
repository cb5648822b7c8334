"""The ``sessionspec serve`` command: it starts, says how to connect, saves the accounts, writes a trace
that ``check`` accepts and ``timeline`` draws once it is stopped (Ctrl-C), and refuses bad options in one line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from properties.cli import cli
from properties.conformance.checker import CONFORMS, check_file

pytest.importorskip("uvicorn")
requests = pytest.importorskip("requests")

API = "http://quantum.sessionspec.example/api/v1"


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int, list[str]]:
    entry = "from properties.cli import main; main()"
    command = [sys.executable, "-c", entry, "serve", "--port", "0", "--speed", "0", "--mock", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HOME": str(tmp_path)})
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("trace: "):  # the announcement's last line
            serving = next(text for text in lines if text.startswith("sessionspec serve: http://"))
            return process, int(serving.split()[2].rsplit(":", 1)[1]), lines
    process.kill()
    raise AssertionError(f"serve did not start: {lines} {process.stderr.read() if process.stderr else ''}")


@contextlib.contextmanager
def killed_if_alive(process: subprocess.Popen[str]) -> Iterator[None]:
    """Whatever the test asserts, no server outlives it."""
    try:
        yield
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def open_a_session(port: int) -> Any:
    """POST /sessions through the server on ``port``, as the client does (the server is its proxy)."""
    with requests.Session() as client:
        client.proxies = {"http": f"http://127.0.0.1:{port}"}
        return client.post(f"{API}/sessions", json={"mode": "dedicated", "backend": "ibmq_qasm_simulator"})


def test_serve_runs_a_session_and_leaves_a_conforming_trace(tmp_path: Path) -> None:
    trace = tmp_path / "serve.jsonl"
    accounts = tmp_path / "accounts.json"
    process, port, lines = start(tmp_path, "--trace", str(trace), "--save-account", "--account-file", str(accounts))
    try:
        text = "".join(lines)
        assert "export IAM_URL=http://iam.sessionspec.example" in text and f"http_proxy=http://127.0.0.1:{port}" in text
        saved = json.loads(accounts.read_text())
        assert saved["default-ibm-cloud"]["proxies"]["urls"]["http"] == f"http://127.0.0.1:{port}"
        assert saved["default-ibm-quantum-platform"]["channel"] == "ibm_quantum_platform"
        with requests.Session() as client:
            client.proxies = {"http": f"http://127.0.0.1:{port}"}
            session = {"mode": "dedicated", "backend": "ibmq_qasm_simulator"}
            sid = client.post(f"{API}/sessions", json=session).json()["id"]
            sampler = {"program_id": "sampler", "session_id": sid, "params": {"pubs": [[]]}}
            job = client.post(f"{API}/jobs", json=sampler)
            assert client.get(f"{API}/jobs/{job.json()['id']}").json()["state"]["status"] == "Completed"
            assert '"op":"submit"' in trace.read_text()  # each answered request's lines are in the file already
            assert client.patch(f"{API}/sessions/{sid}", json={"accepting_jobs": False}).status_code == 204
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert trace.read_text().splitlines()[-1] == '{"type":"end","t":5.0}'
    assert check_file(str(trace)).status == CONFORMS
    drawn = CliRunner().invoke(cli, ["timeline", str(trace), "-o", str(tmp_path / "run.svg")])
    assert drawn.exit_code == 0, drawn.output
    assert (tmp_path / "run.svg").stat().st_size > 0


@pytest.mark.parametrize(("args", "message"), [
    (["--backend", "b=no_such_fake"], "--backend: the client package ships no fake backend 'no_such_fake'"),
    (["--trace", "/nonexistent/folder/t.jsonl"], "cannot write"),
    (["--speed", "nan"], "not a finite number"),
    (["--profile", "nowhere"], "Invalid value for '--profile'"),
])
def test_bad_options_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "0", *args])  # never the shared default port
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_port_in_use_is_one_line_and_exit_2_and_leaves_the_trace_alone(tmp_path: Path) -> None:
    """A second serve on a busy port truncated the trace the running server was writing, then failed."""
    trace = tmp_path / "running.jsonl"
    trace.write_text('{"type":"header"}\n')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = CliRunner().invoke(cli, ["serve", "--mock", "--port", str(taken.getsockname()[1]),
                                          "--trace", str(trace)])
    assert result.exit_code == 2 and "cannot listen" in result.output and "Traceback" not in result.output
    assert trace.read_text() == '{"type":"header"}\n'


def test_an_unwritable_trace_stops_the_server_with_one_line_and_exit_2(tmp_path: Path) -> None:
    """``--trace /dev/full``: the first request got a bare 500 and uvicorn printed an ASGI traceback."""
    process, port, _ = start(tmp_path, "--trace", "/dev/full")
    with killed_if_alive(process):
        answer = open_a_session(port)
        assert answer.status_code == 500 and answer.json()["error"]["code"] == "TRACE-UNWRITABLE"
        assert process.wait(timeout=60) == 2
    assert process.stderr is not None
    stderr = process.stderr.read()
    assert stderr.strip() == "error: cannot write output: No space left on device", stderr


def test_sigterm_ends_serve_with_the_end_line_one_line_and_143(tmp_path: Path) -> None:
    """``kill``/``docker stop``: uvicorn re-raised SIGTERM after its graceful shutdown and the default action
    killed the process before the ``finally`` that writes the trace's end line."""
    trace = tmp_path / "serve.jsonl"
    process, port, _ = start(tmp_path, "--trace", str(trace))
    with killed_if_alive(process):
        open_a_session(port)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143
    assert process.stderr is not None
    assert process.stderr.read().strip() == "error: terminated"
    assert trace.read_text().splitlines()[-1] == '{"type":"end","t":0.0}'
    assert check_file(str(trace)).status == CONFORMS
