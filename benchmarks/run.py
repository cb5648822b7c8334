"""The benchmark harness: ``python -m benchmarks.run`` (what ``make bench`` runs).

Every measurement runs in a fresh subprocess, so that its peak RSS is its own; each
prints one JSON object, which the parent collects into a table and ``results.json``.
Times are the best of a few repetitions (the machine is shared: other processes make
single runs noisy), and the comparisons that matter are ratios measured in one
process (the engine and the SimPy model alternate on the same workload).

Measurements (``--quick`` drops the 1M size and the slow extras):

* engine: jobs/s and µs/job with no trace (``null_sink``), the trace in memory
  (``MemoryTrace``) and streamed to a file (``JsonlWriter``), at 10k, 100k and 1M jobs
  (no in-memory trace at 1M); peak RSS, and tracemalloc's peak with streaming;
* simpy: the SimPy model and the engine on the same workload in the same process,
  outcomes compared (same jobs completed and failed, same activations, deactivations
  and closes), and the ratio of their speeds;
* split: the run split by backend over two processes (per-backend schedulers are
  independent), outcomes merged and compared with the single-process run;
* checker: ``sessionspec check`` (``properties.conformance.checker.check_file``) on the
  engine's own streamed trace (100k jobs; 1M with ``--full``): records/s and peak RSS, in
  one process and with ``jobs=2`` (the properties in a forked second process);
* stateful: examples/s of the Hypothesis state machine of ``tests/test_stateful.py``;
* campaigns: conformance campaigns against the reference engine under pytest
  (``benchmarks/campaigns.py``): one over both backends, then one per backend, in one
  process and over two with pytest-xdist;
* native/...: the engine, the SimPy comparison and the checker again, with the hot modules
  compiled by mypyc (:mod:`benchmarks.native`: built into ``out/native``, used only once its
  golden traces are byte-identical to the interpreted tree's; ``--no-native`` skips it).
  Every result says whether the engine it ran was compiled (``compiled``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
SEED = 1


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux's ``VmHWM``, the high-water mark of this program's own memory: ``ru_maxrss`` would
    also count the harness's RSS at the moment it forked this process (Linux carries the
    pre-``exec`` high-water mark over into it), so a harness that had grown (building the
    compiled mirror, say) would set every measurement's floor. ``ru_maxrss`` elsewhere.
    """
    with suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


# ---------------------------------------------------------------------- measurements (child side)


def measure_engine(size: int, sink: str, repeats: int, trace_path: str | None = None,
                   trace_memory: bool = False) -> dict[str, Any]:
    from benchmarks.engine_driver import run_engine
    from benchmarks.workload import workload
    from model.trace import JsonlWriter, MemoryTrace

    wl = workload(size, seed=SEED)
    baseline = _rss_mb()
    records = 0
    path = trace_path
    if path is None:
        handle, path = tempfile.mkstemp(prefix="sessionspec-bench-", suffix=".jsonl")
        os.close(handle)

    def once() -> Any:
        nonlocal records
        if sink == "memory":
            trace = MemoryTrace()
            engine, outcome = run_engine(wl, sink=trace)
            records = len(trace)
            del trace
        elif sink == "stream":
            with open(path, "w", encoding="utf-8", buffering=1 << 20) as stream:
                engine, outcome = run_engine(wl, sink=JsonlWriter(stream))
        else:
            engine, outcome = run_engine(wl)
        return engine, outcome

    if trace_memory:
        tracemalloc.start()
        start = time.perf_counter()
        engine, outcome = once()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        seconds, (engine, outcome) = _best(repeats, once)
        peak = None
    jobs = outcome.submitted
    result: dict[str, Any] = {
        "jobs": jobs, "events": engine.events_processed, "seconds": seconds,
        "jobs_per_s": jobs / seconds, "us_per_job": seconds / jobs * 1e6,
        "peak_rss_mb": _rss_mb(), "baseline_rss_mb": baseline, "max_live_jobs": outcome.max_live,
        "finished": outcome.finished, "outcomes": outcome.counts(),
    }
    if sink == "memory":
        result["records"] = records
    if sink == "stream":
        result["trace_bytes"] = Path(path).stat().st_size
        with open(path, "rb") as stream:
            result["records"] = sum(1 for _ in stream)
        if trace_path is None:
            os.unlink(path)
    if peak is not None:
        result["tracemalloc_peak_mb"] = peak / 2**20
    return result


def measure_scaling(sizes: list[int]) -> dict[str, Any]:
    """µs/job at each size in one process, small and large runs interleaved (load drifts hit all)."""
    from benchmarks.engine_driver import run_engine
    from benchmarks.workload import workload

    smallest = min(sizes)
    order = [smallest]
    for size in sorted(sizes)[1:]:
        order += [size, smallest]
    best: dict[int, float] = {}
    for size in order * 2 if max(sizes) < 1_000_000 else order:
        wl = workload(size, seed=SEED)
        gc.collect()
        start = time.perf_counter()
        _, outcome = run_engine(wl)
        cost = (time.perf_counter() - start) / outcome.submitted * 1e6
        best[size] = min(best.get(size, cost), cost)
    return {"us_per_job": {str(k): v for k, v in sorted(best.items())},
            "growth": best[max(sizes)] / best[smallest]}


def measure_simpy(size: int, repeats: int) -> dict[str, Any]:
    from benchmarks.engine_driver import run_engine
    from benchmarks.simpy_model import run_simpy
    from benchmarks.workload import workload

    wl = workload(size, seed=SEED)
    best_engine = best_simpy = float("inf")
    engine_outcome = simpy_outcome = None
    for _ in range(repeats):  # alternate, so that both see the same machine load
        gc.collect()
        start = time.perf_counter()
        _, engine_outcome = run_engine(wl)
        best_engine = min(best_engine, time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        simpy_outcome = run_simpy(wl)
        best_simpy = min(best_simpy, time.perf_counter() - start)
    assert engine_outcome is not None and simpy_outcome is not None
    jobs = engine_outcome.submitted
    return {
        "jobs": jobs,
        "engine_jobs_per_s": jobs / best_engine, "simpy_jobs_per_s": simpy_outcome.submitted / best_simpy,
        "engine_us_per_job": best_engine / jobs * 1e6, "simpy_us_per_job": best_simpy / jobs * 1e6,
        "ratio": best_simpy / best_engine,
        "same_outcomes": not engine_outcome.differences(simpy_outcome),
        "differences": engine_outcome.differences(simpy_outcome),
        "compared": {
            "completed": engine_outcome.counts().get("completed", 0),
            "failed": sum(n for k, n in engine_outcome.counts().items() if k.startswith("failed")),
            "activations": engine_outcome.activations, "deactivations": engine_outcome.deactivations,
            "closed": engine_outcome.closed, "rejected": engine_outcome.rejected,
        },
    }


def _run_part(args: tuple[int, tuple[str, ...]]) -> tuple[Any, float]:
    from benchmarks.engine_driver import run_engine
    from benchmarks.workload import workload

    size, names = args
    wl = workload(size, seed=SEED)
    start = time.perf_counter()
    _, outcome = run_engine(wl, wl.only(names), backends=names)
    return outcome, time.perf_counter() - start


def measure_split(size: int, workers: int) -> dict[str, Any]:
    import multiprocessing

    from benchmarks.engine_driver import run_engine
    from benchmarks.outcome import Outcome
    from benchmarks.workload import workload

    wl = workload(size, seed=SEED)
    single, (_, whole) = _best(1, lambda: run_engine(wl))
    parts = [wl.backends[i::workers] for i in range(workers)]
    serial = [_run_part((size, names))[1] for names in parts]  # the same parts one after the other
    context = multiprocessing.get_context("fork")  # forks share the string-hash salt: digests compare
    start = time.perf_counter()
    with context.Pool(workers) as pool:
        results = pool.map(_run_part, [(size, names) for names in parts])
    split = time.perf_counter() - start
    merged = Outcome()
    for outcome, _ in results:
        merged.merge(outcome)
    return {
        "jobs": whole.submitted, "workers": workers, "parts": [list(p) for p in parts],
        "single_seconds": single, "split_seconds": split, "part_seconds": [s for _, s in results],
        "serial_part_seconds": serial, "speedup": single / split, "load_average": os.getloadavg(),
        "same_outcomes": not whole.differences(merged),
        "differences": whole.differences(merged),
    }


def measure_campaigns(examples: int, workers: int) -> dict[str, Any]:
    """``benchmarks/campaigns.py`` under pytest: one campaign over both backends, the two campaigns of one
    backend each in one process, and the same with pytest-xdist over ``workers`` processes (wall time of
    each pytest run, start-up included; a scratch directory holds Hypothesis' example database)."""

    def pytest_run(selected: str, *extra: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="sessionspec-campaigns-") as scratch:
            command = [sys.executable, "-m", "pytest", str(ROOT / "benchmarks" / "campaigns.py"), "-q", "-k", selected,
                       "-p", "no:cacheprovider", "--rootdir", scratch, "--sessionspec-seed", "0",
                       "--sessionspec-examples", str(examples), *extra]
            start = time.perf_counter()
            done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)))
            seconds = time.perf_counter() - start
        return {"seconds": seconds, "passed": done.returncode == 0, "summary": done.stdout.strip().splitlines()[-1:]}

    whole = pytest_run("whole", "-n", "0")
    serial = pytest_run("split", "-n", "0")
    parallel = pytest_run("split", "-n", str(workers))
    return {
        "examples_per_backend": examples, "workers": workers, "whole": whole, "split_serial": serial,
        "split_parallel": parallel, "speedup": whole["seconds"] / parallel["seconds"],
        "passed": whole["passed"] and serial["passed"] and parallel["passed"], "load_average": os.getloadavg(),
    }


def measure_checker(trace_path: str, jobs: int = 1) -> dict[str, Any]:
    baseline = _rss_mb()
    try:
        from properties.conformance.checker import CONFORMS, check_file
    except ImportError as error:
        return {"skipped": f"no conformance checker ({error})"}
    start = time.perf_counter()
    report = check_file(trace_path)  # one process: --jobs 2 is gone (jobs stays 1)
    seconds = time.perf_counter() - start
    if report.status == 2:  # unusable input: no measurement
        return {"error": report.lines[-1:]}
    records = report.records + 1  # the header too
    return {
        "records": records, "seconds": seconds, "records_per_s": records / seconds,
        "conforms": report.status == CONFORMS, "status": report.status, "report": report.lines[-3:],
        "peak_rss_mb": _rss_mb(), "baseline_rss_mb": baseline, "jobs": jobs,
        "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
    }


def measure_stateful(examples: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    try:
        from tests import test_stateful
    except ImportError as error:
        return {"skipped": f"no stateful campaign ({error})"}
    import unittest

    from hypothesis import HealthCheck, settings

    steps = getattr(test_stateful, "MIN_STEPS", 50)
    case = test_stateful.SessionCampaign.TestCase
    case.settings = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    start = time.perf_counter()
    outcome = unittest.TextTestRunner(stream=open(os.devnull, "w"), verbosity=0).run(suite)  # noqa: SIM115
    seconds = time.perf_counter() - start
    return {
        "examples": examples, "steps_per_example": steps, "seconds": seconds,
        "examples_per_s": examples / seconds, "passed": outcome.wasSuccessful(),
    }


def child(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.native import compiled

    result = _measure(spec)
    result.setdefault("compiled", compiled())
    return result


def _measure(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["kind"]
    if kind == "engine":
        return measure_engine(spec["size"], spec["sink"], spec["repeats"], spec.get("trace_path"),
                              spec.get("tracemalloc", False))
    if kind == "simpy":
        return measure_simpy(spec["size"], spec["repeats"])
    if kind == "scaling":
        return measure_scaling(spec["sizes"])
    if kind == "campaigns":
        return measure_campaigns(spec["examples"], spec["workers"])
    if kind == "split":
        return measure_split(spec["size"], spec["workers"])
    if kind == "checker":
        return measure_checker(spec["trace_path"], spec.get("jobs", 1))
    if kind == "stateful":
        return measure_stateful(spec["examples"])
    raise ValueError(f"unknown measurement {kind!r}")


# ---------------------------------------------------------------------- orchestration (parent side)


def spawn(spec: dict[str, Any], timeout: float = 900.0, tree: Path = ROOT) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter on ``tree``'s code; its last stdout line is the JSON result."""
    from benchmarks.native import environment

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--child", json.dumps(spec)],
        cwd=tree, env=environment(tree), capture_output=True, text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def plan(quick: bool, full: bool, sizes: list[str], trace_dir: str,
         native: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    repeats = {"10k": 5, "100k": 3, "1M": 1} if not quick else {"10k": 3, "100k": 1, "1M": 1}
    # The checker reads the trace of the biggest size up to 100k (1M with --full: minutes).
    checked = [n for n in sizes if full or n != "1M"]
    for name in sizes:
        size, r = SIZES[name], repeats[name]
        yield f"engine/null/{name}", {"kind": "engine", "size": size, "sink": "null", "repeats": r}
        if name != "1M":
            yield f"engine/memory/{name}", {"kind": "engine", "size": size, "sink": "memory", "repeats": max(1, r - 2)}
        keep = os.path.join(trace_dir, f"trace-{name}.jsonl") if name in checked else None
        yield f"engine/stream/{name}", {"kind": "engine", "size": size, "sink": "stream",
                                        "repeats": max(1, r - 1), "trace_path": keep}
        if name != "1M" or full:  # tracemalloc slows a run about 15 times
            yield f"engine/stream+tracemalloc/{name}", {"kind": "engine", "size": size, "sink": "stream",
                                                        "repeats": 1, "tracemalloc": True}
        if name != "1M":
            yield f"simpy/{name}", {"kind": "simpy", "size": size, "repeats": max(2, r)}
        if name != "10k":
            yield f"split/{name}", {"kind": "split", "size": size, "workers": 2}
    yield "scaling", {"kind": "scaling", "sizes": [SIZES[n] for n in sizes]}
    for name in checked[-2:]:
        trace = os.path.join(trace_dir, f"trace-{name}.jsonl")
        yield f"checker/{name}", {"kind": "checker", "trace_path": trace}
    yield "stateful", {"kind": "stateful", "examples": 50 if quick else 200}
    yield "campaigns", {"kind": "campaigns", "examples": 150 if quick else 1000, "workers": 2}
    if not native:
        return
    for name in sizes:  # the same measurements on the compiled mirror (each result says it was compiled)
        yield f"native/engine/null/{name}", {"kind": "engine", "size": SIZES[name], "sink": "null",
                                             "repeats": repeats[name]}
        if name != "1M":
            yield f"native/simpy/{name}", {"kind": "simpy", "size": SIZES[name], "repeats": max(2, repeats[name])}
    for name in checked[-2:]:
        trace = os.path.join(trace_dir, f"trace-{name}.jsonl")
        yield f"native/checker/{name}", {"kind": "checker", "trace_path": trace}
        yield f"native/checker/jobs2/{name}", {"kind": "checker", "trace_path": trace, "jobs": 2}


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"{'measurement':32s} {'jobs':>10s} {'jobs/s':>10s} {'us/job':>7s} {'RSS MiB':>8s} {'notes'}"]
    for name, r in results.items():
        if "error" in r or "skipped" in r:
            lines.append(f"{name:32s} {r.get('error') or r.get('skipped')}")
            continue
        kind = name.removeprefix("native/").split("/")[0]
        if kind == "engine":
            notes = f"events {r['events']:,}"
            if "records" in r:
                notes += f", records {r['records']:,}"
            if "tracemalloc_peak_mb" in r:
                notes += f", tracemalloc peak {r['tracemalloc_peak_mb']:.1f} MiB"
            notes += f", live jobs <= {r['max_live_jobs']:,}"
            lines.append(f"{name:32s} {_fmt(r['jobs']):>10s} {_fmt(r['jobs_per_s']):>10s} "
                         f"{_fmt(r['us_per_job'], 2):>7s} {_fmt(r['peak_rss_mb'], 0):>8s} {notes}")
        elif kind == "simpy":
            same = "same outcomes" if r["same_outcomes"] else f"DIFFERENT: {r['differences']}"
            lines.append(f"{name:32s} {_fmt(r['jobs']):>10s} {_fmt(r['simpy_jobs_per_s']):>10s} "
                         f"{_fmt(r['simpy_us_per_job'], 2):>7s} {'':>8s} engine {_fmt(r['engine_jobs_per_s'])}/s "
                         f"in the same process: x{r['ratio']:.2f}; {same} ({r['compared']})")
        elif kind == "campaigns":
            parts = (f"one campaign over both backends {r['whole']['seconds']:.1f} s; the two per-backend campaigns "
                     f"in one process {r['split_serial']['seconds']:.1f} s, with pytest -n {r['workers']} "
                     f"{r['split_parallel']['seconds']:.1f} s: x{r['speedup']:.2f}")
            lines.append(f"{name:32s} {_fmt(r['examples_per_backend']):>10s} {'':>10s} {'':>7s} {'':>8s} "
                         f"examples per backend; {parts}; passed: {r['passed']}; "
                         f"load average {r['load_average'][0]:.1f}")
        elif kind == "split":
            same = "same outcomes" if r["same_outcomes"] else f"DIFFERENT: {r['differences']}"
            serial = " + ".join(f"{s:.2f}" for s in r["serial_part_seconds"])
            lines.append(f"{name:32s} {_fmt(r['jobs']):>10s} {'':>10s} {'':>7s} {'':>8s} "
                         f"1 process {r['single_seconds']:.2f} s (parts alone {serial} s), {r['workers']} "
                         f"processes by backend {r['split_seconds']:.2f} s: x{r['speedup']:.2f}; {same}; "
                         f"load average {r['load_average'][0]:.1f}")
        elif kind == "checker":
            child = f", the properties' process {r['child_peak_rss_mb']:.0f} MiB" if r.get("jobs", 1) > 1 else ""
            lines.append(f"{name:32s} {_fmt(r['records']):>10s} {_fmt(r['records_per_s']):>10s} {'':>7s} "
                         f"{_fmt(r['peak_rss_mb'], 0):>8s} records/s, {r.get('jobs', 1)} process(es){child}; "
                         f"{'conforms' if r['conforms'] else r['report']}")
        elif kind == "scaling":
            costs = ", ".join(f"{int(k):,}: {v:.2f}" for k, v in r["us_per_job"].items())
            lines.append(f"{name:32s} {'':>10s} {'':>10s} {'':>7s} {'':>8s} us/job in one process, sizes "
                         f"interleaved: {costs}; largest/smallest x{r['growth']:.2f}")
        elif kind == "stateful":
            lines.append(f"{name:32s} {_fmt(r['examples']):>10s} {r['examples_per_s']:>10.2f} {'':>7s} {'':>8s} "
                         f"examples/s ({r['steps_per_example']} steps each); passed: {r['passed']}")
    return lines


def verdicts(results: dict[str, dict[str, Any]], sizes: list[str]) -> dict[str, Any]:
    """The targets of issue #5, judged from the results."""
    out: dict[str, Any] = {}
    small, big = sizes[0], sizes[-1]
    for prefix in ("", "native/"):
        label = prefix.replace("/", "_")
        for name in sizes:
            r = results.get(f"{prefix}simpy/{name}", {})
            if "ratio" in r:
                out[f"{label}engine_vs_simpy_{name}"] = {
                    "ratio": r["ratio"], "target": 2.0, "met": r["ratio"] >= 2.0 and r["same_outcomes"],
                    "same_outcomes": r["same_outcomes"], "compiled": r.get("compiled"),
                }
        for sink in ("null", "stream"):
            a, b = results.get(f"{prefix}engine/{sink}/{small}", {}), results.get(f"{prefix}engine/{sink}/{big}", {})
            if "us_per_job" in a and "us_per_job" in b:
                growth = b["us_per_job"] / a["us_per_job"]
                out[f"{label}flat_{sink}_{big}_vs_{small}"] = {"ratio": growth, "target": 1.3, "met": growth <= 1.3}
    scaling = results.get("scaling", {})
    if "growth" in scaling:
        out["flat_null_interleaved"] = {"ratio": scaling["growth"], "target": 1.3, "met": scaling["growth"] <= 1.3}
    rss: dict[str, float] = {}
    for n in sizes:
        value = results.get(f"engine/stream/{n}", {}).get("peak_rss_mb")
        if value is not None:
            rss[n] = float(value)
    if "100k" in rss and "1M" in rss:
        out["stream_rss_1M_vs_100k"] = {"ratio": rss["1M"] / rss["100k"], "rss_mb": rss}
    for prefix in ("", "native/"):
        for jobs, label in ((1, ""), (2, "jobs2_")):
            checker = max((r for k, r in results.items() if k.startswith(f"{prefix}checker/")
                           and r.get("jobs", 1) == jobs and "records" in r), key=lambda r: r["records"], default={})
            if "records_per_s" in checker:
                out[f"{prefix.replace('/', '_')}checker_{label}records_per_s"] = {
                    "value": checker["records_per_s"], "target": 300_000, "met": checker["records_per_s"] >= 300_000,
                    "compiled": checker.get("compiled"), "jobs": jobs,
                }
    return out


def _native_tree(wanted: bool) -> tuple[Path | None, str]:
    """The compiled mirror, built and checked against the golden traces, or why there is none."""
    if not wanted:
        return None, "not asked for"
    from benchmarks.native import BuildError, build

    try:
        return build()
    except BuildError as error:
        return None, str(error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only, fewer repetitions")
    parser.add_argument("--full", action="store_true", help="also check the 1M trace and tracemalloc at 1M")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes among 10k,100k,1M")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="where to write results")
    parser.add_argument("--only", default=None, help="run only measurements whose name contains this")
    parser.add_argument("--no-native", action="store_true", help="skip the mypyc-compiled measurements")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    sizes = args.sizes.split(",") if args.sizes else (["10k", "100k"] if args.quick else list(SIZES))
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sessionspec-bench-") as trace_dir:
        steps = [(name, spec) for name, spec in plan(args.quick, args.full, sizes, trace_dir, not args.no_native)
                 if not args.only or args.only in name]
        mirror, native_note = _native_tree(any(name.startswith("native/") for name, _ in steps))
        print(f"  native (mypyc): {native_note}", file=sys.stderr, flush=True)
        for name, spec in steps:
            t0 = time.perf_counter()
            if not name.startswith("native/"):
                results[name] = spawn(spec)
            elif mirror is None:
                results[name] = {"error": f"no compiled mirror: {native_note.splitlines()[0]}"}
            else:
                results[name] = spawn(spec, tree=mirror)
                if results[name].get("compiled") is False:
                    results[name] = {"error": f"the mirror {mirror} ran interpreted code"}
            print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    lines = table(results)
    judged = verdicts(results, sizes)
    print("\n".join(lines))
    print()
    for key, value in judged.items():
        print(f"{key}: {value}")
    total = time.perf_counter() - started
    print(f"\n(total {total:.0f} s; python {platform.python_version()}, {os.cpu_count()} CPUs)")
    document = {
        "command": "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "seed": SEED, "seconds": total, "native": native_note, "results": results, "targets": judged,
    }
    Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
