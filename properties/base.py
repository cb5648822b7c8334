"""What a property is: a named, streaming predicate over a trace that cites its rules.

A property reads the records of one trace in order (``observe``) and may report a
violation at any record; ``finish`` reports what can only be judged at the end.
It works on any implementation's trace, not just the engine's, and keeps state
only for live sessions and jobs so that memory does not grow with trace length.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from mypy_extensions import mypyc_attr

from model.interpretations import Interpretation
from model.trace import Change, Header, Record, Request


@dataclass(frozen=True)
class Violation:
    """A property that fails at one record (``index`` is the 0-based record number; header = 0)."""

    property: str
    rules: tuple[str, ...]
    index: int
    t: float
    message: str

    def __str__(self) -> str:
        return f"record {self.index} (t={self.t:g}): {self.property} [{', '.join(self.rules)}]: {self.message}"

    def __reduce__(self) -> tuple[type[Violation], tuple[str, tuple[str, ...], int, float, str]]:
        """Pickled as its fields: compiled by mypyc, a frozen dataclass cannot be unpickled attribute by attribute."""
        return Violation, (self.property, self.rules, self.index, self.t, self.message)


@mypyc_attr(allow_interpreted_subclasses=True)  # users subclass it (compiled or not)
class TraceProperty(ABC):
    """Subclasses set ``name``, ``rules`` and ``description`` and implement ``observe``."""

    name: ClassVar[str]
    rules: ClassVar[tuple[str, ...]]
    description: ClassVar[str]

    def __init__(self, header: Header) -> None:
        self.header = header
        self.interpretation = Interpretation(dict(header.interpretation))

    def violation(self, index: int, t: float, message: str) -> Violation:
        return Violation(self.name, self.rules, index, t, message)

    @abstractmethod
    def observe(self, index: int, record: Request | Change) -> Violation | None:
        """Take the next record; return a violation if this record breaks the property."""

    def finish(self, index: int, end_time: float) -> list[Violation]:
        """Violations that show only once the trace has ended (default: none)."""
        return []


def check_records(
    records: Iterable[Record], properties: Iterable[type[TraceProperty]]
) -> list[Violation]:
    """Run properties over one trace (header first); every violation, in trace order."""
    from properties.suite import Suite  # the suite builds on this module

    iterator = iter(records)
    header = next(iterator, None)
    if not isinstance(header, Header):
        raise ValueError("a trace starts with its header record")
    suite = Suite([cls(header) for cls in properties])
    found: list[Violation] = []
    index = 0
    end_time = 0.0
    for index, record in enumerate(iterator, start=1):
        assert not isinstance(record, Header)
        end_time = record.t
        violations = suite.observe(index, record)
        if violations is not None:
            found.extend(violations)
    found.extend(suite.finish(index, end_time))
    return found
