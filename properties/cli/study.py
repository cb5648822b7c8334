"""``sessionspec study``: sweeps of the iterative workload over interpretations, loads and seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.spec.interpretations import POINTS_BY_ID, Interpretation, InterpretationError, parse_choice
from model.spec.profiles import DEFAULT_PROFILE, PROFILE_NAMES
from properties.cli.options import (
    FiniteFloat,
    InputError,
    cluster,
    cluster_options,
    interpretation_option,
    profile_given,
)


def _open(point: str, profile: str) -> bool:
    """Whether ``profile`` leaves ``point`` open (every option of it allowed)."""
    try:
        for option in POINTS_BY_ID[point].option_names:
            Interpretation({point: option}, profile)
    except InterpretationError:
        return False
    return True


@click.command("study")
@click.option("--vary", multiple=True, metavar="ID",
              help="Sweep every option of this interpretation point (repeatable: every combination). "
                   "Default: INT-IDLE-DEVICE, where the profile leaves it open.")
@interpretation_option("Fixed interpretation choice for every run, ID=OPTION (repeatable).")
@click.option("--load", "loads", multiple=True, type=FiniteFloat(0.01, 1.0, max_open=True),
              default=(0.5, 0.7, 0.9), show_default=True, help="Background load by other users (repeatable).")
@click.option("--seeds", type=click.IntRange(min=1), default=5, show_default=True,
              help="Seeds per cell (0, 1, ...): the confidence intervals are over them.")
@click.option("--iterations", type=click.IntRange(1, 200), default=30, show_default=True,
              help="Iterations of the client's loop (submit, wait for the result, think).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=Path("out/study.png"),
              show_default=True, help="Where to draw the plots.")
@click.option("--no-plot", is_flag=True, help="Print the table only.")
@click.option("--every-profile", is_flag=True,
              help="Sweep under every profile in turn (the seeds', then the platform's: its V2 loop in job "
                   "mode and in session mode), each --vary point where the profile leaves it open.")
@cluster_options
def study(
    vary: tuple[str, ...], interpretation: dict[str, str], loads: tuple[float, ...], seeds: int, iterations: int,
    plot: Path, no_plot: bool, every_profile: bool, workers: int | None, scheduler: str | None,
) -> None:
    """What a session buys its user (wall time, queue wait) and costs other users (their wait, the device
    time it holds idle), swept over interpretations, background loads and seeds, on a pool of workers.

    The table is the same on any number of workers.
    """
    from properties.scale.study import cells, run_study, variants

    try:
        points = [parse_choice(f"{point}=x")[0] for point in vary]
    except InterpretationError as error:
        raise InputError(f"--vary: {error}") from None
    unknown = [p for p in points if p not in POINTS_BY_ID]
    if unknown:
        raise InputError(f"--vary: unknown interpretation {unknown[0]!r}; known: {', '.join(POINTS_BY_ID)}")
    clash = [p for p in points if p in interpretation]
    if clash:
        raise InputError(f"{clash[0]} is both swept (--vary) and fixed (--interpretation)")
    if every_profile and (interpretation or profile_given() is not None):
        raise InputError("--every-profile sweeps every profile: give no --profile or --interpretation with it")
    chosen = PROFILE_NAMES if every_profile else (getattr(interpretation, "profile", None) or DEFAULT_PROFILE,)
    sweep = []
    for profile in chosen:
        wanted = points or (["INT-IDLE-DEVICE"] if "INT-IDLE-DEVICE" not in interpretation else [])
        if every_profile or not vary:  # only the points this profile leaves open
            wanted = [p for p in wanted if _open(p, profile)]
        try:
            sweep += cells(variants(wanted, interpretation), sorted(set(loads)), range(seeds), iterations, profile)
        except InterpretationError as error:
            raise InputError(f"--vary: {error}") from None
    with cluster(workers, scheduler) as pool, click.progressbar(
        length=len(sweep), label=f"study on {pool.where}", file=sys.stderr,
    ) as bar:
        result = run_study(sweep, pool, progress=bar.update)
    click.echo(result.table())
    for line in result.timing():
        click.echo(line, err=True)
    if not no_plot:
        try:
            drawn = result.plot(plot)
        except OSError as error:
            raise InputError(f"cannot draw {plot}: {error.strerror or error}") from None
        click.echo(f"plots: {drawn}")
