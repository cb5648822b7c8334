"""A minimal hand-written event loop of the session scheduler: the floor a simulation of it can reach.

The same semantics as :mod:`benchmarks.simpy_model` (default interpretation; see there),
written the way one writes a one-off simulation: a heap of ``(time, sequence, kind,
target, token)`` tuples popped in a loop that branches on ``kind``, mutable records with
``__slots__``, timers cancelled by bumping a token, no trace, no validation, no
declaration, no count of live jobs (``max_live`` stays 0). It produces the same
:class:`~benchmarks.outcome.Outcome` as the engine and the SimPy model for the same
workload; the harness compares all three.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from itertools import count

from benchmarks.outcome import Outcome
from benchmarks.workload import Arrival, BatchPlan, ChurnWorkload, JobPlan, SessionPlan, SessionStep, Workload

INTERACTIVE_TIMEOUT = 300.0
SYSTEM_MAX_TIME = 8 * 3600.0

# Event kinds.
_END, _WINDOW, _MAX_TIME, _ARRIVE, _WAKE, _CANCEL, _CLOSE = range(7)


class Job:
    __slots__ = ("backend", "duration", "fault", "id", "limit", "session", "state", "token")

    def __init__(self, plan: JobPlan | SessionStep, backend: Backend, session: Session | None) -> None:
        self.id = plan.id
        self.backend = backend
        self.session = session
        self.duration = plan.duration
        self.fault = plan.fault
        self.limit = plan.max_execution_time if plan.max_execution_time is not None else SYSTEM_MAX_TIME
        self.state = "queued"
        self.token = 0


class Session:
    __slots__ = ("backend", "id", "max_time", "n_queued", "queue", "running", "state", "steps", "think",
                 "window", "window_open")

    def __init__(self, plan: SessionPlan | BatchPlan, backend: Backend) -> None:
        self.id = plan.id
        self.backend = backend
        self.max_time = float(plan.max_time) if plan.max_time is not None else SYSTEM_MAX_TIME
        self.state = "pending"
        self.queue: deque[Job] = deque()
        self.n_queued = 0
        self.running: Job | None = None
        self.window = 0
        self.window_open = False
        self.steps: Iterator[SessionStep] | None = None
        """An iterative client's remaining steps (None for a batch client)."""
        self.think = 0.0


class Backend:
    __slots__ = ("active", "fifo", "running")

    def __init__(self) -> None:
        self.fifo: deque[Job] = deque()
        self.running: Job | None = None
        self.active: Session | None = None


class HeapqModel:
    def __init__(self, wl: Workload | ChurnWorkload) -> None:
        self.wl = wl
        self.backends = {name: Backend() for name in wl.backends}
        self.heap: list[tuple[float, int, int, object, int]] = []
        self.seq = count()
        self.now = 0.0
        self.outcome = Outcome()

    def at(self, when: float, kind: int, target: object, token: int = 0) -> None:
        heapq.heappush(self.heap, (when, next(self.seq), kind, target, token))

    # ------------------------------------------------------------ scheduler

    def dispatch(self, backend: Backend) -> None:
        if backend.running is not None:
            return
        session = backend.active
        if session is not None:  # held for the active session: its oldest queued job, or nothing
            queue = session.queue
            while queue and queue[0].state != "queued":
                queue.popleft()
            if queue:
                self.start(queue[0])
            return
        fifo = backend.fifo
        while fifo and fifo[0].state != "queued":
            fifo.popleft()
        if fifo:
            job = fifo[0]
            if job.session is not None:  # a session job starts its session's oldest one
                queue = job.session.queue
                while queue[0].state != "queued":
                    queue.popleft()
                job = queue[0]
            self.start(job)

    def start(self, job: Job) -> None:
        backend = job.backend
        job.state = "running"
        backend.running = job
        self.at(self.now + (job.limit if job.duration > job.limit else job.duration), _END, job, job.token)
        session = job.session
        if session is not None:
            session.n_queued -= 1
            session.running = job
            if session.state != "active":
                if session.state == "pending":
                    self.at(self.now + session.max_time, _MAX_TIME, session)
                session.state = "active"
                backend.active = session
                self.outcome.activations += 1
            self.update_window(session)

    def end(self, job: Job, outcome: str) -> None:
        """The job leaves the device (any outcome); the client hears of it; the backend goes on."""
        job.state = outcome
        job.token += 1
        self.outcome.job_ended(job.id, outcome, self.now)
        backend = job.backend
        backend.running = None
        session = job.session
        if session is not None:
            session.running = None
            self.update_window(session)
            self.job_ended(session)
        self.dispatch(backend)

    def job_ended(self, session: Session) -> None:
        if session.steps is not None:  # an iterative client thinks, then goes on
            self.at(self.now + session.think, _WAKE, session)

    # ------------------------------------------------------------ session timers

    def update_window(self, session: Session) -> None:
        if session.state != "active":
            return
        idle = session.running is None and session.n_queued == 0
        if idle and not session.window_open:
            session.window_open = True
            session.window += 1
            self.at(self.now + INTERACTIVE_TIMEOUT, _WINDOW, session, session.window)
        elif not idle and session.window_open:
            session.window_open = False
            session.window += 1

    def close(self, session: Session, trigger: str, failure: str) -> None:
        session.state = "closed"
        session.window_open = False
        session.window += 1
        backend = session.backend
        if backend.active is session:
            backend.active = None
        self.outcome.session_closed(trigger)
        for job in session.queue:
            if job.state == "queued":
                session.n_queued -= 1
                job.state = failure
                self.outcome.job_ended(job.id, failure, self.now)
                self.job_ended(session)
        session.queue.clear()
        running = session.running
        if running is not None:
            self.end(running, failure)  # dispatches
        else:
            self.dispatch(backend)

    # ------------------------------------------------------------ clients

    def submit(self, backend: Backend, plan: JobPlan | SessionStep, session: Session | None) -> Job:
        job = Job(plan, backend, session)
        self.outcome.submitted += 1
        backend.fifo.append(job)
        if session is not None:
            session.queue.append(job)
            session.n_queued += 1
            self.update_window(session)
        self.dispatch(backend)
        return job

    def step(self, session: Session) -> None:
        """An iterative client's next move: submit its next job, or close the session after the last."""
        assert session.steps is not None
        step = next(session.steps, None)
        if step is None:
            if session.state != "closed":
                self.close(session, "close", "failed:session_closed")
        elif session.state == "closed":
            self.outcome.rejected += 1
        else:
            session.think = step.think
            self.submit(session.backend, step, session)

    def arrive(self, arrival: Arrival) -> None:
        plan = arrival.session
        backend = self.backends[arrival.backend]
        if plan is None:
            assert arrival.job is not None
            self.submit(backend, arrival.job, None)
        elif isinstance(plan, BatchPlan):
            session = Session(plan, backend)
            jobs = [self.submit(backend, job, session) for job in plan.jobs]
            if plan.cancel is not None:
                self.at(self.now + plan.cancel_after, _CANCEL, jobs[plan.cancel])
            self.at(self.now + plan.close_after, _CLOSE, session)
        else:
            session = Session(plan, backend)
            session.steps = plan.steps()
            self.step(session)

    # ------------------------------------------------------------ the loop

    def run(self, arrivals: Iterator[Arrival]) -> Outcome:
        heap, pop, outcome = self.heap, heapq.heappop, self.outcome
        first = next(arrivals, None)
        if first is not None:
            self.at(first.t, _ARRIVE, first)
        while heap:
            self.now, _, kind, target, token = pop(heap)
            if kind == _END:
                job: Job = target  # type: ignore[assignment]
                if job.token == token and job.state == "running":
                    if job.duration > job.limit:
                        self.end(job, "failed:max_execution_time_reached")
                    else:
                        self.end(job, "failed:device_error" if job.fault else "completed")
            elif kind == _ARRIVE:
                arrival: Arrival = target  # type: ignore[assignment]
                self.arrive(arrival)
                following = next(arrivals, None)
                if following is not None:
                    self.at(following.t, _ARRIVE, following)
            elif kind == _WAKE:
                self.step(target)  # type: ignore[arg-type]
            elif kind == _WINDOW:
                session: Session = target  # type: ignore[assignment]
                if session.window == token and session.state == "active":
                    session.state = "inactive"
                    session.window_open = False
                    session.window += 1
                    outcome.deactivations += 1
                    if session.backend.active is session:
                        session.backend.active = None
                    self.dispatch(session.backend)
            elif kind == _MAX_TIME:
                session = target  # type: ignore[assignment]
                if session.state != "closed":
                    self.close(session, "max_time_reached", "failed:session_expired")
            elif kind == _CANCEL:
                job = target  # type: ignore[assignment]
                if job.state == "running":
                    self.end(job, "cancelled")
                elif job.state == "queued":
                    job.state = "cancelled"
                    outcome.job_ended(job.id, "cancelled", self.now)
                    if job.session is not None:
                        job.session.n_queued -= 1
                        self.update_window(job.session)
                        self.job_ended(job.session)
                    self.dispatch(job.backend)
                else:
                    outcome.cancel_rejected += 1
            elif kind == _CLOSE:
                session = target  # type: ignore[assignment]
                if session.state != "closed":
                    self.close(session, "close", "failed:session_closed")
        return outcome


def run_heapq(wl: Workload | ChurnWorkload, arrivals: Iterator[Arrival] | None = None) -> Outcome:
    model = HeapqModel(wl)
    outcome = model.run(arrivals if arrivals is not None else wl.arrivals())
    outcome.end_time = model.now
    return outcome
