"""What a property is: a named, streaming predicate over a trace that cites its rules.

A property reads the records of one trace in order (``observe``) and may report a
violation at any record; ``finish`` reports what can only be judged at the end.
It works on any implementation's trace, not just the engine's, and keeps state
only for live sessions and jobs so that memory does not grow with trace length.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from mypy_extensions import mypyc_attr

from model.spec.interpretations import interpretation_of
from model.trace import Change, Header, Request
from model.trace.timing import time_text

K = TypeVar("K")
V = TypeVar("V")


def forget(table: dict[K, V], key: K) -> None:
    """Remove ``key`` from ``table`` if it is there: ``table.pop(key, None)``, which compiled code calls as a
    Python method (a lookup by name and an argument parse), where this is two dictionary operations."""
    if key in table:
        del table[key]  # noqa: RUF051 - not pop: see above


def take(table: dict[K, V], key: K) -> V | None:
    """``table.pop(key, None)``, as :func:`forget` does it."""
    if key in table:
        value = table[key]
        del table[key]
        return value
    return None


@dataclass(frozen=True)
class Violation:
    """A property that fails at one record (``index`` is the 0-based record number; header = 0)."""

    property: str
    rules: tuple[str, ...]
    index: int
    t: float
    message: str

    def __str__(self) -> str:
        return f"record {self.index} (t={time_text(self.t)}): {self.property} [{', '.join(self.rules)}]: {self.message}"


@mypyc_attr(allow_interpreted_subclasses=True)
class TraceProperty(ABC):
    """Subclasses set ``name``, ``rules`` and ``description`` and implement ``observe``."""

    name: ClassVar[str]
    rules: ClassVar[tuple[str, ...]]
    description: ClassVar[str]

    def __init__(self, header: Header) -> None:
        self.header = header
        self.interpretation = interpretation_of(header.interpretation, header.profile)

    def violation(self, index: int, t: float, message: str) -> Violation:
        return Violation(self.name, self.rules, index, t, message)

    @abstractmethod
    def observe(self, index: int, record: Request | Change) -> Violation | None:
        """Take the next record; return a violation if this record breaks the property."""

    def finish(self, index: int, end_time: float) -> list[Violation]:
        """Violations that show only once the trace has ended (default: none)."""
        return []
