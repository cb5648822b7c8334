"""``sessionspec check --jobs 2``: the properties in a forked second process give the same report as one process."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.engine import Engine
from model.interpretations import profiles
from model.trace import Change, Header, MemoryTrace, Request
from model.validations import RequestRejected
from properties import invariants
from properties.base import TraceProperty, Violation
from properties.cli import cli
from properties.conformance import checker, property_runner
from properties.conformance.campaign import DEFAULT_BACKENDS, CampaignConfig
from properties.conformance.checker import CheckReport, _check, catalogue, check_file
from properties.conformance.collection import THRESHOLDS, fewer_collections
from properties.conformance.mutants import MUTANTS
from properties.conformance.ops import apply_to_engine
from properties.conformance.property_runner import PropertyProcessFailed, can_fork, forked
from properties.conformance.reader import CHUNK, FileLines, open_lines, read_chunks
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
    one = check_file(str(path), jobs=1, **options)
    same(one, check_file(str(path), jobs=2, **options))
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
def test_two_processes_report_what_one_does(
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


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_mutants_trace_is_flagged_alike(tmp_path: Path, mutant: Any) -> None:
    trace = MemoryTrace()
    run = mutant.engine(list(CampaignConfig().backends), sink=trace)
    for op in mutant.scenario:
        apply_to_engine(run, op)
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


class _Pid(TraceProperty):
    name: ClassVar[str] = "pid"
    rules: ClassVar[tuple[str, ...]] = ("JOB-CANCEL",)
    description: ClassVar[str] = "a test property that writes the process it runs in to PID_FILE"
    file: ClassVar[Path]

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.file.write_text(str(os.getpid()))

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        return None


def test_jobs_2_runs_the_properties_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG[:100]))
    _Pid.file = tmp_path / "pid"
    check_file(str(path), jobs=1, properties=[_Pid])
    assert int(_Pid.file.read_text()) == os.getpid()
    check_file(str(path), jobs=2, properties=[_Pid])
    assert int(_Pid.file.read_text()) != os.getpid()


def test_where_the_platform_cannot_fork_jobs_2_checks_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert can_fork()  # this machine (Linux) can: the rest of this module forks
    monkeypatch.setattr(sys, "platform", "darwin")  # fork is there, but not safe: one process
    assert not can_fork()
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG[:100]))
    _Pid.file = tmp_path / "pid"
    check_file(str(path), jobs=2, properties=[_Pid])
    assert int(_Pid.file.read_text()) == os.getpid()
    assert checker.default_jobs() == 1


class _Diverted:
    """What ``forked`` is given: the child reads ``theirs`` (by its descriptor) while this process reads
    ``ours`` and compares CRCs with it: the two processes read different bytes, as when a file changes."""

    def __init__(self, ours: FileLines, theirs: FileLines) -> None:
        self.ours, self.theirs = ours, theirs

    def fileno(self) -> int:
        return self.theirs.fileno()

    @property
    def crc(self) -> int:
        return self.ours.crc


def _checked_against(tmp_path: Path, ours: list[str], theirs: list[str]) -> CheckReport:
    """Check ``ours`` while the property process reads ``theirs``: a file that changed between the two reads."""
    mine, other = tmp_path / "mine.jsonl", tmp_path / "other.jsonl"
    mine.write_text("".join(ours))
    other.write_text("".join(theirs))
    classes = catalogue()
    with open_lines(str(mine)) as lines, open_lines(str(other)) as diverted, forked(
        cast(FileLines, _Diverted(lines, diverted)), classes, {}
    ) as runner:
        lines.checksum = True
        return _check(read_chunks(lines), str(mine), runner=lambda header: runner, count=len(classes), overrides={},
                      tolerance=0.0, keep_going=False, until=None)


def test_the_same_bytes_read_twice_pass_the_comparison(tmp_path: Path) -> None:
    report = _checked_against(tmp_path, LONG[: 4 * CHUNK], LONG[: 4 * CHUNK])
    assert report.status == 0, report.lines


def test_a_file_that_grew_during_the_check_is_unusable(tmp_path: Path) -> None:
    report = _checked_against(tmp_path, LONG[: 4 * CHUNK], LONG[: 4 * CHUNK + 10])
    assert report.lines == [f"{tmp_path / 'mine.jsonl'}:{4 * CHUNK}: unusable input: the file changed while it was "
                            "being checked"]  # at the last line both read: the end of the shorter one


def test_a_file_edited_during_the_check_is_unusable(tmp_path: Path) -> None:
    edited = list(LONG[: 4 * CHUNK])
    edited[2 * CHUNK] = edited[2 * CHUNK].replace('"t":', '"t": ', 1)  # the same record, one more byte
    report = _checked_against(tmp_path, LONG[: 4 * CHUNK], edited)
    assert report.status == 2 and len(report.lines) == 1
    line = int(report.lines[0].split(":")[1])  # where the edit came to light: the chunk that read its block
    assert 2 * CHUNK - CHUNK < line <= 2 * CHUNK + CHUNK
    assert report.lines[0].endswith(": unusable input: the file changed while it was being checked")


def test_a_pipe_is_checked_in_one_process(tmp_path: Path) -> None:
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    _Pid.file = tmp_path / "pid"
    writer = threading.Thread(target=lambda: fifo.write_text("".join(LONG[: 3 * CHUNK])))
    writer.start()
    report = check_file(str(fifo), jobs=2, properties=[_Pid, *catalogue()])
    writer.join()
    assert report.status == 0 and report.records == 3 * CHUNK - 1, report.lines
    assert int(_Pid.file.read_text()) == os.getpid()


def test_an_early_stop_leaves_no_process_behind(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(damage(LONG, [0.01], ["duplicate"])))
    _Pid.file = tmp_path / "pid"
    report = check_file(str(path), jobs=2, properties=[_Pid, *catalogue()])
    assert report.status == 1 and report.records < CHUNK  # stopped at the first divergence, in chunk one
    child = int(_Pid.file.read_text())
    assert child != os.getpid() and not Path(f"/proc/{child}").exists()
    assert not multiprocessing.active_children()


_ORPHAN = """
import sys, time
from properties.base import TraceProperty
from properties.conformance.checker import check_file

class Slow(TraceProperty):
    name, rules, description = "slow", ("JOB-CANCEL",), "a property that takes its time at record 10"

    def observe(self, index, record):
        if index == 10:
            time.sleep(1.0)  # meanwhile, the checking process is killed

check_file(sys.argv[1], jobs=2, properties=[Slow])
"""


def _state(pid: int) -> str:
    """A process's state letter (Z: a zombie, it has exited), or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_the_property_process_ends_when_the_checking_process_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG))
    checking = subprocess.Popen([sys.executable, "-c", _ORPHAN, str(path)], cwd=Path(__file__).parent.parent)
    children = Path(f"/proc/{checking.pid}/task/{checking.pid}/children")
    deadline = time.monotonic() + 20
    while not children.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.01)
    (child,) = map(int, children.read_text().split())
    checking.kill()
    checking.wait()
    deadline = time.monotonic() + 10
    while _state(child) not in ("Z", "gone") and time.monotonic() < deadline:
        time.sleep(0.05)
    outlived = _state(child) not in ("Z", "gone")
    if outlived:
        os.kill(child, signal.SIGKILL)  # leave nothing behind, even when failing
    assert not outlived, "the property process outlived the checking process"


def test_usable_cpus_honours_a_cgroup_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    found = property_runner._cgroup_quota()
    assert found is None or found > 0  # whatever this machine says, it reads as a quota or none
    monkeypatch.setattr(property_runner, "_cgroup_quota", lambda: 1.5)
    assert property_runner.usable_cpus() == 1
    assert checker.default_jobs() == 1
    monkeypatch.setattr(property_runner, "_cgroup_quota", lambda: None)
    assert property_runner.usable_cpus() == len(os.sched_getaffinity(0))


class _Exits(TraceProperty):
    name: ClassVar[str] = "exits"
    rules: ClassVar[tuple[str, ...]] = ("JOB-CANCEL",)
    description: ClassVar[str] = "a test property whose process dies"

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if index == 2000:
            os._exit(3)
        return None


def test_a_property_process_that_dies_is_an_error_naming_its_exit_code(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG))
    with pytest.raises(PropertyProcessFailed, match=r"the property process ended without a report \(exit code 3\)"):
        check_file(str(path), jobs=2, properties=[_Exits])


def test_the_check_command_exits_3_when_the_property_process_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG))
    monkeypatch.setattr(invariants, "ALL_PROPERTIES", (_Exits,))  # what the command checks with
    result = CliRunner().invoke(cli, ["check", str(path), "--jobs", "2"])
    assert result.exit_code == 3, result.output
    assert result.stderr == (f"{path}: error: the property process ended without a report (exit code 3) (a fault "
                             "of the checker, not of the trace; --jobs 1 checks in one process)\n")


class _CannotStart(TraceProperty):
    name: ClassVar[str] = "cannot-start"
    rules: ClassVar[tuple[str, ...]] = ("JOB-CANCEL",)
    description: ClassVar[str] = "a test property that raises when it is made"

    def __init__(self, header: Header) -> None:
        raise LookupError("no such catalogue")

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        return None


def test_a_property_process_that_raises_is_an_error_with_its_traceback(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG[:100]))
    with pytest.raises(PropertyProcessFailed, match=r"^the property process failed$") as failed:
        check_file(str(path), jobs=2, properties=[_CannotStart])
    assert failed.value.detail.startswith("Traceback")
    assert failed.value.detail.rstrip().endswith("LookupError: no such catalogue")


def test_the_check_command_takes_jobs(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(damage(LONG, [0.5], ["later"])))
    outputs = []
    for jobs in ("1", "2"):
        result = CliRunner().invoke(cli, ["check", str(path), "--jobs", jobs, "--until", str(UNTIL)])
        assert result.exit_code == 1
        outputs.append(result.output)
    assert outputs[0] == outputs[1] and "divergence" in outputs[0]
    result = CliRunner().invoke(cli, ["check", str(path), "--jobs", "3"])
    assert result.exit_code == 2 and "3 is not in the range 1<=x<=2" in result.output


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jobs must be at least 1, not 0"):
        check_file(str(tmp_path / "t.jsonl"), jobs=0)


class _Thresholds(TraceProperty):
    name: ClassVar[str] = "thresholds"
    rules: ClassVar[tuple[str, ...]] = ("JOB-CANCEL",)
    description: ClassVar[str] = "a test property that reports, at the first record, the collector's thresholds"

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        return self.violation(index, record.t, repr(gc.get_threshold())) if index == 1 else None


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_check_collects_less_often_in_both_processes_and_restores_the_collector(tmp_path: Path, jobs: int) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(LONG[:100]))
    before = gc.get_threshold()
    assert before != THRESHOLDS
    for report in (check_file(str(path), jobs=jobs, properties=[_Thresholds]),
                   checker.check_lines(LONG[:100], "t.jsonl", properties=[_Thresholds])):
        assert [v.message for v in report.violations] == [repr(THRESHOLDS)]
        assert gc.get_threshold() == before


def test_checks_that_overlap_and_end_in_any_order_restore_the_collector() -> None:
    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == THRESHOLDS  # the second check is still under way
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
