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
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from model.lifecycles import Lifecycle, Transition

ARM_MAX_TIME = "arm_max_time"
"""The action that starts a session's max_time clock: its trace line records the max_time."""


class HasState(Protocol):
    state: str


E = TypeVar("E", bound=HasState)
Guard = Callable[[Any], bool]
Action = Callable[[Any], None]


class InvalidTrigger(RuntimeError):
    """A trigger fired in a state that declares no transition for it: an engine bug."""


@dataclass(frozen=True, slots=True)
class Step:
    """One compiled transition with its callbacks bound.

    The fields after ``action`` are precomputed from ``declared`` for the engine's hot
    path: ``check`` is ``permitted`` as one callable (None when the transition has no
    guards), the others copy the declaration's fields so that firing reads one object.
    """

    dest: str
    declared: Transition
    conditions: tuple[Guard, ...]
    unless: tuple[Guard, ...]
    action: Action | None
    check: Guard | None = field(default=None, compare=False)
    rules: tuple[str, ...] = ()
    reason: str | None = None
    cascade: str | None = None
    arms_max_time: bool = False

    def permitted(self, entity: object) -> bool:
        return all(g(entity) for g in self.conditions) and not any(g(entity) for g in self.unless)


Observer = Callable[[str, Any, str, Step], None]
"""Called as (lifecycle name, entity, trigger, chosen step) just before a state change."""


def _check(conditions: tuple[Guard, ...], unless: tuple[Guard, ...]) -> Guard | None:
    """``Step.permitted`` as one callable, guards evaluated in the same order (conditions, then unless)."""
    if not conditions and not unless:
        return None
    if len(conditions) == 1 and not unless:
        return conditions[0]
    if len(conditions) == 1 and len(unless) == 1:
        cond, veto = conditions[0], unless[0]
        return lambda entity: cond(entity) and not veto(entity)
    return lambda entity: all(g(entity) for g in conditions) and not any(g(entity) for g in unless)


def guard_attr(name: str) -> str:
    return f"guard_{name}"


def action_attr(name: str) -> str:
    return f"action_{name}"


class Dispatcher(Generic[E]):
    """State x trigger -> ordered candidate steps, with callbacks resolved once by ``bind``.

    ``name``, ``entity`` and ``traced`` copy the lifecycle's fields for the engine's hot
    path; ``observer`` is the engine's observer for this lifecycle (None: nobody watches).
    """

    __slots__ = ("entity", "lifecycle", "name", "observer", "table", "traced")

    def __init__(self, lifecycle: Lifecycle, bind: Callable[[str], Callable[[Any], Any]]) -> None:
        self.lifecycle = lifecycle
        self.name = lifecycle.name
        self.entity = lifecycle.entity
        self.traced = lifecycle.traced
        self.observer: Observer | None = None
        table: dict[str, dict[str, tuple[Step, ...]]] = {s: {} for s in lifecycle.state_names}
        for transition in lifecycle.transitions:
            conditions = tuple(bind(guard_attr(n)) for n in transition.conditions)
            unless = tuple(bind(guard_attr(n)) for n in transition.unless)
            step = Step(
                dest=transition.dest,
                declared=transition,
                conditions=conditions,
                unless=unless,
                action=bind(action_attr(transition.action)) if transition.action else None,
                check=_check(conditions, unless),
                rules=transition.rules,
                reason=transition.reason,
                cascade=transition.cascade,
                arms_max_time=transition.action == ARM_MAX_TIME,
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
            check = step.check
            if check is None or check(entity):
                return step
        return None
