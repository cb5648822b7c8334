"""The README says what the code does: its example runs, its diagram and command list are current."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import click
import pytest

from properties.cli import COMMANDS, cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("stem", ["session", "session.platform"])
def test_inline_mermaid_is_the_generated_session_diagram(stem: str) -> None:
    """The README shows both profiles' session lifecycles, each the generated diagram."""
    name = re.escape(f"{stem}.mmd")
    block = re.search(rf"<!-- BEGIN {name}.*?-->\n```mermaid\n(.*?)```\n<!-- END {name} -->", README, re.S)
    assert block is not None, f"README has no generated {stem}.mmd block"
    assert block.group(1) == (ROOT / "diagrams" / f"{stem}.mmd").read_text(encoding="utf-8")


def test_the_example_runs_and_prints_what_its_comments_say() -> None:
    section = README.split("## An example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["Active", "Closed"]
    assert '"op":"close"' in lines[2] and '"to":"closed"' in lines[3]


def test_the_command_table_lists_every_command() -> None:
    table = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `sessionspec (\w+)", table, re.M))
    assert documented == set(COMMANDS)


def test_every_command_loads() -> None:
    """Commands are imported lazily: a broken registration must fail here, not in a user's hands."""
    context = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name
