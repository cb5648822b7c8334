"""The pytest plugin: a conformance campaign as an ordinary pytest test (run with pytester)."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = "-m properties.conformance.reference_iut"

IUT_MODULE = """
from properties.conformance.adapter import EngineIUT


def make(config):
    return EngineIUT(config)
"""

TESTS = """
import pytest


@pytest.mark.sessionspec_adapter("iut_ok:make")
def test_conforming_iut(sessionspec_conformance):
    result = sessionspec_conformance.check(examples=30)
    assert result.finding is None


@pytest.mark.sessionspec_adapter("properties.conformance.mutants:session_lifo")
def test_mutant_iut(sessionspec_conformance):
    sessionspec_conformance.check()
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(iut_ok=IUT_MODULE, test_sample=TESTS)
    return pytester


def test_a_conforming_iut_passes_and_a_mutant_fails_with_the_shrunk_scenario(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("--sessionspec-seed", "0", "--sessionspec-examples", "200")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*test_mutant_iut*",
        "*does not conform to the session spec (FINDING after * examples*",
        "Minimal failing scenario (4 operations*",
        "  t=0       open s1 on b0",
        "*got t=10 job j3 (s1 on b0) queued -> running [[]start[]]; the spec expected t=10 job j2*",
    ])
    assert "Traceback" not in result.stdout.str() and "run_campaign" not in result.stdout.str()


# A profile with an explicit database: on CI, Hypothesis loads its built-in "ci" profile, which has none.
DATABASE_PROFILE = """
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

settings.register_profile("with_database", database=DirectoryBasedExampleDatabase("examples-db"))
settings.load_profile("with_database")
"""

NO_DATABASE_PROFILE = """
from hypothesis import settings

settings.register_profile("no_database", database=None)
settings.load_profile("no_database")
"""


def test_the_example_database_replays_the_failure_first(project: pytest.Pytester) -> None:
    project.makeconftest(DATABASE_PROFILE)
    first = project.runpytest_subprocess("-k", "mutant", "--sessionspec-examples", "2000")
    first.assert_outcomes(failed=1)
    database = project.path / "examples-db"
    assert database.is_dir() and any(database.iterdir())
    again = project.runpytest_subprocess("-k", "mutant", "--sessionspec-examples", "2000")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*FINDING after 1 examples*"])


def test_without_a_database_the_failure_is_found_afresh_each_run(project: pytest.Pytester) -> None:
    project.makeconftest(NO_DATABASE_PROFILE)
    for _ in range(2):
        result = project.runpytest_subprocess(
            "-k", "mutant", "--sessionspec-seed", "0", "--sessionspec-examples", "2000",
        )
        result.assert_outcomes(failed=1)
        assert "FINDING after 1 examples" not in result.stdout.str()
    assert not (project.path / ".hypothesis" / "examples").exists()


def test_an_unmarked_test_takes_the_iut_from_the_command_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_cmd="""
        def test_stdio_iut(sessionspec_conformance):
            sessionspec_conformance.check(examples=10)
    """)
    result = pytester.runpytest_subprocess(
        "--sessionspec-cmd", f"{sys.executable} {EXAMPLE}", "--sessionspec-seed", "1",
        "--sessionspec-interpretation", "INTERACTIVE-WINDOW=queue_empty",
    )
    result.assert_outcomes(passed=1)
    missing = pytester.runpytest_subprocess()
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*sessionspec: name the IUT with @pytest.mark.sessionspec_adapter*"])


def test_counterexamples_can_be_written_out(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(
        "-k", "mutant", "--sessionspec-seed", "0", "--sessionspec-out", "cex", "-p", "no:cacheprovider",
    )
    result.assert_outcomes(failed=1)
    for name in ("scenario.json", "expected.jsonl", "actual.jsonl"):
        assert (project.path / "cex" / name).is_file()


SPLIT_BY_BACKEND = """
import pytest


@pytest.mark.sessionspec_adapter("properties.conformance.mutants:session_lifo")
@pytest.mark.parametrize("backend", ["b0", "b1"])
def test_mutant_on(backend, sessionspec_conformance):
    sessionspec_conformance.check(backends=[backend])


@pytest.mark.sessionspec_adapter("iut_ok:make")
@pytest.mark.parametrize("backend", ["b0", "b1"])
def test_conforming_on(backend, sessionspec_conformance):
    sessionspec_conformance.check(backends=[backend], examples=30)


@pytest.mark.sessionspec_adapter("iut_ok:make")
def test_unknown_backend(sessionspec_conformance):
    sessionspec_conformance.check(backends=["b9"])
"""


def test_campaigns_split_by_backend_run_in_parallel_each_on_its_backend(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(iut_ok=IUT_MODULE, test_split=SPLIT_BY_BACKEND)
    result = pytester.runpytest_subprocess("-n", "2", "--sessionspec-seed", "0", "--sessionspec-examples", "2000")
    result.assert_outcomes(passed=2, failed=3)
    output = result.stdout.str()
    assert "2 workers" in output
    for backend, other in (("b0", "b1"), ("b1", "b0")):  # each campaign's counterexample uses its backend only
        # its failure's own section: up to the next section's "___" or the summary's "===" (on CI, pytest
        # prints each failure's whole message in the summary too)
        section = re.split(r"\n[_=]", output.split(f"test_mutant_on[{backend}] _")[1])[0]
        assert f"open s1 on {backend}" in section and f"on {other}" not in section, section
    assert "sessionspec: backends ['b9']: name one or more of ['b0', 'b1']" in output


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS")
def test_the_profile_is_chosen_on_the_command_line_or_per_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_platform="""
        import pytest


        @pytest.mark.sessionspec_adapter("properties.conformance.mutants:platform_close_fails")
        def test_platform_mutant_from_the_option(sessionspec_conformance):
            sessionspec_conformance.check()


        @pytest.mark.sessionspec_adapter("properties.conformance.mutants:platform_close_fails")
        def test_platform_mutant_passes_under_the_seeds(sessionspec_conformance):
            assert sessionspec_conformance.check(examples=20, profile="seeds").finding is None
    """)
    result = pytester.runpytest_subprocess("--sessionspec-seed", "0", "--sessionspec-profile", "platform")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*test_platform_mutant_from_the_option*", "*does not conform*", "*interpretation platform*", "*close s1*",
    ])
    bad = pytester.runpytest_subprocess("--sessionspec-profile", "cloud")
    bad.stdout.fnmatch_lines(["*sessionspec: unknown profile 'cloud'; known: seeds, platform*"])


SWEEP = """
import pytest


@pytest.mark.sessionspec_adapter("iut_ok:make")
def test_conforms_in_every_campaign(sessionspec_conformance):
    result = sessionspec_conformance.sweep(seeds=range(2), interpretations=[{}, {"IDLE-DEVICE": "work_conserving"}],
                                           examples=10)
    assert len(result.outcomes) == 4 and result.finding is None


@pytest.mark.sessionspec_adapter("properties.conformance.mutants:two_at_once")
def test_mutant_in_many_campaigns(sessionspec_conformance):
    sessionspec_conformance.sweep(seeds=range(2), interpretations=[{}], split_backends=True, examples=30)
"""


def test_a_sweep_of_campaigns_gives_one_merged_verdict_on_workers(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("distributed") is None:  # not imported here: pytester drops what a test imports
        pytest.skip("Dask is not installed")
    pytester.makepyfile(iut_ok=IUT_MODULE, test_sweep=SWEEP)
    result = pytester.runpytest_subprocess("--sessionspec-workers", "2")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*two_at_once does not conform to the session spec",
        "4 campaigns",
        "*default / backends b0 / seed 0 * FINDING*",
        "first finding: default / backends b0 / seed 0",
        "Minimal failing scenario*",
    ])
