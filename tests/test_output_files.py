"""Output files are written whole, and a symbolic link planted where one goes is replaced, never
followed (``conform --out``, ``explore --out``, ``simulate --trace``, ``timeline -o``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.views.output import replacing, write_whole
from properties.cli import cli

EXAMPLE = Path(__file__).parent.parent / "examples" / "scenarios" / "busy_backend.json"


def _plant(folder: Path, name: str) -> Path:
    """A link named ``name`` in ``folder`` to a file outside it; returns the file, which must survive."""
    victim = folder.parent / f"victim-{name}"
    victim.write_text("precious\n")
    (folder / name).symlink_to(victim)
    return victim


def test_a_planted_link_is_replaced_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = _plant(out, "f.txt")
    write_whole(out / "f.txt", "new\n")
    assert victim.read_text() == "precious\n"
    assert not (out / "f.txt").is_symlink() and (out / "f.txt").read_text() == "new\n"


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl"
    with pytest.raises(RuntimeError), replacing(target) as stream:
        stream.write("half")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_conform_out_does_not_follow_links(tmp_path: Path) -> None:
    out = tmp_path / "cex"
    out.mkdir()
    victims = [_plant(out, name) for name in ("scenario.json", "expected.jsonl", "actual.jsonl")]
    result = CliRunner().invoke(cli, ["conform", "--adapter", "tests.test_conform:exits",
                                      "-n", "50", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert all(v.read_text() == "precious\n" for v in victims)
    assert json.loads((out / "scenario.json").read_text())["operations"]


def test_simulate_trace_and_timeline_do_not_follow_links(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    trace_victim, svg_victim = _plant(out, "t.jsonl"), _plant(out, "t.svg")
    result = CliRunner().invoke(cli, ["simulate", str(EXAMPLE), "--quiet", "--trace", str(out / "t.jsonl")])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["timeline", str(out / "t.jsonl"), "-o", str(out / "t.svg")])
    assert result.exit_code == 0, result.output
    assert trace_victim.read_text() == svg_victim.read_text() == "precious\n"
    assert (out / "t.svg").read_text().lstrip().startswith("<?xml")


def test_diagrams_out_does_not_follow_links(tmp_path: Path) -> None:
    out = tmp_path / "d"
    out.mkdir()
    victims = [_plant(out, name) for name in ("session.dot", "session.png", "README.md")]
    result = CliRunner().invoke(cli, ["diagrams", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert all(v.read_text() == "precious\n" for v in victims)
    assert (out / "session.png").read_bytes().startswith(b"\x89PNG")


def test_a_streamed_output_replaces_a_planted_link_and_writes_into_a_device(tmp_path: Path) -> None:
    """``serve --trace`` streams its trace: it cannot be written whole, but it never writes through a link."""
    import os

    from model.views.output import open_streaming

    out = tmp_path / "o"
    out.mkdir()
    victim = _plant(out, "t.jsonl")
    with open_streaming(out / "t.jsonl") as stream:
        stream.write("new\n")
    assert victim.read_text() == "precious\n"
    assert not (out / "t.jsonl").is_symlink() and (out / "t.jsonl").read_text() == "new\n"
    with open_streaming(Path(os.devnull)) as stream:
        stream.write("nothing\n")
    assert Path(os.devnull).is_char_device()


def test_study_plot_that_cannot_be_written_is_one_line_and_exit_2() -> None:
    """``study --plot /proc/nope/x.png`` ended with click's "Error:" and status 1, a finding's."""
    from click.testing import CliRunner

    from properties.cli import cli

    result = CliRunner().invoke(cli, ["study", "--seeds", "2", "--load", "0.5", "--iterations", "3",
                                      "--plot", "/proc/nope/x.png"])
    assert result.exit_code == 2, result.output
    assert "cannot draw /proc/nope/x.png" in result.output and "Traceback" not in result.output
