"""Past one machine: the speed-up from 1 to 2 Dask workers for explore, a sweep of conformance
campaigns and the workload study, the results byte for byte, and a "two-host" run.

    python -m benchmarks.scale                # a few minutes; writes benchmarks/scale.json
    python -m benchmarks.scale --repeat 1     # one measurement each

Each workload runs in this process (the reference output), then on a ``LocalCluster`` of 1 and
of 2 single-threaded worker processes, alternately, ``--repeat`` times (best wall time kept: the
machine is shared), and last on a scheduler and two workers started as separate ``dask``
processes that connect over TCP on 127.0.0.1, as two hosts would. Each cluster is warmed up
(imports done) before it is timed. Every run's printed result must be identical to the
reference; the workers' CPU seconds are recorded too, with the load average, so that a poor
speed-up can be told apart from a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from properties.conformance.adapter import reference
from properties.conformance.explore import Bounds, ExploreConfig, explore
from properties.conformance.sweep import CampaignTask, run_sweep, run_task, tasks
from properties.scale.cluster import DaskPool, InProcess, Pool, pool
from properties.scale.study import Cell, cells, run_cell, run_study, variants

HERE = Path(__file__).resolve().parent

Workload = Callable[[Pool], str]


def _explore(p: Pool) -> str:
    return "\n".join(explore(ExploreConfig(Bounds(depth=4)), pool=p).summary())


def _campaigns(p: Pool) -> str:
    return run_sweep(reference, tasks(range(16), [{}], split_backends=True, examples=50), p).report()


def _study(p: Pool) -> str:
    return run_study(cells(variants(["INT-IDLE-DEVICE"], {}), [0.5, 0.7, 0.9], range(48), 100), p).table()


WORKLOADS: dict[str, tuple[str, Workload]] = {
    "explore": ("sessionspec explore (depth 4, 2 sessions, 1 backend: the default bound)", _explore),
    "campaigns": ("conform --adapter reference --seeds 16 --split-backends -n 50 (32 campaigns)", _campaigns),
    "study": ("study --vary IDLE-DEVICE --load 0.5 0.7 0.9 --seeds 48 --iterations 100 (288 run pairs)", _study),
}


def _warm(p: Pool) -> None:
    """Import what the tasks need on every worker and run a small piece of each workload there, so that the
    timed run pays no import and no first-use cost (Hypothesis' strategies, the catalogue)."""
    if isinstance(p, DaskPool):
        p.client.run(run_task, CampaignTask(0, backends=("b0",), examples=2), reference)
        p.client.run(run_cell, Cell((), 0.5, 0, 2))
        assert explore(ExploreConfig(Bounds(depth=2)), pool=p).finding is None


def _worker_cpu(p: Pool) -> dict[str, float]:
    """CPU seconds so far of the tasks, per worker (the tasks' own threads: not the workers' upkeep, heartbeats
    and the like, which grows with the wall time a loaded machine stretches); this process's, without a cluster."""
    if not isinstance(p, DaskPool):
        return {"this process": time.process_time()}
    return dict(p.cpu)


def _timed(workload: Workload, p: Pool) -> tuple[str, float, dict[str, float], float]:
    """The workload's output, its wall time, and the CPU seconds each worker spent on it; on a cluster, also
    this process's ("driver": the merge, and a ``LocalCluster``'s scheduler, which runs in it); and the wall
    time two free cores would take for its tasks (:func:`_makespan`; 0 without a cluster)."""
    before = _worker_cpu(p)
    if isinstance(p, DaskPool):
        p.maps.clear()
    driver = time.process_time()
    started = time.perf_counter()
    out = workload(p)
    seconds = time.perf_counter() - started
    after = _worker_cpu(p)
    cpu = {name: round(after[name] - before.get(name, 0.0), 2) for name in after}
    if not isinstance(p, DaskPool):
        return out, seconds, cpu, 0.0
    cpu["driver"] = round(time.process_time() - driver, 2)
    return out, seconds, cpu, _makespan(p.maps, 2)


def _makespan(maps: list[list[float]], workers: int) -> float:
    """The wall time ``workers`` free cores would take for these maps, from their tasks' CPU seconds: each map
    waits for the previous one, and each task goes to the first worker free, as Dask gives a worker its next
    task when it is done (the driver, Dask's latency and explore's preferred workers aside)."""
    total = 0.0
    for durations in maps:
        free = [0.0] * workers
        for seconds in durations:
            free[free.index(min(free))] += seconds
        total += max(free)
    return total


def _tasks(cpu: dict[str, float]) -> float:
    """The CPU seconds of the tasks, on all workers."""
    return sum(seconds for name, seconds in cpu.items() if name != "driver")


@contextmanager
def _loopback_hosts(workers: int = 2) -> Iterator[str]:
    """A scheduler and ``workers`` worker processes on 127.0.0.1, as separate hosts would run them."""
    dask = str(Path(sys.executable).parent / "dask")
    with tempfile.TemporaryDirectory() as folder:
        address_file = Path(folder) / "scheduler.json"
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", str(address_file)], **quiet)]
        try:
            while not address_file.exists():
                time.sleep(0.1)
            processes += [subprocess.Popen([dask, "worker", "--scheduler-file", str(address_file), "--nthreads", "1",
                                            "--host", "127.0.0.1", "--no-dashboard", "--name", f"host{n}"], **quiet)
                          for n in range(1, workers + 1)]
            yield str(json.loads(address_file.read_text())["address"])
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                process.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="alternate 1- and 2-worker runs this many times")
    parser.add_argument("--only", choices=sorted(WORKLOADS), action="append", help="only these workloads")
    parser.add_argument("--out", type=Path, default=HERE / "scale.json")
    args = parser.parse_args(argv)
    chosen = args.only or list(WORKLOADS)
    results: dict[str, Any] = {"command": " ".join(["python -m benchmarks.scale", *(argv or sys.argv[1:])]),
                               "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                               "workloads": {}}
    ok = True
    for name in chosen:
        label, workload = WORKLOADS[name]
        entry: dict[str, Any] = {"what": label, "load_before": os.getloadavg()[0]}
        reference_out, seconds, cpu, _ = _timed(workload, InProcess())
        entry["in_process"] = {"seconds": round(seconds, 2), "cpu": sum(cpu.values())}
        identical = True
        runs: dict[int, list[tuple[float, dict[str, float]]]] = {1: [], 2: []}
        modelled: list[float] = []
        ready: dict[int, float] = {}
        with ExitStack() as stack:
            pools: dict[int, Pool] = {}
            for count in (1, 2):
                started = time.perf_counter()
                pools[count] = stack.enter_context(pool(count))
                _warm(pools[count])
                ready[count] = time.perf_counter() - started
            for _ in range(args.repeat):
                for count, p in pools.items():
                    out, seconds, cpu, makespan = _timed(workload, p)
                    identical &= out == reference_out
                    runs[count].append((seconds, cpu))
                    if count == 2:
                        modelled.append(makespan)
        with _loopback_hosts() as address, pool(2, address) as hosts:
            _warm(hosts)
            out, seconds, cpu, _ = _timed(workload, hosts)
            identical &= out == reference_out
            entry["two_hosts_on_loopback"] = {"seconds": round(seconds, 2), "cpu_per_worker": cpu}
        for count in (1, 2):
            best = min(runs[count], key=lambda run: run[0])
            entry[f"workers_{count}"] = {"best_seconds": round(best[0], 2), "ready_seconds": round(ready[count], 2),
                                         "all_seconds": [round(s, 2) for s, _ in runs[count]],
                                         "cpu_per_worker": [c for _, c in runs[count]]}
        entry["speed_up"] = round(entry["workers_1"]["best_seconds"] / entry["workers_2"]["best_seconds"], 2)
        # The same with the cluster's start and warm-up counted (what one command's wall time holds).
        whole = {count: entry[f"workers_{count}"]["best_seconds"] + ready[count] for count in (1, 2)}
        entry["speed_up_with_startup"] = round(whole[1] / whole[2], 2)
        # The work's division, told apart from the machine's load by the CPU seconds of the tasks (best of the
        # runs): what two workers' tasks took in all over what one's took (the cost of cutting the work up), and
        # the speed-up two free cores would give if the work were split evenly (barriers, the driver's merge and
        # Dask's own overhead aside). Under load the split itself follows the CPU share each worker gets.
        alone = min(_tasks(c) for _, c in runs[1])
        together = min(_tasks(c) for _, c in runs[2])
        entry["cpu_overhead"] = round(together / alone - 1, 3)
        entry["cpu_speed_up"] = round(2 * alone / together, 2)
        # The same, task by task: the one worker's CPU seconds over the wall time two free cores would take for
        # the two workers' tasks, each map waiting for the previous one (explore's levels and phases) and each
        # task going to the first worker free. What the split gives on an idle machine, the driver aside.
        entry["modelled_seconds"] = [round(m, 2) for m in modelled]
        entry["modelled_speed_up"] = round(alone / min(modelled), 2)
        entry["identical"] = identical
        entry["load_after"] = os.getloadavg()[0]
        ok &= identical
        results["workloads"][name] = entry
        print(f"{name}: {label}\n  in process {entry['in_process']['seconds']} s; 1 worker "
              f"{entry['workers_1']['best_seconds']} s; 2 workers {entry['workers_2']['best_seconds']} s "
              f"-> speed-up {entry['speed_up']}x (target >= 1.7; {entry['speed_up_with_startup']}x counting the "
              f"cluster's start and warm-up, {ready[1]:.1f} s and {ready[2]:.1f} s), "
              f"by CPU {entry['cpu_speed_up']}x, task by task {entry['modelled_speed_up']}x (CPU overhead "
              f"{entry['cpu_overhead']:+.0%}); two hosts on "
              f"loopback {entry['two_hosts_on_loopback']['seconds']} s; identical: {identical}; "
              f"load average {entry['load_before']:.1f} -> {entry['load_after']:.1f}", flush=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
