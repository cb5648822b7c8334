"""``sessionspec check``: judge a recorded trace offline, streaming.

Reads the trace once, line by line: schema and order checks (:mod:`.reader`), the replay
against the reference engine (:mod:`.replay`) and the property catalogue run side by
side. Memory is bounded by the live sessions and jobs, not by the trace's length.
Exit status: 0 conforming, 1 divergence or property violation, 2 unusable input.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from model.interpretations import Interpretation, InterpretationError
from model.lifecycles import INTERACTIVE_TIMEOUT
from model.trace import Change, Header, Request
from properties.base import TraceProperty, Violation
from properties.conformance.reader import Unusable, read_trace
from properties.conformance.render import describe
from properties.conformance.replay import Divergence, Replayer

CONFORMS, DIVERGES, UNUSABLE = 0, 1, 2
WINDOW = 5
MAX_REPORTED_VIOLATIONS = 20


def catalogue() -> tuple[type[TraceProperty], ...]:
    """The property catalogue (``properties.invariants.ALL_PROPERTIES``), or none if absent."""
    try:
        module = importlib.import_module("properties.invariants")
    except ImportError:
        return ()
    return tuple(getattr(module, "ALL_PROPERTIES", ()))


@dataclass
class CheckReport:
    """What a check found; ``status`` is the exit status."""

    status: int = CONFORMS
    lines: list[str] = field(default_factory=list)
    divergences: list[Divergence] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    records: int = 0


class _PropertyRunner:
    """The catalogue over the trace, streaming; a property that crashes is reported, not raised."""

    def __init__(self, header: Header, classes: Sequence[type[TraceProperty]]) -> None:
        self.checkers = [cls(header) for cls in classes]
        self.broken: list[str] = []

    def observe(self, index: int, record: Request | Change) -> list[Violation]:
        found = []
        for checker in list(self.checkers):
            try:
                violation = checker.observe(index, record)
            except Exception as error:  # a crashing property must not stop the check
                self._drop(checker, error)
                continue
            if violation is not None:
                found.append(violation)
        return found

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found: list[Violation] = []
        for checker in list(self.checkers):
            try:
                found.extend(checker.finish(index, end_time))
            except Exception as error:
                self._drop(checker, error)
        return found

    def _drop(self, checker: TraceProperty, error: Exception) -> None:
        self.checkers.remove(checker)
        self.broken.append(f"property {checker.name} could not judge this trace ({type(error).__name__}: {error})")


def check_lines(
    lines: Iterable[str],
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
    report = CheckReport()
    classes = catalogue() if properties is None else properties
    window: deque[str] = deque(maxlen=WINDOW)
    line = 1
    try:
        records = read_trace(lines)
        line, header = next(records)
        assert isinstance(header, Header)
        interpretation = _interpretation(header, overrides or {})
        header = Header(dict(interpretation), header.backends, header.interactive_timeout)
        replayer = Replayer(header, interpretation, tolerance=tolerance, keep_going=keep_going)
        runner = _PropertyRunner(header, classes)
        if abs(header.interactive_timeout - INTERACTIVE_TIMEOUT) > 1e-9:
            _diverged(report, path, window, Divergence(
                line, ("TTL-INTERACTIVE-VALUE",), f"interactive_timeout {header.interactive_timeout:g} in the header",
                f"{INTERACTIVE_TIMEOUT:g} seconds",
            ))
            if not keep_going:
                return report
        index = 0
        for index, (line, record) in enumerate(records, start=1):
            assert not isinstance(record, Header)
            report.records = index
            divergences = replayer.feed(line, record)  # first: an unusable line is not judged further
            for violation in runner.observe(index, record):
                _violated(report, path, line, violation)
            for divergence in divergences:
                _diverged(report, path, window, divergence)
            if divergences and not keep_going:
                return report
            window.append(f"{path}:{line}: {describe(record)}")
        for divergence in replayer.finish(until):
            _diverged(report, path, window, divergence)
        for violation in runner.finish(index, max(replayer.end_time, until or 0.0)):
            _violated(report, path, line, violation)
        report.lines.extend(f"{path}: note: {text}" for text in runner.broken)
    except Unusable as error:  # whatever was found before, the input as a whole cannot be judged
        return CheckReport(UNUSABLE, [f"{path}:{error.line}: unusable input: {error.reason}"])
    if len(report.violations) > MAX_REPORTED_VIOLATIONS:
        report.lines.append(f"{path}: ... and {len(report.violations) - MAX_REPORTED_VIOLATIONS} more violations")
    if report.status == CONFORMS:
        report.lines.append(
            f"{path}: conforms ({report.records} records replayed, {len(classes)} properties hold)"
        )
    return report


def _interpretation(header: Header, overrides: Mapping[str, str]) -> Interpretation:
    try:
        return Interpretation({**header.interpretation, **overrides})
    except InterpretationError as error:
        raise Unusable(1, f"header interpretation: {error}") from None


def _diverged(report: CheckReport, path: str, window: deque[str], divergence: Divergence) -> None:
    report.status = DIVERGES
    report.divergences.append(divergence)
    report.lines.append(divergence.render(path))
    if window:
        report.lines.append(f"  the {len(window)} preceding events:")
        report.lines.extend(f"    {text}" for text in window)


def _violated(report: CheckReport, path: str, line: int, violation: Violation) -> None:
    report.status = DIVERGES
    report.violations.append(violation)
    if len(report.violations) <= MAX_REPORTED_VIOLATIONS:
        rules = ", ".join(violation.rules)
        report.lines.append(f"{path}:{line}: property violated [{rules}]: {violation.property}: {violation.message}")


@contextmanager
def _open_lines(path: str) -> Iterator[Iterator[str]]:
    try:
        stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the context manager
    except OSError as error:
        raise Unusable(1, f"cannot read the file: {error.strerror or error}") from None
    with stream:
        yield _decoded(stream)


def _decoded(stream: IO[bytes]) -> Iterator[str]:
    """Lines decoded one by one, so that a bad byte is reported on its own line."""
    line = 0
    try:
        for raw in stream:
            line += 1
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Unusable(line, "not UTF-8 text") from None
    except OSError as error:
        raise Unusable(line + 1, f"cannot read the file: {error.strerror or error}") from None


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
    """Check the trace file at ``path`` (``-`` is not supported: a path names lines in reports)."""
    try:
        with _open_lines(path) as lines:
            report = check_lines(
                lines, path, overrides=overrides, tolerance=tolerance, keep_going=keep_going,
                properties=properties, until=until,
            )
    except Unusable as error:
        report = CheckReport(UNUSABLE, [f"{path}:{error.line}: unusable input: {error.reason}"])
    if echo is not None:
        for text in report.lines:
            echo(text)
    return report
