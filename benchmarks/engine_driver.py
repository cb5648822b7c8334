"""Run a workload on the reference engine: the session clients live inside the simulation.

A client's next request is a callback on the engine's own virtual clock
(:meth:`Engine.call_at`), scheduled when its job ends (the job dispatcher's
``on_final`` hook: a client waits for its job's end, not for every transition; the
session dispatcher's ``observer`` counts activations and closes), so the run is one
``Engine.run()`` with no polling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from functools import partial
from typing import Any

from benchmarks.outcome import Outcome
from benchmarks.workload import SESSION_GROUP, Arrival, BatchPlan, ChurnWorkload, SessionStep, Workload
from model.sim.devices import BackendConfig, Duration
from model.sim.engine import Engine
from model.sim.fair_share import FairShare, FifoQueue
from model.spec.interpretations import DEFAULT, Interpretation
from model.spec.validations import RequestRejected
from model.trace import Sink

_TERMINAL = frozenset(("completed", "failed", "cancelled"))


class _Client:
    __slots__ = ("id", "steps", "think", "wake")

    def __init__(self, session_id: str, steps: Iterator[SessionStep], wake: Callable[[_Client], None]) -> None:
        self.id = session_id
        self.steps = steps
        self.think = 0.0
        self.wake: Callable[[], None] = partial(wake, self)
        """Its next request, as a callback (one object per client, not one closure per job)."""


def _scheduler(engine: Engine) -> Callable[[float, Callable[[], None]], None]:
    call_at: Callable[[float, Callable[[], None]], None] | None = getattr(engine, "call_at", None)
    if call_at is not None:
        return call_at
    # Engines older than call_at (baseline traces): the same heap event by hand.
    schedule: Callable[..., None] = engine._at  # type: ignore[attr-defined]  # only engines that predate call_at have it

    def fallback(when: float, callback: Callable[[], None]) -> None:
        schedule(when, lambda cb, _token: cb(), callback)

    return fallback


def build_engine(
    wl: Workload | ChurnWorkload,
    *,
    sink: Sink | None = None,
    interpretation: Interpretation = DEFAULT,
    fair_share: Callable[[], FairShare] = FifoQueue,
    retain_finished: bool | None = None,
    backends: Iterable[str] | None = None,
) -> tuple[Engine, Outcome, Callable[[Iterator[Arrival]], None]]:
    """An engine for ``wl`` with its clients wired in; call the returned ``feed`` with arrivals, then run."""
    if retain_finished is None:  # the workload's choice; forgetting keeps memory bounded by the live jobs
        retain_finished = getattr(wl, "retain_finished", False)
    outcome = Outcome()
    clients: dict[str, _Client] = {}
    ended = outcome.job_ended
    engine: Engine

    def observe_job(_: str, job: Any, trigger: str, step: Any) -> None:
        if step.dest in _TERMINAL:
            job_ended(job)

    def job_ended(job: Any) -> None:
        reason = job.reason
        ended(job.id, job.state if reason is None else f"{job.state}:{reason}", engine.now)
        session = job.session
        if session is not None:
            client = clients.get(session.id)
            if client is not None:
                call_at(engine.now + client.think, client.wake)

    def observe_session(_: str, session: Any, trigger: str, step: Any) -> None:
        dest = step.dest
        if dest == "active":
            outcome.activations += 1
        elif dest == "inactive":
            outcome.deactivations += 1
        elif dest == "closed":
            outcome.session_closed(trigger)

    def observe(lifecycle: str, entity: Any, trigger: str, step: Any) -> None:
        if lifecycle == "job":
            observe_job(lifecycle, entity, trigger, step)
        elif lifecycle == "session":
            observe_session(lifecycle, entity, trigger, step)

    names = tuple(backends) if backends is not None else wl.backends
    configs = [BackendConfig(name, duration=Duration.exponential(wl.mean_duration)) for name in names]
    engine = Engine(
        configs, interpretation=interpretation, sink=sink, fair_share=fair_share,
        retain_finished=retain_finished,
    )
    job_fsm, session_fsm = getattr(engine, "job_fsm", None), getattr(engine, "session_fsm", None)
    if hasattr(job_fsm, "on_final"):  # a hook for job ends: jobs go unobserved otherwise
        job_fsm.on_final = job_ended  # type: ignore[union-attr]
        session_fsm.observer = observe_session  # type: ignore[union-attr]
    elif hasattr(job_fsm, "observer"):  # per-lifecycle observers: the scheduler's go unwatched
        job_fsm.observer = observe_job  # type: ignore[union-attr]
        session_fsm.observer = observe_session  # type: ignore[union-attr]
    else:  # older engines (baseline traces)
        engine.observer = observe
    call_at = _scheduler(engine)
    submit = engine.submit
    jobs = engine.jobs
    retained = retain_finished

    def cancel(job_id: str) -> None:
        try:
            engine.cancel(job_id)
        except RequestRejected:  # it had ended (forgotten: UNKNOWN-JOB; retained: JOB-FINISHED)
            outcome.cancel_rejected += 1

    def close(session_id: str) -> None:
        with suppress(RequestRejected):  # closed so long ago (expired) that it was forgotten
            engine.close(session_id)  # a session closed already (expired) stays closed

    def batch(plan: BatchPlan, now: float) -> None:
        engine.open_session(plan.backend, max_time=plan.max_time, session_id=plan.id)
        for job in plan.jobs:
            submit(
                plan.id, job_id=job.id, max_execution_time=job.max_execution_time,
                duration=job.duration, fault=job.fault, group=job.group,
            )
        outcome.submitted += len(plan.jobs)
        if plan.cancel is not None:
            call_at(now + plan.cancel_after, partial(cancel, plan.jobs[plan.cancel].id))
        call_at(now + plan.close_after, partial(close, plan.id))

    def next_step(client: _Client) -> None:
        step = next(client.steps, None)
        if step is None:
            del clients[client.id]
            if client.id in engine.sessions:  # not expired and forgotten (retain_finished=False)
                engine.close(client.id)
            return
        try:
            submit(
                client.id, job_id=step.id, max_execution_time=step.max_execution_time,
                duration=step.duration, fault=step.fault, group=SESSION_GROUP,
            )
        except RequestRejected:
            outcome.rejected += 1
            del clients[client.id]
            return
        outcome.submitted += 1
        client.think = step.think

    def feed(arrivals: Iterator[Arrival]) -> None:
        def arrive(arrival: Arrival) -> None:
            plan = arrival.session
            if plan is None:
                job = arrival.job
                assert job is not None
                submit(
                    None, arrival.backend, job_id=job.id, max_execution_time=job.max_execution_time,
                    duration=job.duration, fault=job.fault, group=job.group,
                )
                outcome.submitted += 1
            elif isinstance(plan, BatchPlan):
                batch(plan, arrival.t)
            else:
                engine.open_session(arrival.backend, max_time=plan.max_time, session_id=plan.id)
                client = clients[plan.id] = _Client(plan.id, plan.steps(), next_step)
                next_step(client)
            if not retained:  # finished jobs are forgotten: these are the live ones
                live = len(jobs)
                if live > outcome.max_live:
                    outcome.max_live = live
            following = next(arrivals, None)
            if following is not None:
                call_at(following.t, partial(arrive, following))

        first = next(arrivals, None)
        if first is not None:
            call_at(first.t, partial(arrive, first))

    return engine, outcome, feed


def run_engine(
    wl: Workload | ChurnWorkload,
    arrivals: Iterator[Arrival] | None = None,
    **options: Any,
) -> tuple[Engine, Outcome]:
    """Run the whole workload (or the given arrivals) to the end; the engine and what came of it."""
    engine, outcome, feed = build_engine(wl, **options)
    feed(arrivals if arrivals is not None else wl.arrivals())
    engine.run()
    outcome.end_time = engine.now
    return engine, outcome
