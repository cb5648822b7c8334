"""``sessionspec demo``'s options are range-checked: a value the loop cannot run with is a usage
error (exit 2), never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from model.runtime.workload import WorkloadConfig, compare
from model.spec.interpretations import Interpretation
from properties.cli import cli


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--iterations", "2000"], "2000 is not in the range 1<=x<=200"),
        (["--iterations", "0"], "0 is not in the range 1<=x<=200"),
        (["--load", "nan"], "is not a finite number"),
        (["--load", "NaN"], "is not a finite number"),
        (["--load", "inf"], "not in the range"),
        (["--load", "5e-324"], "not in the range 0.01<=x<1.0"),
        (["--load", "1"], "not in the range 0.01<=x<1.0"),
    ],
)
def test_out_of_range_options_are_usage_errors(args: list[str], says: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--no-timelines", *args])
    assert result.exit_code == 2 and says in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.rule("MAXTIME-EXPIRY")
@pytest.mark.parametrize("choices", [{}, {"INT-IDLE-DEVICE": "work_conserving"}], ids=["default", "work_conserving"])
def test_the_largest_loop_fits_in_the_sessions_max_time(choices: dict[str, str]) -> None:
    """At the bounds (200 iterations, load 0.99) the session's loop still ends before its 8 h
    max_time, with margin: under work_conserving, other users' jobs run in every think gap."""
    _, session = compare(WorkloadConfig(iterations=200, load=0.99), Interpretation(choices))
    assert session.wall_time < 8 * 3600 * 0.8
