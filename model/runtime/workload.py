"""The demo workload: an iterative variational loop on one busy backend, with and without a session.

Each iteration submits one Estimator job, waits for its result, thinks for a few
seconds of classical time and updates its parameter: the pattern sessions exist for
(seed 000, "Working with sessions"). Other users keep the backend about ``load`` busy
with fair-share jobs (Poisson arrivals, exponential durations). Both runs build a
fresh service from the same seed, so they see exactly the same background arrivals;
the device takes a fixed time per loop job, so the loop itself draws nothing random.

Under the platform profile (:func:`compare_modes`) two workloads run in each of today's three
execution modes, job, session and batch, on the same busy backend: the same iterative loop, and
a set of independent jobs submitted at once and then collected, the pattern batch mode is for.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import model.runtime.platform as platform
from model.runtime import Batch, Estimator, EstimatorV2, QiskitRuntimeService, RuntimeJobV2, Session
from model.runtime.results import EstimatorResult
from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.spec.interpretations import DEFAULT, PLATFORM_DEFAULT, Interpretation
from model.trace import Change, Record


@dataclass(frozen=True)
class WorkloadConfig:
    iterations: int = 50
    seed: int = 0
    load: float = 0.9
    """Background utilisation of the device by other users, in (0, 1)."""
    job_seconds: float = 10.0
    think_seconds: float = 5.0
    background_mean_seconds: float = 60.0
    warmup_seconds: float = 2 * 3600.0
    """Background load runs this long before the loop starts, so the queue is in its usual state."""
    backend: str = "ibm_busy"

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {self.iterations}")
        if not 0.0 < self.load < 1.0:
            raise ValueError(f"load must lie strictly between 0 and 1, got {self.load}")

    @property
    def background_jobs_per_hour(self) -> float:
        return self.load * 3600.0 / self.background_mean_seconds


@dataclass(frozen=True)
class RunReport:
    """What one run of a workload cost, in virtual seconds: the fields the demo and the study read."""

    mode: str
    wall_time: float
    waits: tuple[float, ...]
    device_time: float
    held_idle: float
    """Time the device ran nothing while the session held it (0 without a session, in job and batch mode)."""
    session_id: str | None
    start: float = 0.0
    end: float = 0.0
    """The run's window in virtual time (the warm-up before it is not part of it)."""
    records: Sequence[Record] = field(default=(), repr=False, compare=False)
    """The run's whole trace, for drawing its timeline."""
    job_ids: tuple[str, ...] = ()
    """The workload's jobs, in order (every other job in ``records`` is another user's)."""

    @property
    def mean_wait(self) -> float:
        return statistics.fmean(self.waits)

    @property
    def median_wait(self) -> float:
        return statistics.median(self.waits)

    @property
    def max_wait(self) -> float:
        return max(self.waits)


@dataclass(frozen=True)
class LoopReport(RunReport):
    """What one run of the seeds' loop cost, with or without a session (``mode``)."""


def busy_service(config: WorkloadConfig, interpretation: Interpretation = DEFAULT) -> QiskitRuntimeService:
    """A service with one physical backend that other users keep ``load`` busy (the profile: the interpretation's)."""
    backend = BackendConfig(config.backend, duration=Duration.fixed(config.job_seconds))
    load = BackgroundLoad(
        config.backend, config.background_jobs_per_hour, Duration.exponential(config.background_mean_seconds)
    )
    return QiskitRuntimeService(backends=[backend], seed=config.seed, interpretation=interpretation,
                                background_load=load)


def _loop(service: QiskitRuntimeService, estimator: Estimator, config: WorkloadConfig) -> list[str]:
    theta = 0.5
    job_ids: list[str] = []
    for _ in range(config.iterations):
        job = estimator.run("ansatz", [theta], "ZZ")
        result = job.result()
        assert isinstance(result, EstimatorResult)
        job_ids.append(job.job_id())
        service.advance(config.think_seconds)
        theta -= 0.1 * result.values[0]
    return job_ids


def run_loop(config: WorkloadConfig, in_session: bool, interpretation: Interpretation = DEFAULT) -> LoopReport:
    """One run of the loop on a fresh busy service; with ``in_session`` inside one Session."""
    service = busy_service(config, interpretation)
    service.advance(config.warmup_seconds)
    start = service.now
    session_id: str | None = None
    if in_session:
        with Session(service=service, backend=config.backend) as session:
            session_id = session.session_id
            job_ids = _loop(service, Estimator(session=session), config)
    else:
        job_ids = _loop(service, Estimator(backend=service.backend(config.backend)), config)
    end = service.now
    waits: list[float] = []
    device = 0.0
    for job_id in job_ids:
        timestamps = service.job(job_id).metrics()["timestamps"]
        waits.append(timestamps["running"] - timestamps["created"])
        device += timestamps["finished"] - timestamps["running"]
    held = _idle_while_active(service, session_id, config.backend) if session_id is not None else 0.0
    return LoopReport(
        "session" if in_session else "no session", end - start, tuple(waits), device, held, session_id,
        start, end, service.trace, tuple(job_ids),
    )


def _idle_while_active(
    service: QiskitRuntimeService, session_id: str, backend: str, held: list[tuple[float, float]] | None = None
) -> float:
    """How long the device ran no job at all while the session was active (read from the trace), or
    during the ``held`` periods when given.

    Under INT-IDLE-DEVICE=hold this is the session's think time that other users paid for."""
    active: list[tuple[float, float]] = []
    running: list[tuple[float, float]] = []
    since: float | None = None
    starts: dict[str, float] = {}
    for record in service.trace:
        if not isinstance(record, Change) or record.backend != backend:
            continue
        if record.entity == "session" and record.id == session_id:
            if held is not None:
                continue
            if record.dst == "active":
                since = record.t
            elif record.src == "active" and since is not None:
                active.append((since, record.t))
                since = None
        elif record.entity == "job":
            if record.dst == "running":
                starts[record.id] = record.t
            elif record.src == "running":
                running.append((starts.pop(record.id), record.t))
    if since is not None:
        active.append((since, service.now))
    if held is not None:
        active = held
    running.extend((t, service.now) for t in starts.values())
    busy = sum(max(0.0, min(b, d) - max(a, c)) for a, b in active for c, d in running if c < b and d > a)
    return sum(b - a for a, b in active) - busy


def compare(config: WorkloadConfig, interpretation: Interpretation = DEFAULT) -> tuple[LoopReport, LoopReport]:
    """The loop without a session, then inside one, on identical background load."""
    return run_loop(config, False, interpretation), run_loop(config, True, interpretation)


# ---------------------------------------------------------------------- platform: three execution modes

MODES: tuple[str, ...] = ("job", "session", "batch")
"""Today's execution modes, in the order the platform demo shows them."""
SHAPES: tuple[str, ...] = ("iterative", "independent")
"""The two workloads: the variational loop, and independent jobs submitted at once then collected."""


@dataclass(frozen=True, kw_only=True)
class ModeReport(RunReport):
    """What one workload cost in one execution mode (platform profile)."""

    shape: str
    usage: float
    """What the platform counts as used: a session's time holding the device, a batch's or a job's device time."""
    failed: int
    """Jobs that did not complete (failed or cancelled)."""


def _loop_v2(service: QiskitRuntimeService, estimator: EstimatorV2, config: WorkloadConfig) -> list[RuntimeJobV2]:
    theta = 0.5
    jobs: list[RuntimeJobV2] = []
    for _ in range(config.iterations):
        job = estimator.run([("ansatz", "ZZ", [theta])])
        jobs.append(job)
        value = job.result()[0].data.evs
        service.advance(config.think_seconds)
        theta -= 0.1 * float(value)
    return jobs


def _independent_v2(estimator: EstimatorV2, config: WorkloadConfig) -> list[RuntimeJobV2]:
    jobs = [estimator.run([("ansatz", "ZZ", [0.1 * n])]) for n in range(config.iterations)]
    for job in jobs:
        job.wait_for_final_state()
    return jobs


def run_mode(
    config: WorkloadConfig, mode: str, shape: str = "iterative", interpretation: Interpretation = PLATFORM_DEFAULT
) -> ModeReport:
    """One workload in one of today's execution modes, on a fresh busy platform service."""
    if mode not in MODES or shape not in SHAPES:
        raise ValueError(f"mode must be one of {MODES} and shape one of {SHAPES}, got {mode!r}, {shape!r}")
    if not interpretation.is_platform:
        raise ValueError(f"execution modes are the platform's; the interpretation is for {interpretation.profile}")
    service = busy_service(config, interpretation)
    service.advance(config.warmup_seconds)
    backend = service.backend(config.backend)
    start = service.now
    work = _loop_v2 if shape == "iterative" else (lambda s, e, c: _independent_v2(e, c))
    handle: Session | None = None
    if mode == "job":
        jobs = work(service, EstimatorV2(mode=backend), config)
    else:
        with (Session(backend) if mode == "session" else Batch(backend)) as handle:
            jobs = work(service, EstimatorV2(mode=handle), config)
        service.run_until(service.now + config.think_seconds, what="the demo's close",
                          stop=lambda: handle is not None and handle.status() == "Closed")
    end = max(job.record.ended_at or service.now for job in jobs)
    waits = tuple(
        (job.record.started_at if job.record.started_at is not None else end) - job.record.submitted_at
        for job in jobs
    )
    device = sum(job.usage() for job in jobs)
    held = 0.0
    usage = device
    if handle is not None:
        usage = handle.usage()
        if mode == "session":
            periods = platform.held_periods(service, handle.record)
            held = _idle_while_active(service, handle.session_id, config.backend, periods)
    failed = sum(1 for job in jobs if job.status() != "DONE")
    return ModeReport(
        mode=mode, wall_time=end - start, waits=waits, device_time=device, held_idle=held,
        session_id=handle.session_id if handle is not None else None, start=start, end=end, records=service.trace,
        job_ids=tuple(job.job_id() for job in jobs), shape=shape, usage=usage, failed=failed,
    )


def compare_modes(config: WorkloadConfig, interpretation: Interpretation = PLATFORM_DEFAULT) -> list[ModeReport]:
    """Each workload in each execution mode, on identical background load."""
    return [run_mode(config, mode, shape, interpretation) for shape in SHAPES for mode in MODES]
