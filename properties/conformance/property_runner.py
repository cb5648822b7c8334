"""Where the property catalogue runs during a check: in the checking process, or in a forked second one.

The replay and the properties judge every record independently (the properties read the
trace, never the replay's state), so on two free cores they can run at once
(``sessionspec check --jobs 2``): the checking process reads the file and replays it while
a forked child reads the same file and runs the catalogue, sending back, chunk by chunk,
what the properties found. The checker merges those findings exactly as it merges its own
(at a line, violations first; nothing after the first divergence unless ``--all``), so
the report is the same, line for line, as a check in one process;
``tests/test_check_jobs.py`` holds the two to that.

The child reads the file the checking process opened (through ``/proc/self/fd``: the same
file even if its path is replaced meanwhile), and only a regular file: a pipe cannot be
read twice, so it is checked in one process. Every chunk message of the child, and its
last one, carries the CRC-32 of the bytes it has read so far (:class:`~.reader.FileLines`),
which the checking process compares with its own at the same point: the replay and the
properties always judge the same bytes, and if the two read different bytes (the file
changed between their reads) the input is unusable. A file that is still being written
may also be read alike by both, and is then judged as far as they read, as one process
would judge it.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NoReturn, Protocol, cast

from model.trace import Change, Header, Request
from properties.base import TraceProperty, Violation
from properties.conformance.reader import FileLines, Unusable, bodies, header_of, open_lines, read_chunks
from properties.suite import Suite

Found = tuple[int, list[Violation]]
"""A record's position in its chunk and the violations it shows, in catalogue order."""

_CHUNK, _DONE, _END, _UNUSABLE, _CRASH = "chunk", "done", "end", "unusable", "crash"
CHANGED = "the file changed while it was being checked"
_GRACE = 5.0
"""Seconds a child that was asked to stop gets before it is killed."""


class PropertyProcessFailed(RuntimeError):
    """The second process died or raised: a fault of the checker or of its machine, not of the trace."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail
        """The child's traceback, if it raised."""


class PropertyRunner(Protocol):
    """The property side of a check: the catalogue over each chunk of records, then at the end."""

    @property
    def broken(self) -> list[str]:
        """Notes on the properties that could not judge the trace."""

    def chunk(self, index: int, chunk: list[tuple[int, Request | Change]], end: int) -> list[Found]:
        """The violations of the chunk's first ``end`` records (its first record is number ``index + 1``)."""

    def finish(self, index: int, end_time: float) -> list[Violation]:
        """What the properties judge at the end of the trace (``index`` records, ending at ``end_time``)."""


class InProcess:
    """The catalogue as one :class:`~properties.suite.Suite` in this process."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite

    @property
    def broken(self) -> list[str]:
        return self.suite.broken

    def chunk(self, index: int, chunk: list[tuple[int, Request | Change]], end: int) -> list[Found]:
        observe = self.suite.observe
        violated: list[Found] = []
        for pos, (_, record) in enumerate(chunk if end == len(chunk) else chunk[:end]):
            violations = observe(index + pos + 1, record)
            if violations is not None:
                violated.append((pos, violations))
        return violated

    def finish(self, index: int, end_time: float) -> list[Violation]:
        return self.suite.finish(index, end_time)


def in_process(classes: Sequence[type[TraceProperty]], header: Header) -> InProcess:
    """The catalogue's classes, instantiated for this trace, as a tolerant suite (a property that
    raises is dropped and noted, never stops the check)."""
    return InProcess(Suite([cls(header) for cls in classes], tolerant=True))


class Forked:
    """The catalogue in a forked child that reads the same file; this side receives what it found."""

    def __init__(self, connection: Connection, process: BaseProcess, source: FileLines) -> None:
        self._connection = connection
        self._process = process
        self._source = source
        self._broken: list[str] = []
        self._line = 1
        """The last line this side compared (where a disagreement at the end is reported)."""
        self.ended = False

    @property
    def broken(self) -> list[str]:
        return self._broken

    def chunk(self, index: int, chunk: list[tuple[int, Request | Change]], end: int) -> list[Found]:
        message = self._receive()
        self._line = chunk[-1][0]
        if message[:3] != (_CHUNK, self._source.crc, self._line):
            raise Unusable(self._line, CHANGED)
        found: list[Found] | None = message[3]
        if not found:
            return []
        return found if end == len(chunk) else [(pos, violations) for pos, violations in found if pos < end]

    def finish(self, index: int, end_time: float) -> list[Violation]:
        message = self._receive()
        if message != (_DONE, self._source.crc, index):
            raise Unusable(self._line, CHANGED)
        try:
            self._connection.send((index, end_time))
        except OSError:
            self._died()
        message = self._receive()
        self.ended = True
        self._broken = message[2]
        return cast(list[Violation], message[1])

    def _receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self._connection.recv()
        except (EOFError, OSError):
            self._died()
        if message[0] == _UNUSABLE:
            raise Unusable(message[1], message[2])
        if message[0] == _CRASH:
            raise PropertyProcessFailed("the property process failed", message[1])
        return message

    def _died(self) -> NoReturn:
        self._process.join(_GRACE)
        raise PropertyProcessFailed(
            f"the property process ended without a report (exit code {self._process.exitcode})"
        ) from None


def _serve(
    connection: Connection, theirs: Connection, fd: int, classes: Sequence[type[TraceProperty]],
    overrides: Mapping[str, str],
) -> None:
    """The child: read the checking process's file, run the catalogue over every chunk, send what it found."""
    theirs.close()  # the checking process's end: held here, it would hide that process's death from us
    try:
        with open_lines(f"/proc/self/fd/{fd}") as lines:  # the same file, a reading position of our own
            lines.checksum = True
            chunks = read_chunks(lines)
            first = next(chunks)
            header, _ = header_of(first, overrides)
            runner = in_process(classes, header)
            index = 0
            for body in bodies(first, chunks):
                found = runner.chunk(index, body, len(body))
                connection.send((_CHUNK, lines.crc, body[-1][0], found or None))
                index += len(body)
            connection.send((_DONE, lines.crc, index))
        count, end_time = connection.recv()
        connection.send((_END, runner.finish(count, end_time), runner.broken))
    except Unusable as error:
        _send(connection, (_UNUSABLE, error.line, error.reason))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the checking process stopped early (a divergence, an interrupt, its death) and closed its end
    except Exception:  # whatever it is, the checking process must hear of it
        _send(connection, (_CRASH, traceback.format_exc()))
    finally:
        connection.close()


def _send(connection: Connection, message: tuple[Any, ...]) -> None:
    with suppress(OSError):  # nobody is listening any more
        connection.send(message)


def can_fork() -> bool:
    """Whether ``--jobs 2`` can run here: Linux, which forks safely and has ``/proc/self/fd``.
    (macOS offers fork too, but not safely, which is why Python no longer uses it there by default.)"""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity, capped by its cgroup's CPU quota where one is set
    (a container given one CPU of a larger machine gains nothing from a second process: it loses)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = _cgroup_quota()
    return cpus if quota is None else max(1, min(cpus, int(quota)))


def _cgroup_quota() -> float | None:
    """CPUs' worth of time per period that this process's cgroup allows (v2 ``cpu.max``, v1
    ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``); None without a quota, or off Linux."""
    try:
        entries = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for entry in entries:
        _, controllers, where = entry.split(":", 2)
        with suppress(OSError, ValueError):
            if not controllers:
                quota, period = Path(f"/sys/fs/cgroup{where}/cpu.max").read_text().split()[:2]
            elif "cpu" in controllers.split(","):
                base = Path(f"/sys/fs/cgroup/{controllers}{where}")
                quota, period = (base / "cpu.cfs_quota_us").read_text(), (base / "cpu.cfs_period_us").read_text()
            else:
                continue
            if quota.strip() not in ("max", "-1"):
                return int(quota) / int(period)
    return None


@contextmanager
def forked(
    source: FileLines, classes: Sequence[type[TraceProperty]], overrides: Mapping[str, str]
) -> Iterator[Forked]:
    """Start the child that runs the catalogue over the file this process reads from ``source`` (a regular
    file); stop the child on the way out, finished or not."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_serve, args=(theirs, ours, source.fileno(), classes, overrides), name="sessionspec-properties"
    )
    process.start()
    theirs.close()
    runner = Forked(ours, process, source)
    try:
        yield runner
    finally:
        ours.close()
        if not runner.ended:
            process.terminate()
        process.join(_GRACE)
        if process.exitcode is None:
            process.kill()
            process.join()
