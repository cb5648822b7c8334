"""A ``transitions`` shadow of the engine: the declaration run literally, beside the engine.

The engine fires transitions through its compiled dispatcher (``model.sim.dispatch``). The
shadow is an engine observer that keeps, for every session, job and backend the engine
touches, a real ``transitions.Machine`` built from the same declaration under the same
interpretation. On every fire it fires the same trigger on that machine, whose guards
ask the engine's own ``guard_<name>`` methods about the engine's entity and whose
actions only record, and it demands the machine land where the engine's chosen step
does, running the same action. This keeps ``transitions`` the executable spec the
engine is held to. It builds one machine per entity, so it is for small runs (tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions import Machine, MachineError

from model.sim.dispatch import Step
from model.sim.engine import Engine
from model.spec.lifecycles import Lifecycle, declared
from model.spec.machines import build_machine


class ShadowMismatch(AssertionError):
    """The engine took a step the ``transitions`` machine of the declaration does not take."""


class Probe:
    """The model of one shadow machine: guards delegate to the engine, actions are recorded."""

    def __init__(self, engine: Engine, entity: Any) -> None:
        self._engine = engine
        self._entity = entity
        self.acted: list[str] = []
        self.state = ""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("guard_"):
            guard: Callable[[Any], bool] = getattr(self._engine, name)
            entity = self._entity
            return lambda *_: bool(guard(entity))
        if name.startswith("action_"):
            acted = self.acted
            action = name.removeprefix("action_")
            return lambda *_: acted.append(action)
        raise AttributeError(name)


class Shadow:
    """Engine observer holding the engine to ``transitions`` machines of its declaration."""

    def __init__(self, engine: Engine, *, strict: bool = True) -> None:
        self.engine = engine
        self.strict = strict
        self.lifecycles: dict[str, Lifecycle] = {lc.name: lc for lc in declared(engine.interpretation)}
        self.machines: dict[tuple[str, str], tuple[Machine, Probe]] = {}
        self.errors: list[str] = []
        self.fired = 0

    @classmethod
    def attach(cls, engine: Engine, *, strict: bool = True) -> Shadow:
        """Make a shadow the engine's observer and return it."""
        shadow = cls(engine, strict=strict)
        engine.observer = shadow
        return shadow

    def __call__(self, lifecycle_name: str, entity: Any, trigger: str, step: Step) -> None:
        lifecycle = self.lifecycles[lifecycle_name]
        key = (lifecycle_name, str(entity.id))
        entry = self.machines.get(key)
        if entry is None:
            probe = Probe(self.engine, entity)
            entry = (build_machine(lifecycle, probe), probe)
            self.machines[key] = entry
        probe = entry[1]
        what = f"{lifecycle_name} {entity.id}"
        self.fired += 1
        if probe.state != entity.state:
            self._mismatch(f"{what}: shadow is in {probe.state}, engine in {entity.state}, before {trigger}")
            return
        probe.acted.clear()
        try:
            probe.trigger(trigger)
        except MachineError as error:
            self._mismatch(f"{what}: {trigger} from {entity.state} is refused by the declaration: {error.value}")
            return
        if probe.state != step.dest:
            self._mismatch(
                f"{what}: {trigger} from {entity.state} leads the shadow to {probe.state}, the engine to {step.dest}"
            )
            return
        expected = [step.declared.action] if step.declared.action else []
        if probe.acted != expected:
            self._mismatch(f"{what}: {trigger} runs actions {probe.acted} in the shadow, {expected} in the engine")
            return
        if step.dest in lifecycle.final_states:
            del self.machines[key]

    def _mismatch(self, message: str) -> None:
        self.errors.append(message)
        if self.strict:
            raise ShadowMismatch(message)
