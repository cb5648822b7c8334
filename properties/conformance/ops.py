"""Operation sequences: what the campaign generates.

Hypothesis draws *abstract* operations whose references to sessions and jobs are small
integers (0 the newest, 1 the one before, ... modulo the number created so far; -1 an
ID that does not exist),
so that every draw is meaningful and shrinking keeps it so. :func:`resolve` turns them
into the typed operations of :mod:`model.sim.ops`, with IDs and absolute times: the
operations of the scenario format (docs/scenario-format.md) that both engines are driven with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.ops import Cancel, Close, Fault, Open, Operation, Submit, decode_operations, run_operations

Op = Operation
"""A timed operation of a generated sequence."""


def apply_to_engine(engine: Engine, op: Op) -> None:
    """Drive the reference engine exactly as ``sessionspec simulate`` does."""
    run_operations(engine, (op,))


# ---------------------------------------------------------------------- abstract operations


@dataclass(frozen=True)
class DrawOpen:
    backend: int
    max_time: int | str | None


@dataclass(frozen=True)
class DrawSubmit:
    session: int | None
    backend: int
    max_execution_time: float | None
    duration: float
    fault: bool
    count: int = 1
    """How many such jobs are submitted at once (queues build up)."""


@dataclass(frozen=True)
class DrawCancel:
    job: int
    first_of_session: bool = False
    """``job`` picks a session, and the cancel names that session's first job (FIRST-JOB-CANCEL)."""


@dataclass(frozen=True)
class DrawClose:
    session: int


@dataclass(frozen=True)
class DrawFault:
    backend: int


@dataclass(frozen=True)
class DrawAdvance:
    seconds: float


Abstract = DrawOpen | DrawSubmit | DrawCancel | DrawClose | DrawFault | DrawAdvance

MAX_TIMES: tuple[int | str | None, ...] = (None, 200, None, 450, 1000, None, "20m", 60, "soon", 10**7)
EXECUTION_TIMES: tuple[float | None, ...] = (None, 30, None, 120, None, 5000)
DURATIONS: tuple[float, ...] = (10, 100, 1, 50, 120, 299, 300, 301, 500)
DELAYS: tuple[float, ...] = (0, 10, 1, 5, 60, 150, 299, 300, 301, 600, 1800)
SESSION_REFS: tuple[int | None, ...] = (0, None, 0, 1, None, -1, 2, 0, 3)
"""Which session a submit goes to: mostly the newest, often none (the fair-share queue)."""
REFS: tuple[int, ...] = (0, 1, 0, 2, -1, 3, 0, 4)
"""Which job a cancel (or session a close) names: mostly the newest."""


def operations(n_backends: int, max_size: int = 25) -> st.SearchStrategy[list[Abstract]]:
    """Sequences of abstract operations; every choice shrinks towards the simplest.

    Drawn as bursts: a delay, then one to four operations at the same instant. Bursts
    make queues build up (several jobs submitted while the device is busy) and keep
    sequences long enough to reach deep states, while delays and operations shrink
    independently. Branches are weighted by repeating them.
    """
    backend = st.sampled_from((0, 0, 0, *range(1, n_backends)))
    ref = st.sampled_from(REFS)

    def submit() -> st.SearchStrategy[DrawSubmit]:
        return st.builds(
            DrawSubmit, st.sampled_from(SESSION_REFS), backend, st.sampled_from(EXECUTION_TIMES),
            st.sampled_from(DURATIONS), st.sampled_from((False, False, False, False, True)), st.integers(1, 3),
        )

    def open_() -> st.SearchStrategy[DrawOpen]:
        return st.builds(DrawOpen, backend, st.sampled_from(MAX_TIMES))

    one = st.one_of(
        submit(), open_(), submit(), st.builds(DrawCancel, ref), submit(), open_(), submit(),
        st.builds(DrawClose, ref), submit(), st.builds(DrawCancel, ref, st.just(True)), submit(),
        st.builds(DrawFault, backend),
    )
    burst = st.tuples(st.sampled_from(DELAYS), st.lists(one, min_size=1, max_size=5))
    bursts = st.lists(burst, min_size=1, max_size=max(1, max_size // 2))
    return bursts.map(lambda drawn: _flatten(drawn, max_size))


def sequences(backends: Sequence[BackendConfig], max_size: int = 25) -> st.SearchStrategy[tuple[list[Op], float]]:
    """Typed operation sequences on ``backends`` (:func:`operations`, resolved), and the time after the
    last advance."""
    return operations(len(backends), max_size).map(lambda drawn: resolve(drawn, backends))


def _flatten(bursts: Sequence[tuple[float, Sequence[Abstract]]], max_size: int) -> list[Abstract]:
    flat: list[Abstract] = []
    for delay, ops in bursts:
        if delay:
            flat.append(DrawAdvance(delay))
        flat.extend(ops)
    return flat[:max_size]


def resolve(abstract: Sequence[Abstract], backends: Sequence[BackendConfig]) -> tuple[list[Op], float]:
    """Concrete operations with IDs (s1, s2, ... and j1, j2, ...) and absolute times, and the
    time after the last advance."""
    names = [b.name for b in backends]
    sessions: list[str] = []
    jobs: list[str] = []
    first_jobs: dict[str, str] = {}
    now = 0.0
    ops: list[Op] = []

    def pick(ids: list[str], ref: int, prefix: str) -> str:
        """0 is the newest, 1 the one before, ...; -1 an ID that does not exist."""
        return f"{prefix}0" if ref < 0 or not ids else ids[-1 - ref % len(ids)]

    for item in abstract:
        if isinstance(item, DrawAdvance):
            now += item.seconds
        elif isinstance(item, DrawOpen):
            sessions.append(f"s{len(sessions) + 1}")
            ops.append(Open(at=now, backend=names[item.backend], session=sessions[-1], max_time=item.max_time))
        elif isinstance(item, DrawSubmit):
            if item.session is not None and sessions:
                session: str | None = pick(sessions, item.session, "s")
                backend = None
            else:
                session, backend = None, names[item.backend]
            for _ in range(item.count):
                jobs.append(f"j{len(jobs) + 1}")
                if session is not None:
                    first_jobs.setdefault(session, jobs[-1])
                ops.append(Submit(
                    at=now, backend=backend, session=session, job=jobs[-1],
                    max_execution_time=item.max_execution_time, duration=item.duration, fault=item.fault,
                ))
        elif isinstance(item, DrawCancel) and item.first_of_session:
            first = first_jobs.get(pick(sessions, item.job, "s"))
            ops.append(Cancel(at=now, job=first if first is not None else "j0"))
        elif isinstance(item, DrawCancel):
            ops.append(Cancel(at=now, job=pick(jobs, item.job, "j")))
        elif isinstance(item, DrawClose):
            ops.append(Close(at=now, session=pick(sessions, item.session, "s")))
        else:
            ops.append(Fault(at=now, backend=names[item.backend]))
    return ops, now


def ops_from_json(operations: Sequence[object]) -> list[Op]:
    """Concrete operations from scenario-format JSON (for fixed scenarios written by hand)."""
    return list(decode_operations(operations))
