"""Where each rule is encoded: derived from the declaration, the validations and the API.

Nothing here is a second copy of the spec: transitions, timers and validations are
read from their declarations; parameters and API behaviours are named by dotted
path and a test resolves every path, so this list cannot drift from the code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from model.spec.lifecycles import LIFECYCLES, Transition
from model.spec.rules import RULES
from model.spec.validations import VALIDATIONS


@dataclass(frozen=True)
class Encoding:
    kind: str
    """transition, timer, validation, parameter or api."""
    where: str
    rules: tuple[str, ...]


PARAMETERS: tuple[Encoding, ...] = (
    Encoding("parameter", "model.spec.lifecycles.INTERACTIVE_TIMEOUT", ("TTL-INTERACTIVE-VALUE",)),
    Encoding("parameter", "model.sim.devices.PHYSICAL_SYSTEM_MAX_TIME", ("MAXTIME-SYSTEM-LIMIT",)),
    Encoding("parameter", "model.sim.devices.simulator", ("MAXTIME-SYSTEM-LIMIT",)),
    Encoding("parameter", "model.spec.max_time.parse_max_time", ("MAXTIME-FORMAT", "MAXTIME-PARAM")),
    Encoding("parameter", "model.sim.engine.Engine.effective_max_time", ("MAXTIME-DEFAULT", "MAXTIME-PARAM")),
    Encoding("parameter", "model.sim.entities.SessionRecord.head", ("SCHED-SESSION-FIFO",)),
    Encoding("parameter", "model.spec.profiles.PROFILES", (
        "PLATFORM-ITTL-60S", "PLATFORM-UNUSED-CLOSES", "PLATFORM-SESSION-EXCLUSIVE", "PLATFORM-MAXTIME-DEFAULT",
        "PLATFORM-EXPIRY-RUNNING-FINISH",
    )),
    Encoding("parameter", "model.spec.lifecycles.SESSION", ("PLATFORM-STATES",)),
    Encoding("api", "model.sim.engine.Engine.submit", ("SCHED-SUBMIT-WHILE-RUNNING", "SESSION-GROUPS-JOBS")),
    Encoding("api", "model.sim.device.Device.action_arm_max_execution_time", ("DEVICE-RUNS-DURATION",)),
    Encoding("api", "model.sim.engine.Engine.inject_fault", ("DEVICE-RUNS-DURATION",)),
)

API: tuple[Encoding, ...] = (
    Encoding("api", "model.runtime.Session.__exit__", ("CONTEXT-CLOSE",)),
    Encoding("api", "model.runtime.Session.close", ("SESSION-CLOSE",)),
    Encoding("api", "model.runtime.Session.__init__", ("BACKEND-NAME-OR-OBJECT", "BACKEND-REQUIRED", "BACKEND-FIXED")),
    Encoding("api", "model.runtime.Estimator.__init__", ("CONTEXT-PRIMITIVES", "BACKEND-FIXED")),
    Encoding("api", "model.runtime.Sampler.__init__", ("CONTEXT-PRIMITIVES", "BACKEND-FIXED")),
)


def _describe(lifecycle: str, t: Transition) -> str:
    guard = ""
    if t.conditions or t.unless:
        parts = [*t.conditions, *(f"not {n}" for n in t.unless)]
        guard = f" [{' and '.join(parts)}]"
    only = f" (only if {', '.join(f'{k}={v}' for k, v in t.only_if)})" if t.only_if else ""
    timer = f" (timer {t.timer})" if t.timer else ""
    return f"{lifecycle}: {'|'.join(t.source)} -> {t.dest} on {t.trigger}{guard}{timer}{only}"


def encodings(profile: str | None = None) -> tuple[Encoding, ...]:
    """Every encoding, in declaration order; with ``profile``, only the transitions and timers declared under it."""
    found: list[Encoding] = []
    for lc in LIFECYCLES:
        found.extend(
            Encoding("transition", _describe(lc.name, t), t.rules) for t in lc.transitions
            if profile is None or profile in t.profiles
        )
        found.extend(
            Encoding("timer", f"{lc.name} timer {timer.name} ({timer.duration}) fires {timer.trigger}", timer.rules)
            for timer in lc.timers if profile is None or profile in timer.profiles
        )
    found.extend(Encoding("validation", f"rejects {v.refuses} ({v.code})", v.rules) for v in VALIDATIONS)
    found.extend(PARAMETERS)
    found.extend(API)
    return tuple(found)


def encodings_by_rule(profile: str | None = None) -> dict[str, list[Encoding]]:
    table: dict[str, list[Encoding]] = defaultdict(list)
    for encoding in encodings(profile):
        for rule_id in encoding.rules:
            table[rule_id].append(encoding)
    return {rule.id: table.get(rule.id, []) for rule in RULES}
