"""Operation sequences: what the campaign generates.

Hypothesis draws *abstract* operations whose references to sessions and jobs are small
integers (0 the newest, 1 the one before, ... modulo the number created so far; -1 an
ID that does not exist),
so that every draw is meaningful and shrinking keeps it so. :func:`resolve` turns them
into the typed operations of :mod:`model.sim.ops`, with IDs and absolute times: the
operations of the scenario format (docs/scenario-format.md) that both engines are driven with.

Times may be drawn relative to what the reference engine will do next (:class:`DrawToDeadline`,
:class:`DrawAtSessionDeadline`: a job's end, an interactive window's end, a max_time expiry, a
max_execution_time cut, at an offset of 0, +-0.5 or +-1 s): :func:`resolve` runs the operations
drawn so far on a shadow reference engine, on with no further request, to find those instants,
so that a timing bug is found at the boundary itself and shrinks towards it (the offset shrinks
to 0). Composite draws build the situations bugs hide in and random draws rarely combine: a
session's job behind a fair-share job (:class:`DrawContention`), a job ending or cut as its
session expires (:class:`DrawTie`), requests at an idle session's interactive timeout
(:class:`DrawWindow`), a queued job's cancel in an otherwise idle session (:class:`DrawQueuedCancel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.ops import (
    Cancel,
    CancelSession,
    Close,
    Fault,
    Open,
    Operation,
    Submit,
    run_operations,
)
from model.spec.interpretations import DEFAULT, Interpretation
from model.trace import Change, MemoryTrace

Op = Operation
"""A timed operation of a generated sequence."""


# ---------------------------------------------------------------------- abstract operations


@dataclass(frozen=True)
class DrawOpen:
    backend: int
    max_time: int | str | None
    reuse: int | None = None
    """Not None: the open reuses the ID of an existing session (DUPLICATE-ID), picked like a reference."""
    batch: bool = False
    """Open a batch (drawn under the platform profile only: PLATFORM-BATCH)."""


@dataclass(frozen=True)
class DrawSubmit:
    session: int | None
    backend: int
    max_execution_time: float | None
    duration: float
    fault: bool
    count: int = 1
    """How many such jobs are submitted at once (queues build up)."""
    reuse: int | None = None
    """Not None: the first job reuses the ID of an existing job (DUPLICATE-ID)."""
    also_backend: bool = False
    """A submit to a session that names a backend too (the other one: BACKEND-FIXED)."""


@dataclass(frozen=True)
class DrawCancel:
    job: int
    first_of_session: bool = False
    """``job`` picks a session, and the cancel names that session's first job (FIRST-JOB-CANCEL)."""


@dataclass(frozen=True)
class DrawClose:
    session: int
    cancel: bool = False
    """Cancel the session instead (cancel_session: drawn under the platform profile only)."""


@dataclass(frozen=True)
class DrawFault:
    backend: int


@dataclass(frozen=True)
class DrawAdvance:
    seconds: float


@dataclass(frozen=True)
class DrawToDeadline:
    """Move time to a deadline the reference engine knows, plus ``offset`` seconds (no move if it is past)."""

    which: int
    """Which pending deadline, in time order (modulo how many there are)."""
    offset: float


@dataclass(frozen=True)
class DrawQueueThen:
    """Several jobs submitted to a session at once, then at the same instant a close or the
    cancel of the session's first job: the cascades with queued (and running) jobs."""

    session: int
    count: int
    then_close: bool


@dataclass(frozen=True)
class DrawAtSessionDeadline:
    """Move time to a session's interactive-window end (or its max_time expiry) plus ``offset``,
    and submit a job to it (or close it) there: the requests at, just before and just after a session deadline."""

    session: int
    max_time: bool
    offset: float
    close: bool = False
    """Close the session there instead (a close of an inactive session, at or around its expiry)."""


@dataclass(frozen=True)
class DrawContention:
    """At one instant: a job to a session, a job to the fair-share queue of the session's backend, then a
    second job to the session, which waits behind the fair-share job (SCHED-PRIORITY: it must still start
    first once the session holds the device)."""

    session: int
    fair_share: int
    """How many fair-share jobs come between the session's two jobs."""


@dataclass(frozen=True)
class DrawTie:
    """A session opened with ``max_time`` and, at once, jobs whose runs add up to it: the last ends at the
    very instant the session expires, with one more of its jobs queued (the same-instant order of a job's
    end and the expiry, and no start at the deadline)."""

    backend: int
    max_time: int
    cut: bool = False
    """Instead, a session whose max_time is the backend's program max_execution_time, and one job that
    runs longer: its cut and the expiry fall at one instant (the job's failure comes first)."""


@dataclass(frozen=True)
class DrawWindow:
    """A fresh session with one short job, then time moved to its interactive timeout plus ``offset``,
    and there a submit to it (reactivation) or its close (of an inactive session)."""

    backend: int
    offset: float
    close: bool
    busy: bool = False
    """First a fair-share job takes the idle device, so the session's job waits (the session stays
    inactive with work queued), then the submit or close."""
    cancel: bool = False
    """Under the platform profile, then cancel the session (cancel_session of a draining session)."""
    doomed: bool = False
    """First the session's first job is cancelled while it runs, and halfway through the window a
    doomed submit fails at once yet restarts the window (FIRST-JOB-CANCEL, TTL-INTERACTIVE)."""


@dataclass(frozen=True)
class DrawQueuedCancel:
    """Under the platform profile: a fresh session (or a batch, whose first job runs at once) whose job waits
    behind a fair-share job, cancelled ``delay`` seconds later while the session has nothing else queued or
    running. The cancel is a job's end: it re-arms the unused and the batch_end timers, which then fire (an
    outsider's scheduler did not re-arm them; random draws almost never built this)."""

    backend: int
    batch: bool
    delay: float
    then_cancel_session: bool = False
    """Then cancel the session at once instead (cancel_session of a pending session, or of an inactive batch)."""


QUEUED_CANCEL_DELAYS: tuple[float, ...] = (50, 1, 30)
"""How long the cancelled job waits: within the fair-share job's run (100 s), past the batch's first job (10 s)."""


TIE_MAX_TIMES: tuple[int, ...] = (400, 100)
"""A session's max_time for a tie: b0's program max_execution_time, and a short one."""


Abstract = (
    DrawOpen | DrawSubmit | DrawCancel | DrawClose | DrawFault | DrawAdvance | DrawToDeadline | DrawQueueThen
    | DrawAtSessionDeadline | DrawContention | DrawTie | DrawWindow | DrawQueuedCancel
)

MAX_TIMES: tuple[int | str | None, ...] = (None, 200, None, 450, 1000, None, "20m", 60, "soon", 10**7)
MAX_TIME_FORMS: tuple[int | str | None, ...] = (
    # every accepted form of the grammar (model/spec/max_time.py)
    "2h 30m 40s", "2H", "05m", "300", "1m 30s", "90s", " 5m", "10M 5S", "1h",
    # refused forms: repeats, a bare number after a unit, empty, non-ASCII digits, not positive, above the limit
    "2h 2h", "5m 30", "", "²", "٣m", -5, 0, "0s", "5m 2h", 3601, 1801, 1800,
    # White_Space only (docs/contract.md): U+0085 and U+00A0 are, U+FEFF and U+001C (str.isspace's) are not
    "\u00855m", "1h\u00a030m", "\ufeff5m", "5m\u001c",
)
EXECUTION_TIMES: tuple[float | None, ...] = (None, 30, None, 120, None, 5000, 0, -1)
DURATIONS: tuple[float, ...] = (10, 100, 1, 50, 120, 299, 300, 301, 500)
DELAYS: tuple[float, ...] = (0, 10, 1, 5, 60, 150, 299, 300, 301, 600, 1800)
SESSION_REFS: tuple[int | None, ...] = (0, None, 0, 1, None, -1, 2, 0, 3)
"""Which session a submit goes to: mostly the newest, often none (the fair-share queue)."""
REFS: tuple[int, ...] = (0, 1, 0, 2, -1, 3, 0, 4)
"""Which job a cancel (or session a close) names: mostly the newest."""


UNKNOWN_BACKEND = "no-such-backend"
OFFSETS: tuple[float, ...] = (0, -1, 1, 0, 0.5, -0.5)
"""Where, relative to a deadline, a deadline-relative draw lands: at it first (what shrinking keeps)."""


def operations(n_backends: int, max_size: int = 25, platform: bool = False) -> st.SearchStrategy[list[Abstract]]:
    """Sequences of abstract operations; every choice shrinks towards the simplest.

    With ``platform`` the draws include the platform profile's ``cancel_session`` (the seeds' draws are
    left exactly as they were, so that seeded seeds campaigns draw what they always drew).

    Drawn as bursts: a delay, then one to four operations at the same instant. Bursts
    make queues build up (several jobs submitted while the device is busy) and keep
    sequences long enough to reach deep states, while delays and operations shrink
    independently. Branches are weighted by repeating them.
    """
    backend = st.sampled_from((0, 0, 0, *range(1, n_backends), 0, 0, -1, 0, 0, 0, 0, -2))
    """-1: a backend the service does not have (BACKEND-UNKNOWN); -2: none named (BACKEND-REQUIRED)."""
    ref = st.sampled_from(REFS)

    reuse = st.sampled_from((None, None, None, None, None, None, None, 0, 1))

    def submit() -> st.SearchStrategy[DrawSubmit]:
        return st.builds(
            DrawSubmit, st.sampled_from(SESSION_REFS), backend, st.sampled_from(EXECUTION_TIMES),
            st.sampled_from(DURATIONS), st.sampled_from((False, False, False, False, True)), st.integers(1, 3),
            reuse, st.sampled_from((False, False, False, False, False, False, True)),
        )

    def open_() -> st.SearchStrategy[DrawOpen]:
        common = st.sampled_from(MAX_TIMES)
        max_time = st.one_of(common, common, common, st.sampled_from(MAX_TIME_FORMS))
        return st.builds(DrawOpen, backend, max_time, reuse)

    one = st.one_of(
        submit(), open_(), submit(), st.builds(DrawCancel, ref), submit(), open_(), submit(),
        st.builds(DrawClose, ref), submit(), st.builds(DrawCancel, ref, st.just(True)), submit(),
        st.builds(DrawFault, backend),
        st.builds(DrawQueueThen, ref, st.integers(2, 3), st.booleans()),
        st.builds(DrawAtSessionDeadline, ref, st.booleans(), st.sampled_from(OFFSETS), st.booleans()),
        st.builds(DrawAtSessionDeadline, ref, st.booleans(), st.sampled_from(OFFSETS)),
        st.builds(DrawContention, ref, st.integers(1, 2)),
        st.builds(DrawTie, st.sampled_from((0, *range(n_backends))), st.sampled_from(TIE_MAX_TIMES), st.booleans()),
        st.builds(DrawWindow, st.sampled_from((0, *range(n_backends))), st.sampled_from(OFFSETS), st.booleans(),
                  st.booleans(), st.booleans() if platform else st.just(False), st.booleans()),
    )
    if platform:
        batch = st.builds(DrawOpen, backend, st.sampled_from(MAX_TIMES), st.none(), st.just(True))
        queued_cancel = st.builds(DrawQueuedCancel, st.sampled_from((0, *range(n_backends))), st.booleans(),
                                  st.sampled_from(QUEUED_CANCEL_DELAYS), st.sampled_from((False, False, True)))
        one = st.one_of(one, st.builds(DrawClose, ref, st.just(True)), st.builds(DrawClose, ref), batch, queued_cancel)
    delay: st.SearchStrategy[DrawAdvance | DrawToDeadline] = st.one_of(
        st.sampled_from(DELAYS).map(DrawAdvance),
        st.builds(DrawToDeadline, st.integers(0, 3), st.sampled_from(OFFSETS)),
    )
    burst = st.tuples(delay, st.lists(one, min_size=1, max_size=5))
    bursts = st.lists(burst, min_size=1, max_size=max(1, max_size // 2))
    return bursts.map(lambda drawn: _flatten(drawn, max_size))


def sequences(
    backends: Sequence[BackendConfig], max_size: int = 25, interpretation: Interpretation = DEFAULT,
) -> st.SearchStrategy[tuple[list[Op], float]]:
    """Typed operation sequences on ``backends`` (:func:`operations`, resolved), and the time after the
    last advance."""
    platform = interpretation.is_platform
    return operations(len(backends), max_size, platform).map(lambda drawn: resolve(drawn, backends, interpretation))


def _flatten(
    bursts: Sequence[tuple[DrawAdvance | DrawToDeadline, Sequence[Abstract]]], max_size: int,
) -> list[Abstract]:
    flat: list[Abstract] = []
    for delay, ops in bursts:
        if not isinstance(delay, DrawAdvance) or delay.seconds:
            flat.append(delay)
        flat.extend(ops)
    return flat[:max_size]


HORIZON = 2000.0
"""How far ahead a shadow run looks for the reference engine's next deadlines (the campaign's flush)."""


def _future(
    ops: Sequence[Op], now: float, backends: Sequence[BackendConfig], interpretation: Interpretation,
) -> list[Change]:
    """What the reference engine does after ``now`` if no further request comes (a shadow run of ``ops``):
    the instants at which it acts by itself (job ends, the interactive window, max_time, max_execution_time)."""
    trace = MemoryTrace()
    engine = Engine(list(backends), interpretation=interpretation, sink=trace)
    run_operations(engine, ops)
    engine.run_until(now)
    mark = len(trace)
    engine.run(until=now + HORIZON)
    return [record for record in trace[mark:] if isinstance(record, Change) and record.t > now]


def resolve(
    abstract: Sequence[Abstract], backends: Sequence[BackendConfig], interpretation: Interpretation = DEFAULT,
) -> tuple[list[Op], float]:
    """Concrete operations with IDs (s1, s2, ... and j1, j2, ...) and absolute times, and the
    time after the last advance."""
    names = [b.name for b in backends]
    names_or_unknown: list[str | None] = [*names, None, UNKNOWN_BACKEND]
    """Indexed by a drawn backend: -1 is a name no backend has, -2 no name at all."""
    sessions: list[str] = []
    session_backends: dict[str, str] = {}
    jobs: list[str] = []
    first_jobs: dict[str, str] = {}
    now = 0.0
    ops: list[Op] = []

    def pick(ids: list[str], ref: int, prefix: str) -> str:
        """0 is the newest, 1 the one before, ...; -1 an ID that does not exist."""
        return f"{prefix}0" if ref < 0 or not ids else ids[-1 - ref % len(ids)]

    def submit(session: str | None, backend: str | None, item: DrawSubmit, duplicate: str | None) -> None:
        job = duplicate
        if job is None:
            jobs.append(f"j{len(jobs) + 1}")
            job = jobs[-1]
            if session is not None:
                first_jobs.setdefault(session, job)
        ops.append(Submit(
            at=now, backend=backend, session=session, job=job,
            max_execution_time=item.max_execution_time, duration=item.duration, fault=item.fault,
        ))

    for item in abstract:
        if isinstance(item, DrawAdvance):
            now += item.seconds
        elif isinstance(item, DrawToDeadline):
            deadlines = sorted({change.t for change in _future(ops, now, backends, interpretation)})
            if deadlines:
                now = max(now, deadlines[item.which % len(deadlines)] + item.offset)
        elif isinstance(item, DrawAtSessionDeadline):
            if not sessions:
                continue
            trigger = "max_time_reached" if item.max_time else "interactive_timeout"
            due = [(c.t, c.id) for c in _future(ops, now, backends, interpretation)
                   if c.entity == "session" and c.trigger == trigger]
            if due:  # ``session`` picks among the sessions whose timer is due, soonest first
                fired, target = due[item.session % len(due)]
                now = max(now, fired + item.offset)
            else:
                target = pick(sessions, item.session, "s")
            if item.close:
                ops.append(Close(at=now, session=target))
            else:
                submit(target, None, DrawSubmit(None, 0, None, 50, False), None)
        elif isinstance(item, DrawOpen):
            if item.reuse is not None and sessions:
                session_id = pick(sessions, item.reuse, "s")
            else:
                sessions.append(f"s{len(sessions) + 1}")
                session_id = sessions[-1]
            backend_name = names_or_unknown[item.backend]
            if backend_name is not None:
                session_backends.setdefault(session_id, backend_name)
            mode: Any = "batch" if item.batch and interpretation.is_platform else None
            ops.append(Open(at=now, backend=backend_name, session=session_id, max_time=item.max_time, mode=mode))
        elif isinstance(item, DrawSubmit):
            if item.session is not None and sessions:
                session: str | None = pick(sessions, item.session, "s")
                backend = names[(item.backend + 1) % len(names)] if item.also_backend else None
            else:
                session, backend = None, names_or_unknown[item.backend]
            for index in range(item.count):
                duplicate = pick(jobs, item.reuse, "j") if index == 0 and item.reuse is not None and jobs else None
                submit(session, backend, item, duplicate)
        elif isinstance(item, DrawQueueThen):
            if not sessions:
                continue
            session = pick(sessions, item.session, "s")
            for _ in range(item.count):
                submit(session, None, DrawSubmit(None, 0, None, 100, False), None)
            if item.then_close:
                ops.append(Close(at=now, session=session))
            else:
                ops.append(Cancel(at=now, job=first_jobs[session]))
        elif isinstance(item, DrawContention):
            if not sessions:
                continue
            session = pick(sessions, item.session, "s")
            submit(session, None, DrawSubmit(None, 0, None, 100, False), None)
            for _ in range(item.fair_share):
                submit(None, session_backends.get(session, names[0]), DrawSubmit(None, 0, None, 10, False), None)
            submit(session, None, DrawSubmit(None, 0, None, 10, False), None)
        elif isinstance(item, DrawWindow):
            sessions.append(f"s{len(sessions) + 1}")
            session = sessions[-1]
            session_backends[session] = names[item.backend]
            ops.append(Open(at=now, backend=names[item.backend], session=session))
            submit(session, None, DrawSubmit(None, 0, None, 10, False), None)
            if item.doomed:
                ops.append(Cancel(at=now, job=jobs[-1]))
                half = next((c.t for c in _future(ops, now, backends, interpretation)
                             if c.id == session and c.trigger == "interactive_timeout"), None)
                if half is not None:
                    now = max(now, (now + half) / 2)
                submit(session, None, DrawSubmit(None, 0, None, 10, False), None)
            timeout = next((c.t for c in _future(ops, now, backends, interpretation)
                            if c.id == session and c.trigger == "interactive_timeout"), None)
            if timeout is not None:
                now = max(now, timeout + item.offset)
            if item.busy:
                submit(None, names[item.backend], DrawSubmit(None, 0, None, 100, False), None)
                submit(session, None, DrawSubmit(None, 0, None, 50, False), None)
            if item.close:
                ops.append(Close(at=now, session=session))
                if item.cancel and interpretation.is_platform:
                    ops.append(CancelSession(at=now, session=session))
            elif not item.busy:
                submit(session, None, DrawSubmit(None, 0, None, 50, False), None)
        elif isinstance(item, DrawTie):
            sessions.append(f"s{len(sessions) + 1}")
            session = sessions[-1]
            session_backends[session] = names[item.backend]
            if item.cut:
                limit = int(backends[item.backend].default_max_execution_time)
                ops.append(Open(at=now, backend=names[item.backend], session=session, max_time=limit))
                submit(session, None, DrawSubmit(None, 0, None, limit + 100, False), None)
            else:
                ops.append(Open(at=now, backend=names[item.backend], session=session, max_time=item.max_time))
                for duration in (item.max_time - 10, 10, 10):
                    submit(session, None, DrawSubmit(None, 0, None, duration, False), None)
        elif isinstance(item, DrawQueuedCancel):
            sessions.append(f"s{len(sessions) + 1}")
            session = sessions[-1]
            session_backends[session] = names[item.backend]
            mode = "batch" if item.batch and interpretation.is_platform else None
            ops.append(Open(at=now, backend=names[item.backend], session=session, mode=mode))
            if mode is not None:
                submit(session, None, DrawSubmit(None, 0, None, 10, False), None)
            submit(None, names[item.backend], DrawSubmit(None, 0, None, 100, False), None)
            submit(session, None, DrawSubmit(None, 0, None, 10, False), None)
            now += item.delay
            ops.append(Cancel(at=now, job=jobs[-1]))
            if item.then_cancel_session:
                ops.append(CancelSession(at=now, session=session))
        elif isinstance(item, DrawCancel) and item.first_of_session:
            first = first_jobs.get(pick(sessions, item.job, "s"))
            ops.append(Cancel(at=now, job=first if first is not None else "j0"))
        elif isinstance(item, DrawCancel):
            ops.append(Cancel(at=now, job=pick(jobs, item.job, "j")))
        elif isinstance(item, DrawClose) and item.cancel and interpretation.is_platform:
            ops.append(CancelSession(at=now, session=pick(sessions, item.session, "s")))
        elif isinstance(item, DrawClose):
            ops.append(Close(at=now, session=pick(sessions, item.session, "s")))
        else:
            ops.append(Fault(at=now, backend=names[max(item.backend, 0)]))
    return ops, now
