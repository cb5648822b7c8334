"""The engine's compiled dispatcher takes exactly the transitions `transitions` takes.

Random trigger sequences with random guard outcomes are fed both to a
``transitions.Machine`` built from the declaration and to the compiled
:class:`~model.sim.dispatch.Dispatcher`; states, refusals and callbacks must match
step for step, for every lifecycle under every interpretation profile. The same holds
for the dispatcher's trigger functions (what the engine runs), and those
must also do exactly what selecting a step and firing it does: the observer, the
failure reason, the trace record, ``on_final``, the action and the cascade, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transitions import MachineError

from model.sim.clock import Clock
from model.sim.dispatch import Dispatcher, InvalidTrigger, Step
from model.sim.entities import Traced
from model.spec.interpretations import profiles
from model.spec.lifecycles import LIFECYCLES, Lifecycle, guard_names
from model.spec.machines import build_machine
from model.trace import Change, emitter


class Probe(Traced):
    """A model whose guards answer from an oracle and whose actions only record."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.oracle: dict[str, bool] = {}
        self.calls: list[str] = []
        # What a traced fire reads from an entity.
        self.id, self.backend_name, self.session_id, self.max_time = "x1", "b0", None, 60.0
        self.reason: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("guard_"):
            return lambda *args, **kwargs: self.oracle[name.removeprefix("guard_")]
        if name.startswith("action_"):
            return lambda *args, **kwargs: self.calls.append(name.removeprefix("action_"))
        raise AttributeError(name)


def _bind(name: str) -> Any:
    return lambda entity: getattr(entity, name)()


def _fire_dispatcher(dispatcher: Dispatcher[Any], probe: Probe, trigger: str) -> str:
    try:
        step = dispatcher.select(probe, trigger)
    except InvalidTrigger:
        return "invalid"
    if step is None:
        return "refused"
    probe.state = step.dest
    if step.action is not None:
        step.action(probe)
    return "taken"


def _fire_trigger(dispatcher: Dispatcher[Any], probe: Probe, trigger: str) -> str:
    try:
        step = dispatcher.fire[trigger](probe)
    except InvalidTrigger:
        return "invalid"
    return "refused" if step is None else "taken"


def _fire_machine(model: Any, trigger: str) -> str:
    try:
        taken = model.trigger(trigger)
    except MachineError:
        return "invalid"
    return "taken" if taken else "refused"


GUARDS = guard_names()
CASES = [(name, lc) for name, interp in profiles().items() for lc in (x.under(interp) for x in LIFECYCLES)]


def _steps(lifecycle: Lifecycle) -> st.SearchStrategy[list[tuple[str, dict[str, bool]]]]:
    oracle = st.fixed_dictionaries({g: st.booleans() for g in GUARDS})
    return st.lists(st.tuples(st.sampled_from(lifecycle.triggers), oracle), max_size=25)


@pytest.mark.rule("SCHED-PRIORITY", "SCHED-FAIRSHARE", "SCHED-ONE-AT-A-TIME")
@pytest.mark.parametrize("fire", [_fire_dispatcher, _fire_trigger], ids=["select", "trigger"])
@pytest.mark.parametrize(("profile", "lifecycle"), CASES, ids=[f"{p}:{lc.name}" for p, lc in CASES])
def test_fast_paths_match_transitions(
    profile: str, lifecycle: Lifecycle, fire: Callable[[Dispatcher[Any], Probe, str], str]
) -> None:
    """Selecting from the table and the trigger functions both fire as `transitions` does."""

    @given(_steps(lifecycle))
    def run(steps: list[tuple[str, dict[str, bool]]]) -> None:
        fast = Probe(lifecycle.initial)
        spec = Probe(lifecycle.initial)
        build_machine(lifecycle, spec)
        dispatcher: Dispatcher[Any] = Dispatcher(lifecycle, _bind)
        for trigger, oracle in steps:
            fast.oracle = spec.oracle = oracle
            outcome_fast = fire(dispatcher, fast, trigger)
            outcome_spec = _fire_machine(spec, trigger)
            assert outcome_fast == outcome_spec, (trigger, fast.state)
            assert fast.state == spec.state
            assert fast.calls == spec.calls

    run()


NOW = 12.5


def _clock() -> Clock:
    clock = Clock()
    clock.now = NOW
    return clock


def _reference_fire(
    dispatcher: Dispatcher[Any], probe: Probe, trigger: str, extra: tuple[str, ...], log: list[Any]
) -> Step | None:
    """Select the step and fire it by hand: what a trigger function must do."""
    step = dispatcher.select(probe, trigger)
    if step is None:
        return None
    log.append(("observer", dispatcher.name, trigger, step))
    src = probe.state
    probe.state = step.dest
    if dispatcher.traced:
        if step.reason is not None:
            probe.reason = step.reason
        log.append(Change(
            NOW, dispatcher.entity, probe.id, probe.backend_name, probe.session_id, src, step.dest,
            trigger, extra + step.rules, step.reason, probe.max_time if step.arms_max_time else None,
        ))
    if step.dest in dispatcher.lifecycle.final_states:
        log.append(("final", probe.state))
    if step.action is not None:
        step.action(probe)  # logs itself (see the test's bind)
    if step.cascade is not None:
        log.append(("cascade", step.cascade))
    return step


@pytest.mark.parametrize(("profile", "lifecycle"), CASES, ids=[f"{p}:{lc.name}" for p, lc in CASES])
def test_trigger_functions_fire_as_select_does(profile: str, lifecycle: Lifecycle) -> None:
    """Observer, reason, trace record, on_final, action and cascade: the same, in the same order."""
    extras = st.sampled_from([(), ("WHY-1",), ("WHY-1", "WHY-2")])
    oracles = st.fixed_dictionaries({g: st.booleans() for g in GUARDS})

    @given(st.lists(st.tuples(st.sampled_from(lifecycle.triggers), oracles, extras), max_size=25))
    def run(steps: list[tuple[str, dict[str, bool], tuple[str, ...]]]) -> None:
        fired: list[Any] = []  # what the trigger functions did, in order
        expected: list[Any] = []  # what selecting and firing by hand did

        def bind(name: str) -> Any:
            callback = _bind(name)
            if not name.startswith("action_"):
                return callback

            def action(entity: Probe) -> None:
                callback(entity)
                (fired if entity is probe else expected).append(("action", entity.calls[-1]))

            return action

        probe, reference = Probe(lifecycle.initial), Probe(lifecycle.initial)
        dispatcher: Dispatcher[Any] = Dispatcher(
            lifecycle, bind, clock=_clock(), emit=emitter(fired.append),
            cascade=lambda entity, trigger: fired.append(("cascade", trigger)),
        )
        dispatcher.observer = lambda name, entity, trigger, step: fired.append(("observer", name, trigger, step))
        dispatcher.on_final = lambda entity: fired.append(("final", entity.state))
        for trigger, oracle, extra in steps:
            probe.oracle = reference.oracle = oracle
            try:
                want = _reference_fire(dispatcher, reference, trigger, extra, expected)
            except InvalidTrigger:
                with pytest.raises(InvalidTrigger):
                    dispatcher.fire[trigger](probe, extra)
                continue
            assert dispatcher.fire[trigger](probe, extra) is want
            assert (probe.state, probe.reason, probe.calls) == (reference.state, reference.reason, reference.calls)
            assert fired == expected

    run()


def test_an_optional_trigger_is_a_no_op_where_it_is_not_declared() -> None:
    scheduler = next(lc for lc in LIFECYCLES if lc.name == "scheduler").under(profiles()["default"])
    dispatcher: Dispatcher[Any] = Dispatcher(scheduler, _bind, optional=("dispatch",))
    busy = Probe("busy")
    assert dispatcher.fire["dispatch"](busy) is None and busy.state == "busy" and not busy.calls
    with pytest.raises(InvalidTrigger):
        Dispatcher(scheduler, _bind).fire["dispatch"](busy)
    idle = Probe("idle")
    idle.oracle = dict.fromkeys(GUARDS, True)
    assert dispatcher.fire["dispatch"](idle) is not None and idle.state == "busy"


def test_first_passing_transition_wins_in_declaration_order() -> None:
    """Two permitted dispatch transitions: both implementations take the first declared."""
    scheduler = next(lc for lc in LIFECYCLES if lc.name == "scheduler").under(profiles()["default"])
    oracle = dict.fromkeys(GUARDS, True) | {"held_for_active_session": False}
    fast, spec = Probe("idle"), Probe("idle")
    build_machine(scheduler, spec)
    fast.oracle = spec.oracle = oracle
    _fire_dispatcher(Dispatcher(scheduler, _bind), fast, "dispatch")
    spec.trigger("dispatch")  # added to the model by transitions
    assert fast.calls == spec.calls == ["start_session_job"]
