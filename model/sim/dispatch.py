"""The engine's dispatcher, compiled from the lifecycle declaration into a table.

A ``transitions.Machine`` trigger costs microseconds and ``Machine.add_model`` grows
quadratically with the number of models, which rules it out for a million jobs. The
engine therefore fires transitions through this table instead: same declaration,
same semantics as ``transitions`` (transitions for one trigger and source are tried
in declaration order, the first whose ``conditions`` all hold and whose ``unless``
all fail is taken, its ``after`` action runs after the state change; none passing
leaves the state unchanged). ``tests/test_dispatch_equivalence.py`` holds the two to
identical states and callbacks on random trigger sequences.

Each trigger has one function (:attr:`Dispatcher.fire`) that selects the step from the
table and fires it: the observer, the state change, the failure reason and the trace
record, ``on_final``, the action and the cascade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from mypy_extensions import mypyc_attr

from model.sim.clock import Clock
from model.sim.entities import Stateful, Traced
from model.spec.lifecycles import Lifecycle, Transition, action_attr, guard_attr
from model.trace import Emitter

ARM_MAX_TIME = "arm_max_time"
"""The action that starts a session's max_time clock: its trace line records the max_time."""


class HasState(Protocol):
    state: str


E = TypeVar("E", bound=HasState)
Guard = Callable[[Any], bool]
Action = Callable[[Any], None]


@mypyc_attr(native_class=False)
class InvalidTrigger(RuntimeError):
    """A trigger fired in a state that declares no transition for it: an engine bug."""


@dataclass(frozen=True, slots=True)
class Step:
    """One compiled transition with its callbacks bound.

    The fields after ``action`` are precomputed from ``declared``: ``check`` is whether the
    guards let the step be taken, as one callable (None when the transition has no guards);
    the others copy the declaration's fields so that firing reads one object.
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
    """Whether its trace line records the session's max_time (it arms the clock, or ``records_max_time``)."""
    bare: bool = False
    """Whether firing it does nothing beyond the state change and the action: no failure reason or trace
    record to write, no final state to announce, no cascade (set by the dispatcher, which knows the trace)."""


Observer = Callable[[str, Any, str, Step], None]
"""Called as (lifecycle name, entity, trigger, chosen step) just before a state change."""


def _check(conditions: tuple[Guard, ...], unless: tuple[Guard, ...]) -> Guard | None:
    """Whether a step's guards let it be taken, as one callable; None when it has no guards.

    Guards are pure questions, so the order they are asked in cannot change the answer: the ``unless``
    guards go first, short-circuiting, because a veto is typically a glance at a field while a condition
    may search a queue (the scheduler's ``held_for_active_session`` before ``fair_share_job_waiting``).
    """
    if not conditions and not unless:
        return None
    if len(conditions) == 1 and not unless:
        return conditions[0]
    if len(conditions) == 1 and len(unless) == 1:
        cond, veto = conditions[0], unless[0]
        return lambda entity: not veto(entity) and cond(entity)
    return lambda entity: not any(g(entity) for g in unless) and all(g(entity) for g in conditions)


class Dispatcher(Generic[E]):
    """State x trigger -> ordered candidate steps, with callbacks resolved once by ``bind``.

    The entities fired on are :class:`~model.sim.entities.Stateful` (the trigger functions read and set
    their ``state`` as a field; traced ones, :class:`~model.sim.entities.Traced`).
    ``name``, ``entity`` and ``traced`` copy the lifecycle's fields for the engine's hot
    path; ``observer`` is the engine's observer for this lifecycle (None: nobody watches).
    ``on_final`` (None: nobody) is called with an entity that has just entered a final state
    (its state, reason and trace record set, the step's action and cascade still to come):
    how a client learns that its job ended without observing every transition.
    ``fire`` maps each trigger to its function (:class:`Trigger`), which records on ``emit``
    (:meth:`Emitter.change`, with the time of ``clock``; no record at all when ``emit`` is None) and
    hands a step's ``cascade`` to ``cascade``. The functions of ``optional`` triggers return None in a state
    that does not declare them, where the others raise InvalidTrigger: the engine attempts a
    dispatch whenever the device may have come free, and the declaration says where it applies.
    """

    __slots__ = ("entity", "fire", "lifecycle", "name", "observer", "on_final", "table", "traced")

    def __init__(
        self,
        lifecycle: Lifecycle,
        bind: Callable[[str], Callable[[Any], Any]],
        *,
        clock: Clock | None = None,
        emit: Emitter | None = None,
        cascade: Callable[[Any, str], None] | None = None,
        optional: Iterable[str] = (),
    ) -> None:
        self.lifecycle = lifecycle
        self.name = lifecycle.name
        self.entity = lifecycle.entity
        self.traced = lifecycle.traced
        table: dict[str, dict[str, tuple[Step, ...]]] = {s: {} for s in lifecycle.state_names}
        final = lifecycle.final_states
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
                arms_max_time=transition.action == ARM_MAX_TIME or transition.records_max_time,
                bare=(
                    not (self.traced and (emit is not None or transition.reason is not None))
                    and transition.dest not in final and transition.cascade is None
                ),
            )
            for source in transition.source:
                row = table[source]
                row[transition.trigger] = (*row.get(transition.trigger, ()), step)
        self.table = table
        self.observer: Observer | None = None
        self.on_final: Callable[[Any], None] | None = None
        skippable = frozenset(optional)
        self.fire: dict[str, Trigger] = {
            trigger: Trigger(self, trigger, clock=clock, emit=emit, cascade=cascade, optional=trigger in skippable)
            for trigger in lifecycle.triggers
        }

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


class Trigger:
    """The function that fires one trigger on an entity: :meth:`Dispatcher.select` on the trigger's rows, then
    the step; it returns the step taken, or None if every guard refuses.

    Firing a step calls the observer, changes the state, sets the failure reason and records
    the change (traced lifecycles; no record at all when ``emit`` is None), calls ``on_final``
    (into a final state), the action and the cascade, in that order. The hooks are read at fire
    time (they may be set later). In a state that does not declare the trigger it raises
    InvalidTrigger, or returns None for an ``optional`` trigger.

    Call it, or call :meth:`on`: the same, a direct call from compiled code, where calling the object goes
    through Python's call protocol (the engine's parts fire several triggers a job).
    """

    __slots__ = (
        "cascade", "clock", "dispatcher", "final", "kind", "name", "optional", "recorder", "rows", "traced", "trigger",
    )

    def __init__(
        self,
        dispatcher: Dispatcher[Any],
        trigger: str,
        *,
        clock: Clock | None,
        emit: Emitter | None,
        cascade: Callable[[Any, str], None] | None,
        optional: bool,
    ) -> None:
        self.dispatcher = dispatcher
        self.trigger = trigger
        self.name, self.kind, self.traced = dispatcher.name, dispatcher.entity, dispatcher.traced
        self.final = dispatcher.lifecycle.final_states
        self.rows = {state: row.get(trigger, ()) for state, row in dispatcher.table.items()}
        """Every state's candidate steps for the trigger; none where it is not declared."""
        self.recorder = emit if self.traced else None
        self.clock = clock
        self.cascade = cascade
        self.optional = optional

    def __call__(self, entity: Any, extra: tuple[str, ...] = (), /) -> Step | None:
        return self.on(entity, extra)

    def on(self, entity: Any, extra: tuple[str, ...] = ()) -> Step | None:
        """Fire the trigger on ``entity``; ``extra`` rule IDs precede the step's own on its trace line."""
        stateful: Stateful = entity  # its state, read and set natively when compiled
        source = stateful.state
        candidates = self.rows[source]
        for step in candidates:
            check = step.check
            if check is None or check(entity):
                break
        else:
            if not candidates and not self.optional:
                self.dispatcher.select(entity, self.trigger)  # raises InvalidTrigger
            return None
        dispatcher = self.dispatcher
        observer = dispatcher.observer
        if observer is not None:
            observer(self.name, entity, self.trigger, step)
        stateful.state = step.dest
        if step.bare:
            action = step.action
            if action is not None:
                action(entity)
            return step
        dest, reason = step.dest, step.reason
        if self.traced and reason is not None:
            entity.reason = reason
        recorder = self.recorder
        if recorder is not None:
            clock = self.clock
            assert clock is not None
            named: Traced = entity  # its fields, read natively when compiled
            recorder.change(
                clock.now, self.kind, named.id, named.backend_name, named.session_id, source, dest, self.trigger,
                extra + step.rules, reason, entity.max_time if step.arms_max_time else None,
            )
        if dest in self.final:
            on_final = dispatcher.on_final
            if on_final is not None:
                on_final(entity)
        action = step.action
        if action is not None:
            action(entity)
        cascade = self.cascade
        if step.cascade is not None and cascade is not None:
            cascade(entity, step.cascade)
        return step
