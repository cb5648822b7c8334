"""Out-of-process IUTs: a JSON-lines protocol over the child's stdin and stdout.

The kit starts the command (split with :func:`shlex.split`, never through a shell) once
and keeps it for the whole campaign, sending ``init`` at the start of every example to
reset it. Every request is one JSON object on one line; the IUT answers each with one
line::

    -> {"op": "init", "backends": {"b0": {"system_max_time": 1800, "program_max_execution_time": 400}},
        "interpretation": {"INT-IDLE-DEVICE": "hold", ...}}
    <- {"ok": true, "events": [{"type": "header", ...}]}
    -> {"op": "open", "backend": "b0", "session": "s1", "max_time": null}
    -> {"op": "submit", "session": "s1", "backend": null, "job": "j1", "max_execution_time": null,
        "duration": 10, "fault": false}
    -> {"op": "cancel", "job": "j1"}            -> {"op": "close", "session": "s1"}
    -> {"op": "fault", "backend": "b0"}         -> {"op": "advance", "seconds": 12.5}
    <- {"ok": true, "events": [ ...trace lines produced by the request, as JSON objects... ]}
    <- {"ok": false, "error": "what went wrong"}     (an internal error: reported as a finding)
    -> {"op": "quit"}                           (no answer; the IUT exits)

A rejected request is not an error: it is a rejected request line among the events.
Misbehaviour is a finding, never a crash of the kit: an answer that is not one JSON
object of this shape, an event that is not a valid trace line, no answer within the
per-operation timeout (the child is killed), or the child exiting. Waiting uses
``poll`` with a deadline; the child's stderr goes to a temporary file whose tail is
quoted in the report.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shlex
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from model.trace import Record, strict_json
from properties.conformance.adapter import IUTConfig, IUTFailure
from properties.conformance.reader import Unusable, from_json

MAX_LINE = 16 * 1024 * 1024
_STDERR_TAIL = 400


class StdioFactory:
    """Builds :class:`StdioIUT` handles on one long-lived child process (restarted if it dies)."""

    def __init__(self, cmd: str | Sequence[str], *, timeout: float = 10.0) -> None:
        self.argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
        if not self.argv:
            raise ValueError("an empty command")
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = b""
        atexit.register(self.close)

    def __call__(self, config: IUTConfig) -> StdioIUT:
        if self._proc is None or self._proc.poll() is not None:
            self._spawn()
        iut = StdioIUT(self)
        iut.request(
            {"op": "init", "backends": config.limits(), "interpretation": dict(config.interpretation)},
            what="init",
        )
        return iut

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    # ------------------------------------------------------------------ the child

    def _spawn(self) -> None:
        self.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed in close()
        try:
            self._proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0,
            )
        except OSError as error:
            self._proc = None
            raise IUTFailure("died", f"cannot start {self.command}: {error.strerror or error}") from None
        self._buffer = b""

    def close(self) -> None:
        """Ask the child to quit; kill it if it has not closed its output within a second."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    assert proc.stdin is not None
                    proc.stdin.write(b'{"op":"quit"}\n')
                    proc.stdin.close()
                except OSError:
                    pass
                self._eof_within(proc, 1.0)
                if proc.poll() is None:  # closed its output but lingers, or never answered
                    proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _eof_within(self, proc: subprocess.Popen[bytes], seconds: float) -> bool:
        """Whether the child closes its output within ``seconds`` (select with a deadline)."""
        assert proc.stdout is not None
        deadline = time.monotonic() + seconds
        fd = proc.stdout.fileno()
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready and not os.read(fd, 65536):
                return True
        return False

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - _STDERR_TAIL))
            tail = self._stderr.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""
        return f"; its stderr ends: {tail!r}" if tail else ""

    def _fail(self, kind: str, message: str) -> IUTFailure:
        tail = self._stderr_tail()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        self.close()
        return IUTFailure(kind, f"{message}{tail}")

    def exchange(self, payload: Mapping[str, Any], what: str) -> list[Record]:
        """Send one request, read one answer with a deadline; the events as records."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            code = proc.returncode if proc is not None else None
            raise self._fail("died", f"{self.command} is not running (exit status {code}) before {what}")
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(payload).encode() + b"\n")
            proc.stdin.flush()
        except OSError:
            raise self._fail("died", f"{self.command} closed its input before {what}") from None
        line = self._readline(proc, what)
        try:
            answer = strict_json.loads(line)
        except Unusable:
            raise self._fail("garbage", f"answer to {what} is not JSON: {line[:200]!r}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise self._fail("garbage", f"answer to {what} is not an object with a boolean 'ok': {line[:200]!r}")
        if not answer["ok"]:
            raise IUTFailure("error", f"{self.command} reported an error on {what}: {answer.get('error')!r}")
        events = answer.get("events", [])
        if not isinstance(events, list):
            raise self._fail("garbage", f"answer to {what}: 'events' is not a list")
        records: list[Record] = []
        for index, event in enumerate(events):
            try:
                records.append(from_json(event, index + 1))
            except Unusable as error:
                raise self._fail("garbage", f"answer to {what}: event {index}: {error.reason}") from None
        return records

    def _readline(self, proc: subprocess.Popen[bytes], what: str) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
                return line
            if len(self._buffer) > MAX_LINE:
                raise self._fail("garbage", f"answer to {what} is longer than {MAX_LINE} bytes without a newline")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._fail("timeout", f"no answer to {what} within {self.timeout:g} s (killed)")
            if not poller.poll(remaining * 1000):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = proc.poll()
                if code is None:
                    proc.kill()
                    code = proc.wait()
                raise self._fail("died", f"{self.command} exited (status {code}) without answering {what}")
            self._buffer += chunk


class StdioIUT:
    """One example's view of the child: the :class:`~.adapter.IUT` protocol over JSON lines."""

    def __init__(self, factory: StdioFactory) -> None:
        self._factory = factory
        self._events: list[Record] = []

    def request(self, payload: Mapping[str, Any], what: str) -> None:
        self._events.extend(self._factory.exchange(payload, what))

    def open_session(self, backend: str | None, max_time: int | str | None, session_id: str) -> None:
        self.request({"op": "open", "backend": backend, "session": session_id, "max_time": max_time}, "open")

    def submit(
        self, session_id: str | None, backend: str | None, job_id: str,
        max_execution_time: float | None, duration: float, fault: bool,
    ) -> None:
        self.request(
            {"op": "submit", "session": session_id, "backend": backend, "job": job_id,
             "max_execution_time": max_execution_time, "duration": duration, "fault": fault},
            "submit",
        )

    def cancel(self, job_id: str) -> None:
        self.request({"op": "cancel", "job": job_id}, "cancel")

    def close(self, session_id: str) -> None:
        self.request({"op": "close", "session": session_id}, "close")

    def fault(self, backend: str) -> None:
        self.request({"op": "fault", "backend": backend}, "fault")

    def advance(self, seconds: float) -> None:
        self.request({"op": "advance", "seconds": seconds}, "advance")

    def events(self) -> list[Record]:
        drained, self._events = self._events, []
        return drained
