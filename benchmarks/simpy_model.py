"""A SimPy model of the session scheduler, default interpretation only, for comparison.

Same semantics as the reference engine under ``DEFAULT``:

* one job at a time per backend; a session becomes active when one of its jobs
  starts (the first start also starts its ``max_time`` clock, 8 h by default) and
  while it is active its queued jobs go first, oldest first;
* while a session is active the backend is held for it (INT-IDLE-DEVICE=hold): no
  fair-share job runs until the session is deactivated or closed;
* the interactive window opens when the active session has no job queued and none
  running, and deactivates it after 300 s (INT-INTERACTIVE-WINDOW=session_idle);
* otherwise the backend takes the oldest queued job (FIFO), and if that job belongs
  to a session it starts that session's oldest queued job and (re)activates it;
* at ``max_time`` the session closes and its queued and running jobs fail
  (INT-EXPIRY-RUNNING-JOB=fail); a job that runs past its ``max_execution_time``
  fails then; a faulty job fails when the device finishes it; a closed session
  rejects submissions;
* a cancel fails a queued or running job as ``cancelled`` (a running one by interrupting
  its process) and is rejected once the job has ended; closing a session fails its queued
  and running jobs (INT-CLOSE-RUNNING-JOB=fail) and changes nothing once it is closed.

It is written the way a SimPy user would write it: every client, arrival stream and
job execution is a process; a running job is a process the session's expiry
interrupts; timers are timeouts cancelled by a token. It records outcomes only (no
trace), which is the engine's ``null_sink`` configuration plus the outcome digest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Iterator
from typing import Any, cast

import simpy

from benchmarks.outcome import Outcome
from benchmarks.workload import Arrival, BatchPlan, ChurnWorkload, JobPlan, SessionPlan, SessionStep, Workload

INTERACTIVE_TIMEOUT = 300.0
SYSTEM_MAX_TIME = 8 * 3600.0
DEFAULT_MAX_EXECUTION_TIME = SYSTEM_MAX_TIME

Process = Generator[simpy.Event, Any, None]


class Job:
    __slots__ = ("backend", "done", "duration", "fault", "id", "limit", "process", "session", "state")

    def __init__(
        self, env: simpy.Environment, plan: JobPlan | SessionStep, backend: Backend, session: Session | None
    ) -> None:
        self.id = plan.id
        self.backend = backend
        self.duration = plan.duration
        self.fault = plan.fault
        self.limit = plan.max_execution_time if plan.max_execution_time is not None else DEFAULT_MAX_EXECUTION_TIME
        self.session = session
        self.state = "queued"
        self.done = env.event()
        self.process: simpy.Process | None = None


class Session:
    __slots__ = ("backend", "id", "max_time", "n_queued", "queue", "running", "state", "window", "window_open")

    def __init__(self, plan: SessionPlan | BatchPlan, backend: Backend) -> None:
        self.id = plan.id
        self.backend = backend
        self.max_time = float(plan.max_time) if plan.max_time is not None else SYSTEM_MAX_TIME
        self.state = "pending"
        self.queue: deque[Job] = deque()
        self.running: Job | None = None
        self.n_queued = 0
        self.window = 0
        self.window_open = False


class Backend:
    __slots__ = ("active", "fifo", "running")

    def __init__(self) -> None:
        self.fifo: deque[Job] = deque()
        self.running: Job | None = None
        self.active: Session | None = None


class SimPyModel:
    def __init__(self, wl: Workload | ChurnWorkload, backends: tuple[str, ...] | None = None) -> None:
        self.wl = wl
        self.env = simpy.Environment()
        self.backends = {name: Backend() for name in (backends or wl.backends)}
        self.outcome = Outcome()

    # ------------------------------------------------------------ scheduler

    def dispatch(self, backend: Backend) -> None:
        if backend.running is not None:
            return
        session = backend.active
        if session is not None:
            queue = session.queue
            while queue and queue[0].state != "queued":
                queue.popleft()
            if queue:
                self.start(queue[0])
            return  # held for the active session
        fifo = backend.fifo
        while fifo and fifo[0].state != "queued":
            fifo.popleft()
        if not fifo:
            return
        job = fifo[0]
        if job.session is not None:
            queue = job.session.queue
            while queue[0].state != "queued":
                queue.popleft()
            job = queue[0]
        self.start(job)

    def start(self, job: Job) -> None:
        env = self.env
        session = job.session
        backend = job.backend
        job.state = "running"
        backend.running = job
        job.process = env.process(self.execute(job, backend))
        if session is not None:
            session.n_queued -= 1
            session.running = job
            if session.state != "active":
                if session.state == "pending":
                    env.timeout(session.max_time, session).callbacks.append(self._max_time_reached)
                session.state = "active"
                backend.active = session
                self.outcome.activations += 1
            self.update_window(session)

    def execute(self, job: Job, backend: Backend) -> Process:
        """The job on the device: it ends after its duration or at its limit, unless interrupted."""
        try:
            if job.duration > job.limit:
                yield self.env.timeout(job.limit)
                self.end(job, backend, "failed:max_execution_time_reached")
            else:
                yield self.env.timeout(job.duration)
                self.end(job, backend, "failed:device_error" if job.fault else "completed")
        except simpy.Interrupt as stop:
            self.end(job, backend, str(stop.cause))

    def end(self, job: Job, backend: Backend, outcome: str) -> None:
        job.state = outcome
        self.outcome.job_ended(job.id, outcome, self.env.now)
        backend.running = None
        session = job.session
        if session is not None:
            session.running = None
            self.update_window(session)
        job.done.succeed()
        self.dispatch(backend)

    # ------------------------------------------------------------ session timers

    def update_window(self, session: Session) -> None:
        if session.state != "active":
            return
        idle = session.running is None and session.n_queued == 0
        if idle and not session.window_open:
            session.window_open = True
            session.window += 1
            timer = self.env.timeout(INTERACTIVE_TIMEOUT, (session, session.window))
            timer.callbacks.append(self._window_ran_out)
        elif not idle and session.window_open:
            session.window_open = False
            session.window += 1

    def _window_ran_out(self, event: simpy.Event) -> None:
        session, token = cast(tuple[Session, int], event.value)
        self.deactivate(session, token)

    def _max_time_reached(self, event: simpy.Event) -> None:
        self.expire(cast(Session, event.value))

    def deactivate(self, session: Session, token: int) -> None:
        if session.window != token or session.state != "active":
            return
        session.state = "inactive"
        session.window_open = False
        session.window += 1
        self.outcome.deactivations += 1
        backend = session.backend
        if backend.active is session:
            backend.active = None
        self.dispatch(backend)

    def expire(self, session: Session) -> None:
        if session.state == "closed":
            return
        self.close(session, "max_time_reached", "failed:session_expired")
        self.dispatch(session.backend)

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
                self.outcome.job_ended(job.id, failure, self.env.now)
                job.done.succeed()
        session.queue.clear()
        running = session.running
        if running is not None and running.process is not None:
            running.process.interrupt(failure)

    # ------------------------------------------------------------ clients

    def submit(self, backend: Backend, plan: JobPlan | SessionStep, session: Session | None) -> Job:
        job = Job(self.env, plan, backend, session)
        self.outcome.submitted += 1
        backend.fifo.append(job)
        if session is not None:
            session.queue.append(job)
            session.n_queued += 1
            self.update_window(session)
        self.dispatch(backend)
        return job

    def client(self, plan: SessionPlan) -> Process:
        backend = self.backends[plan.backend]
        session = Session(plan, backend)
        env = self.env
        for step in plan.steps():
            if session.state == "closed":
                self.outcome.rejected += 1
                return
            job = self.submit(backend, step, session)
            yield job.done
            yield env.timeout(step.think)
        if session.state != "closed":
            self.close(session, "close", "failed:session_closed")
            self.dispatch(backend)

    def batch_client(self, plan: BatchPlan) -> Process:
        """Submit every job at once; cancel one and close the session on timers, whatever became of the jobs."""
        backend = self.backends[plan.backend]
        session = Session(plan, backend)
        env = self.env
        jobs = [self.submit(backend, step, session) for step in plan.jobs]
        if plan.cancel is not None:
            env.process(self.cancel_later(jobs[plan.cancel], plan.cancel_after))
        yield env.timeout(plan.close_after)
        if session.state != "closed":
            self.close(session, "close", "failed:session_closed")
            self.dispatch(backend)

    def cancel_later(self, job: Job, delay: float) -> Process:
        yield self.env.timeout(delay)
        self.cancel(job)

    def cancel(self, job: Job) -> None:
        if job.state == "running":
            assert job.process is not None
            job.process.interrupt("cancelled")  # its end frees the device and dispatches
        elif job.state == "queued":
            job.state = "cancelled"
            self.outcome.job_ended(job.id, "cancelled", self.env.now)
            job.done.succeed()
            session = job.session
            if session is not None:
                session.n_queued -= 1
                self.update_window(session)
            self.dispatch(job.backend)
        else:
            self.outcome.cancel_rejected += 1

    def arrivals(self, arrivals: Iterator[Arrival]) -> Process:
        env = self.env
        for arrival in arrivals:
            yield env.timeout(arrival.t - env.now)
            if isinstance(arrival.session, BatchPlan):
                env.process(self.batch_client(arrival.session))
            elif arrival.session is not None:
                env.process(self.client(arrival.session))
            else:
                assert arrival.job is not None
                self.submit(self.backends[arrival.backend], arrival.job, None)

    def run(self, arrivals: Iterator[Arrival] | None = None) -> Outcome:
        self.env.process(self.arrivals(arrivals if arrivals is not None else self.wl.arrivals()))
        self.env.run()
        self.outcome.end_time = self.env.now
        return self.outcome


def run_simpy(wl: Workload | ChurnWorkload, arrivals: Iterator[Arrival] | None = None,
              backends: tuple[str, ...] | None = None) -> Outcome:
    return SimPyModel(wl, backends).run(arrivals)
