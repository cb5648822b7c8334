"""Every numeric option refuses NaN and the infinities with a usage error (exit 2, one line):
click's ``FloatRange`` lets NaN through, and a NaN tolerance or timeout is a silent wrong answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from properties.cli import cli


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e400"])
@pytest.mark.parametrize(
    "command",
    [
        ["check", "t.jsonl", "--tolerance"],
        ["check", "t.jsonl", "--until"],
        ["conform", "--adapter", "x:y", "--timeout"],
        ["demo", "--no-timelines", "--load"],
        ["timeline", "t.jsonl", "--from"],
        ["timeline", "t.jsonl", "--to"],
        ["explore", "--timeout"],
        ["explore", "--time-limit"],
    ],
    ids=lambda c: " ".join(c) if isinstance(c, list) else c,
)
def test_a_non_finite_number_is_a_usage_error(command: list[str], value: str) -> None:
    result = CliRunner().invoke(cli, [*command, value])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Invalid value for"), result.output


def test_every_float_option_of_every_command_is_finite() -> None:
    """A new float option cannot forget it: click's own float types let NaN through."""
    import click

    from properties.cli import COMMANDS
    from properties.cli.options import FiniteFloat

    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        for param in command.params:
            if isinstance(param.type, click.types.FloatParamType):
                assert isinstance(param.type, FiniteFloat), f"{name} {param.opts}: use FiniteFloat"


def test_an_error_message_escapes_control_characters(tmp_path: object) -> None:
    result = CliRunner().invoke(cli, ["simulate", "/nonexistent/\x1b[31mred\n.json"], color=True)
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\\x1b[31mred\\n.json" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_no_help_text_shows_a_range_with_no_bound() -> None:
    """An unbounded number option shows no range (click's would read ``[x<=None]``)."""
    import click

    from properties.cli import COMMANDS

    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        help_text = CliRunner().invoke(cli, [name, "--help"]).output
        assert "None]" not in help_text, f"{name} --help: {help_text}"


def test_conform_help_states_the_campaign_defaults() -> None:
    """``conform --help`` writes the default campaign's bounds out (so that ``check`` need not import the
    campaign to word them): they must be the campaign's own."""
    from properties.conformance.campaign import COVERAGE_TARGET, TIME_CAP
    from properties.conformance.prelude import PRELUDE_DEPTH

    help_text = " ".join(CliRunner().invoke(cli, ["conform", "--help"]).output.split())
    assert f"up to {PRELUDE_DEPTH} steps" in help_text
    assert f"exercised {COVERAGE_TARGET} times" in help_text
    assert f"within {TIME_CAP:g} s of CPU" in help_text


def test_an_error_line_quoting_a_huge_value_is_clipped(tmp_path: Path) -> None:
    """Found by fuzzing: a scenario's megabyte-long value came back whole in the one-line error."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"version": 1, "backends": [{"name": "b"}],
                                    "operations": [{"at": 0, "op": "x" * 1_000_000}]}))
    for args in (["simulate", str(scenario)], ["check", "t.jsonl", "-i", "IDLE-DEVICE=" + "q" * 100_000]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) < 1100 and "characters left out" in lines[0], lines[0][:300]
        assert lines[0].startswith("error: ")


def test_serve_help_states_its_default_backend() -> None:
    """``serve --help`` writes the default backend and fake out (so that it need not import the server)."""
    from model.serve.backends import DEFAULT_BACKEND, DEFAULT_FAKE

    help_text = " ".join(CliRunner().invoke(cli, ["serve", "--help"]).output.split())
    assert f"(default {DEFAULT_FAKE})" in help_text and f"Default: {DEFAULT_BACKEND}." in help_text
