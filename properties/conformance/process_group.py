"""The conformance kit owns the whole process tree of an out-of-process implementation.

An implementation is often a wrapper (a shell script, ``npm run``, a build tool) whose own
child does the work, and either may fork more. Killing the direct child alone leaves those
running. So each implementation starts in a new session, hence its own process group,
and :meth:`ImplementationProcess.kill` kills the whole group: on timeout, when the kit is
done with it, and when the kit itself receives SIGTERM (a CI timeout) or SIGINT (Ctrl-C).

The signal handlers are installed once, when the first implementation is spawned (from
the main thread; elsewhere Python allows none). On a signal they kill every live group,
put the previous handler back and hand the signal on to it: SIGINT raises
KeyboardInterrupt as before, and a default SIGTERM kills the kit with the conventional
status (128 + 15 in a shell). A signal that was ignored stays ignored.

The child's stderr is read by a thread into a bounded buffer: only the last
:data:`STDERR_KEEP` bytes are kept, however much the child writes, and the pipe is
drained so that a chatty child never blocks on it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

STDERR_KEEP = 4 * 1024
"""Bytes of the child's stderr kept (the last ones); findings quote their tail."""

_HANDLED = (signal.SIGTERM, signal.SIGINT)
_live: set[ImplementationProcess] = set()
_lock = threading.RLock()
"""Reentrant: a signal handler runs in the main thread, possibly while it holds the lock."""
_previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}


class StderrTail:
    """Drains a pipe in a daemon thread, keeping only its last ``keep`` bytes."""

    def __init__(self, fd: int, keep: int = STDERR_KEEP) -> None:
        self._fd = fd
        self._keep = keep
        self._data = bytearray()
        self._lock = threading.Lock()
        self.total = 0
        """Bytes the child wrote in all."""
        self._thread = threading.Thread(target=self._drain, name="iut-stderr", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            while chunk := os.read(self._fd, 65536):
                with self._lock:
                    self.total += len(chunk)
                    self._data += chunk
                    if len(self._data) > self._keep:
                        del self._data[: len(self._data) - self._keep]
        except OSError:
            pass
        finally:
            os.close(self._fd)

    def text(self) -> str:
        """What is kept, decoded (invalid UTF-8 replaced)."""
        with self._lock:
            return self._data.decode("utf-8", "replace")

    @property
    def truncated(self) -> bool:
        return self.total > self._keep

    def join(self, seconds: float) -> None:
        """Wait (a bounded time) for the pipe's end: every writer gone once the group is killed."""
        self._thread.join(seconds)


class ImplementationProcess:
    """One implementation, started in its own session and process group, with pipes for
    stdin and stdout and a bounded capture of stderr."""

    def __init__(self, argv: Sequence[str]) -> None:
        _install_handlers()
        read_end, write_end = os.pipe()
        _state.spawning += 1  # a signal now is held back until the child is known (see _on_signal)
        try:
            try:
                self.popen = subprocess.Popen(
                    list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=write_end, bufsize=0,
                    start_new_session=True,
                )
            except BaseException:
                os.close(read_end)
                raise
            finally:
                os.close(write_end)
            self.pgid = self.popen.pid
            """The group's ID: the leader's PID, reserved while any member lives or the leader is unreaped."""
            with _lock:
                _live.add(self)
            self.stderr = StderrTail(read_end)
        finally:
            _state.spawning -= 1
            if _state.pending and not _state.spawning:
                signum, _state.pending = _state.pending[0], []
                _deliver(signum, None)

    def exited(self) -> bool:
        """Whether the leader has exited, without reaping it: its PID, the group's ID, stays
        reserved until :meth:`kill` has killed the group."""
        if self.popen.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.pgid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:  # reaped elsewhere
            return True

    def kill(self) -> int:
        """Kill the whole group, reap the leader, close the pipes; the leader's exit status."""
        _kill_group(self.pgid)  # before reaping the leader, so that its PID cannot have been reused
        code = self.popen.wait()
        with _lock:
            _live.discard(self)
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self.stderr.join(5.0)
        return code


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, signal.SIGKILL)


def kill_all() -> None:
    """Kill every live implementation's group (a signal's cleanup, or the end of the process)."""
    with _lock:
        groups = [process.pgid for process in _live]
    for pgid in groups:
        _kill_group(pgid)


@dataclass
class _SpawnWindow:
    spawning: int = 0
    """Spawns under way: a signal then would find the new child not yet registered."""
    pending: list[int] = field(default_factory=list)
    """Signals held back during a spawn, delivered as soon as it is over."""


_state = _SpawnWindow()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _state.spawning:
        _state.pending.append(signum)
        return
    _deliver(signum, frame)


def _deliver(signum: int, frame: FrameType | None) -> None:
    """Kill every group, then let the signal do what it did before the kit's handler."""
    kill_all()
    previous = _previous.pop(signum, signal.SIG_DFL)
    signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    else:  # SIG_DFL (or a handler not installed from Python): the signal's own effect, e.g. termination
        os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    """Install the SIGTERM and SIGINT handlers, once, where Python allows it (the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _HANDLED:
        if signum in _previous:
            continue
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN or current is _on_signal:
            continue
        _previous[signum] = current
        signal.signal(signum, _on_signal)
