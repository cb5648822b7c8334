"""A check judges records a chunk at a time; the report is the same, line for line, whatever the
chunks' size: on a long trace, damaged, with violations, notes and divergences, for every profile,
every mutant and unusable input."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.sim.engine import Engine
from model.sim.ops import run_operations
from model.spec.interpretations import profiles
from model.spec.validations import RequestRejected
from model.trace import Change, End, MemoryTrace, Request
from properties.cli import cli
from properties.conformance.campaign import DEFAULT_BACKENDS, CampaignConfig
from properties.conformance.checker import CheckReport, _check, catalogue, check_file
from properties.conformance.mutants import MUTANTS
from properties.conformance.reader import CHUNK, open_lines, read_chunks
from properties.invariants.base import TraceProperty, Violation
from tests.test_checker import _NoCancels


def long_trace(interpretation: str = "default") -> list[str]:
    """Some 14 chunks of records: sessions of two jobs, fair-share jobs, cancels and closes on three backends."""
    trace = MemoryTrace()
    engine = Engine(list(DEFAULT_BACKENDS), interpretation=profiles()[interpretation], sink=trace)
    for n in range(1200):
        backend = DEFAULT_BACKENDS[n % len(DEFAULT_BACKENDS)].name
        session = engine.open_session(backend, max_time=40 if n % 7 == 0 else None)
        first = engine.submit(session.id, duration=3 + n % 5, fault=n % 11 == 0)
        engine.submit(session.id, duration=2, fault=False)
        loose = engine.submit(None, backend=backend, duration=1, fault=False)
        with suppress(RequestRejected):  # a rejected request is traced too
            if n % 5 == 0:
                engine.cancel(loose.id)
            engine.advance(4 + n % 9)
            if n % 3:
                engine.close(session.id)
            elif n % 13 == 0:
                engine.cancel(first.id)
    engine.run(until=engine.now + 2000)
    return trace.jsonl().splitlines(keepends=True)


LONG = long_trace()
UNTIL = float(LONG[-1].split('"t":')[1].split(",")[0]) + 1


class _Breaks(TraceProperty):
    name: ClassVar[str] = "breaks"
    rules: ClassVar[tuple[str, ...]] = ("JOB-CANCEL",)
    description: ClassVar[str] = "a test property that raises at the 3000th record"

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if index == 3000:
            raise ValueError("no opinion")
        return None


PROPERTIES = (*catalogue(), _NoCancels, _Breaks)


def same(one: CheckReport, two: CheckReport) -> None:
    assert two.lines == one.lines
    assert (two.status, two.records) == (one.status, one.records)
    assert two.violations == one.violations and two.divergences == one.divergences


def both(path: Path, **options: Any) -> CheckReport:
    """The check of the file, held equal to one in chunks of 7 records (no divisor of the default's)."""
    one = check_file(str(path), **options)
    classes = options.pop("properties", None)
    ends: list[End] = []
    with open_lines(str(path)) as lines:
        small = _check(read_chunks(lines, size=7, on_end=ends.append), ends, str(path), classes=classes,
                       overrides={}, tolerance=0.0,
                       keep_going=options.get("keep_going", False), until=options.get("until"))
    same(one, small)
    return one


def test_the_long_trace_spans_many_chunks_and_conforms(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG))
    assert len(LONG) > 12 * CHUNK
    report = both(path, until=UNTIL)
    assert report.status == 0, report.lines


EDITS = ("drop", "duplicate", "swap", "later", "garbage")


def damage(lines: list[str], where: Sequence[float], edits: Sequence[str]) -> list[str]:
    lines = list(lines)
    for at, edit in zip(where, edits, strict=True):
        index = 1 + int(at * (len(lines) - 2))
        if edit == "drop":
            lines.pop(index)
        elif edit == "duplicate":
            lines.insert(index, lines[index])
        elif edit == "swap":
            lines[index], lines[index + 1] = lines[index + 1], lines[index]
        elif edit == "later":
            record = json.loads(lines[index])
            record["t"] += 0.5
            lines[index] = json.dumps(record) + "\n"
        else:
            lines[index] = '{"type": "job", "t": 1}\n'
    return lines


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    where=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=4),
    edits=st.data(), keep_going=st.booleans(), catalogue_only=st.booleans(),
)
def test_chunks_of_any_size_report_alike(
    tmp_path_factory: pytest.TempPathFactory, where: list[float], edits: st.DataObject, keep_going: bool,
    catalogue_only: bool,
) -> None:
    chosen = edits.draw(st.lists(st.sampled_from(EDITS), min_size=len(where), max_size=len(where)))
    path = tmp_path_factory.mktemp("jobs") / "t.jsonl"
    path.write_text("".join(damage(LONG, where, chosen)))
    properties = catalogue() if catalogue_only else PROPERTIES
    both(path, keep_going=keep_going, until=UNTIL, properties=properties)


def test_violations_notes_and_divergences_on_many_chunks_come_out_alike(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(damage(LONG, [0.3, 0.6], ["duplicate", "swap"])))
    report = both(path, keep_going=True, until=UNTIL, properties=PROPERTIES)
    assert report.divergences and report.violations
    assert any(v.property == "no-cancels" for v in report.violations)
    assert any("property breaks could not judge this trace" in line for line in report.lines)
    assert any("more violations" in line for line in report.lines)  # past the 20 printed


@pytest.mark.parametrize("profile", sorted(profiles()))
def test_every_profile_conforms_alike(tmp_path: Path, profile: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(long_trace(profile)[: 3 * CHUNK]))
    both(path)


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.offline], ids=lambda m: m.name)
def test_each_mutants_trace_is_flagged_alike(tmp_path: Path, mutant: Any) -> None:
    trace = MemoryTrace()
    run = mutant.engine(list(CampaignConfig().backends), sink=trace, interpretation=mutant.interpretation)
    run_operations(run, mutant.scenario)
    run.run(until=mutant.until)
    path = tmp_path / "m.jsonl"
    path.write_text(trace.jsonl())
    for keep_going in (False, True):
        assert both(path, until=mutant.until, keep_going=keep_going).status == 1


def test_unusable_input_is_reported_alike(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = list(LONG)
    lines[5 * CHUNK + 7] = "not json\n"
    path.write_text("".join(lines))
    report = both(path)
    assert report.status == 2 and len(report.lines) == 1
    assert report.lines[0].startswith(f"{path}:{5 * CHUNK + 8}: unusable input:")


def test_the_check_command_still_takes_jobs_1(tmp_path: Path) -> None:
    """``--jobs`` is kept for scripts that pass it; the check runs in one process."""
    path = tmp_path / "t.jsonl"
    path.write_text("".join(damage(LONG, [0.5], ["later"])))
    outputs = []
    for extra in ([], ["--jobs", "1"]):
        result = CliRunner().invoke(cli, ["check", str(path), "--until", str(UNTIL), *extra])
        assert result.exit_code == 1
        outputs.append(result.output)
    assert outputs[0] == outputs[1] and "divergence" in outputs[0]
    result = CliRunner().invoke(cli, ["check", str(path), "--jobs", "2"])
    assert result.exit_code == 2 and "2 is not in the range 1<=x<=1" in result.output


def test_a_property_that_raises_is_an_error_of_the_kit_never_conforms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conforming trace on which one of the kit's properties raises: exit 3 with the property named,
    not 0 with a note (the trace was not fully judged)."""
    from properties.invariants import catalogue as invariants

    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG))
    assert check_file(str(path)).status == 0
    report = check_file(str(path), properties=(*catalogue(), _Breaks))
    assert report.status == 3
    assert any("error of the kit: property breaks could not judge this trace" in line for line in report.lines)
    assert not any("conforms" in line for line in report.lines)
    monkeypatch.setattr(invariants, "ALL_PROPERTIES", (*invariants.ALL_PROPERTIES, _Breaks))
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 3 and "error of the kit" in result.output, result.output


def test_a_line_longer_than_the_limit_is_unusable_before_it_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trace line over MAX_LINE bytes (or a file with no newline at all) is refused, naming its line."""
    from properties.conformance import reader

    monkeypatch.setattr(reader, "MAX_LINE", 4096)
    trace = tmp_path / "t.jsonl"
    header = '{"type":"header","format":"sessionspec-trace","version":1,"interactive_timeout":300.0,' \
        '"interpretation":{},"backends":{"b0":{"system_max_time":28800.0,"program_max_execution_time":28800.0}}}'
    trace.write_bytes((header + "\n" + "x" * 10_000 + "\n").encode())
    with pytest.raises(reader.Unusable) as refused:
        list(reader.FileLines(trace.open("rb"), size=1000))
    assert refused.value.line == 2 and "longer than 4096 bytes" in refused.value.reason
    trace.write_bytes(b"y" * 10_000)  # no newline
    with pytest.raises(reader.Unusable) as refused:
        list(reader.FileLines(trace.open("rb"), size=1000))
    assert refused.value.line == 1
    trace.write_bytes((header + "\n").encode() + b"\n\r\n")  # blank lines, a last line without a newline
    assert [len(line) for line in reader.FileLines(trace.open("rb"), size=7)] == [len(header), 0, 1]
