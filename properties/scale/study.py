"""``sessionspec study``: what a session buys its user and costs everyone else, swept over
interpretations, background loads and seeds.

Each cell of the sweep (interpretation choices, load, seed) is a task of plain data: the
iterative client of :mod:`model.runtime.workload` (submit, wait for the result, think) runs
twice on identical background load, without and with a session, and the task returns a few
numbers measured on the two traces. Cells are merged in their fixed order, so the table is
the same on any number of workers; each group of seeds gives a mean and a 95 % confidence
interval (Student's t).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from model.runtime.workload import RunReport, WorkloadConfig, compare, run_mode
from model.spec.interpretations import POINTS_BY_ID, Interpretation
from model.spec.profiles import DEFAULT_PROFILE
from model.trace import Change
from properties.scale.cluster import InProcess, Pool, Progress, worker_name


@dataclass(frozen=True)
class Cell:
    """One run pair of the sweep, as plain data."""

    choices: tuple[tuple[str, str], ...]
    load: float
    seed: int
    iterations: int
    profile: str = DEFAULT_PROFILE

    @property
    def interpretation(self) -> Interpretation:
        return Interpretation(dict(self.choices), self.profile)


@dataclass(frozen=True)
class Measures:
    """What one cell measured, in virtual seconds."""

    cell: Cell
    wall_plain: float
    """The user's loop, start to end, without a session."""
    wall_session: float
    wait_plain: float
    """The user's mean queue wait per job, without a session."""
    wait_session: float
    others_plain: float
    """Other users' mean queue wait, for their jobs submitted while the loop ran without a session."""
    others_session: float
    held_idle: float
    """Device time the session held idle: it was active, the device ran nothing, other users' jobs waited."""
    worker: str = ""


METRICS: tuple[tuple[str, str], ...] = (
    ("wall_plain", "user wall, no session"),
    ("wall_session", "user wall, session"),
    ("wait_plain", "user wait, no session"),
    ("wait_session", "user wait, session"),
    ("others_plain", "others' wait, no session"),
    ("others_session", "others' wait, session"),
    ("held_idle", "device idle held"),
)
"""The table's columns: a :class:`Measures` attribute and its heading (all in seconds)."""


Report = RunReport
"""A run of the iterative client: the seeds' loop, or the platform's in one execution mode."""


def _others_wait(report: Report) -> float:
    """Mean queue wait of the jobs other users submitted while the loop ran (0 if none)."""
    mine = set(report.job_ids)
    created: dict[str, float] = {}
    waits: list[float] = []
    for record in report.records:
        if not isinstance(record, Change) or record.entity != "job" or record.id in mine:
            continue
        if record.src is None and report.start <= record.t <= report.end:
            created[record.id] = record.t
        elif record.dst == "running" and record.id in created:
            waits.append(record.t - created.pop(record.id))
    return statistics.fmean(waits) if waits else 0.0


def _held_idle(report: Report) -> float:
    """How long the session was active while the device ran nothing and another user's job was queued."""
    mine = set(report.job_ids)
    active = False
    running = 0
    waiting: set[str] = set()
    held = 0.0
    last = report.start
    for record in report.records:  # from the warm-up on, so that what runs and waits at the start is known
        if not isinstance(record, Change):
            continue
        if active and running == 0 and waiting:
            held += max(0.0, min(record.t, report.end) - max(last, report.start))
        last = record.t
        if record.entity == "session" and record.id == report.session_id:
            active = record.dst == "active"
        elif record.entity == "job":
            running += (record.dst == "running") - (record.src == "running")
            if record.id not in mine:
                if record.dst == "queued":
                    waiting.add(record.id)
                else:
                    waiting.discard(record.id)
    return held


def run_cell(cell: Cell) -> Measures:
    """Run one cell (the task a worker runs): the loop without a session and in one; under the platform
    profile, its V2 loop in job mode and in session mode."""
    config = WorkloadConfig(iterations=cell.iterations, seed=cell.seed, load=cell.load)
    interpretation = cell.interpretation
    plain: Report
    session: Report
    if interpretation.is_platform:
        plain, session = (run_mode(config, mode, "iterative", interpretation) for mode in ("job", "session"))
    else:
        plain, session = compare(config, interpretation)
    return Measures(cell, plain.wall_time, session.wall_time, plain.mean_wait, session.mean_wait,
                    _others_wait(plain), _others_wait(session), _held_idle(session), worker_name())


def cells(variants: Sequence[Mapping[str, str]], loads: Sequence[float], seeds: Sequence[int],
          iterations: int, profile: str = DEFAULT_PROFILE) -> list[Cell]:
    """The sweep in its fixed order: interpretation, then load, then seed (raises InterpretationError for a
    choice the profile does not allow)."""
    chosen = [Interpretation(dict(v), profile) for v in variants]
    return [Cell(tuple(sorted(i.differences().items())), load, seed, iterations, profile)
            for i in chosen for load in loads for seed in seeds]


def variants(vary: Sequence[str], fixed: Mapping[str, str]) -> list[dict[str, str]]:
    """Every combination of the options of the points in ``vary``, each on top of ``fixed``."""
    points = [POINTS_BY_ID[point] for point in vary]
    return [{**fixed, **{p.id: option for p, option in zip(points, combo, strict=True)}}
            for combo in itertools.product(*(p.option_names for p in points))]


# Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom; beyond, the normal's.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


def interval(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the half-width of its 95 % confidence interval (0 for a single value)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    t = _T95[len(values) - 2] if len(values) - 1 <= len(_T95) else 1.960
    return mean, t * statistics.stdev(values) / math.sqrt(len(values))


@dataclass
class StudyResult:
    measures: list[Measures]
    workers: int

    def groups(self) -> dict[tuple[str, float], list[Measures]]:
        """The cells by (interpretation name, load), seeds together, in the sweep's order."""
        out: dict[tuple[str, float], list[Measures]] = {}
        for m in self.measures:
            out.setdefault((m.cell.interpretation.name, m.cell.load), []).append(m)
        return out

    def table(self) -> str:
        """Mean ± 95 % CI half-width over the seeds, per interpretation and load (deterministic text)."""
        seeds = len({m.cell.seed for m in self.measures})
        head = ["interpretation", "load", *(label for _, label in METRICS)]
        rows = []
        for (name, load), group in self.groups().items():
            cells = []
            for attribute, _ in METRICS:
                mean, half = interval([getattr(m, attribute) for m in group])
                cells.append(f"{mean:.1f} ± {half:.1f}" if seeds > 1 else f"{mean:.1f}")
            rows.append([name, f"{load:g}", *cells])
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

        def line(row: Sequence[str]) -> str:
            cells = zip(row, widths, strict=True)
            return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(cells))

        lines = [f"sessionspec study: {len(self.measures)} run pairs; mean"
                 + (f" ± 95 % CI half-width over {seeds} seeds" if seeds > 1 else "") + "; virtual seconds",
                 line(head), *(line(r) for r in rows)]
        return "\n".join(lines)

    def plot(self, path: Path) -> Path:
        """Four panels against the load, one line per interpretation, 95 % CI error bars."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        panels = (("the session user's wall time", ("wall_plain", "wall_session")),
                  ("the session user's queue wait per job", ("wait_plain", "wait_session")),
                  ("other users' queue wait per job", ("others_plain", "others_session")),
                  ("device time the session held idle", ("held_idle",)))
        by_interpretation: dict[str, dict[float, list[Measures]]] = {}
        for (name, load), group in self.groups().items():
            by_interpretation.setdefault(name, {})[load] = group
        figure, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
        for ax, (title, attributes) in zip(axes.flat, panels, strict=True):
            for index, (name, per_load) in enumerate(by_interpretation.items()):
                loads = sorted(per_load)
                for attribute in attributes:
                    plain = attribute.endswith("plain")
                    if plain and index:
                        continue  # without a session the interpretations hardly differ: one line
                    stats = [interval([getattr(m, attribute) for m in per_load[load]]) for load in loads]
                    ax.errorbar(loads, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3,
                                linestyle="--" if plain else "-", label="no session" if plain else f"session, {name}")
            if len(attributes) > 1:
                ax.set_yscale("symlog", linthresh=10)  # heavy-tailed queues: seconds to hours
            ax.set_ylim(bottom=0)  # a time is never negative, whatever the interval's arithmetic says
            ax.set_title(title)
            ax.set_xlabel("background load (device utilisation by other users)")
            ax.set_ylabel("virtual seconds")
            ax.legend(fontsize="small")
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=100, metadata={"Software": None})
        plt.close(figure)
        return path

    def timing(self) -> list[str]:
        per: dict[str, int] = {}
        for m in self.measures:
            per[m.worker] = per.get(m.worker, 0) + 1
        return [f"  worker {name}: {count} run pairs" for name, count in sorted(per.items())]


BATCHES_PER_WORKER = 16
"""A cell takes a few tens of milliseconds: run on a cluster, the cells go as this many tasks per worker,
enough for the workers to finish together, few enough that Dask's upkeep per task does not count."""


def run_study(sweep: Sequence[Cell], pool: Pool | None = None, progress: Progress | None = None) -> StudyResult:
    chosen = pool or InProcess()
    return StudyResult(chosen.map(run_cell, list(sweep), progress=progress, batches=BATCHES_PER_WORKER),
                       chosen.workers)
