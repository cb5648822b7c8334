"""The one judge of a trace: ``sessionspec check`` and ``sessionspec conform`` both call it.

A trace's records, fed in line order, are judged twice over: replayed against the reference
engine (:mod:`.replay`: every decision must be the spec's), and run through the property
catalogue as one :class:`~properties.invariants.suite.Suite` (each rule as a named property). What the
two find is reported in line order: at a line, its property violations, then its divergence.
Unless ``keep_going``, judging stops at the first divergence (whose record the properties still
see), so the first thing found, the verdict, names the broken rule wherever a property sees it,
and is the same whoever calls the judge: ``check`` over a file, ``conform`` over an
implementation's trace as it is produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from model.spec.interpretations import Interpretation
from model.trace import Change, Header, Request
from model.trace.timing import time_text
from properties.conformance.inputs import DeviceInputs
from properties.conformance.replay import Divergence, Replayer
from properties.invariants import catalogue as invariants
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.suite import Suite

WINDOW: Final = 5
"""How many records before a divergence its report quotes."""
Body = list[tuple[int, Request | Change]]
"""Records after the header with their line numbers, in order."""


def catalogue() -> tuple[type[TraceProperty], ...]:
    """The property catalogue (``properties.invariants.catalogue.ALL_PROPERTIES``, read when called)."""
    return invariants.ALL_PROPERTIES


@dataclass(frozen=True)
class Found:
    """One thing the judge found at ``line`` (1-based; the end of the trace is the last line + 1).

    ``window``: for a divergence, the records before it (at most :data:`WINDOW`)."""

    line: int
    event: Violation | Divergence
    window: tuple[tuple[int, Request | Change], ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        return self.event.rules

    @property
    def is_divergence(self) -> bool:
        return isinstance(self.event, Divergence)

    def message(self) -> str:
        """The finding in one line, without the path and line (what ``check`` prints after them)."""
        if isinstance(self.event, Divergence):
            return f"got {self.event.got}; the spec expected {self.event.expected}"
        return f"{self.event.property}: {self.event.message}"


@dataclass(frozen=True)
class Verdict:
    """The first line at which a trace departs from the spec, with everything found there: the
    rules of the properties it violates, then those of its divergence (expected and observed)."""

    line: int
    kind: str
    """``divergence`` if the replay departs there, else ``property``."""
    rules: tuple[str, ...]
    message: str


def verdict(found: Sequence[Found]) -> Verdict | None:
    """The verdict of what a judge found, in its order (None: nothing found, the trace conforms)."""
    if not found:
        return None
    line = found[0].line
    at = [item for item in found if item.line == line]
    rules = tuple(dict.fromkeys(rule for item in at for rule in item.rules))
    kind = "divergence" if any(item.is_divergence for item in at) else "property"
    return Verdict(line, kind, rules, "; ".join(item.message() for item in at))


class Judge:
    """Feed it the records after the header, in order (:meth:`feed`), then :meth:`finish`."""

    def __init__(
        self, header: Header, interpretation: Interpretation, *,
        properties: Sequence[type[TraceProperty]] | None = None, tolerance: float = 0.0, keep_going: bool = False,
        inputs: DeviceInputs | None = None,
    ) -> None:
        """``inputs``: what the kit told the device (the live campaign's, or a scenario's for ``check``), so
        that the device's end of each job is judged as a decision; None: the trace's device ends are inputs."""
        self.header = header
        self.interpretation = interpretation
        self.keep_going = keep_going
        self.classes = catalogue() if properties is None else properties
        self.replayer = Replayer(header, interpretation, tolerance=tolerance, keep_going=keep_going, inputs=inputs)
        self.suite = Suite([cls(header) for cls in self.classes], tolerant=True)  # one that raises is dropped, noted
        self.records = 0
        """Records judged so far."""
        self.last_line = 1
        self.stopped = False
        """Whether a divergence ended the judging (never with ``keep_going``)."""
        self._seen: Body = []

    def start(self) -> list[Found]:
        """What the header alone shows."""
        fixed = self.interpretation.rules.interactive_timeout
        if abs(self.header.interactive_timeout - fixed) > 1e-9:
            rule = "PLATFORM-ITTL-60S" if self.interpretation.is_platform else "TTL-INTERACTIVE-VALUE"
            found = [Found(1, Divergence(
                1, (rule,), f"interactive_timeout {time_text(self.header.interactive_timeout)} in the header",
                f"{time_text(fixed)} seconds",
            ))]
            self.stopped = not self.keep_going
            return found
        return []

    def feed(self, body: Body) -> list[Found]:
        """Judge the next records, in line order; after a divergence (unless ``keep_going``) judge no more.

        The replay and the properties judge every record independently, so running each over the
        whole body (its code stays warm) reports exactly what alternating them line by line would."""
        if self.stopped or not body:
            return []
        self.last_line = body[-1][0]
        replayer, suite = self.replayer, self.suite  # (methods called on them, not kept: compiled, a direct call)
        diverged: list[tuple[int, list[Divergence]]] = []
        end = len(body)
        for pos, (line, record) in enumerate(body):
            divergences = replayer.feed(line, record)
            if divergences:
                diverged.append((pos, divergences))
                if not self.keep_going:
                    end = pos + 1
                    break
        violated: list[tuple[int, list[Violation]]] = []
        for pos, (_, record) in enumerate(body if end == len(body) else body[:end]):
            violations = suite.observe(self.records + pos + 1, record)
            if violations is not None:
                violated.append((pos, violations))
        found: list[Found] = []
        if diverged or violated:
            events: list[tuple[int, int, Sequence[Violation | Divergence]]] = [
                *((pos, 0, v) for pos, v in violated), *((pos, 1, d) for pos, d in diverged)
            ]
            events.sort(key=lambda event: event[:2])  # by line; at a line, violations first
            for pos, _, events_at in events:
                line = body[pos][0]
                window = tuple([*self._seen, *body[max(0, pos - WINDOW):pos]][-WINDOW:])
                found.extend(
                    Found(line, event, window if isinstance(event, Divergence) else ()) for event in events_at
                )
        self.records += end
        self._seen = [*self._seen, *body[:end][-WINDOW:]][-WINDOW:]
        if diverged and not self.keep_going:
            self.stopped = True
        return found

    @property
    def end_time(self) -> float:
        """The time of the last record judged."""
        return self.replayer.end_time

    def finish(self, until: float | None = None) -> list[Found]:
        """What only the end shows: decisions the spec takes by the end that the trace lacks, and
        what the properties judge at the end. The end is the last record's time, or ``until`` (the
        end-of-run line's time) if the run went on longer: the trace then says nothing happened
        in between."""
        if self.stopped:
            return []
        found = [Found(d.line, d, tuple(self._seen)) for d in self.replayer.finish(until)]
        end = max(self.replayer.end_time, until or 0.0)
        found += [Found(self.last_line, v) for v in self.suite.finish(self.records, end)]
        self.stopped = True
        return found

    @property
    def notes(self) -> list[str]:
        """The properties that could not judge this trace (dropped, not failed)."""
        return self.suite.broken
