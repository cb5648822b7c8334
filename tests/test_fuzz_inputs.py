"""Fuzz suites over the scenario loader and the stdio protocol (the trace reader's is in test_reader.py).

Hostile input is never a crash: a scenario is run or refused in one line with exit status 2; an
implementation's hostile answer is a finding (:class:`IUTFailure`, one line of its own before the quoted
stderr), never an exception of the kit nor a hang. Bounded: few examples, each with a small event limit
and generous wall-clock bounds (the machine may be loaded).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.sim.ops import Open, Submit
from model.spec.interpretations import DEFAULT
from model.trace import Change, Record
from properties.cli import cli
from properties.conformance import subprocess_iut
from properties.conformance.adapter import EngineIUT
from properties.conformance.campaign import DEFAULT_BACKENDS, CampaignConfig, execute
from properties.conformance.iut import IUTConfig, IUTFailure
from properties.conformance.subprocess_iut import StdioFactory

ROOT = Path(__file__).parent.parent
EXAMPLE = json.loads((ROOT / "examples" / "scenarios" / "busy_backend.json").read_text())
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
IUT_TIMEOUT = 60.0
"""Seconds the fake implementation gets per answer: it answers at once, so only a loaded machine waits."""

# ---------------------------------------------------------------------- hostile JSON values

HOSTILE_TEXT: tuple[str, ...] = (
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 400, "-" + "9" * 30, "1.5", "0", "-1", "true",
    "null", '""', '"\\ud800"', '"\\udfff x"', '"\\u0000"', '"²"', '"25m 25m"', '"٣"', '"1h\\n"',
    "[" * 3000 + "]" * 3000, "{}", "[]", '{"a": 1}', '"' + "x" * 5000 + '"', "1e-400", "-0",
)
"""JSON texts of values a field should not hold (or should hold only just): spliced in as raw text, so that
NaN and what Python's json would not write reach the loader."""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (keys and indices)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


MARK = "\u0000HOSTILE\u0000"


@st.composite
def hostile_scenarios(draw: st.DrawFn) -> str:
    """The example scenario with a few of its values replaced, keys dropped or added, as JSON text."""
    document = copy.deepcopy(EXAMPLE)
    document["until"] = 4000
    raw: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(document) if p]
        path = draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        kind = draw(st.sampled_from(("raw", "value", "drop", "extra")))
        if kind == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif kind == "extra" and isinstance(parent, dict):
            parent[draw(st.sampled_from(("extra", "At", "op ", "\ud800")))] = draw(json_values)
        elif kind == "raw":
            parent[path[-1]] = f"{MARK}{len(raw)}"
            raw.append(draw(st.sampled_from(HOSTILE_TEXT)))
        else:
            parent[path[-1]] = draw(json_values)
    text = json.dumps(document)
    for index, piece in enumerate(raw):
        text = text.replace(json.dumps(f"{MARK}{index}"), piece)
    return text


def _one_line_error(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr


@FUZZ
@given(text=hostile_scenarios())
def test_a_hostile_scenario_runs_or_is_one_line_and_exit_2(tmp_path_factory: pytest.TempPathFactory,
                                                           text: str) -> None:
    path = tmp_path_factory.mktemp("scenario") / "s.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = CliRunner().invoke(cli, ["simulate", str(path), "--quiet", "--max-events", "20000"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        _one_line_error(result.stderr)
        assert str(path) in result.stderr


@pytest.mark.parametrize("text", [
    b"", b"\xff\xfe", b"\xef\xbb\xbf{}", b'{"version": 1, "backends": [', b"[" * 100_000,
    b'{"version": 1, "backends": [{"name": "b", "duration": {"exponential": 1e-300}}], "until": 1e300}',
    b'{"version": 1, "backends": [{"name": "b"}], "operations": ' + b'[{"at": 0, "op": "fault", "backend": "b"}' * 1
    + b", " + b", ".join([b'{"at": 0, "op": "fault", "backend": "b"}'] * 5_000) + b"]}",
    b'{"version": 1, "backends": [{"name": "b"}], "background": [{"backend": "b", "jobs_per_hour": 1e15}], '
    b'"until": 1e15}',
], ids=["empty", "not-utf8", "bom", "truncated", "deep", "tiny-mean-far-until", "5k-faults", "flood"])
def test_absurd_scenario_files_are_one_line_and_exit_2_or_bounded(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(text)
    result = CliRunner().invoke(cli, ["simulate", str(path), "--quiet", "--max-events", "20000"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        _one_line_error(result.stderr)


# ---------------------------------------------------------------------- the stdio protocol

FAKE_IUT = """\
import sys
answer = open(sys.argv[1], "rb").read()
mode = sys.argv[2]
if mode == "silent-eof":
    sys.stdout.buffer.write(answer)
    sys.stdout.flush()
    sys.exit(0)
for line in sys.stdin.buffer:
    sys.stdout.buffer.write(answer)
    sys.stdout.flush()
    if mode == "once":
        sys.exit(3)
"""
"""A fake implementation: answers every request with the same bytes (``every``), answers once then exits
(``once``), or writes them without reading anything and exits (``silent-eof``)."""

HEADER = {"type": "header", "format": "sessionspec-trace", "version": 1, "interactive_timeout": 300.0,
          "interpretation": {}, "backends": {b.name: b.limits() for b in DEFAULT_BACKENDS}}

answer_objects = st.one_of(
    st.just({"ok": True, "events": [HEADER]}),
    st.fixed_dictionaries({"ok": st.one_of(st.booleans(), json_values)}, optional={"events": json_values,
                                                                                   "error": json_values}),
    st.fixed_dictionaries({"ok": st.just(True), "events": st.lists(
        st.one_of(st.just(HEADER), st.dictionaries(st.sampled_from(
            ["type", "t", "id", "backend", "session", "from", "to", "trigger", "rules", "op", "outcome", "x"]),
            json_values, max_size=6)), max_size=5)}),
    st.just({"ok": True, "events": [HEADER] * 3000}),
    json_values,
)


@st.composite
def hostile_answers(draw: st.DrawFn) -> bytes:
    """One line (or not a line) an implementation might answer with."""
    kind = draw(st.sampled_from(("object", "raw", "bytes", "no-newline", "long")))
    if kind == "object":
        text = json.dumps(draw(answer_objects))
        if draw(st.booleans()):  # a hostile literal in place of a value
            text = text.replace("true", draw(st.sampled_from(HOSTILE_TEXT)), 1)
        return text.encode() + b"\n"
    if kind == "raw":
        return draw(st.sampled_from(HOSTILE_TEXT)).encode() + b"\n"
    if kind == "bytes":
        return draw(st.binary(max_size=200)) + b"\n"
    if kind == "no-newline":
        return json.dumps({"ok": True, "events": [HEADER]}).encode()[: draw(st.integers(0, 60))]
    return b'{"ok": true, "events": [' + b'"x", ' * 20_000 + b'"x"]}'  # longer than the test's line limit


@pytest.fixture(scope="module")
def fake_iut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    script = tmp_path_factory.mktemp("iut") / "fake_iut.py"
    script.write_text(FAKE_IUT)
    return script


def _exchange(script: Path, folder: Path, answer: bytes, mode: str) -> IUTFailure | None:
    """Start the fake implementation, configure it (init) and submit once: the finding, or None."""
    payload = folder / "answer.bin"
    payload.write_bytes(answer)
    factory = StdioFactory([sys.executable, str(script), str(payload), mode], timeout=IUT_TIMEOUT)
    try:
        iut = factory(IUTConfig(DEFAULT_BACKENDS, DEFAULT))
        iut.open_session("b0", None, "s1")
        iut.events()
    except IUTFailure as finding:
        return finding
    finally:
        factory.close()
    return None


def _check_finding(finding: IUTFailure | None) -> None:
    if finding is None:
        return
    assert finding.kind in ("died", "garbage", "error", "timeout"), finding.kind
    first = finding.message.splitlines()[0] if finding.message else ""
    assert first and "Traceback" not in first, finding.message
    assert finding.kind != "timeout", finding.message  # the fake never hangs: a timeout would be the kit's


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(answer=hostile_answers(), mode=st.sampled_from(("every", "once", "silent-eof")))
def test_a_hostile_answer_is_a_finding_never_a_crash(
    fake_iut: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, answer: bytes,
    mode: str,
) -> None:
    monkeypatch.setattr(subprocess_iut, "MAX_LINE", 64 * 1024)
    if b"\n" not in answer and mode == "every":
        mode = "once"  # a part of a line, then waiting: a hang, which only the timeout can end (tested elsewhere)
    _check_finding(_exchange(fake_iut, tmp_path_factory.mktemp("answer"), answer, mode))


@pytest.mark.parametrize(("answer", "kind"), [
    (b"not json\n", "garbage"), (b"[" * 5000 + b"\n", "garbage"), (b'{"ok": NaN}\n', "garbage"),
    (b'{"ok": true, "events": [{"type": "header", "t": 1e999}]}\n', "garbage"),
    (b'{"ok": "\\ud800"}\n', "garbage"), (b'{"ok": false, "error": "\\ud800"}\n', "garbage"),
    (b'{"ok": true, "events": {}}\n', "garbage"), (b'{"ok": true', "died"),
], ids=["text", "deep", "nan", "huge-float", "surrogate", "error-surrogate", "events-object", "partial-then-eof"])
def test_each_class_of_hostile_answer_is_the_finding_it_should_be(
    fake_iut: Path, tmp_path: Path, answer: bytes, kind: str
) -> None:
    finding = _exchange(fake_iut, tmp_path, answer, "once")
    assert finding is not None and finding.kind == kind, finding
    _check_finding(finding)


@pytest.mark.parametrize("answer", [b"not json\n", b'{"ok": true, "events": [{"type": "header"}]}\n', b""],
                         ids=["garbage", "bad-header", "silent"])
def test_conform_reports_a_hostile_implementation_as_a_finding_exit_1(fake_iut: Path, tmp_path: Path,
                                                                      answer: bytes) -> None:
    payload = tmp_path / "answer.bin"
    payload.write_bytes(answer)
    command = f"{sys.executable} {fake_iut} {payload} once"
    result = subprocess.run(
        [sys.executable, "-c", "from properties.cli import main; main()", "conform", "--cmd", command, "-n", "5",
         "--timeout", str(IUT_TIMEOUT)],
        cwd=ROOT, capture_output=True, text=True, timeout=10 * IUT_TIMEOUT, check=False,
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


def test_the_event_limit_counts_the_events_before_the_operations_too(tmp_path: Path) -> None:
    """A heavy load and a far operation: the run stops at the limit on its way to the operation (it ran
    unbounded when only the events after the last operation were counted)."""
    path = tmp_path / "far.json"
    path.write_text(json.dumps({
        "version": 1, "backends": [{"name": "b"}],
        "background": [{"backend": "b", "jobs_per_hour": 3_600_000, "until": 1e12}],
        "operations": [{"at": 1e9, "op": "fault", "backend": "b"}], "until": 1e9 + 1,
    }))
    result = CliRunner().invoke(cli, ["simulate", str(path), "--quiet", "--max-events", "5000"])
    assert result.exit_code == 2, result.output
    _one_line_error(result.stderr)
    assert "after 5000 events, before it was due to reach the operation at t=1000000000" in result.stderr
    example = ROOT / "examples" / "scenarios" / "busy_backend.json"
    assert CliRunner().invoke(cli, ["simulate", str(example), "--quiet", "--max-events", "1"]).exit_code == 2


class _Renamed(EngineIUT):
    """The reference, but the lines of ``entity`` name a backend, or an id, the header and requests never gave."""

    entity = "job"
    field = "backend"

    def events(self) -> list[Record]:
        def renamed(r: Change) -> Change:
            return r._replace(backend="b9") if self.field == "backend" else r._replace(id="b9")

        return [renamed(r) if isinstance(r, Change) and r.entity == self.entity else r for r in super().events()]


@pytest.mark.parametrize("field", ["backend", "id"])
def test_a_record_the_header_rules_out_is_a_finding_not_a_crash(field: str) -> None:
    """A job line on an undeclared backend (or an unknown job) is refused by the replay as unusable: in a live
    campaign or explore that escaped as a traceback; it is a divergence at that line, as ``check`` reads it."""
    iut = type("Renamed", (_Renamed,), {"field": field})
    ops = (Open(at=0.0, backend="b0", session="s1"), Submit(at=0.0, session="s1", job="j1", duration=5.0, fault=False))
    finding = execute(ops, 100.0, lambda config: iut(config), CampaignConfig())
    assert finding is not None and finding.line is not None, finding
    assert "b9" in finding.message and "Traceback" not in finding.message, finding.message


def test_a_program_that_exits_at_once_is_one_finding_whatever_the_timing() -> None:
    """Whether ``false`` had ended before init was written, while it was, or while its answer was awaited is a
    race; the finding read "is not running ... before init" or "exited ... without answering init" by it."""
    messages = set()
    for _ in range(6):
        factory = StdioFactory(["false"], timeout=IUT_TIMEOUT)
        try:
            with pytest.raises(IUTFailure) as died:
                factory(IUTConfig(DEFAULT_BACKENDS, DEFAULT))
        finally:
            factory.close()
        assert died.value.kind == "died"
        messages.add(died.value.message.splitlines()[0])
    assert messages == {"false exited (status 1) without answering init"}, messages
