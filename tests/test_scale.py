"""Past one machine: explore, campaigns and the study on Dask workers give what one process gives.

A ``LocalCluster`` of worker threads (cheap: no process to start) for explore and the study; for
campaigns (Hypothesis keeps global state, so two in one process would meet) and the two-host
case, a scheduler and two workers started as separate ``dask`` processes talking TCP on 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from properties.cli import cli
from properties.conformance import explore as explore_module
from properties.conformance.explore import Bounds, ExploreConfig, ExploreResult, explore
from properties.conformance.mutants import MUTANTS_BY_NAME
from properties.conformance.sweep import run_sweep, tasks
from properties.scale.cluster import DaskPool, InProcess, Pool, pool
from properties.scale.study import cells, interval, run_study, variants

pytest.importorskip("distributed")

DASK = Path(sys.executable).parent / "dask"


def _same(result: ExploreResult) -> tuple[Any, ...]:
    """Everything of a result but the time it took and who did the work."""
    finding = result.finding
    return (result.explored, result.distinct, result.depth, result.stopped,
            None if finding is None else (finding.kind, finding.message, finding.ops, finding.until, finding.line))


@pytest.fixture(scope="module")
def threads() -> Iterator[Pool]:
    with pool(2, processes=False) as workers:
        yield workers


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers, each its own process, connected over TCP on loopback."""
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"

    def start(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([str(DASK), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=Path(__file__).parent.parent)

    processes = [start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--scheduler-file", str(address_file))]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        processes += [start("worker", "--scheduler-file", str(address_file), "--nthreads", "1", "--host", "127.0.0.1",
                            "--no-dashboard", "--no-nanny", "--name", f"host{n}") for n in (1, 2)]
        import json

        yield str(json.loads(address_file.read_text())["address"])
    finally:
        for process in reversed(processes):
            process.kill()  # nothing to save: no graceful shutdown to wait for
        for process in processes:
            process.wait(timeout=30)


def test_explore_on_worker_threads_is_the_single_process_run(threads: Pool) -> None:
    config = ExploreConfig(Bounds(depth=3))
    alone, spread = explore(config), explore(config, pool=threads)
    assert _same(spread) == _same(alone)
    assert spread.workers == 2 and sum(done for done, _ in spread.rates.values()) >= spread.explored - 1


def test_the_same_shortest_counterexample_and_the_same_stop_on_any_number_of_workers(threads: Pool) -> None:
    factory = MUTANTS_BY_NAME["maxtime-from-queueing"].factory()
    config = ExploreConfig(Bounds(depth=3))
    alone = explore(config, factory)
    assert alone.finding is not None and len(alone.finding.ops) == 3
    assert _same(explore(config, factory, pool=threads)) == _same(alone)
    broken = ExploreConfig(Bounds(depth=3), engine=MUTANTS_BY_NAME["two-at-once"].engine)  # the spec itself breaks
    assert _same(explore(broken, pool=threads)) == _same(explore(broken))
    capped = ExploreConfig(Bounds(depth=3, max_states=200))
    assert _same(explore(capped, pool=threads)) == _same(explore(capped))
    assert explore(capped).stopped == "max states"


def test_a_state_reached_in_two_chunks_is_checked_once(threads: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    check = explore_module._spec_finding

    def counted(path: Any, *args: Any) -> Any:
        checked.append(repr(path))
        return check(path, *args)

    monkeypatch.setattr(explore_module, "_spec_finding", counted)
    config = ExploreConfig(Bounds(depth=3))
    alone = explore(config)
    once = sorted(checked)
    checked.clear()
    spread = explore(config, pool=threads)
    assert _same(spread) == _same(alone) and sorted(checked) == once  # the same states, each once
    assert not explore_module._KEPT  # every chunk's kept states were taken back by its check


def test_a_check_run_where_nothing_was_kept_replays_to_the_same_finding(
    threads: Pool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(explore_module, "KEEP_AT_MOST", 0)  # as if each check ran on another worker
    broken = ExploreConfig(Bounds(depth=3), engine=MUTANTS_BY_NAME["two-at-once"].engine)
    assert _same(explore(broken, pool=threads)) == _same(explore(broken))


def test_a_map_in_batches_or_with_preferred_workers_keeps_the_order(threads: Pool) -> None:
    assert isinstance(threads, DaskPool)
    done: list[int] = []
    assert threads.map(pow, range(11), 2, batches=2, progress=done.append) == [n ** 2 for n in range(11)]
    assert sum(done) == 11 and len(done) == 4  # 2 batches per worker, each reported with its size
    workers = sorted(threads.client.scheduler_info()["workers"])
    assert threads.map(pow, range(4), 3, prefer=[workers[n % 2] for n in range(4)]) == [0, 1, 8, 27]


def test_a_pool_maps_while_another_is_open() -> None:
    with pool(1) as first, pool(1) as last:  # the client made last is Dask's default one
        config = ExploreConfig(Bounds(depth=3))
        assert _same(explore(config, pool=first)) == _same(explore(config))
        assert last.map(pow, [2], 3) == [8]


def test_the_study_on_worker_threads_is_the_single_process_table(threads: Pool) -> None:
    sweep = [*cells(variants(["INT-IDLE-DEVICE"], {}), [0.5, 0.9], range(2), iterations=5),
             *cells([{}], [0.9], range(2), iterations=5, profile="platform")]  # job mode vs session mode
    alone, spread = run_study(sweep, InProcess()), run_study(sweep, threads)
    assert spread.table() == alone.table()
    assert [m.cell for m in spread.measures] == sweep
    assert all(m.held_idle == 0 for m in alone.measures if m.cell.choices)  # work-conserving holds nothing idle
    assert "platform" in alone.table()


def test_a_confidence_interval_uses_students_t() -> None:
    assert interval([5.0]) == (5.0, 0.0)
    mean, half = interval([1.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(12.706 * 2 ** 0.5 / 2 ** 0.5)


def test_campaigns_on_tcp_workers_merge_to_the_single_process_report(loopback: str) -> None:
    factory = MUTANTS_BY_NAME["two-at-once"].factory()
    campaigns = tasks(range(2), [{}], split_backends=True, examples=30)
    alone = run_sweep(factory, campaigns)
    with pool(scheduler=loopback, workers=2) as workers:
        assert workers.workers == 2
        spread = run_sweep(factory, campaigns, workers)
        assert len({o.worker for o in spread.outcomes}) == 2  # both "hosts" did some
        explored = explore(ExploreConfig(Bounds(depth=3)), pool=workers)
    assert spread.report() == alone.report()
    first, expected = spread.finding, alone.finding
    assert first is not None and first.finding is not None and expected is not None and expected.finding is not None
    assert first.task == expected.task and first.finding.report() == expected.finding.report()
    assert _same(explored) == _same(explore(ExploreConfig(Bounds(depth=3))))


def test_the_commands_print_the_same_on_tcp_workers(loopback: str) -> None:
    runner = CliRunner()
    for args in (["explore", "--depth", "2"],
                 ["conform", "--adapter", "properties.conformance.mutants:two_at_once", "--seeds", "2", "-n", "20"],
                 ["study", "--load", "0.5", "--seeds", "2", "--iterations", "3", "--no-plot", "--every-profile"]):
        alone = runner.invoke(cli, args)
        spread = runner.invoke(cli, [*args, "--scheduler", loopback])
        assert spread.exit_code == alone.exit_code, spread.output
        assert spread.stdout == alone.stdout


def test_an_unreachable_scheduler_is_one_line_and_status_2() -> None:
    result = CliRunner().invoke(cli, ["explore", "--depth", "1", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --scheduler tcp://127.0.0.1:9: cannot connect")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("address", ["not an address", "tcp://host:notaport", "foo://1.2.3.4:1"])
def test_a_malformed_scheduler_address_is_one_line_and_status_2(address: str) -> None:
    """Found by fuzzing: Dask's ValueError for an address it cannot parse came out as a traceback."""
    result = CliRunner().invoke(cli, ["explore", "--depth", "1", "--scheduler", address])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --scheduler {address}: not a scheduler address")
    assert len(result.stderr.strip().splitlines()) == 1
