"""The engine's fast dispatcher, compiled from the lifecycle declaration.

A ``transitions.Machine`` trigger costs microseconds and ``Machine.add_model`` grows
quadratically with the number of models, which rules it out for a million jobs. The
engine therefore fires transitions through this table instead: same declaration,
same semantics as ``transitions`` (transitions for one trigger and source are tried
in declaration order, the first whose ``conditions`` all hold and whose ``unless``
all fail is taken, its ``after`` action runs after the state change; none passing
leaves the state unchanged). ``tests/test_dispatch_equivalence.py`` holds the two to
identical states and callbacks on random trigger sequences.

For the engine's hot path each dispatcher also generates, from the same table, one
Python function per trigger (:func:`compile_triggers`): the state tests, guard calls,
state change, trace record, action and cascade of every candidate step written out as
straight-line code, so that firing costs no table lookups, no generic loops and no
record when nobody reads the trace. ``tests/test_dispatch_equivalence.py`` holds these
to ``transitions`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, Generic, Protocol, TypeVar

from model.lifecycles import Lifecycle, Transition
from model.trace import Change, Sink

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


class Clock(Protocol):
    """What a traced fire reads the time of its record from (the engine)."""

    now: float


class Fire(Protocol):
    """A generated trigger function: fires it on ``entity``; the step taken, or None if every guard refuses.

    ``extra`` are rule IDs that precede the step's own on the trace line (why the scheduler chose it).
    """

    def __call__(self, entity: Any, extra: tuple[str, ...] = (), /) -> Step | None: ...


class Dispatcher(Generic[E]):
    """State x trigger -> ordered candidate steps, with callbacks resolved once by ``bind``.

    ``name``, ``entity`` and ``traced`` copy the lifecycle's fields for the engine's hot
    path; ``observer`` is the engine's observer for this lifecycle (None: nobody watches).
    ``on_final`` (None: nobody) is called with an entity that has just entered a final state
    (its state, reason and trace record set, the step's action and cascade still to come):
    how a client learns that its job ended without observing every transition.
    ``fire`` maps each trigger to its generated function (:func:`compile_triggers`), which
    records on ``emit`` with the time of ``clock`` (no record at all when ``emit`` is None)
    and hands a step's ``cascade`` to ``cascade``. The functions of ``optional`` triggers
    return None in a state that does not declare them, where the others raise InvalidTrigger:
    the engine attempts a dispatch whenever the device may have come free, and the
    declaration says where it applies.
    """

    __slots__ = ("entity", "fire", "lifecycle", "name", "namespace", "table", "traced")

    def __init__(
        self,
        lifecycle: Lifecycle,
        bind: Callable[[str], Callable[[Any], Any]],
        *,
        clock: Clock | None = None,
        emit: Sink | None = None,
        cascade: Callable[[Any, str], None] | None = None,
        optional: Iterable[str] = (),
    ) -> None:
        self.lifecycle = lifecycle
        self.name = lifecycle.name
        self.entity = lifecycle.entity
        self.traced = lifecycle.traced
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
        self.namespace: dict[str, Any] = {"observer": None, "on_final": None}
        """The generated functions' globals: the hooks live here, so that firing reads them as globals."""
        import os
        if os.environ.get("DISPATCH_PLAIN"):
            self.fire = {
                t: _plain_fire(self, t, clock=clock, emit=emit, cascade=cascade, optional=frozenset(optional))
                for t in lifecycle.triggers
            }
        else:
            self.fire = compile_triggers(
                self, clock=clock, emit=emit, cascade=cascade, optional=frozenset(optional)
            )

    @property
    def observer(self) -> Observer | None:
        observer: Observer | None = self.namespace["observer"]
        return observer

    @observer.setter
    def observer(self, observer: Observer | None) -> None:
        self.namespace["observer"] = observer

    @property
    def on_final(self) -> Callable[[Any], None] | None:
        hook: Callable[[Any], None] | None = self.namespace["on_final"]
        return hook

    @on_final.setter
    def on_final(self, hook: Callable[[Any], None] | None) -> None:
        self.namespace["on_final"] = hook

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


_compiled: dict[str, CodeType] = {}
"""Generated source -> its code object: compiling costs a millisecond per engine, and tests build thousands."""


def compile_triggers(
    dispatcher: Dispatcher[Any],
    *,
    clock: Clock | None = None,
    emit: Sink | None = None,
    cascade: Callable[[Any, str], None] | None = None,
    optional: frozenset[str] = frozenset(),
) -> dict[str, Fire]:
    """Generate, for each trigger, the function that fires it: the dispatcher's table written out as code.

    For each source state that declares the trigger, its candidate steps in table order: the
    guards as one condition (conditions in order, then unless, short-circuiting as
    ``transitions`` evaluates them), then what :meth:`Dispatcher.select` plus firing do with
    the first that passes: the observer, the state, the failure reason and the trace record
    (traced lifecycles), ``on_final`` (into a final state), the action, the cascade. A state
    that does not declare the trigger goes to ``select``, which raises InvalidTrigger (for an
    ``optional`` trigger: None, nothing fired). The functions share the dispatcher's
    ``namespace`` as globals, where the hooks are read at fire time (they may be set later).
    Names there: ``S<i>`` steps, ``G<i>`` guards, ``A<i>`` actions; each function's
    ``__doc__`` is its source.
    """
    namespace = dispatcher.namespace
    namespace.update({
        "select": dispatcher.select, "clock": clock, "emit": emit, "cascade": cascade,
        "new_record": tuple.__new__, "Change": Change,
    })
    guards: dict[Guard, str] = {}
    counts: dict[str, int] = {}

    def name(prefix: str, value: object) -> str:
        n = counts[prefix] = counts.get(prefix, -1) + 1
        label = f"{prefix}{n}"
        namespace[label] = value
        return label

    def guard(callback: Guard) -> str:
        label = guards.get(callback)
        if label is None:
            label = guards[callback] = name("G", callback)
        return label

    tracing = dispatcher.traced and emit is not None
    final = dispatcher.lifecycle.final_states
    fires: dict[str, Fire] = {}
    for trigger in dispatcher.lifecycle.triggers:
        sources = [(state, row[trigger]) for state, row in dispatcher.table.items() if trigger in row]
        lines = [f"def fire_{trigger}(entity, extra=(), /):"]
        if len(sources) > 1:
            lines.append("    state = entity.state")
        for source, candidates in sources:
            lines.append(f"    if {'state' if len(sources) > 1 else 'entity.state'} == {source!r}:")
            for step in candidates:
                label = name("S", step)
                tests = [f"{guard(g)}(entity)" for g in step.conditions]
                tests += [f"not {guard(g)}(entity)" for g in step.unless]
                indent = "        "
                if tests:
                    lines.append(f"        if {' and '.join(tests)}:")
                    indent += "    "
                body = [
                    "if observer is not None:",
                    f"    observer({dispatcher.name!r}, entity, {trigger!r}, {label})",
                    f"entity.state = {step.dest!r}",
                ]
                if dispatcher.traced and step.reason is not None:
                    body.append(f"entity.reason = {step.reason!r}")
                if tracing:
                    max_time = "entity.max_time" if step.arms_max_time else "None"
                    body.append(
                        f"emit(new_record(Change, (clock.now, {dispatcher.entity!r}, entity.id, "
                        f"entity.backend_name, entity.session_id, {source!r}, {step.dest!r}, {trigger!r}, "
                        f"extra + {step.rules!r}, {step.reason!r}, {max_time})))"
                    )
                if step.dest in final:
                    body += ["if on_final is not None:", "    on_final(entity)"]
                if step.action is not None:
                    body.append(f"{name('A', step.action)}(entity)")
                if step.cascade is not None and cascade is not None:
                    body.append(f"cascade(entity, {step.cascade!r})")
                body.append(f"return {label}")
                lines += [indent + line for line in body]
                if not tests:
                    break  # an unguarded step always passes: later candidates are unreachable
            else:
                lines.append("        return None")
        lines.append("    return None" if trigger in optional else f"    return select(entity, {trigger!r})")
        source_text = "\n".join(lines) + "\n"
        code = _compiled.get(source_text)
        if code is None:  # the same lifecycle, interpretation and options give the same text: compile it once
            code = _compiled[source_text] = compile(source_text, f"<{dispatcher.name}>", "exec")
        exec(code, namespace)
        fire: Fire = namespace.pop(f"fire_{trigger}")
        fire.__doc__ = source_text  # the generated code, for whoever wonders what runs
        fires[trigger] = fire
    return fires


def _plain_fire(
    dispatcher: Dispatcher[Any],
    trigger: str,
    *,
    clock: Clock | None,
    emit: Sink | None,
    cascade: Callable[[Any, str], None] | None,
    optional: frozenset[str],
) -> Fire:
    name, kind, traced = dispatcher.name, dispatcher.entity, dispatcher.traced
    final = dispatcher.lifecycle.final_states
    rows = {
        state: tuple(
            (s.check, s, s.dest, s.reason if traced else None, s.dest in final, s.action,
             s.cascade if cascade is not None else None)
            for s in row[trigger]
        )
        for state, row in dispatcher.table.items() if trigger in row
    }
    record = emit if traced else None
    is_optional = trigger in optional
    namespace = dispatcher.namespace
    select = dispatcher.select

    def fire(entity: Any, extra: tuple[str, ...] = (), /) -> Step | None:
        source = entity.state
        candidates = rows.get(source)
        if candidates is None:
            return None if is_optional else select(entity, trigger)
        for check, step, dest, reason, is_final, action, then in candidates:
            if check is None or check(entity):
                break
        else:
            return None
        observer = namespace["observer"]
        if observer is not None:
            observer(name, entity, trigger, step)
        entity.state = dest
        if reason is not None:
            entity.reason = reason
        if record is not None:
            assert clock is not None
            record(Change(
                clock.now, kind, entity.id, entity.backend_name, entity.session_id, source, dest, trigger,
                extra + step.rules, reason, entity.max_time if step.arms_max_time else None,
            ))
        if is_final:
            on_final = namespace["on_final"]
            if on_final is not None:
                on_final(entity)
        if action is not None:
            action(entity)
        if then is not None:
            cascade(entity, then)  # type: ignore[misc]
        return step

    return fire
