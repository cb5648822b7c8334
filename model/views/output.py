"""Writing output files whole, never through a link someone planted.

Every file a command writes (a counterexample's scenario and traces, a timeline, a simulated
trace) goes to a temporary file created in the target's folder, which is then renamed over the
target: a reader never sees half a file, a failed write leaves the old file (or none), and a
symbolic link at the target is replaced, not followed.

A target that is a stream rather than a file (a character device such as ``/dev/null``,
``/dev/full`` or a terminal, or a named pipe; directly or through a link such as
``/dev/stdout``) is written into: renaming over it would replace the device node (as root,
``--trace /dev/full`` would have turned ``/dev/full`` into a plain file), and no file can be
overwritten through it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """A new file that becomes ``path`` when the block ends without an exception (removed if it raises);
    a stream (see the module's docstring) is written into instead."""
    if _is_stream(path):
        with open(path, mode.replace("w", "a"), encoding="utf-8" if "b" not in mode else None) as sink:
            yield sink
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode, encoding="utf-8" if "b" not in mode else None) as stream:
            yield stream
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _is_stream(path: Path) -> bool:
    """Whether ``path`` is (or links to) a character device or a named pipe."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def open_streaming(path: Path) -> IO[str]:
    """A text file to write as a run goes (``serve --trace``): it cannot be written whole, but a link at
    ``path`` is still replaced, not followed (a stream, as above, is written into)."""
    if not _is_stream(path) and os.path.islink(path):
        os.unlink(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if _is_stream(path) else os.O_NOFOLLOW)
    return os.fdopen(os.open(path, flags, 0o644), "w", encoding="utf-8")


def write_whole(path: Path, data: str | bytes) -> Path:
    """``path`` holding ``data``, written whole; a link at ``path`` is replaced, not followed."""
    if isinstance(data, bytes):
        with replacing(path, "wb") as binary:
            binary.write(data)
    else:
        with replacing(path, "w") as text:
            text.write(data)
    return path
