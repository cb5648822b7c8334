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
``poll`` with a deadline; the tail of the child's stderr is quoted in the report. The
child runs in a process group of its own, killed as a whole with everything it forked
(:mod:`.process_group`).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from model.sim.ops import Action, Advance, Cancel, CancelSession, Close, Fault, Open, Submit, request_json
from model.spec.profiles import DEFAULT_PROFILE
from model.trace import End, Record, Unusable, from_json, strict_json
from model.trace.strict_json import MAX_LINE
from model.trace.timing import time_text
from properties.conformance.iut import AdapterError, IUTConfig, IUTFailure
from properties.conformance.process_group import STDERR_KEEP, ImplementationProcess

STARTUP = 30.0
"""Wall-clock seconds a freshly started child gets for its first answer on top of the per-operation timeout:
starting an interpreter and importing a model is no operation, and on a loaded machine it can take seconds."""
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_STDERR_TAIL = 400


class StdioFactory:
    """Builds :class:`StdioIUT` handles on one long-lived child process (restarted if it dies)."""

    def __init__(self, cmd: str | Sequence[str], *, timeout: float = 10.0, startup: float = STARTUP) -> None:
        self.argv = _argv(cmd)
        self.timeout = timeout
        self.startup = startup
        self._grace = 0.0
        """What the next answer gets on top of ``timeout``: ``startup`` right after a spawn, else nothing."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._process: ImplementationProcess | None = None
        self._buffer = b""
        atexit.register(self.close)

    def __call__(self, config: IUTConfig) -> StdioIUT:
        if self._process is None or self._process.exited():
            self._spawn()
        iut = StdioIUT(self)
        init: dict[str, Any] = {
            "op": "init", "backends": config.limits(), "interpretation": config.interpretation.recorded(),
        }
        if config.interpretation.profile != DEFAULT_PROFILE:
            init["profile"] = config.interpretation.profile  # absent: the seeds'
        iut.request(init, what="init")
        return iut

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def __getstate__(self) -> dict[str, Any]:
        """Only the command and the timeout travel (to a Dask worker): the copy starts its own child."""
        return {"argv": self.argv, "timeout": self.timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["argv"], timeout=state["timeout"])  # type: ignore[misc]

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the running child (and the children it has waited for), read from
        ``/proc`` (0 where there is none). A child that has ended is counted by the kit's own
        ``RUSAGE_CHILDREN`` once reaped, so a campaign can budget the CPU of the kit and the IUT together."""
        process = self._process
        if process is None:
            return 0.0
        try:
            with open(f"/proc/{process.popen.pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        # after the command's name: state is field 3, utime..cstime are fields 14..17 (1-based)
        ticks = sum(int(value) for value in fields[11:15])
        return ticks / _CLOCK_TICKS

    # ------------------------------------------------------------------ the child

    def _spawn(self) -> None:
        self.close()
        try:
            self._process = ImplementationProcess(self.argv)
        except OSError as error:
            raise IUTFailure("died", f"cannot start {self.command}: {error.strerror or error}") from None
        self._proc = self._process.popen
        self._buffer = b""
        self._grace = self.startup

    def close(self) -> None:
        """Ask the child to quit and give it a second to close its output; then kill its whole
        process group (whatever it forked goes too). The stderr capture stays for the report."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(b'{"op":"quit"}\n')
                proc.stdin.close()
            except OSError:
                pass
            self._eof_within(proc, 1.0)
        self._kill()

    def _kill(self) -> int | None:
        """Kill the child's process group; the child's exit status (None if none was running)."""
        self._proc = None
        process, self._process = self._process, None
        return process.kill() if process is not None else None

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

    def _stderr_tail(self, process: ImplementationProcess) -> str:
        """The end of the child's stderr for a finding, saying when the kit kept only part of it."""
        tail = process.stderr.text()[-_STDERR_TAIL:].strip()
        if not tail:
            return ""
        if process.stderr.truncated:
            return (f"; its stderr ({process.stderr.total} bytes, of which the kit keeps the last "
                    f"{STDERR_KEEP // 1024} KiB) ends: {tail!r}")
        return f"; its stderr ends: {tail!r}"

    def _fail(self, kind: str, message: str | Callable[[int | None], str]) -> IUTFailure:
        """Kill the child's group; the finding, ``message`` (given the child's exit status if a
        callable) followed by the end of its stderr."""
        process = self._process
        code = self._kill()
        text = message(code) if callable(message) else message
        tail = self._stderr_tail(process) if process is not None else ""
        return IUTFailure(kind, f"{text}{tail}")

    def _exited(self, what: str) -> Callable[[int | None], str]:
        """The one wording of a child that ended without answering: whether it had ended before the request
        was written, while it was, or while the answer was awaited is a race, and the finding must not vary."""
        return lambda code: f"{self.command} exited (status {code}) without answering {what}"

    def exchange(self, payload: Mapping[str, Any], what: str) -> list[Record]:
        """Send one request, read one answer with a deadline; the events as records."""
        proc = self._proc
        if proc is None or self._process is None or self._process.exited():
            raise self._fail("died", self._exited(what))
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(payload).encode() + b"\n")
            proc.stdin.flush()
        except OSError:
            if self._process.exited():
                raise self._fail("died", self._exited(what)) from None
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
                record = from_json(event, index + 1)
            except Unusable as error:
                raise self._fail("garbage", f"answer to {what}: event {index}: {error.reason}") from None
            if not isinstance(record, End):  # the harness, not the IUT, says where the run ends
                records.append(record)
        return records

    def _readline(self, proc: subprocess.Popen[bytes], what: str) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        allowed, self._grace = self.timeout + self._grace, 0.0
        deadline = time.monotonic() + allowed
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
                raise self._fail("timeout", f"no answer to {what} within {time_text(allowed)} s (killed)")
            if not poller.poll(remaining * 1000):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._fail("died", self._exited(what))
            self._buffer += chunk


def _argv(cmd: str | Sequence[str]) -> list[str]:
    """The command as argv (``shlex`` rules for a string); AdapterError (a usage error) if unusable."""
    if isinstance(cmd, str):
        try:
            argv = shlex.split(cmd)
        except ValueError as error:
            raise AdapterError(f"--cmd {cmd!r}: cannot split it into arguments: {error}") from None
    else:
        argv = list(cmd)
    if not argv or not argv[0]:
        raise AdapterError(f"--cmd {cmd!r}: an empty command")
    return argv


class StdioIUT:
    """One example's view of the child: the :class:`~.iut.IUT` protocol over JSON lines."""

    def __init__(self, factory: StdioFactory) -> None:
        self._factory = factory
        self._events: list[Record] = []

    def request(self, payload: Mapping[str, Any], what: str) -> None:
        self._events.extend(self._factory.exchange(payload, what))

    def send(self, op: Action) -> None:
        """One operation as a protocol request (:func:`model.sim.ops.request_json`)."""
        self.request(request_json(op), op.name)

    def open_session(
        self, backend: str | None, max_time: int | str | None, session_id: str | None, mode: str | None = None,
    ) -> None:
        batch: Any = mode  # "batch" under the platform profile, else None
        self.send(Open(backend=backend, session=session_id, max_time=max_time, mode=batch))

    def submit(
        self, session_id: str | None, backend: str | None, job_id: str | None,
        max_execution_time: int | float | None, duration: float | None, fault: bool | None,
    ) -> None:
        self.send(Submit(
            session=session_id, backend=backend, job=job_id, max_execution_time=max_execution_time,
            duration=duration, fault=fault,
        ))

    def cancel(self, job_id: str) -> None:
        self.send(Cancel(job=job_id))

    def close(self, session_id: str) -> None:
        self.send(Close(session=session_id))

    def cancel_session(self, session_id: str) -> None:
        self.send(CancelSession(session=session_id))

    def fault(self, backend: str) -> None:
        self.send(Fault(backend=backend))

    def advance(self, seconds: float) -> None:
        self.send(Advance(seconds=seconds))

    def events(self) -> list[Record]:
        drained, self._events = self._events, []
        return drained
