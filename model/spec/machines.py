"""``transitions`` machines built from the lifecycle declaration: the literal executable spec.

The engine does not run these on its hot path (see :mod:`model.sim.dispatch`); tests run
them beside the engine and hold the engine to them, and the diagrams are drawn from
them. Guards and actions are looked up on the model as ``guard_<name>`` and
``action_<name>``, the names :mod:`model.sim.dispatch` binds.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from model.spec.lifecycles import Lifecycle, action_attr, guard_attr


def machine_config(lifecycle: Lifecycle) -> dict[str, Any]:
    """The keyword arguments for a ``transitions`` machine of ``lifecycle``."""
    transitions: list[dict[str, Any]] = []
    for t in lifecycle.transitions:
        spec: dict[str, Any] = {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
        if t.conditions:
            spec["conditions"] = [guard_attr(n) for n in t.conditions]
        if t.unless:
            spec["unless"] = [guard_attr(n) for n in t.unless]
        if t.action:
            spec["after"] = action_attr(t.action)
        transitions.append(spec)
    states = [{"name": s.name, "final": s.final} for s in lifecycle.states]
    return {
        "states": states,
        "transitions": transitions,
        "initial": lifecycle.initial,
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
        "name": lifecycle.name,
    }


def build_machine(lifecycle: Lifecycle, model: object, initial: str | None = None) -> Machine:
    """A ``transitions.Machine`` driving ``model`` (whose ``state`` attribute it owns)."""
    config = machine_config(lifecycle)
    if initial is not None:
        config["initial"] = initial
    return Machine(model=model, **config)
