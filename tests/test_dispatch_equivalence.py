"""The engine's compiled dispatcher takes exactly the transitions `transitions` takes.

Random trigger sequences with random guard outcomes are fed both to a
``transitions.Machine`` built from the declaration and to the compiled
:class:`~model.dispatch.Dispatcher`; states, refusals and callbacks must match
step for step, for every lifecycle under every interpretation profile.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from transitions import MachineError

from model.dispatch import Dispatcher, InvalidTrigger
from model.interpretations import profiles
from model.lifecycles import LIFECYCLES, Lifecycle, guard_names
from model.machines import build_machine


class Probe:
    """A model whose guards answer from an oracle and whose actions only record."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.oracle: dict[str, bool] = {}
        self.calls: list[str] = []

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
@pytest.mark.parametrize(("profile", "lifecycle"), CASES, ids=[f"{p}:{lc.name}" for p, lc in CASES])
def test_dispatcher_matches_transitions(profile: str, lifecycle: Lifecycle) -> None:
    @given(_steps(lifecycle))
    def run(steps: list[tuple[str, dict[str, bool]]]) -> None:
        fast = Probe(lifecycle.initial)
        spec = Probe(lifecycle.initial)
        build_machine(lifecycle, spec)
        dispatcher: Dispatcher[Any] = Dispatcher(lifecycle, _bind)
        for trigger, oracle in steps:
            fast.oracle = spec.oracle = oracle
            outcome_fast = _fire_dispatcher(dispatcher, fast, trigger)
            outcome_spec = _fire_machine(spec, trigger)
            assert outcome_fast == outcome_spec, (trigger, fast.state)
            assert fast.state == spec.state
            assert fast.calls == spec.calls

    run()


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
