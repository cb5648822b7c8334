"""A scenario: the reference engine wired to an in-memory trace, plus views of that trace.

Scenario tests assert on the trace, not on engine internals, so that what they check
is what a conformance run of any implementation would be judged on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from model.sim.devices import PHYSICAL_SYSTEM_MAX_TIME, BackendConfig, Duration
from model.sim.engine import Engine
from model.sim.fair_share import FairShare, FifoQueue
from model.sim.ops import run_operations
from model.spec.interpretations import DEFAULT, Interpretation
from model.trace import Change, MemoryTrace, Request
from properties.conformance.campaign import DEFAULT_BACKENDS
from properties.conformance.draws import Op

B0 = "b0"
B1 = "b1"


def jsonl_lines(text: str) -> list[str]:
    """A JSON Lines text's lines, each with its newline: split at ``\n`` only (docs/trace-format.md), not as
    ``str.splitlines`` splits, which also breaks at U+0085 and U+2028, characters a JSON string may hold raw."""
    return [line + "\n" for line in text.split("\n")[:-1]]


def backend(
    name: str = B0,
    seconds: float = 10.0,
    *,
    system_max_time: float = PHYSICAL_SYSTEM_MAX_TIME,
    program_max_execution_time: float | None = None,
) -> BackendConfig:
    """A backend whose jobs take ``seconds`` unless the submission says otherwise."""
    return BackendConfig(
        name, system_max_time=system_max_time, program_max_execution_time=program_max_execution_time,
        duration=Duration.fixed(seconds),
    )


def engine_trace(
    ops: Sequence[Op], until: float, interpretation: Interpretation = DEFAULT, engine: type[Engine] = Engine
) -> MemoryTrace:
    """The trace of a campaign's operations on the reference engine (the campaign's backends), run to ``until``."""
    trace = MemoryTrace()
    run = engine(list(DEFAULT_BACKENDS), interpretation=interpretation, sink=trace)
    run_operations(run, ops)
    run.run(until=until)
    return trace


class Scenario:
    """An engine on virtual time whose every record lands in ``self.trace``.

    Interpretation choices are keyword arguments with underscores, e.g.
    ``Scenario(idle_device="work_conserving")``.
    """

    def __init__(
        self,
        *backends: BackendConfig,
        seed: int = 0,
        fair_share: Callable[[], FairShare] = FifoQueue,
        **choices: str,
    ) -> None:
        self.trace = MemoryTrace()
        self.interpretation = Interpretation.of(**choices)
        self.engine = Engine(
            backends or (backend(),), interpretation=self.interpretation, seed=seed,
            sink=self.trace, fair_share=fair_share,
        )

    def at(self, t: float) -> Engine:
        """Run every event due at or before ``t``, then hand back the engine for a request at ``t``."""
        self.engine.run_until(t)
        return self.engine

    def settle(self, until: float = 1e6) -> None:
        """Run until nothing is left to happen (or ``until``)."""
        self.engine.run(until=until)

    # ------------------------------------------------------------------ trace views

    def changes(self, entity_id: str | None = None) -> list[Change]:
        return [r for r in self.trace if isinstance(r, Change) and (entity_id is None or r.id == entity_id)]

    def path(self, entity_id: str) -> list[tuple[float, str]]:
        """(time, state entered) for every change of one session or job, in order."""
        return [(c.t, c.dst) for c in self.changes(entity_id)]

    def change(self, entity_id: str, dst: str) -> Change:
        """The (first) change that took ``entity_id`` into ``dst``; fails the test if none did."""
        for c in self.changes(entity_id):
            if c.dst == dst:
                return c
        raise AssertionError(f"{entity_id} never entered {dst}; its path: {self.path(entity_id)}")

    def when(self, entity_id: str, dst: str) -> float:
        return self.change(entity_id, dst).t

    def entered(self, entity_id: str, dst: str) -> bool:
        return any(c.dst == dst for c in self.changes(entity_id))

    def start_order(self, backend_name: str | None = None) -> list[str]:
        return [
            c.id for c in self.changes()
            if c.entity == "job" and c.dst == "running" and backend_name in (None, c.backend)
        ]

    def running_intervals(self, backend_name: str) -> list[tuple[float, float, str]]:
        """(start, end, job) of every job that ran on a backend, in start order."""
        starts: dict[str, float] = {}
        intervals: list[tuple[float, float, str]] = []
        for c in self.changes():
            if c.entity != "job" or c.backend != backend_name:
                continue
            if c.dst == "running":
                starts[c.id] = c.t
            elif c.src == "running":
                intervals.append((starts.pop(c.id), c.t, c.id))
        intervals.extend((t, float("inf"), job) for job, t in starts.items())
        return sorted(intervals)

    def requests(self) -> list[Request]:
        return [r for r in self.trace if isinstance(r, Request)]

    def rejections(self) -> list[Request]:
        return [r for r in self.requests() if r.error is not None]
