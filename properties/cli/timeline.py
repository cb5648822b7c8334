"""``sessionspec timeline``: draw a trace file as a picture (SVG or PNG).

The trace may come from any implementation, so it is read by the one trace reader, which
checks every line: a bad line is reported as ``FILE:LINE: unusable input: reason`` with
exit status 2, never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.trace import Header, Record, Unusable
from model.trace import read_trace as read_lines
from model.views.printable import printable
from model.views.timeline_plot import TOP_SESSIONS, TimelineError, render_timeline
from properties.cli.options import FiniteFloat, error_line, profile_given, profile_option
from properties.conformance.reader import header_of, open_lines


class TraceFileError(ValueError):
    """A trace file that cannot be read: the message names the file and line."""


def read_trace(path: Path) -> list[Record]:
    """Every record of a JSON Lines trace file, read as ``sessionspec check`` reads it: by the same file
    reader, which refuses a line over ``MAX_LINE`` bytes before holding it whole (``/dev/zero``)."""
    try:
        with open_lines(str(path)) as lines:
            return [record for _, record in read_lines(lines)]
    except Unusable as error:
        raise TraceFileError(f"{path}:{error.line}: unusable input: {error.reason}") from None


@click.command("timeline")
@click.argument("trace", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Picture to write: .svg or .png.")
@click.option("--from", "start", type=FiniteFloat(), default=None, help="Start of the window (virtual seconds).")
@click.option("--to", "end", type=FiniteFloat(), default=None, help="End of the window (virtual seconds).")
@click.option("--top", type=click.IntRange(min=0), default=TOP_SESSIONS, show_default=True,
              help="Sessions drawn on a band of their own (the busiest in the window); the rest share one row.")
@profile_option(expose=False)
def timeline(trace: Path, output: Path, start: float | None, end: float | None, top: int) -> None:
    """Draw TRACE (a JSON Lines trace) as a timeline: device lanes, session states, timers, failures.
    The profile is the trace header's (a --profile given must match it)."""
    try:
        records = read_trace(trace)
        if records and isinstance(records[0], Header):
            try:  # check's header reading: its profile, and interpretations that profile knows
                header_of([(1, records[0])], {}, profile_given())
            except Unusable as error:
                raise TraceFileError(f"{trace}:{error.line}: unusable input: {error.reason}") from None
        render_timeline(records, output, start=start, end=end, top=top)
    except (TraceFileError, TimelineError) as error:
        click.echo(error_line(str(error)), err=True)
        sys.exit(2)
    except OSError as error:
        click.echo(error_line(f"{output}: cannot write: {error.strerror or error}"), err=True)
        sys.exit(2)
    click.echo(printable(str(output)))
