"""The demo workload: an iterative variational loop on one busy backend, with and without a session.

Each iteration submits one Estimator job, waits for its result, thinks for a few
seconds of classical time and updates its parameter: the pattern sessions exist for
(seed 000, "Working with sessions"). Other users keep the backend about ``load`` busy
with fair-share jobs (Poisson arrivals, exponential durations). Both runs build a
fresh service from the same seed, so they see exactly the same background arrivals;
the device takes a fixed time per loop job, so the loop itself draws nothing random.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from model.runtime import Estimator, QiskitRuntimeService, Session
from model.runtime.results import EstimatorResult
from model.sim.devices import BackendConfig, BackgroundLoad, Duration
from model.spec.interpretations import DEFAULT, Interpretation
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
class LoopReport:
    """What one run of the loop cost, in virtual seconds."""

    mode: str
    wall_time: float
    waits: tuple[float, ...]
    device_time: float
    held_idle: float
    """Time the device ran nothing while the session was active (0 without a session)."""
    session_id: str | None
    start: float = 0.0
    end: float = 0.0
    """The loop's window in virtual time (the warm-up before it is not part of it)."""
    records: Sequence[Record] = field(default=(), repr=False, compare=False)
    """The run's whole trace, for drawing its timeline."""
    job_ids: tuple[str, ...] = ()
    """The loop's jobs, in order (every other job in ``records`` is another user's)."""

    @property
    def mean_wait(self) -> float:
        return statistics.fmean(self.waits)

    @property
    def median_wait(self) -> float:
        return statistics.median(self.waits)

    @property
    def max_wait(self) -> float:
        return max(self.waits)


def busy_service(config: WorkloadConfig, interpretation: Interpretation = DEFAULT) -> QiskitRuntimeService:
    """A service with one physical backend that other users keep ``load`` busy."""
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


def _idle_while_active(service: QiskitRuntimeService, session_id: str, backend: str) -> float:
    """How long the device ran no job at all while the session was active (read from the trace).

    Under INT-IDLE-DEVICE=hold this is the session's think time that other users paid for."""
    active: list[tuple[float, float]] = []
    running: list[tuple[float, float]] = []
    since: float | None = None
    starts: dict[str, float] = {}
    for record in service.trace:
        if not isinstance(record, Change) or record.backend != backend:
            continue
        if record.entity == "session" and record.id == session_id:
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
    running.extend((t, service.now) for t in starts.values())
    busy = sum(max(0.0, min(b, d) - max(a, c)) for a, b in active for c, d in running if c < b and d > a)
    return sum(b - a for a, b in active) - busy


def compare(config: WorkloadConfig, interpretation: Interpretation = DEFAULT) -> tuple[LoopReport, LoopReport]:
    """The loop without a session, then inside one, on identical background load."""
    return run_loop(config, False, interpretation), run_loop(config, True, interpretation)
