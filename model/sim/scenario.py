"""Scenario files: a workload for the reference engine, as JSON (docs/scenario-format.md).

A scenario names its backends, profile and interpretation, seed, optional background load and
timed client operations. Loading validates it against
``model/schemas/scenario.schema.json`` and reports the first problem as one line
naming the file and the JSON path (or line and column for malformed JSON).
Running it applies each operation at its virtual time; a request the spec rejects
is recorded on the trace and the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.sim.engine import Engine
from model.sim.fair_share import POLICIES, FairShare, weighted
from model.sim.ops import (
    CancelSession,
    EngineImplementation,
    Fault,
    Open,
    Operation,
    apply,
    decode_operations,
    named_ids,
)
from model.spec.interpretations import Interpretation, InterpretationError
from model.spec.profiles import DEFAULT_PROFILE
from model.trace import Sink, strict_json
from model.trace.timing import time_text

EVENT_LIMIT = 1_000_000
"""The most events a scenario run processes unless told otherwise (``simulate --max-events``): a heavy
background load with a far ``until``, or a run that never settles, stops with a clear error instead of
running (and writing its trace) without bound. The runtime API's ``max_events`` has the same default."""


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class Scenario:
    backends: tuple[BackendConfig, ...]
    operations: tuple[Operation, ...]
    interpretation: Interpretation = field(default_factory=Interpretation)
    seed: int = 0
    fair_share: Callable[[], FairShare] = POLICIES["fifo"]
    background: tuple[tuple[BackgroundLoad, float | None], ...] = ()
    until: float | None = None
    description: str = ""


@cache
def _validator() -> Draft202012Validator:
    """The scenario schema's validator, built on first use: jsonschema is loaded only by who reads a file."""
    from jsonschema import Draft202012Validator

    text = resources.files("model").joinpath("schemas/scenario.schema.json").read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(top level)"


def parse_scenario(data: object, source: str = "<scenario>", profile: str | None = None) -> Scenario:
    """Validate a decoded scenario document and build the :class:`Scenario`; ``profile`` replaces its own."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise ScenarioError(f"{source}: {_where(error)}: {error.message}")
    assert isinstance(data, dict)
    try:
        interpretation = Interpretation(data.get("interpretation", {}), profile or data.get("profile", DEFAULT_PROFILE))
    except InterpretationError as error:
        raise ScenarioError(f"{source}: interpretation: {error}") from None
    try:
        backends = tuple(
            BackendConfig(
                b["name"],
                system_max_time=float(b.get("system_max_time", BackendConfig.system_max_time)),
                program_max_execution_time=b.get("program_max_execution_time"),
                duration=Duration.from_json(b["duration"]) if "duration" in b else Duration(),
                fault_rate=float(b.get("fault_rate", 0.0)),
            )
            for b in data["backends"]
        )
        background = tuple(
            (
                BackgroundLoad(
                    load["backend"], float(load["jobs_per_hour"]),
                    Duration.from_json(load["duration"]) if "duration" in load else Duration.exponential(30.0),
                    load.get("group", "others"),
                ),
                load.get("until"),
            )
            for load in data.get("background", [])
        )
    except ValueError as error:
        raise ScenarioError(f"{source}: backends: {error}") from None
    names = [b.name for b in backends]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{source}: backends: duplicate backend name")
    for index, (load, _) in enumerate(background):
        if load.backend not in names:
            raise ScenarioError(f"{source}: background[{index}].backend: unknown backend {load.backend!r}")
    until = data.get("until")
    if until is None and any(load_until is None for _, load_until in background):
        raise ScenarioError(f"{source}: until: required when a background load has no until of its own")
    try:
        operations = decode_operations(data["operations"])
    except msgspec.ValidationError as error:  # what the schema lets through and the records do not (5.0 as an int)
        message, _, path = str(error).rpartition(" - at `$")
        raise ScenarioError(f"{source}: operations{path.rstrip('`')}: {message}") from None
    for index, op in enumerate(operations):
        if isinstance(op, CancelSession) and not interpretation.is_platform:
            raise ScenarioError(
                f"{source}: operations[{index}].op: cancel_session is an operation of profile platform, "
                f"not {interpretation.profile} (give \"profile\": \"platform\")"
            )
        if isinstance(op, Fault) and op.backend not in names:  # a device input, not a request the trace records
            raise ScenarioError(f"{source}: operations[{index}].backend: unknown backend {op.backend!r}")
        if isinstance(op, Open) and op.mode == "batch" and not interpretation.is_platform:
            raise ScenarioError(
                f"{source}: operations[{index}].mode: batch is a mode of profile platform, "
                f"not {interpretation.profile} (give \"profile\": \"platform\")"
            )
    for index in range(1, len(operations)):
        if operations[index].at < operations[index - 1].at:
            raise ScenarioError(
                f"{source}: operations[{index}].at: {data['operations'][index]['at']} is earlier than the operation "
                "before it"
            )
    policy = data.get("fair_share", {"policy": "fifo"})
    factory = weighted(policy.get("weights", {}).items()) if policy["policy"] == "weighted" else POLICIES["fifo"]
    return Scenario(
        backends, operations, interpretation, int(data.get("seed", 0)), factory, background,
        float(until) if until is not None else None, str(data.get("description", "")),
    )


def load_scenario(path: str | Path, profile: str | None = None) -> Scenario:
    """Read and validate a scenario file (``profile`` replacing its own); every problem is a one-line
    :class:`ScenarioError`."""
    source = str(path)
    try:
        with open(path, "rb") as stream:
            text = stream.read(strict_json.MAX_DOCUMENT + 1)
    except OSError as error:
        raise ScenarioError(f"{source}: cannot read: {error.strerror or error}") from None
    if len(text) > strict_json.MAX_DOCUMENT:
        raise ScenarioError(f"{source}: unusable input: larger than {strict_json.MAX_DOCUMENT:,} bytes")
    try:
        data = strict_json.loads(text)
    except strict_json.Unusable as error:
        raise ScenarioError(f"{source}:{error.line}: unusable input: {error.reason}") from None
    return parse_scenario(data, source, profile)


def run_scenario(scenario: Scenario, sink: Sink | None = None, max_events: int = EVENT_LIMIT) -> Engine:
    """Run a scenario to its ``until`` (or to quiescence) and return the engine.

    Raises :class:`ScenarioError` when the run needs more than ``max_events`` events (what was run
    until then is on the trace)."""
    if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
        raise ValueError(f"max_events must be a positive integer, got {max_events!r}")
    engine = Engine(
        scenario.backends, interpretation=scenario.interpretation, seed=scenario.seed, sink=sink,
        fair_share=scenario.fair_share,
    )
    engine.reserved_ids.update(named_ids(scenario.operations))
    for load, load_until in scenario.background:
        engine.add_background_load(load, until=load_until)
    start = engine.events_processed

    def spent() -> bool:
        return engine.events_processed - start >= max_events

    # The limit counts every event, those run on the way to an operation's time too (a heavy load
    # and a far operation would otherwise run unbounded).
    target = EngineImplementation(engine)
    for op in scenario.operations:
        if engine.run(stop=spent, until=op.at):
            due = engine.next_event_time
            if due is not None and due <= op.at:
                raise _stopped(engine, max_events, f"to reach the operation at t={time_text(op.at)}")
        engine.run_until(op.at)
        apply(target, op)
    if engine.run(stop=spent, until=scenario.until):
        due = engine.next_event_time
        if due is not None and (scenario.until is None or due <= scenario.until):
            goal = "to settle" if scenario.until is None else f"to reach until={time_text(scenario.until)}"
            raise _stopped(engine, max_events, goal)
    return engine


def _stopped(engine: Engine, max_events: int, goal: str) -> ScenarioError:
    return ScenarioError(
        f"the run stopped at t={time_text(engine.now)} after {max_events} events, before it was due {goal}; "
        "give a nearer until, a lighter background load, or a larger --max-events"
    )
