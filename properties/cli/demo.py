"""``sessionspec demo``: what a session buys an iterative workload on a busy backend.

Runs :mod:`model.runtime.workload` twice on identical background load, without and with a
Session, and prints one table. With ``--profile platform`` it runs today's three execution
modes (job, session, batch) on two workloads (an iterative loop, independent jobs) and prints
one table per workload. Virtual time only, fixed seeds: the output is the same on every run
and machine.
"""

from __future__ import annotations

from pathlib import Path

import click

from model.runtime.workload import (
    MODES,
    SHAPES,
    LoopReport,
    ModeReport,
    RunReport,
    WorkloadConfig,
    compare,
    compare_modes,
)
from model.spec.interpretations import POINTS_BY_ID, Interpretation
from model.spec.max_time import format_seconds
from model.trace.timing import time_text
from model.views.timeline_plot import TimelineError, render_timeline
from properties.cli.options import FiniteFloat, interpretation_option

_ALWAYS_SHOWN = ("INT-IDLE-DEVICE", "INT-INTERACTIVE-WINDOW")


def render(config: WorkloadConfig, interpretation: Interpretation, plain: LoopReport, session: LoopReport) -> str:
    """The demo's report as text (deterministic for given inputs)."""
    shown = dict.fromkeys((*_ALWAYS_SHOWN, *interpretation.differences()))
    choices = ", ".join(f"{key}={interpretation[key]}" for key in shown if key in POINTS_BY_ID)
    rows = (
        ("wall time of the loop (s)", plain.wall_time, session.wall_time),
        ("queue wait per job, mean (s)", plain.mean_wait, session.mean_wait),
        ("queue wait per job, median (s)", plain.median_wait, session.median_wait),
        ("queue wait per job, max (s)", plain.max_wait, session.max_wait),
        ("device time used (s)", plain.device_time, session.device_time),
        ("device idle while session active (s)", plain.held_idle, session.held_idle),
    )
    label_width = max(len(row[0]) for row in rows)
    lines = [
        "sessionspec demo: an iterative Estimator loop on one busy backend, without and with a Session",
        f"  backend {config.backend}: {time_text(config.job_seconds)} s per loop job; other users keep it "
        f"{config.load:.0%} busy ({config.background_jobs_per_hour:.1f} jobs/h, mean "
        f"{time_text(config.background_mean_seconds)} s), same arrivals in both runs (seed {config.seed})",
        f"  loop: {config.iterations} iterations of submit -> result() -> {time_text(config.think_seconds)} s think, "
        f"after {format_seconds(config.warmup_seconds)} of background warm-up; virtual time throughout",
        f"  interpretation: {'default' if not interpretation.differences() else 'custom'}: {choices}",
        "",
        f"  {'':<{label_width}}  {'no session':>12}  {'session':>12}",
    ]
    lines += [f"  {label:<{label_width}}  {a:>12.1f}  {b:>12.1f}" for label, a, b in rows]
    ratio = plain.wall_time / session.wall_time
    saved = plain.wall_time - session.wall_time
    lines += [
        "",
        f"  the session ran the loop {ratio:.2f}x faster: {saved:.1f} s ({format_seconds(saved)}) less "
        f"wall time for the same {session.device_time:.1f} s of device time;",
        f"  other users paid {session.held_idle:.1f} s of device time the session kept idle between iterations.",
    ]
    return "\n".join(lines)


_SHAPE_TITLES = {
    "iterative": "iterative loop: submit -> result() -> think, {n} times",
    "independent": "independent jobs: {n} submitted at once, then collected",
}


def render_modes(config: WorkloadConfig, interpretation: Interpretation, reports: list[ModeReport]) -> str:
    """The platform demo's report as text: one table per workload, one column per execution mode."""
    shown = dict.fromkeys(interpretation.differences())
    choices = ", ".join(f"{key}={interpretation[key]}" for key in shown if key in POINTS_BY_ID) or "defaults"
    lines = [
        "sessionspec demo --profile platform: job, session and batch mode on one busy backend",
        f"  backend {config.backend}: {time_text(config.job_seconds)} s per job; other users keep it "
        f"{config.load:.0%} busy ({config.background_jobs_per_hour:.1f} jobs/h, mean "
        f"{time_text(config.background_mean_seconds)} s), same arrivals in every run (seed {config.seed})",
        f"  after {format_seconds(config.warmup_seconds)} of background warm-up; "
        f"{time_text(config.think_seconds)} s think "
        f"time in the loop; virtual time throughout; interpretation: {choices}",
    ]
    by_key = {(r.shape, r.mode): r for r in reports}
    rows: tuple[tuple[str, str], ...] = (
        ("wall time (s)", "wall_time"),
        ("queue wait per job, mean (s)", "mean_wait"),
        ("queue wait per job, max (s)", "max_wait"),
        ("device time used (s)", "device_time"),
        ("device idle while held (s)", "held_idle"),
        ("usage counted by the platform (s)", "usage"),
        ("jobs not completed", "failed"),
    )
    width = max(len(label) for label, _ in rows)
    for shape in SHAPES:
        lines += ["", f"  {_SHAPE_TITLES[shape].format(n=config.iterations)}",
                  f"  {'':<{width}}" + "".join(f"  {mode + ' mode':>12}" for mode in MODES)]
        for label, attr in rows:
            cells = "".join(
                f"  {value:>12d}" if isinstance(value := getattr(by_key[shape, mode], attr), int)
                else f"  {value:>12.1f}" for mode in MODES
            )
            lines.append(f"  {label:<{width}}{cells}")
    return "\n".join(lines)


@click.command("demo")
@click.option("--iterations", type=click.IntRange(1, 200), default=50, show_default=True,
              help="Iterations of the variational loop (at most 200, so that the session's loop ends within "
                   "its max_time under every interpretation).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the background load.")
@click.option("--load", type=FiniteFloat(0.01, 1.0, max_open=True), default=0.9,
              show_default=True, help="Device utilisation by other users' jobs.")
@interpretation_option("Interpretation choice, e.g. IDLE-DEVICE=work_conserving (repeatable).")
@click.option("--timelines", "timelines", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/demo"), show_default=True,
              help="Folder for the two runs' timelines (no-session.png, session.png).")
@click.option("--no-timelines", is_flag=True, help="Do not draw the timelines.")
def demo(
    iterations: int, seed: int, load: float, interpretation: dict[str, str], timelines: Path, no_timelines: bool
) -> None:
    """Compare an iterative workload with and without a session on a busy backend (--profile platform: the
    loop and independent jobs in job, session and batch mode)."""
    chosen = Interpretation(interpretation)
    config = WorkloadConfig(iterations=iterations, seed=seed, load=load)
    if chosen.is_platform:
        reports = compare_modes(config, chosen)
        click.echo(render_modes(config, chosen, reports))
        if not no_timelines:
            _draw(timelines, [(f"{r.shape}-{r.mode}", r) for r in reports])
        return
    plain, session = compare(config, chosen)
    click.echo(render(config, chosen, plain, session))
    if no_timelines:
        return
    drawn = _draw(timelines, [("no-session", plain), ("session", session)], echo=False)
    click.echo(f"\n  timelines of the two loops: {drawn[0]}, {drawn[1]}")


def _draw(folder: Path, runs: list[tuple[str, RunReport]], *, echo: bool = True) -> list[Path]:
    """Each run's timeline as ``folder/NAME.png``; a folder that cannot be written is a one-line error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        drawn = [
            render_timeline(report.records, folder / f"{name}.png", start=report.start, end=report.end)
            for name, report in runs
        ]
    except (OSError, TimelineError) as error:
        raise click.ClickException(f"cannot draw the timelines in {folder}: {error}") from None
    if echo:
        click.echo(f"\n  timelines in {folder}: {', '.join(path.name for path in drawn)}")
    return drawn
