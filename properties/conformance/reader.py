"""Reading a trace file for a check: its lines as bytes (none longer than ``MAX_LINE``), the header
with the interpretation overrides, and the body in chunks. Each line is read by the one trace
reader (:mod:`model.trace.reader`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from itertools import chain
from typing import IO, cast

from model.spec.interpretations import Interpretation, InterpretationError
from model.trace import Change, Header, Record, Request
from model.trace.reader import CHUNK, from_json, read_chunks, read_trace
from model.trace.strict_json import MAX_LINE, Unusable

__all__ = [
    "CHUNK", "FileLines", "Unusable", "bodies", "from_json", "header_of", "open_lines", "read_chunks", "read_trace",
]


def header_of(
    first: list[tuple[int, Record]], overrides: Mapping[str, str], profile: str | None = None,
) -> tuple[Header, Interpretation]:
    """The trace's header (the first record of :func:`read_chunks`' first chunk) with the interpretation
    overrides applied; an interpretation the catalogue does not know is :class:`Unusable`, and so is a
    header whose profile is not ``profile`` (when one is required)."""
    header = first[0][1]
    assert isinstance(header, Header)  # read_chunks yields the header first, or raises
    if profile is not None and header.profile != profile:
        raise Unusable(1, f"header profile {header.profile!r}, but --profile {profile} was given")
    try:
        interpretation = Interpretation({**header.interpretation, **overrides}, header.profile)
    except InterpretationError as error:
        raise Unusable(1, f"header interpretation: {error}") from None
    return Header(dict(interpretation), header.backends, header.interactive_timeout, header.profile), interpretation


def bodies(
    first: list[tuple[int, Record]], rest: Iterator[list[tuple[int, Record]]]
) -> Iterator[list[tuple[int, Request | Change]]]:
    """:func:`read_chunks`' chunks after the header (the first chunk without it), skipping an empty one."""
    for some in chain((first[1:],), rest):
        if some:
            yield cast(list[tuple[int, Request | Change]], some)  # the header is the first record only


class FileLines:
    """The lines of a file, as bytes (the reader decodes each line, so that a bad byte is reported on its own
    line), read a quarter MiB at a time. A line longer than ``MAX_LINE`` bytes is :class:`Unusable` as soon as
    that much of it is read: a file with no newline (``/dev/zero``) is never held whole."""

    def __init__(self, stream: IO[bytes], size: int = 1 << 18) -> None:
        self._stream = stream
        self._size = size

    def __iter__(self) -> Iterator[bytes]:
        return chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[list[bytes]]:
        """A read error names the line it stopped at."""
        line = 0
        partial: list[bytes] = []  # the pieces of a line not ended yet
        held = 0
        while True:
            try:
                data = self._stream.read(self._size)
            except OSError as error:
                raise Unusable(line + 1, f"cannot read the file: {error.strerror or error}") from None
            if not data:
                if partial:
                    yield [b"".join(partial)]
                return
            ends = data.rfind(b"\n")
            if ends < 0:
                partial.append(data)
                held += len(data)
                if held > MAX_LINE:
                    raise Unusable(line + 1, f"a line longer than {MAX_LINE} bytes")
                continue
            block = (b"".join(partial) + data[:ends + 1] if partial else data[:ends + 1]).split(b"\n")
            block.pop()  # the empty text after the last newline
            if any(len(one) > MAX_LINE for one in block):
                first = next(n for n, one in enumerate(block) if len(one) > MAX_LINE)
                raise Unusable(line + first + 1, f"a line longer than {MAX_LINE} bytes")
            rest = data[ends + 1:]
            partial, held = ([rest], len(rest)) if rest else ([], 0)
            line += len(block)
            yield block


@contextmanager
def open_lines(path: str) -> Iterator[FileLines]:
    """The lines of the file at ``path``; a file that cannot be opened or read is :class:`Unusable`."""
    try:
        stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the context manager
    except OSError as error:
        raise Unusable(1, f"cannot read the file: {error.strerror or error}") from None
    with stream:
        yield FileLines(stream)
