"""``sessionspec demo``: what a session buys an iterative workload on a busy backend.

Runs :mod:`model.runtime.workload` twice on identical background load, without and with a
Session, and prints one table. Virtual time only, fixed seeds: the output is the
same on every run and machine.
"""

from __future__ import annotations

from pathlib import Path

import click

from model.runtime.workload import LoopReport, WorkloadConfig, compare
from model.spec.interpretations import POINTS_BY_ID, Interpretation
from model.spec.max_time import format_seconds
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
        f"  backend {config.backend}: {config.job_seconds:g} s per loop job; other users keep it "
        f"{config.load:.0%} busy ({config.background_jobs_per_hour:.1f} jobs/h, mean "
        f"{config.background_mean_seconds:g} s), same arrivals in both runs (seed {config.seed})",
        f"  loop: {config.iterations} iterations of submit -> result() -> {config.think_seconds:g} s think, "
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
    """Compare an iterative workload with and without a session on a busy backend."""
    chosen = Interpretation(interpretation)
    config = WorkloadConfig(iterations=iterations, seed=seed, load=load)
    plain, session = compare(config, chosen)
    click.echo(render(config, chosen, plain, session))
    if no_timelines:
        return
    try:
        timelines.mkdir(parents=True, exist_ok=True)
        drawn = [
            render_timeline(report.records, timelines / f"{name}.png", start=report.start, end=report.end)
            for name, report in (("no-session", plain), ("session", session))
        ]
    except (OSError, TimelineError) as error:
        raise click.ClickException(f"cannot draw the timelines in {timelines}: {error}") from None
    click.echo(f"\n  timelines of the two loops: {drawn[0]}, {drawn[1]}")
