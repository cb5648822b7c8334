"""Byte-identical traces before and after an engine optimisation.

``record DIR`` writes the JSONL traces of a set of varied runs to DIR; ``compare DIR``
runs them again with the current engine and reports every trace whose bytes differ.
Record with the engine before a change, compare after it. The runs are:

* fuzz: seeded random client requests (valid and invalid opens, submits, cancels,
  closes, waits), background load, device faults, two backends, under every
  interpretation profile, both fair-share policies and both ``retain_finished`` modes;
* bench: the benchmark workload (10k jobs) under a few interpretations.

Each trace is produced twice, through :class:`MemoryTrace` (then ``dumps``) and
through :class:`JsonlWriter`; the two must agree with each other too.

Usage: ``python -m benchmarks.golden record /tmp/golden`` then ``... compare /tmp/golden``.
"""

from __future__ import annotations

import hashlib
import io
import random
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from model.sim.devices import BackendConfig, BackgroundLoad, Duration, simulator
from model.sim.engine import Engine
from model.sim.fair_share import FairShare, FifoQueue, weighted
from model.spec.interpretations import Interpretation, profiles
from model.spec.validations import RequestRejected
from model.trace import JsonlWriter, MemoryTrace, Sink, dumps

MAX_TIMES: list[object] = [None, None, None, 600, "10m", "2h 30m", 0, "bad", 8 * 3600, 99999, 3.5, "90s", 120]
METS: list[object] = [None, None, None, 5, 30.0, 1e6, -1, True, 200, 0.5]


def fuzz(sink: Sink, interpretation: Interpretation, seed: int, fair_share: Callable[[], FairShare],
         retain_finished: bool) -> None:
    rng = random.Random(seed)
    engine = Engine(
        [
            BackendConfig("dev", duration=Duration.uniform(5, 40), fault_rate=0.05, program_max_execution_time=60),
            simulator("sim", interpretation=interpretation, duration=Duration.exponential(20)),
        ],
        interpretation=interpretation, seed=seed, sink=sink, fair_share=fair_share,
        retain_finished=retain_finished,
    )
    engine.add_background_load(BackgroundLoad("sim", 40, group="bg"), until=3000)
    sessions: list[str] = ["nope"]
    jobs: list[str] = ["ghost"]
    for _ in range(300):
        op = rng.random()
        try:
            if op < 0.12:
                backend = rng.choice(["dev", "sim", "sim", "dev", None, "zzz"])
                sid = rng.choice([None, None, None, rng.choice(sessions)])
                s = engine.open_session(backend, max_time=rng.choice(MAX_TIMES), session_id=sid)
                sessions.append(s.id)
            elif op < 0.55:
                sid = rng.choice(sessions) if rng.random() < 0.8 else None
                backend = rng.choice([None, None, "dev", "sim", "zzz"])
                jid = rng.choice([None, None, None, None, rng.choice(jobs)])
                duration = rng.choice([None, None, rng.uniform(1, 300)])
                fault = rng.choice([None, None, None, True, False])
                j = engine.submit(
                    sid, backend, job_id=jid, max_execution_time=rng.choice(METS),
                    duration=duration, fault=fault, group=rng.choice(["a", "b", "c"]),
                )
                jobs.append(j.id)
            elif op < 0.65:
                engine.cancel(rng.choice(jobs))
            elif op < 0.75:
                engine.close(rng.choice(sessions))
            elif op < 0.78:
                engine.inject_fault(rng.choice(["dev", "sim"]))
            else:
                engine.advance(rng.expovariate(1 / 40))
        except RequestRejected:
            pass
    engine.run(until=engine.now + 40_000)


def bench(sink: Sink, interpretation: Interpretation, seed: int, fair_share: Callable[[], FairShare],
          retain_finished: bool) -> None:
    from benchmarks.engine_driver import run_engine
    from benchmarks.workload import workload

    run_engine(workload(10_000, seed=seed), sink=sink, interpretation=interpretation, fair_share=fair_share,
               retain_finished=retain_finished)


def _fuzz(interpretation: Interpretation, seed: int, fair_share: Callable[[], FairShare], retain: bool,
          sink: Sink) -> None:
    fuzz(sink, interpretation, seed, fair_share, retain)


def _bench(interpretation: Interpretation, seed: int, fair_share: Callable[[], FairShare], retain: bool,
           sink: Sink) -> None:
    bench(sink, interpretation, seed, fair_share, retain)


def cases() -> Iterator[tuple[str, Callable[[Sink], None]]]:
    policies: dict[str, Callable[[], FairShare]] = {
        "fifo": FifoQueue, "weighted": weighted([("a", 1.0), ("b", 3.0), ("g0", 2.0)]),
    }
    for name, interp in profiles().items():
        for policy, factory in policies.items():
            for retain in (True, False):
                for seed in (1, 2, 3):
                    label = f"fuzz-{name}-{policy}-{'retain' if retain else 'forget'}-{seed}"
                    yield label, partial(_fuzz, interp, seed, factory, retain)
    for name in ("default", "INT-IDLE-DEVICE=work_conserving", "INT-INTERACTIVE-WINDOW=queue_empty",
                 "INT-EXPIRY-RUNNING-JOB=finish"):
        interp = profiles()[name]
        yield f"bench-{name}", partial(_bench, interp, 7, FifoQueue, False)
    yield "bench-weighted", partial(_bench, profiles()["default"], 8, policies["weighted"], True)


def produce(run: Callable[[Sink], None]) -> bytes:
    memory = MemoryTrace()
    run(memory)
    from_memory = "".join(dumps(r) + "\n" for r in memory).encode()
    stream = io.StringIO()
    with JsonlWriter(stream) as writer:  # it writes its last lines on leaving the block
        run(writer)
    streamed = stream.getvalue().encode()
    if streamed != from_memory:
        raise AssertionError("MemoryTrace and JsonlWriter disagree")
    return streamed


def _safe(label: str) -> str:
    return label.replace("=", "_").replace("/", "_")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("record", "compare"):
        print(__doc__)
        return 2
    mode, folder = argv[0], Path(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    failures = 0
    n = 0
    for label, run in cases():
        n += 1
        data = produce(run)
        path = folder / f"{_safe(label)}.jsonl"
        if mode == "record":
            path.write_bytes(data)
            continue
        if not path.exists():
            print(f"NEW {label}: not in {folder} (a profile or case added since it was recorded)")
            continue
        expected = path.read_bytes()
        if expected != data:
            failures += 1
            old, new = expected.splitlines(), data.splitlines()
            where = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
            print(f"DIFFERS {label}: line {where + 1}")
            print(f"  before: {old[where][:300]!r}" if where < len(old) else "  before: <end>")
            print(f"  after:  {new[where][:300]!r}" if where < len(new) else "  after:  <end>")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.glob("*.jsonl")))).hexdigest()[:16]
    verb = "recorded" if mode == "record" else "compared"
    print(f"{verb} {n} traces in {folder} (digest {digest}); {failures} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
