"""Timelines: a run drawn as PNG and SVG, windowed, aggregated, and bad trace files rejected in one line."""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.sim.devices import BackendConfig, Duration
from model.sim.engine import Engine
from model.trace import Change, MemoryTrace, Record
from model.views.timeline_plot import TimelineError, render_timeline
from properties.cli.timeline import read_trace, timeline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def _eventful_run() -> MemoryTrace:
    """Two backends; sessions that deactivate, reactivate and expire; a device fault; a cancel; fair-share jobs."""
    trace = MemoryTrace()
    engine = Engine(
        [BackendConfig("b0", duration=Duration.fixed(60)), BackendConfig("b1", duration=Duration.fixed(40))],
        sink=trace,
    )
    s1 = engine.open_session("b0", max_time=1500)
    s2 = engine.open_session("b0")
    s3 = engine.open_session("b1")
    for _ in range(3):
        engine.submit(s1.id)
    engine.submit(None, "b0")
    engine.submit(s2.id)
    engine.submit(s3.id)
    engine.submit(s3.id, fault=True)
    engine.advance(1200)
    engine.submit(s1.id)
    engine.submit(s1.id, duration=500)
    engine.advance(100)
    engine.submit(s2.id)
    engine.cancel(engine.submit(s2.id).id)
    engine.submit(None, "b1", duration=30)
    engine.run(until=5000)
    return trace


@pytest.fixture(scope="module")
def run() -> MemoryTrace:
    trace = _eventful_run()
    triggers = {(r.entity, r.trigger) for r in trace if isinstance(r, Change)}
    # The picture is only a test of these if the run really has them.
    assert {("session", "interactive_timeout"), ("session", "max_time_reached"), ("job", "device_error"),
            ("job", "cancel"), ("job", "session_expired")} <= triggers
    return trace


def _svg_texts(path: Path) -> list[str]:
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_is_a_non_trivial_image(run: MemoryTrace, tmp_path: Path) -> None:
    out = render_timeline(run, tmp_path / "run.png")
    width, height = _png_size(out)
    assert width > 800 and height > 250
    assert out.stat().st_size > 20_000


def test_svg_shows_lanes_bands_jobs_and_markers(run: MemoryTrace, tmp_path: Path) -> None:
    texts = _svg_texts(render_timeline(run, tmp_path / "run.svg"))
    joined = "\n".join(texts)
    for expected in ("b0 device", "b1 device", "s1 · b0", "s2 · b0", "s3 · b1", "j1", "j10",
                     "session pending", "session active", "session inactive", "session closed",
                     "fair-share job (no session)", "interactive timeout (timer)", "max_time expiry (timer)",
                     "job cancelled", "interpretation: default"):
        assert expected in joined, expected
    assert "device_error" in texts and "session_expired" in texts  # failure reasons annotated at the failure
    assert re.search(r"job failed \(device_error ×1, session_expired ×1\)", joined)


def test_svg_is_byte_stable(run: MemoryTrace, tmp_path: Path) -> None:
    first = render_timeline(run, tmp_path / "a.svg").read_bytes()
    second = render_timeline(run, tmp_path / "b.svg").read_bytes()
    assert first == second


def test_window_keeps_only_what_it_overlaps(run: MemoryTrace, tmp_path: Path) -> None:
    texts = _svg_texts(render_timeline(run, tmp_path / "w.svg", start=1100, end=1700))
    assert {"j8", "j9", "j10", "j12"} <= set(texts)
    assert not {"j1", "j2", "j3", "j6"} & set(texts)
    assert "device_error" not in texts  # the fault at t=80 lies outside the window
    assert any("window 1100–1700 s" in t for t in texts)


def test_many_sessions_are_grouped_beyond_top_n(tmp_path: Path) -> None:
    trace = MemoryTrace()
    engine = Engine([BackendConfig("b0", duration=Duration.fixed(5))], sink=trace)
    sessions = [engine.open_session("b0") for _ in range(9)]
    for n, session in enumerate(sessions):
        for _ in range(n + 1):  # s9 is the busiest
            engine.submit(session.id)
        engine.advance(400)
    texts = _svg_texts(render_timeline(trace, tmp_path / "many.svg", top=3))
    assert {"s9 · b0", "s8 · b0", "s7 · b0"} <= set(texts)
    assert "s1 · b0" not in texts
    assert any(t.startswith("6 other sessions") for t in texts)


def test_bad_window_and_format_are_errors(run: MemoryTrace, tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match="empty window"):
        render_timeline(run, tmp_path / "x.png", start=10, end=5)
    with pytest.raises(TimelineError, match=r"\.svg or \.png"):
        render_timeline(run, tmp_path / "x.pdf")


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [(1e308, None, "too narrow"), (1e15, None, "too narrow"), (-1e308, 1e308, "wider than a float")],
)
def test_a_window_floats_cannot_draw_is_an_error(
    run: MemoryTrace, tmp_path: Path, start: float, end: float | None, reason: str
) -> None:
    """Found by fuzzing ``timeline --from``: a ZeroDivisionError, a petabyte allocation, an OverflowError."""
    with pytest.raises(TimelineError, match=reason):
        render_timeline(run, tmp_path / "x.svg", start=start, end=end)
    assert not (tmp_path / "x.svg").exists()
    render_timeline(run, tmp_path / "y.svg", start=1e15, end=1e15 + 10)  # coarse, but drawable


def _write(path: Path, records: list[Record] | None = None, extra: str = "") -> Path:
    text = MemoryTrace(records or []).jsonl() + extra
    path.write_text(text, encoding="utf-8")
    return path


def test_command_draws_a_trace_file(run: MemoryTrace, tmp_path: Path) -> None:
    trace = _write(tmp_path / "run.jsonl", list(run))
    assert read_trace(trace) == list(run)
    out = tmp_path / "run.png"
    result = CliRunner().invoke(timeline, [str(trace), "-o", str(out), "--from", "0", "--to", "900"])
    assert result.exit_code == 0, result.output
    assert _png_size(out)[0] > 800


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("{not json\n", r":\d+: unusable input: not JSON"),
        ('{"type":"job","t":1,"id":"j9","backend":"b0","from":null,"to":"failed","trigger":"x","rules":[]}\n',
         r":\d+: unusable input: schema violation: a line into failed needs 'reason'"),
        ('{"type":"session","t":-3,"id":"s9","backend":"b0","from":null,"to":"pending","trigger":"open","rules":[]}\n',
         r":\d+: unusable input: schema violation at t: Expected `float` >= 0.0"),
        ('{"type":"nonsense"}\n', r":\d+: unusable input: schema violation at type: 'nonsense' is not one of"),
        ("[1, 2]\n", r":\d+: unusable input: a trace line is a JSON object, got array"),
    ],
)
def test_bad_lines_give_one_line_errors_with_file_and_line(
    run: MemoryTrace, tmp_path: Path, extra: str, expected: str
) -> None:
    good = list(run)[:5]
    trace = _write(tmp_path / "bad.jsonl", good, extra)
    result = CliRunner().invoke(timeline, [str(trace), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 2
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert re.search(re.escape(str(trace)) + f":{len(good) + 1}:", message), message
    assert re.search(expected, message), message
    assert not (tmp_path / "x.svg").exists()


def test_trace_must_start_with_a_header(run: MemoryTrace, tmp_path: Path) -> None:
    trace = _write(tmp_path / "headless.jsonl", list(run)[1:4])
    result = CliRunner().invoke(timeline, [str(trace), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 2
    assert f"{trace}:1: unusable input: missing header: the first line is a" in result.output


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(timeline, [str(tmp_path / "absent.jsonl"), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:") and "\n" not in result.output.strip()


def test_a_line_over_the_limit_is_refused_before_it_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """timeline reads a file as check does: ``timeline /dev/zero`` grew without end (a MemoryError traceback
    under a memory limit); now a line over MAX_LINE bytes is one line naming it, exit 2."""
    from properties.conformance import reader

    monkeypatch.setattr(reader, "MAX_LINE", 4096)
    trace = tmp_path / "zero.jsonl"
    trace.write_bytes(b"\0" * 1_000_000)  # no newline
    result = CliRunner().invoke(timeline, [str(trace), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {trace}:1: unusable input: a line longer than 4096 bytes"


def test_a_header_check_refuses_is_refused_with_checks_message(run: MemoryTrace, tmp_path: Path) -> None:
    """A seeds header with a platform-only interpretation: check refused it (rc 2), timeline drew it."""
    from properties.conformance.checker import check_file

    lines = _write(tmp_path / "ok.jsonl", list(run)).read_text().splitlines()
    header = json.loads(lines[0])
    header["interpretation"]["INT-PLATFORM-FIRST-JOB-CANCEL"] = "no_effect"
    trace = tmp_path / "bad_header.jsonl"
    trace.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    checked = check_file(str(trace))
    result = CliRunner().invoke(timeline, [str(trace), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 2 and not (tmp_path / "x.svg").exists()
    reason = result.output.strip().split("unusable input: ", 1)[1]
    assert reason and reason in "\n".join(checked.lines), (result.output, checked.lines)
