"""Small-scope exhaustive exploration: every operation sequence up to a bound, breadth first.

The spec is model-checked the way TLC checks a TLA+ model: from the empty engine, every
operation of the typed vocabulary (:mod:`model.sim.ops`: open, submit, cancel, close,
fault, and waits) is tried in every reachable state, up to ``depth`` steps, ``sessions``
sessions and ``backends`` backends; states are deduplicated on a canonical abstraction;
every property of the catalogue is checked on the trace of every new state. With an
implementation (a factory, as for ``conform``), each new state's sequence is also run
differentially through the campaign's judge. Breadth first, the first counterexample is
a shortest one; the enumeration order is fixed, so the same bound gives the same result.

Time is symbolic: a wait goes to each of the next few instants at which something happens
if nothing else is done (a job's end, the interactive window's end, max_time, the
max_execution_time cut), and one :data:`TICK` before and after each: the boundaries, not
a grid. Submits and opens draw from small fixed choices (:data:`JOBS`,
:data:`MAX_TIMES`) chosen against :data:`~properties.conformance.campaign.DEFAULT_BACKENDS`'
limits: a short job, and a job longer than the interactive window and b0's max_time.

Engines are not copied: each candidate replays its sequence from scratch on a fresh
engine (cheap at these depths). The work is plain data: a frontier is a list of
:data:`Path` (tuples of msgspec records), so it can be cut up and shipped elsewhere.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import math
import time
import uuid
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.ops import (
    Action,
    Advance,
    Cancel,
    CancelSession,
    Close,
    EngineImplementation,
    Fault,
    Open,
    Operation,
    Submit,
    apply,
)
from model.spec.interpretations import DEFAULT, Interpretation
from model.spec.lifecycles import JOB_FINAL, SESSION_FINAL
from model.trace import Change, MemoryTrace, Record
from model.trace.timing import time_text
from properties.conformance.campaign import DEFAULT_BACKENDS, CampaignConfig, Finding, execute
from properties.conformance.checker import catalogue
from properties.conformance.draws import UNKNOWN_BACKEND
from properties.conformance.iut import Factory
from properties.invariants.suite import check_records
from properties.scale.cluster import InProcess, Pool, worker_name

TICK = 1.0
"""The smallest time step explored around a boundary: one second, the unit of the spec's limits
(interactive window, max_time, max_execution_time are whole seconds)."""

JOBS: tuple[tuple[float, bool], ...] = ((10.0, False), (390.0, False), (500.0, False), (10.0, True))
"""Submit's (duration, fault) choices: a short job; one that, with a short one, ends exactly at the
max_time choice; one cut by b0's program max_execution_time (400 s), also exactly at the max_time
choice; a short job the device fails at its end. The ties are where same-instant ordering shows."""

MAX_TIMES: tuple[int | str | None, ...] = (None, 400, "6m 40s 40s")
"""Open's max_time: the default; b0's program max_execution_time (longer than the interactive window);
and a text the grammar refuses (a unit twice, MAXTIME-FORMAT) that a lax reading would take for 400 s.
A refused open leaves the state as it was, so it costs one judged step per state, no new states."""

WAIT_POINTS = 2
"""How many of the next distinct event instants a wait may go to (each with its ticks either side)."""

FLUSH = CampaignConfig().flush
"""Virtual seconds run after a sequence so that pending timers fire (the campaign's, so both agree)."""

Path = tuple[Action, ...]
"""A sequence of steps; :class:`~model.sim.ops.Advance` is a wait (its ``at`` is when it starts)."""


@dataclass(frozen=True)
class Bounds:
    """The small scope."""

    depth: int = 4
    sessions: int = 2
    backends: int = 1
    max_states: int = 100_000
    """Stop after this many distinct states."""
    time_limit: float | None = None
    """Wall-clock seconds; reaching it makes the result depend on the machine, and says so."""


@dataclass(frozen=True)
class ExploreConfig:
    bounds: Bounds = field(default_factory=Bounds)
    interpretation: Interpretation = field(default_factory=lambda: DEFAULT)
    engine: type[Engine] = Engine
    """The spec explored: the reference engine, or a variant of it (a mutant, to see the search find it)."""

    def backend_configs(self) -> tuple[BackendConfig, ...]:
        """The campaign's backends, more like its first if more are asked for."""
        configs = list(DEFAULT_BACKENDS[: self.bounds.backends])
        for index in range(len(configs), self.bounds.backends):
            configs.append(replace(DEFAULT_BACKENDS[0], name=f"b{index}"))
        return tuple(configs)

    def campaign(self) -> CampaignConfig:
        return CampaignConfig(backends=self.backend_configs(), interpretation=self.interpretation)


@dataclass
class ExploreResult:
    explored: int
    """Candidate states evaluated (every successor of every expanded state)."""
    distinct: int
    depth: int
    """The deepest level completed or reached."""
    seconds: float
    finding: Finding | None
    stopped: str = ""
    """Why the enumeration stopped before its bound ("max states", "time limit"), or empty."""
    rates: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Per worker: the states it evaluated and the seconds it spent on them."""
    workers: int = 1

    def rate_lines(self) -> list[str]:
        """States per second, overall and per worker (machine-dependent: not part of the result proper)."""
        overall = self.explored / self.seconds if self.seconds > 0 else 0.0
        lines = [f"time: {self.seconds:.1f} s, {overall:,.0f} states/s on {self.workers} worker(s)"]
        lines += [f"  worker {name}: {done} states in {spent:.1f} s, {done / spent if spent > 0 else 0.0:,.0f} states/s"
                  for name, (done, spent) in self.rates.items()]
        return lines

    def summary(self) -> list[str]:
        outcome = "FINDING" if self.finding is not None else "no finding"
        if self.stopped:
            outcome += f" (stopped early: {self.stopped})"
        return [
            f"states explored: {self.explored}",
            f"distinct states: {self.distinct}",
            f"depth: {self.depth}",
            f"result: {outcome}",
        ]

    def as_json(self) -> dict[str, Any]:
        finding = None
        if self.finding is not None:
            finding = {"kind": self.finding.kind, "message": self.finding.message, "rules": list(self.finding.rules),
                       "where": self.finding.where, "scenario": self.finding.scenario()}
        return {"explored": self.explored, "distinct": self.distinct, "depth": self.depth,
                "seconds": round(self.seconds, 3), "stopped": self.stopped or None, "finding": finding}


Judge = Callable[[Sequence[Operation], float, Factory, CampaignConfig], "Finding | None"]

judge: Judge = execute
"""The differential comparison: the campaign's ``execute``, judged by the one judge (:mod:`.judge`)."""


# ---------------------------------------------------------------------- one state


@dataclass
class _State:
    """A replayed path: its time, what it abstracts to, its flushed trace, its successors."""

    now: float
    key: tuple[Any, ...]
    trace: list[Record]
    steps: list[Action]
    """The successors, in the enumeration order."""


def operations(path: Path) -> tuple[list[Operation], float]:
    """The scenario form of a path: its operations (with ``at``), and the time it ends at."""
    ops: list[Operation] = []
    now = 0.0
    for step in path:
        if isinstance(step, Advance):
            now = step.at + step.seconds
        else:
            ops.append(step)
            now = step.at
    return ops, now


def _replay(path: Path, config: ExploreConfig) -> tuple[Engine, MemoryTrace]:
    trace = MemoryTrace()
    engine = config.engine(list(config.backend_configs()), interpretation=config.interpretation, sink=trace)
    target = EngineImplementation(engine)
    for step in path:
        engine.run_until(step.at)
        apply(target, step)
    return engine, trace


def _rel(value: float | None, now: float) -> float | None:
    if value is None or math.isinf(value):
        return None
    return round(value - now, 6)


def _entities(engine: Engine) -> tuple[tuple[Any, ...], dict[str, str]]:
    """The engine's state with times relative to now and IDs numbered in order of creation;
    finished jobs are left out (no operation can change them: a cancel of one is rejected alike)."""
    now = engine.now
    names: dict[str, str] = {}
    for index, session_id in enumerate(engine.sessions):
        names[session_id] = f"S{index}"
    live = [job for job in engine.jobs.values() if job.state in ("queued", "running")]
    for index, job in enumerate(live):
        names[job.id] = f"J{index}"

    def name(entity: Any) -> str | None:
        return None if entity is None else names.get(entity.id, "done")

    backends = tuple(
        (b.name, b.state, name(b.running), name(b.active_session),
         tuple(names[j.id] for j in live if j.backend is b and j.session is None and j.state == "queued"))
        for b in engine.backends.values()
    )
    sessions = tuple(
        (s.backend_name, s.state, s.batch, s.requested_max_time, s.max_time, _rel(s.deadline, now),
         _rel(s.window_deadline, now), s.n_queued, s.doomed,
         None if s.first_job is None else (name(s.first_job), s.first_job.state), name(s.running),
         tuple(names[j.id] for j in s.queue if j.state == "queued"))
        for s in engine.sessions.values()
    )
    jobs = tuple(
        (j.backend_name, name(j.session), j.state, j.duration, j.fault, j.max_execution_time,
         j.explicit_max_execution_time, _rel(j.started_at, now))
        for j in live
    )
    return (backends, sessions, jobs), names


def _future(records: Sequence[Record], now: float, names: dict[str, str]) -> tuple[Any, ...]:
    """What happens if nothing more is done, relative to now, under the canonical names."""
    out: list[Any] = []
    for record in records:
        if isinstance(record, Change):
            out.append((round(record.t - now, 6), record.entity, names.get(record.id, record.id), record.backend,
                        None if record.session is None else names.get(record.session, record.session),
                        record.src, record.dst, record.trigger, record.reason, record.max_time))
    return tuple(out)


def _requests(engine: Engine, path: Path, bounds: Bounds) -> list[Action]:
    """Every operation tried in this state, in a fixed order."""
    now = engine.now
    opened = len({step.session for step in path if isinstance(step, Open)})
    submitted = len({step.job for step in path if isinstance(step, Submit)})
    steps: list[Action] = []
    if opened < bounds.sessions:
        session = f"s{opened + 1}"
        steps.extend(Open(at=now, backend=b, session=session, max_time=m) for b in engine.backends for m in MAX_TIMES)
        if engine.interpretation.is_platform:  # a batch (PLATFORM-BATCH)
            steps.extend(Open(at=now, backend=b, session=session, mode="batch") for b in engine.backends)
    job = f"j{submitted + 1}"
    for session_id, record in engine.sessions.items():
        steps.extend(Submit(at=now, session=session_id, job=job, duration=d, fault=f) for d, f in JOBS)
        # One more naming another backend than the session's (BACKEND-FIXED, and its precedence over the
        # session checks): another backend of the scope, or, with one, a name the service does not have.
        steps.append(Submit(at=now, session=session_id, backend=_other_backend(engine, record.backend_name),
                            job=job, duration=JOBS[0][0], fault=JOBS[0][1]))
    for backend in engine.backends:
        steps.extend(Submit(at=now, backend=backend, job=job, duration=d, fault=f) for d, f in JOBS)
    first = next(iter(engine.backends))
    if opened:  # IDs taken already (DUPLICATE-ID): the newest session's, the newest job's
        steps.append(Open(at=now, backend=first, session=f"s{opened}"))
    if submitted:
        steps.append(Submit(at=now, backend=first, job=f"j{submitted}", duration=JOBS[0][0], fault=JOBS[0][1]))
    steps.extend(Cancel(at=now, job=j.id) for j in engine.jobs.values() if j.state not in JOB_FINAL)
    steps.extend(Close(at=now, session=s.id) for s in engine.sessions.values() if s.state not in SESSION_FINAL)
    if engine.interpretation.is_platform:  # the platform profile's own request
        steps.extend(
            CancelSession(at=now, session=s.id) for s in engine.sessions.values() if s.state not in SESSION_FINAL
        )
    steps.extend(Fault(at=now, backend=b.name) for b in engine.backends.values() if b.running is not None)
    return steps


def _other_backend(engine: Engine, mine: str) -> str:
    """Another backend of the scope than ``mine``, or, with one only, the campaign's name for a backend the
    service does not have (BACKEND-FIXED still refuses it before BACKEND-UNKNOWN)."""
    return next((name for name in engine.backends if name != mine), UNKNOWN_BACKEND)


def _waits(now: float, instants: Sequence[float]) -> list[Action]:
    """To each of the next :data:`WAIT_POINTS` instants at which something happens, and a tick either side."""
    targets: set[float] = set()
    for instant in instants[:WAIT_POINTS]:
        targets.update(to for to in (instant - TICK, instant, instant + TICK) if to > now)
    return [Advance(at=now, seconds=round(to - now, 6)) for to in sorted(targets)]


def evaluate(path: Path, config: ExploreConfig) -> _State:
    """Replay ``path``, abstract its state and list its successors, then run on (the flush) so that
    the trace checked holds what the pending timers do."""
    engine, trace = _replay(path, config)
    now = engine.now
    entities, names = _entities(engine)
    steps = _requests(engine, path, config.bounds)
    mark = len(trace)
    engine.run(until=now + FLUSH)
    records = list(trace)
    future = records[mark:]
    steps.extend(_waits(now, sorted({r.t for r in future if isinstance(r, Change) and r.t > now})))
    return _State(now, (entities, _future(future, now, names)), records, steps)


# ---------------------------------------------------------------------- the search


def _spec_finding(path: Path, state: _State, config: ExploreConfig) -> Finding | None:
    try:
        violations = check_records(state.trace, catalogue())
    except Exception as error:  # a property that cannot read the spec's own trace is a finding too
        ops, _ = operations(path)
        return Finding("property", f"a property failed on the spec's trace: {type(error).__name__}: {error}", (),
                       tuple(ops), state.now + FLUSH, "in the spec's trace", state.trace, config.campaign())
    if not violations:
        return None
    first = violations[0]
    ops, _ = operations(path)
    return Finding("spec", f"{first.property}: {first.message}", first.rules, tuple(ops), state.now + FLUSH,
                   f"in the spec's own trace at record {first.index} (t={time_text(first.t)})", state.trace,
                   config.campaign())


def explore(config: ExploreConfig | None = None, factory: Factory | None = None, *, pool: Pool | None = None) -> (
    ExploreResult
):
    """Breadth-first enumeration within ``config.bounds``; stops at the first finding (a shortest one).

    Without ``factory`` the spec itself is checked (every property at every distinct state); with one,
    every sequence is also run on the implementation and compared with the spec. With a ``pool`` of
    several workers each level is cut into chunks expanded on the workers (the factory is shipped to
    them, so it must pickle: an adapter's module attribute, or ``--cmd``'s factory); the result is the
    same as in one process.
    """
    try:
        return _explore(config or ExploreConfig(), factory, pool or InProcess())
    finally:
        close = getattr(factory, "close", None)
        if callable(close):
            close()  # an out-of-process IUT's child is stopped, whatever happened


# ---------------------------------------------------------------------- one level, as a pure function


Digest = bytes
"""A state's abstraction, hashed: what deduplication compares and what is shipped between workers."""


def digest(key: tuple[Any, ...]) -> Digest:
    """A stable digest of an abstract state (its ``repr`` is made of strings, numbers and None only)."""
    return hashlib.blake2b(repr(key).encode(), digest_size=16).digest()


Candidate = tuple[Path, Action]
"""A state of the frontier and one of its successor steps."""


@dataclass
class Outcome:
    """A candidate worth the merge's attention: new to its chunk, or one the implementation fails on."""

    index: int
    """Its place in the level's enumeration order."""
    digest: Digest
    steps: list[Action] | None
    """Its successors, if it was new to its chunk."""
    spec: Finding | None = None
    """A property the spec's own trace breaks there (checked only if new to its chunk)."""
    judged: Finding | None = None
    """Where the implementation departs from the spec on this sequence."""

    def __getstate__(self) -> dict[str, Any]:
        """Shipped with its steps as MessagePack (see :data:`_WIRE`)."""
        return {**self.__dict__, "steps": None if self.steps is None else _WIRE.encode(self.steps)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        steps = state["steps"]
        self.__dict__.update(state, steps=None if steps is None else _STEPS.decode(steps))


@dataclass
class Expansion:
    """What expanding one chunk of a level gave: plain data, shipped back from a worker."""

    outcomes: list[Outcome]
    evaluated: int
    """Candidates evaluated: all of the chunk's, unless it stopped early."""
    timed_out: bool
    seconds: float
    worker: str


@dataclass(frozen=True)
class Chunk:
    """Consecutive candidates of one level, from ``start`` on in the enumeration order."""

    start: int
    candidates: list[Candidate]

    def __getstate__(self) -> tuple[int, bytes]:
        """Shipped as MessagePack, each path once with the steps tried from it (see :data:`_WIRE`)."""
        groups: list[tuple[Path, list[Action]]] = []
        for path, step in self.candidates:
            if groups and groups[-1][0] is path:
                groups[-1][1].append(step)
            else:
                groups.append((path, [step]))
        return self.start, _WIRE.encode(groups)

    def __setstate__(self, state: tuple[int, bytes]) -> None:
        start, groups = state
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "candidates", [(path, step) for path, steps in _GROUPS.decode(groups)
                                                for step in steps])


_WIRE = msgspec.msgpack.Encoder()
"""Steps and paths cross between the driver and the workers as MessagePack: pickling a msgspec record
costs about a hundred times as much as encoding it, and a level ships tens of thousands of them."""
_STEPS = msgspec.msgpack.Decoder(list[Action])
_GROUPS = msgspec.msgpack.Decoder(list[tuple[tuple[Action, ...], list[Action]]])
_PATHS = msgspec.msgpack.Decoder(list[tuple[int, tuple[Action, ...]]])


def expand(chunk: Chunk, config: ExploreConfig, seen: AbstractSet[Digest], factory: Factory | None,
           decisive: bool = False, limit: int | None = None, deadline: float | None = None,
           keep: dict[int, _State] | None = None, room: int = 0) -> Expansion:
    """Evaluate a chunk's candidates in order: a pure function of plain data, run where the pool puts it.

    ``seen`` holds the states of the previous levels; a state new to the chunk has its successors listed
    and is checked against every property, or, with ``keep``, left unchecked, to be checked later if no
    other chunk reached it first (a state reached in two chunks is then checked once), and put in ``keep``
    by its index while ``keep`` holds fewer than ``room`` (the others are replayed then). ``decisive``:
    this chunk is the whole level (the single-process path), so its first finding is the level's and it
    stops there, or after ``limit`` new states, or past ``deadline`` (a ``time.time()``). Otherwise it
    stops only at an implementation's finding (later ones cannot matter) or the deadline.
    """
    started = time.perf_counter()
    local: set[Digest] = set()
    outcomes: list[Outcome] = []
    campaign = config.campaign()
    evaluated = 0
    timed_out = False
    try:
        for offset, (path, step) in enumerate(chunk.candidates):
            candidate = (*path, step)
            state = evaluate(candidate, config)
            evaluated += 1
            key = digest(state.key)
            new = key not in seen and key not in local
            outcome = Outcome(chunk.start + offset, key, state.steps if new else None)
            if new:
                local.add(key)
                if keep is None:
                    outcome.spec = _spec_finding(candidate, state, config)
                elif room > len(keep):
                    keep[outcome.index] = state
            if factory is not None and not (decisive and outcome.spec is not None):
                # Every transition, not only those to new states: an operation the spec ignores
                # (a rejected submit) may be just the one the implementation gets wrong.
                ops, _ = operations(candidate)
                outcome.judged = judge(ops, state.now + FLUSH, factory, campaign)
            if new or outcome.judged is not None:
                outcomes.append(outcome)
            if outcome.judged is not None or (decisive and outcome.spec is not None):
                break
            if new and decisive and limit is not None and len(local) >= limit:
                break
            if new and deadline is not None and time.time() > deadline:
                timed_out = True
                break
    finally:
        close = getattr(factory, "close", None)
        if callable(close) and not decisive:
            close()  # a factory shipped to a worker is the task's own
    return Expansion(outcomes, evaluated, timed_out, time.perf_counter() - started, worker_name())


_KEPT: dict[tuple[str, int, int], dict[int, _State]] = {}
"""On a worker: the states its chunks found new, by (run, depth, chunk start), until the check that follows on
the same worker (replaying them would cost as much again). Only a cache: a check that finds nothing here (it
ran on another worker, or another run cleared it) replays the path, to the same result."""

KEEP_AT_MOST = 10_000
"""States kept on one worker at most (some ten kilobytes each, its trace and successors); the others are replayed
at their check."""


def _expand_task(chunk: Chunk, config: ExploreConfig, seen: AbstractSet[Digest], factory: Factory | None,
                 deadline: float | None, run: str, depth: int, last: bool) -> Expansion:
    """A chunk on a worker, with its own copy of the factory (a pool of threads shares the shipped object);
    its new states are kept on the worker for :func:`_check_task`. On the ``last`` level their successors
    are not sent back: nothing will expand them."""
    for stale in [key for key in _KEPT if key[0] != run]:
        _KEPT.pop(stale, None)  # a run that ended (or was cut off) before its checks; another one's at worst
    own = copy.deepcopy(factory)  # a --cmd factory's copy starts its own child
    room = KEEP_AT_MOST - sum(len(states) for states in _KEPT.values())
    keep = _KEPT.setdefault((run, depth, chunk.start), {})
    expansion = expand(chunk, config, seen, own, deadline=deadline, keep=keep, room=room)
    if not keep:
        _KEPT.pop((run, depth, chunk.start), None)  # no check will come for it
    if last:
        for outcome in expansion.outcomes:
            if outcome.steps is not None:
                outcome.steps = []
    return expansion


@dataclass(frozen=True)
class Check:
    """A chunk's states new to the whole level, to check (phase two): by their index and path."""

    kept: tuple[str, int, int]
    """Where the chunk's states are kept: (run, depth, chunk start)."""
    states: list[tuple[int, Path]]

    def __getstate__(self) -> tuple[tuple[str, int, int], bytes]:
        return self.kept, _WIRE.encode(self.states)

    def __setstate__(self, state: tuple[tuple[str, int, int], bytes]) -> None:
        object.__setattr__(self, "kept", state[0])
        object.__setattr__(self, "states", _PATHS.decode(state[1]))


def _check_task(check: Check, config: ExploreConfig) -> tuple[int, Finding] | None:
    """Check a chunk's new states in order, on the worker that kept them if it can; the first finding."""
    kept = _KEPT.pop(check.kept, {})
    for index, path in check.states:
        state = kept.get(index) or evaluate(path, config)
        finding = _spec_finding(path, state, config)
        if finding is not None:
            return index, finding
    return None


CHUNKS_PER_WORKER = 8
"""A level is cut into this many chunks per worker, so that a slow chunk does not hold the others up..."""

CHUNK_AT_LEAST = 32
"""...each of this many candidates at least (a few milliseconds of work): Dask's upkeep per task, about a
millisecond of the driver's CPU, is taken from the workers' cores."""


def _chunks(candidates: list[Candidate], workers: int) -> list[Chunk]:
    size = max(CHUNK_AT_LEAST, -(-len(candidates) // (workers * CHUNKS_PER_WORKER)))
    return [Chunk(start, candidates[start : start + size]) for start in range(0, len(candidates), size)]


@dataclass
class _New:
    """A state new to the search, met in the level's merge."""

    index: int
    path: Path
    steps: list[Action]
    distinct: int
    """Distinct states once it is counted."""
    spec: Finding | None


@dataclass
class _Level:
    """A level's expansions merged in enumeration order, up to where a single process would have stopped
    but for the spec's own findings (known once its new states are checked)."""

    new: list[_New]
    stop: tuple[int, int, Finding | None, str] | None
    """Where the level stops early: (states explored in it, distinct states, an implementation's finding,
    or why: "max states", "time limit")."""


def _merge(candidates: list[Candidate], expansions: list[Expansion], seen: set[Digest], bounds: Bounds,
           deadline: float | None) -> _Level:
    """Deduplicate the level's outcomes in enumeration order (adding them to ``seen``), what one process
    going through the level one by one would do."""
    new: list[_New] = []
    for expansion in expansions:
        for outcome in expansion.outcomes:
            fresh = outcome.steps is not None and outcome.digest not in seen
            seen.add(outcome.digest)
            if fresh:
                assert outcome.steps is not None
                path, step = candidates[outcome.index]
                new.append(_New(outcome.index, (*path, step), outcome.steps, len(seen), outcome.spec))
                if outcome.spec is not None:  # known already on the single-process path: it stopped there
                    return _Level(new, None)
            if outcome.judged is not None:
                return _Level(new, (outcome.index + 1, len(seen), outcome.judged, ""))
            if fresh and len(seen) >= bounds.max_states:
                return _Level(new, (outcome.index + 1, len(seen), None, "max states"))
        if expansion.timed_out or (deadline is not None and time.time() > deadline):
            return _Level(new, (expansion.outcomes[-1].index + 1 if expansion.outcomes else 0, len(seen), None,
                                "time limit"))
    return _Level(new, None)


def _check(level: _Level, chunks: list[Chunk], expansions: list[Expansion], config: ExploreConfig, pool: Pool,
           run: str, depth: int) -> None:
    """Phase two on a pool: check each state new to the level once, on the worker that kept it if it can."""
    starts = [chunk.start for chunk in chunks]
    checks = [Check((run, depth, start), []) for start in starts]
    for new in level.new:
        checks[bisect.bisect_right(starts, new.index) - 1].states.append((new.index, new.path))
    # A chunk that kept nothing (every state it reached was seen before) needs no check.
    wanted = [n for n, e in enumerate(expansions) if any(o.steps is not None for o in e.outcomes)]
    found = [f for f in pool.map(_check_task, [checks[n] for n in wanted], config,
                                 prefer=[expansions[n].worker for n in wanted]) if f is not None]
    if found:
        index, finding = found[0]  # the chunks are in enumeration order
        next(n for n in level.new if n.index == index).spec = finding


def _explore(config: ExploreConfig, factory: Factory | None, pool: Pool) -> ExploreResult:
    bounds = config.bounds
    started = time.perf_counter()
    deadline = None if bounds.time_limit is None else time.time() + bounds.time_limit
    run = uuid.uuid4().hex  # names what this run keeps on the workers
    workers = pool.workers  # asked once: on a cluster it is a round trip to the scheduler
    seen: set[Digest] = set()
    explored = 0
    rates: dict[str, tuple[int, float]] = {}
    root = evaluate((), config)
    seen.add(digest(root.key))
    finding = _spec_finding((), root, config)
    if finding is not None:
        return ExploreResult(0, 1, 0, time.perf_counter() - started, finding)
    frontier: list[tuple[Path, list[Action]]] = [((), root.steps)]
    depth = 0

    def result(distinct: int, finding: Finding | None, stopped: str = "") -> ExploreResult:
        return ExploreResult(explored, distinct, depth, time.perf_counter() - started, finding, stopped,
                             dict(sorted(rates.items())), workers)

    while frontier and depth < bounds.depth:
        depth += 1
        candidates = [(path, step) for path, steps in frontier for step in steps]
        if isinstance(pool, InProcess):
            expansions = [expand(Chunk(0, candidates), config, seen, factory, True, bounds.max_states - len(seen),
                                 deadline)]
            level = _merge(candidates, expansions, seen, bounds, deadline)
        else:
            chunks = _chunks(candidates, workers)
            expansions = pool.map(_expand_task, chunks, config, frozenset(seen), factory, deadline, run, depth,
                                  depth == bounds.depth)
            level = _merge(candidates, expansions, seen, bounds, deadline)
            _check(level, chunks, expansions, config, pool, run, depth)
        for expansion in expansions:
            done, seconds = rates.get(expansion.worker, (0, 0.0))
            rates[expansion.worker] = (done + expansion.evaluated, seconds + expansion.seconds)
        base = explored
        for new in level.new:
            if new.spec is not None:
                explored = base + new.index + 1
                return result(new.distinct, new.spec)
        if level.stop is not None:
            count, distinct, judged, stopped = level.stop
            explored = base + count
            return result(distinct, judged, stopped)
        explored = base + len(candidates)
        frontier = [(new.path, new.steps) for new in level.new]
    return result(len(seen), None)
