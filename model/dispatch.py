"""The engine's fast dispatcher, compiled from the lifecycle declaration.

A ``transitions.Machine`` trigger costs microseconds and ``Machine.add_model`` grows
quadratically with the number of models, which rules it out for a million jobs. The
engine therefore fires transitions through this table instead: same declaration,
same semantics as ``transitions`` (transitions for one trigger and source are tried
in declaration order, the first whose ``conditions`` all hold and whose ``unless``
all fail is taken, its ``after`` action runs after the state change; none passing
leaves the state unchanged). ``tests/test_dispatch_equivalence.py`` holds the two to
identical states and callbacks on random trigger sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from model.lifecycles import Lifecycle, Transition


class HasState(Protocol):
    state: str


E = TypeVar("E", bound=HasState)
Guard = Callable[[Any], bool]
Action = Callable[[Any], None]


class InvalidTrigger(RuntimeError):
    """A trigger fired in a state that declares no transition for it: an engine bug."""


@dataclass(frozen=True, slots=True)
class Step:
    """One compiled transition with its callbacks bound."""

    dest: str
    declared: Transition
    conditions: tuple[Guard, ...]
    unless: tuple[Guard, ...]
    action: Action | None

    @property
    def rules(self) -> tuple[str, ...]:
        return self.declared.rules

    def permitted(self, entity: object) -> bool:
        return all(g(entity) for g in self.conditions) and not any(g(entity) for g in self.unless)


def guard_attr(name: str) -> str:
    return f"guard_{name}"


def action_attr(name: str) -> str:
    return f"action_{name}"


class Dispatcher(Generic[E]):
    """State x trigger -> ordered candidate steps, with callbacks resolved once by ``bind``."""

    __slots__ = ("lifecycle", "table")

    def __init__(self, lifecycle: Lifecycle, bind: Callable[[str], Callable[[Any], Any]]) -> None:
        self.lifecycle = lifecycle
        table: dict[str, dict[str, tuple[Step, ...]]] = {s: {} for s in lifecycle.state_names}
        for transition in lifecycle.transitions:
            step = Step(
                dest=transition.dest,
                declared=transition,
                conditions=tuple(bind(guard_attr(n)) for n in transition.conditions),
                unless=tuple(bind(guard_attr(n)) for n in transition.unless),
                action=bind(action_attr(transition.action)) if transition.action else None,
            )
            for source in transition.source:
                row = table[source]
                row[transition.trigger] = (*row.get(transition.trigger, ()), step)
        self.table = table

    def allows(self, state: str, trigger: str) -> bool:
        """Whether ``trigger`` is declared at all in ``state`` (guards aside)."""
        return trigger in self.table[state]

    def select(self, entity: E, trigger: str) -> Step | None:
        """The step ``trigger`` takes from the entity's state, or None if every guard refuses."""
        candidates = self.table[entity.state].get(trigger)
        if candidates is None:
            raise InvalidTrigger(
                f"{self.lifecycle.name}: trigger {trigger!r} is not declared in state {entity.state!r}"
            )
        for step in candidates:
            if not step.conditions and not step.unless:
                return step
            if step.permitted(entity):
                return step
        return None
