"""Where the property catalogue runs during a check: in the checking process, or in a forked second one.

The replay and the properties judge every record independently (the properties read the
trace, never the replay's state), so on two free cores they can run at once
(``sessionspec check --jobs 2``): the checking process reads the file and replays it while
a forked child reads the same file and runs the catalogue, sending back, chunk by chunk,
what the properties found. The checker merges those findings exactly as it merges its own
(at a line, violations first; nothing after the first divergence unless ``--all``), so
the report is the same, line for line, as a check in one process; ``tests/test_checker.py``
holds the two to that.

Both processes read the same chunks of the same file. Every message of the child carries
the CRC-32 of the bytes it has read so far (:class:`~.reader.FileLines`), which the checking
process compares with its own at the same point, so a file that changes while it is being
checked is reported as unusable rather than judged half from one version and half from
another.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from itertools import chain
from multiprocessing.connection import Connection
from typing import Any, Protocol, cast

from model.interpretations import Interpretation, InterpretationError
from model.trace import Change, Header, Record, Request
from properties.base import TraceProperty, Violation
from properties.conformance.reader import FileLines, Unusable, open_lines, read_chunks
from properties.suite import Suite

Found = tuple[int, list[Violation]]
"""A record's position in its chunk and the violations it shows, in catalogue order."""

_CHUNK, _DONE, _END, _UNUSABLE, _CRASH = "chunk", "done", "end", "unusable", "crash"
CHANGED = "the file changed while it was being checked"


class PropertyProcessFailed(RuntimeError):
    """The second process died or raised: a fault of the checker or of its machine, not of the trace."""


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


def header_of(first: list[tuple[int, Record]], overrides: Mapping[str, str]) -> tuple[Header, Interpretation]:
    """The trace's header (the first record of the first chunk) with the interpretation overrides applied."""
    header = first[0][1]
    assert isinstance(header, Header)  # the reader yields the header first, or raises
    try:
        interpretation = Interpretation({**header.interpretation, **overrides})
    except InterpretationError as error:
        raise Unusable(1, f"header interpretation: {error}") from None
    return Header(dict(interpretation), header.backends, header.interactive_timeout), interpretation


def bodies(first: list[tuple[int, Record]], rest: Iterator[list[tuple[int, Record]]]) -> Iterator[
    list[tuple[int, Request | Change]]
]:
    """The chunks of records after the header (the first chunk without it), skipping an empty one."""
    for some in chain((first[1:],), rest):
        if some:
            yield cast(list[tuple[int, Request | Change]], some)  # the header is the first record only


class Forked:
    """The catalogue in a forked child that reads the same file; this side receives what it found."""

    def __init__(self, connection: Connection, process: Any, source: FileLines) -> None:
        self._connection = connection
        self._process = process
        self._source = source
        self._broken: list[str] = []
        self.ended = False

    @property
    def broken(self) -> list[str]:
        return self._broken

    def chunk(self, index: int, chunk: list[tuple[int, Request | Change]], end: int) -> list[Found]:
        message = self._receive()
        if message[:3] != (_CHUNK, self._source.crc, chunk[-1][0]):
            raise Unusable(chunk[-1][0], CHANGED)
        found: list[Found] | None = message[3]
        if not found:
            return []
        return found if end == len(chunk) else [(pos, violations) for pos, violations in found if pos < end]

    def finish(self, index: int, end_time: float) -> list[Violation]:
        message = self._receive()
        if message != (_DONE, self._source.crc, index):
            raise Unusable(1, CHANGED)
        self._connection.send((index, end_time))
        message = self._receive()
        self.ended = True
        self._broken = message[2]
        return cast(list[Violation], message[1])

    def _receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self._connection.recv()
        except EOFError:
            self._process.join()
            raise PropertyProcessFailed(
                f"the property process ended without a report (exit code {self._process.exitcode})"
            ) from None
        if message[0] == _UNUSABLE:
            raise Unusable(message[1], message[2])
        if message[0] == _CRASH:
            raise PropertyProcessFailed(f"the property process failed:\n{message[1]}")
        return message


def _serve(
    connection: Connection, path: str, classes: Sequence[type[TraceProperty]], overrides: Mapping[str, str]
) -> None:
    """The child: read the file, run the catalogue over every chunk, send what it found."""
    try:
        with open_lines(path, crc=True) as lines:
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
        pass  # the checking process stopped early (a divergence, an interrupt) and closed its end
    except Exception:  # whatever it is, the checking process must hear of it
        _send(connection, (_CRASH, traceback.format_exc()))
    finally:
        connection.close()


def _send(connection: Connection, message: tuple[Any, ...]) -> None:
    with suppress(OSError):  # nobody is listening any more
        connection.send(message)


def can_fork() -> bool:
    """Whether this platform can fork (``--jobs 2`` needs it; elsewhere the check runs in one process)."""
    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def forked(
    path: str, classes: Sequence[type[TraceProperty]], overrides: Mapping[str, str], source: FileLines
) -> Iterator[Forked]:
    """Start the child that runs the catalogue over ``path``, while this process reads it from ``source``;
    stop the child on the way out, finished or not."""
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, path, classes, overrides), name="sessionspec-properties")
    process.start()
    theirs.close()
    runner = Forked(ours, process, source)
    try:
        yield runner
    finally:
        ours.close()
        if not runner.ended:
            process.terminate()
        process.join()
