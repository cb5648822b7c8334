"""``sessionspec check``: judge a recorded trace offline, streaming.

Reads the trace once, in chunks of lines: the one trace reader (:mod:`model.trace.reader`:
each line validated, the order checked), then the replay against the reference engine
(:mod:`.replay`), then the property catalogue as one :class:`~properties.invariants.suite.Suite`, each over
the whole chunk, reported in line order. Memory is bounded by the live sessions and jobs and the
chunk, not by the trace's length.
Exit status: 0 conforming, 1 divergence or property violation, 2 unusable input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from model.spec.lifecycles import INTERACTIVE_TIMEOUT
from model.trace import Change, Record, Request
from properties.conformance.reader import Unusable, bodies, header_of, open_lines, read_chunks
from properties.conformance.render import describe, printable
from properties.conformance.replay import Divergence, Replayer
from properties.invariants import catalogue as invariants
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.suite import Suite

CONFORMS, DIVERGES, UNUSABLE = 0, 1, 2
WINDOW = 5
MAX_REPORTED_VIOLATIONS = 20
Found = tuple[int, list[Violation]]
"""A record's position in its chunk and the violations it shows, in catalogue order."""


def catalogue() -> tuple[type[TraceProperty], ...]:
    """The property catalogue (``properties.invariants.catalogue.ALL_PROPERTIES``, read when called)."""
    return invariants.ALL_PROPERTIES


@dataclass
class CheckReport:
    """What a check found; ``status`` is the exit status."""

    status: int = CONFORMS
    lines: list[str] = field(default_factory=list)
    divergences: list[Divergence] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    records: int = 0


def check_lines(
    lines: Iterable[str | bytes],
    path: str,
    *,
    overrides: Mapping[str, str] | None = None,
    tolerance: float = 0.0,
    keep_going: bool = False,
    properties: Sequence[type[TraceProperty]] | None = None,
    until: float | None = None,
) -> CheckReport:
    """Check one trace given as text lines; the report's ``lines`` are what the command prints.

    ``until``: the virtual time the recorded run went on to, if later than its last line.
    """
    return _check(
        read_chunks(lines), path, classes=_classes(properties), overrides=overrides or {}, tolerance=tolerance,
        keep_going=keep_going, until=until,
    )


def _classes(properties: Sequence[type[TraceProperty]] | None) -> Sequence[type[TraceProperty]]:
    return catalogue() if properties is None else properties


def _check(
    chunks: Iterator[list[tuple[int, Record]]], path: str, *, classes: Sequence[type[TraceProperty]],
    overrides: Mapping[str, str], tolerance: float, keep_going: bool, until: float | None,
) -> CheckReport:
    """The check itself, with the properties of ``classes``."""
    report = CheckReport()
    line = 1
    try:
        first = next(chunks)
        line = first[0][0]
        header, interpretation = header_of(first, overrides)
        replayer = Replayer(header, interpretation, tolerance=tolerance, keep_going=keep_going)
        properties = Suite([cls(header) for cls in classes], tolerant=True)  # one that raises is dropped, noted
        if abs(header.interactive_timeout - INTERACTIVE_TIMEOUT) > 1e-9:
            _diverged(report, path, [], Divergence(
                line, ("TTL-INTERACTIVE-VALUE",), f"interactive_timeout {header.interactive_timeout:g} in the header",
                f"{INTERACTIVE_TIMEOUT:g} seconds",
            ))
            if not keep_going:
                return report
        seen: list[tuple[int, Request | Change]] = []
        """The records before this chunk that a divergence's report may quote."""
        index = 0
        for body in bodies(first, chunks):
            line = body[-1][0]
            stopped = _judge(report, path, body, index, seen, replayer, properties, keep_going)
            if stopped is not None:
                report.records = stopped
                return report
            index += len(body)
            seen = [*seen, *body[-WINDOW:]][-WINDOW:]
        report.records = index
        for divergence in replayer.finish(until):
            _diverged(report, path, seen, divergence)
        for violation in properties.finish(index, max(replayer.end_time, until or 0.0)):
            _violated(report, path, line, violation)
        report.lines.extend(f"{path}: note: {text}" for text in properties.broken)
    except Unusable as error:  # whatever was found before, the input as a whole cannot be judged
        return CheckReport(UNUSABLE, [f"{path}:{error.line}: unusable input: {error.reason}"])
    if len(report.violations) > MAX_REPORTED_VIOLATIONS:
        report.lines.append(f"{path}: ... and {len(report.violations) - MAX_REPORTED_VIOLATIONS} more violations")
    if report.status == CONFORMS:
        report.lines.append(f"{path}: conforms ({report.records} records replayed, {len(classes)} properties hold)")
    return report


def _judge(
    report: CheckReport, path: str, chunk: list[tuple[int, Request | Change]], index: int,
    seen: list[tuple[int, Request | Change]], replayer: Replayer, suite: Suite, keep_going: bool,
) -> int | None:
    """Replay a chunk, then run the properties over it, then report in line order.

    The two judge every record independently, so running each over a whole chunk (its code
    stays warm: a quarter faster than alternating them line by line) reports exactly what
    alternating would: at a line, its property violations, then its divergences; unless
    ``keep_going``, nothing after the first divergence, whose record the properties still see.
    Returns the record number to stop at, if a divergence stops the check.
    """
    feed = replayer.feed
    diverged: list[tuple[int, list[Divergence]]] = []
    end = len(chunk)
    for pos, (line, record) in enumerate(chunk):
        divergences = feed(line, record)
        if divergences:
            diverged.append((pos, divergences))
            if not keep_going:
                end = pos + 1
                break
    violated = _observe(suite, index, chunk, end)
    if not diverged and not violated:
        return None
    events: list[tuple[int, int, Sequence[Violation | Divergence]]] = [
        *((pos, 0, found) for pos, found in violated), *((pos, 1, found) for pos, found in diverged)
    ]
    events.sort(key=lambda event: event[:2])  # by line; at a line, violations first
    for pos, _, found in events:
        line = chunk[pos][0]
        for event in found:
            if isinstance(event, Violation):
                _violated(report, path, line, event)
            else:
                _diverged(report, path, [*seen, *chunk[max(0, pos - WINDOW):pos]][-WINDOW:], event)
    if diverged and not keep_going:
        return index + end
    return None


def _diverged(
    report: CheckReport, path: str, window: Sequence[tuple[int, Request | Change]], divergence: Divergence
) -> None:
    report.status = DIVERGES
    report.divergences.append(divergence)
    report.lines.append(divergence.render(path))
    if window:
        report.lines.append(f"  the {len(window)} preceding events:")
        report.lines.extend(f"    {path}:{line}: {describe(record)}" for line, record in window)


def _violated(report: CheckReport, path: str, line: int, violation: Violation) -> None:
    report.status = DIVERGES
    report.violations.append(violation)
    if len(report.violations) <= MAX_REPORTED_VIOLATIONS:
        rules = ", ".join(violation.rules)
        report.lines.append(f"{path}:{line}: property violated [{rules}]: {violation.property}: {violation.message}")


def _observe(suite: Suite, index: int, chunk: list[tuple[int, Request | Change]], end: int) -> list[Found]:
    """The violations of the chunk's first ``end`` records (its first record is number ``index + 1``)."""
    observe = suite.observe
    violated: list[Found] = []
    for pos, (_, record) in enumerate(chunk if end == len(chunk) else chunk[:end]):
        violations = observe(index + pos + 1, record)
        if violations is not None:
            violated.append((pos, violations))
    return violated


def check_file(
    path: str,
    *,
    overrides: Mapping[str, str] | None = None,
    tolerance: float = 0.0,
    keep_going: bool = False,
    properties: Sequence[type[TraceProperty]] | None = None,
    until: float | None = None,
    echo: Callable[[str], None] | None = None,
) -> CheckReport:
    """Check the trace file at ``path`` (``-`` is not supported: a path names lines in reports).

    ``echo`` gets each line of the report, escaped (:func:`~.render.printable`)."""
    try:
        with open_lines(path) as lines:
            report = _check(
                read_chunks(lines), path, classes=_classes(properties), overrides=overrides or {},
                tolerance=tolerance, keep_going=keep_going, until=until,
            )
    except Unusable as error:
        report = CheckReport(UNUSABLE, [f"{path}:{error.line}: unusable input: {error.reason}"])
    if echo is not None:
        for text in report.lines:
            echo(printable(text))
    return report
