"""The end-of-run line: optional, last, part of the one record definition; with it ``check`` sees a
timer event missing at the end of a trace without ``--until``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from model.runtime import QiskitRuntimeService
from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.trace import End, MemoryTrace, Unusable, dumps, from_json, read_trace, schema
from model.trace.reader import line_record
from properties.cli import cli
from properties.conformance.checker import check_lines

B0 = [BackendConfig("b0", system_max_time=1800.0, program_max_execution_time=400.0)]


def _run(until: float) -> MemoryTrace:
    trace = MemoryTrace()
    engine = Engine(B0, sink=trace)
    engine.open_session("b0", None, "s1")
    engine.submit("s1", job_id="j1", duration=10.0)
    engine.run(until=until)
    return trace


def test_the_end_line_is_a_line_of_the_record_definition() -> None:
    assert dumps(End(2000.0)) == '{"type":"end","t":2000.0}'
    assert line_record(3, '{"type":"end","t":2000.0}') == End(2000.0)
    assert from_json({"type": "end", "t": 5}) == End(5.0)
    assert {"$ref": "#/$defs/end"} in schema()["oneOf"]
    with pytest.raises(Unusable, match="schema violation"):
        line_record(1, '{"type":"end","t":-1}')


def test_a_trace_may_end_with_it_and_it_is_no_record() -> None:
    trace = _run(400.0)
    ends: list[End] = []
    records = [record for _, record in read_trace(trace.jsonl(end=400.0).splitlines(), on_end=ends.append)]
    assert records == list(trace) and ends == [End(400.0)]
    assert [record for _, record in read_trace(trace.jsonl().splitlines())] == list(trace)  # still valid without


@pytest.mark.parametrize(("text", "reason"), [
    ('{"type":"end","t":1.0}\n', "missing header: the first line is the end line"),
    ("HEADER END END", "a line after the end line \\(line 2\\)"),
    ('HEADER END {"type":"request","t":6.0,"op":"close","session":"s","outcome":"accepted"}',
     "a line after the end line"),
])
def test_the_end_line_is_last(text: str, reason: str) -> None:
    header = _run(0.0).jsonl().splitlines(keepends=True)[0]
    lines = [header if word == "HEADER" else '{"type":"end","t":5.0}' if word == "END" else word
             for word in text.split(" ")]
    with pytest.raises(Unusable, match=reason):
        list(read_trace(lines))


def test_time_does_not_go_back_at_the_end_line() -> None:
    trace = _run(400.0)
    with pytest.raises(Unusable, match="time goes back"):
        list(read_trace(trace.jsonl(end=1.0).splitlines()))


def test_check_sees_a_missing_timer_at_the_end_through_the_end_line() -> None:
    """The session's interactive window ends at t=310: a trace cut at t=10 conforms by itself (the run may
    have stopped there), but not once its end line says the run went on to t=400."""
    whole = _run(400.0)
    cut = MemoryTrace([r for r in whole if getattr(r, "t", 0.0) <= 10.0])
    assert check_lines(cut.jsonl().splitlines(), "cut.jsonl").status == 0
    report = check_lines(cut.jsonl(end=400.0).splitlines(), "cut.jsonl")
    assert report.status == 1 and "TTL-INTERACTIVE" in report.lines[0] and report.end == 400.0
    assert check_lines(whole.jsonl(end=400.0).splitlines(), "whole.jsonl").status == 0


def test_simulate_and_the_runtime_api_end_their_traces(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    scenario = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "busy_backend.json"
    assert CliRunner().invoke(cli, ["simulate", str(scenario), "--trace", str(out), "--quiet"]).exit_code == 0
    assert out.read_text().splitlines()[-1].startswith('{"type":"end","t":')
    assert CliRunner().invoke(cli, ["check", str(out)]).exit_code == 0
    service = QiskitRuntimeService()
    service.advance(50.0)
    assert service.trace_jsonl().splitlines()[-1] == '{"type":"end","t":50.0}'
