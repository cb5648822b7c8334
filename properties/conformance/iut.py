"""What an implementation under test (IUT) is to the conformance kit, in or out of process.

An IUT is an :class:`~model.sim.ops.Implementation` (the operations, applied by
:func:`model.sim.ops.apply`) that also reports the trace records it produced. A
*factory* builds a fresh one for each generated example from an :class:`IUTConfig`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from model.sim.devices import BackendConfig
from model.sim.ops import Implementation
from model.spec.interpretations import DEFAULT, Interpretation
from model.trace import Record


class AdapterError(Exception):
    """An implementation that cannot be plugged in (bad spec or command, import error, not callable): a usage error."""


class IUTFailure(Exception):
    """The IUT misbehaved: raised an exception, hung, died or wrote garbage."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class IUTConfig:
    """What an IUT is configured with for one example."""

    backends: tuple[BackendConfig, ...]
    interpretation: Interpretation = field(default_factory=lambda: DEFAULT)

    def limits(self) -> dict[str, dict[str, float]]:
        return {b.name: b.limits() for b in self.backends}


@runtime_checkable
class IUT(Implementation, Protocol):
    """The in-process adapter protocol. Return values are ignored."""

    def events(self) -> Iterable[Record | Mapping[str, Any]]: ...


Factory = Callable[[IUTConfig], IUT]
