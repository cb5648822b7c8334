"""The benchmark's workload shapes, and one entry point that runs any shape on any model.

Each shape is a seeded workload generator plus the sizes ``make bench`` uses; every model
(the engine, the SimPy model, the hand-written heapq loop) runs every shape, and a
benchmark whose models disagree on the outcome fails. Measure with it::

    python -m benchmarks.shapes                       # every shape, every model, quick sizes
    python -m benchmarks.shapes open_loop --jobs 20000 --models engine,simpy

* ``iterative``: the original benchmark workload (:class:`~benchmarks.workload.Workload`):
  iterative sessions of 100 jobs with short think times, plus fair-share jobs, four backends.
* ``open_loop``: session clients arriving open-loop on ONE backend, think gaps of 60-600 s
  (sessions deactivate and reactivate through the fair-share queue), background load 0.95
  (:class:`~benchmarks.workload.OpenLoopWorkload`).
* ``churn``: many short batch sessions on eight backends, closed on a timer (often with
  queued and running jobs), some cancelling a job, some with a short ``max_time``
  (:class:`~benchmarks.workload.ChurnWorkload`).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.outcome import Outcome
from benchmarks.workload import ChurnWorkload, OpenLoopWorkload, Workload

AnyWorkload = Workload | ChurnWorkload
MODELS = ("engine", "simpy", "heapq")


@dataclass(frozen=True)
class Shape:
    name: str
    summary: str
    build: Callable[[int, int], AnyWorkload]
    """(jobs, seed) -> the workload."""
    quick: int
    """Jobs in ``make bench`` (quick)."""
    full: int
    """Jobs with ``--full``."""
    tiny: int = 600
    """Jobs in the test that the models agree (tests/test_bench_shapes.py)."""

    def workload(self, jobs: int | None = None, seed: int = 1) -> AnyWorkload:
        return self.build(self.quick if jobs is None else jobs, seed)


SHAPES: dict[str, Shape] = {
    shape.name: shape
    for shape in (
        Shape("iterative", "iterative sessions of 100 jobs + fair-share jobs, 4 backends (the original workload)",
              lambda jobs, seed: Workload(jobs=jobs, seed=seed), quick=50_000, full=200_000),
        Shape("open_loop", "open-loop session clients, 1 backend, 60-600 s think gaps, background load 0.95",
              lambda jobs, seed: OpenLoopWorkload(jobs=jobs, seed=seed), quick=50_000, full=200_000),
        Shape("churn", "short batch sessions closed on a timer, cancels, short max_time, 8 backends",
              lambda jobs, seed: ChurnWorkload(jobs=jobs, seed=seed), quick=50_000, full=200_000),
    )
}


def run(shape: str | AnyWorkload, model: str = "engine", jobs: int | None = None, seed: int = 1,
        **options: Any) -> Outcome:
    """Run a shape (by name, or a workload) to its end on one model; ``options`` go to the engine driver."""
    wl = SHAPES[shape].workload(jobs, seed) if isinstance(shape, str) else shape
    if model == "engine":
        from benchmarks.engine_driver import run_engine

        return run_engine(wl, **options)[1]
    if model == "simpy":
        from benchmarks.simpy_model import run_simpy

        return run_simpy(wl)
    if model == "heapq":
        from benchmarks.heapq_model import run_heapq

        return run_heapq(wl)
    raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")


def compare(shape: str, models: tuple[str, ...] = MODELS, jobs: int | None = None, seed: int = 1,
            repeats: int = 1) -> dict[str, Any]:
    """Run the models alternately on one workload: the best CPU seconds of each (this process's: other
    processes on a shared machine disturb it less than wall time) and whether their outcomes agree."""
    wl = SHAPES[shape].workload(jobs, seed)
    best: dict[str, float] = {}
    outcomes: dict[str, Outcome] = {}
    for _ in range(repeats):
        for model in models:
            gc.collect()
            start = time.process_time()
            outcomes[model] = run(wl, model)
            best[model] = min(best.get(model, float("inf")), time.process_time() - start)
    first = outcomes[models[0]]
    differences = {m: first.differences(o) for m, o in outcomes.items() if m != models[0]}
    return {"seconds": best, "outcomes": outcomes, "differences": {m: d for m, d in differences.items() if d},
            "jobs": first.submitted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run benchmark shapes on several models and compare them.")
    parser.add_argument("shapes", nargs="*", default=list(SHAPES), help=f"among {', '.join(SHAPES)}")
    parser.add_argument("--jobs", type=int, default=None, help="jobs per shape (default: the quick size)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    models = tuple(args.models.split(","))
    failed = False
    for name in args.shapes:
        r = compare(name, models, args.jobs, repeats=args.repeats)
        base = r["seconds"][models[0]]
        timings = ", ".join(f"{m} {s:.2f} CPU s ({s / r['jobs'] * 1e6:.2f} us/job, {models[0]} x{s / base:.2f})"
                            for m, s in r["seconds"].items())
        print(f"{name}: {r['jobs']:,} jobs; {timings}")
        print(f"  outcome: {r['outcomes'][models[0]].summary()}")
        for model, diff in r["differences"].items():
            failed = True
            print(f"  DIFFERENT from {model}: {diff}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
