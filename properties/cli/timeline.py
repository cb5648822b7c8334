"""``sessionspec timeline``: draw a trace file as a picture (SVG or PNG).

The trace may come from any implementation, so every line is checked against the
trace schema before it is read; a bad line is reported as ``FILE:LINE: problem``
with exit status 2, never as a traceback.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import click
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from model.timeline_plot import TOP_SESSIONS, TimelineError, render_timeline
from model.trace import Record, from_json, schema

_KINDS = ("header", "request", "session", "job")


class TraceFileError(ValueError):
    """A trace file that cannot be read: the message names the file and line."""


@cache
def _validator(kind: str) -> Draft202012Validator:
    """The schema narrowed to one record kind, so that errors name the real problem, not ``oneOf``."""
    whole = schema()
    narrowed = {"$schema": whole["$schema"], "$defs": whole["$defs"], "$ref": f"#/$defs/{kind}"}
    return Draft202012Validator(narrowed)


def _problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    kind = obj.get("type")
    if kind not in _KINDS:
        return f"unknown record type {kind!r}; expected one of {', '.join(_KINDS)}"
    error = best_match(_validator(kind).iter_errors(obj))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    return f"{kind} record{f' at {where}' if where else ''}: {message}"


def read_trace(path: Path) -> list[Record]:
    """Every record of a JSON Lines trace, each line validated first; a header must come first."""
    records: list[Record] = []
    try:
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as error:
                    raise TraceFileError(f"{path}:{number}: invalid JSON: {error.msg} (column {error.colno})") from None
                problem = _problem(obj)
                if problem is not None:
                    raise TraceFileError(f"{path}:{number}: {problem}")
                if not records and obj["type"] != "header":
                    raise TraceFileError(f"{path}:{number}: the first record must be the header, got {obj['type']}")
                if records and obj["type"] == "header":
                    raise TraceFileError(f"{path}:{number}: a second header")
                records.append(from_json(obj))
    except OSError as error:
        raise TraceFileError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise TraceFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    if not records:
        raise TraceFileError(f"{path}: empty trace (no header)")
    return records


@click.command("timeline")
@click.argument("trace", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Picture to write: .svg or .png.")
@click.option("--from", "start", type=float, default=None, help="Start of the window (virtual seconds).")
@click.option("--to", "end", type=float, default=None, help="End of the window (virtual seconds).")
@click.option("--top", type=click.IntRange(min=0), default=TOP_SESSIONS, show_default=True,
              help="Sessions drawn on a band of their own (the busiest in the window); the rest share one row.")
def timeline(trace: Path, output: Path, start: float | None, end: float | None, top: int) -> None:
    """Draw TRACE (a JSON Lines trace) as a timeline: device lanes, session states, timers, failures."""
    try:
        records = read_trace(trace)
        render_timeline(records, output, start=start, end=end, top=top)
    except (TraceFileError, TimelineError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    except OSError as error:
        click.echo(f"error: {output}: cannot write: {error.strerror or error}", err=True)
        sys.exit(2)
    click.echo(str(output))
