"""``sessionspec check``: judge a recorded trace offline, streaming.

Reads the trace once, in chunks of lines: the one trace reader (:mod:`model.trace.reader`:
each line validated, the order checked), then the one judge (:mod:`.judge`: the replay against
the reference engine and the property catalogue), reported in line order. The trace's
end-of-run line, if any, says how long the run went on (as ``--until`` does). Memory is bounded
by the live sessions and jobs and the chunk, not by the trace's length.
Exit status: 0 conforming, 1 divergence or property violation, 2 unusable input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from model.trace import End, Record
from properties.conformance.inputs import DeviceInputs
from properties.conformance.judge import Found, Judge, Verdict, catalogue, verdict
from properties.conformance.reader import Unusable, bodies, header_of, open_lines, read_chunks
from properties.conformance.render import describe, printable
from properties.conformance.replay import Divergence
from properties.invariants.base import TraceProperty, Violation

__all__ = ["CONFORMS", "DIVERGES", "KIT_ERROR", "UNUSABLE", "CheckReport", "catalogue", "check_file", "check_lines"]

CONFORMS, DIVERGES, UNUSABLE, KIT_ERROR = 0, 1, 2, 3
"""Exit statuses of ``check``. KIT_ERROR: a property of the kit raised on this trace, so the trace was
not fully judged: never "conforms" (a fault of the kit, to report; the trace may still diverge)."""
MAX_REPORTED_VIOLATIONS = 20


@dataclass
class CheckReport:
    """What a check found; ``status`` is the exit status; ``found`` is what the judge found, in order."""

    status: int = CONFORMS
    lines: list[str] = field(default_factory=list)
    divergences: list[Divergence] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    records: int = 0
    found: list[Found] = field(default_factory=list)
    end: float | None = None
    """The time of the trace's end-of-run line, if it has one."""

    @property
    def verdict(self) -> Verdict | None:
        """The first line found departing from the spec, and the rules broken there."""
        return verdict(self.found)


def check_lines(
    lines: Iterable[str | bytes],
    path: str,
    *,
    overrides: Mapping[str, str] | None = None,
    tolerance: float = 0.0,
    keep_going: bool = False,
    properties: Sequence[type[TraceProperty]] | None = None,
    until: float | None = None,
    inputs: DeviceInputs | None = None,
) -> CheckReport:
    """Check one trace given as text lines; the report's ``lines`` are what the command prints.

    ``until``: the virtual time the recorded run went on to, if later than its last line (the
    trace's end-of-run line says it too; the later of the two counts). ``inputs``: what the device
    was told (:mod:`.inputs`), if known.
    """
    ends: list[End] = []
    return _check(
        read_chunks(lines, on_end=ends.append), ends, path, classes=properties, overrides=overrides or {},
        tolerance=tolerance, keep_going=keep_going, until=until, inputs=inputs,
    )


def _check(
    chunks: Iterator[list[tuple[int, Record]]], ends: list[End], path: str, *,
    classes: Sequence[type[TraceProperty]] | None, overrides: Mapping[str, str], tolerance: float,
    keep_going: bool, until: float | None, profile: str | None = None, inputs: DeviceInputs | None = None,
) -> CheckReport:
    """The check itself (``ends`` gets the trace's end-of-run line once the chunks are read)."""
    report = CheckReport()
    try:
        first = next(chunks)
        header, interpretation = header_of(first, overrides, profile)
        judge = Judge(
            header, interpretation, properties=classes, tolerance=tolerance, keep_going=keep_going, inputs=inputs
        )
        _report(report, path, judge.start())
        if not judge.stopped:
            for body in bodies(first, chunks):
                _report(report, path, judge.feed(body))
                if judge.stopped:
                    break
            else:
                if ends:
                    report.end = ends[0].t
                later = max((t for t in (until, report.end) if t is not None), default=None)
                _report(report, path, judge.finish(later))
        report.records = judge.records
        if judge.notes:  # a property that raised judged nothing: the verdict cannot be "conforms"
            report.lines.extend(f"{path}: error of the kit: {text}" for text in judge.notes)
            if report.status == CONFORMS:
                report.status = KIT_ERROR
    except Unusable as error:  # whatever was found before, the input as a whole cannot be judged
        return CheckReport(UNUSABLE, [f"{path}:{error.line}: unusable input: {error.reason}"])
    if len(report.violations) > MAX_REPORTED_VIOLATIONS:
        report.lines.append(f"{path}: ... and {len(report.violations) - MAX_REPORTED_VIOLATIONS} more violations")
    if report.status == CONFORMS:
        count = len(judge.classes)
        report.lines.append(f"{path}: conforms ({report.records} records replayed, {count} properties hold)")
    return report


def _report(report: CheckReport, path: str, found: list[Found]) -> None:
    for item in found:
        report.status = DIVERGES
        report.found.append(item)
        event = item.event
        if isinstance(event, Divergence):
            report.divergences.append(event)
            report.lines.append(event.render(path))
            if item.window:
                report.lines.append(f"  the {len(item.window)} preceding events:")
                report.lines.extend(f"    {path}:{line}: {describe(record)}" for line, record in item.window)
        else:
            report.violations.append(event)
            if len(report.violations) <= MAX_REPORTED_VIOLATIONS:
                rules = ", ".join(event.rules)
                report.lines.append(
                    f"{path}:{item.line}: property violated [{rules}]: {event.property}: {event.message}"
                )


def check_file(
    path: str,
    *,
    overrides: Mapping[str, str] | None = None,
    tolerance: float = 0.0,
    keep_going: bool = False,
    properties: Sequence[type[TraceProperty]] | None = None,
    until: float | None = None,
    echo: Callable[[str], None] | None = None,
    profile: str | None = None,
    inputs: DeviceInputs | None = None,
) -> CheckReport:
    """Check the trace file at ``path`` (``-`` is not supported: a path names lines in reports).

    ``echo`` gets each line of the report, escaped (:func:`~.render.printable`). ``profile``: the profile the
    trace must declare (its header's is used; None: whatever it declares). ``inputs``: what the device was
    told (:mod:`.inputs`: ``check --scenario``), if known."""
    ends: list[End] = []
    try:
        with open_lines(path) as lines:
            report = _check(
                read_chunks(lines, on_end=ends.append), ends, path, classes=properties, overrides=overrides or {},
                tolerance=tolerance, keep_going=keep_going, until=until, profile=profile, inputs=inputs,
            )
    except Unusable as error:
        report = CheckReport(UNUSABLE, [f"{path}:{error.line}: unusable input: {error.reason}"])
    if echo is not None:
        for text in report.lines:
            echo(printable(text))
    return report
