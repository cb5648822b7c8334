"""Seeded benchmark workloads: iterative sessions plus fair-share jobs on several backends.

A workload is a pure function of its parameters and seed, and it is generated lazily
so that a million-job run does not hold a million job descriptions in memory:

* :meth:`Workload.arrivals` yields the arrivals in time order, a Poisson process
  over ``period`` seconds: each arrival is either a session (a client that opens a
  session and runs ``session_jobs`` iterative jobs) or one fair-share job. The kinds
  are drawn without replacement, so a workload of ``jobs`` jobs has exactly
  ``jobs`` job descriptions (a session that expires early submits fewer).
* A session's jobs come from its own ``random.Random`` (:meth:`SessionPlan.steps`):
  the client submits one job, waits for it to end (any outcome), thinks, and submits
  the next; after the last one it thinks and closes the session. Think times are
  short (exponential, mean ``mean_think``) except for an occasional long pause past
  the 300 s interactive window, which deactivates the session; a few sessions set a
  short ``max_time`` and may expire.

Every draw depends only on the seed and the arrival order, never on what a model
does with the jobs, so the engine and the SimPy model see the same workload.
Durations are exponential with mean ``mean_duration``; a few jobs carry a device
fault or an explicit ``max_execution_time`` shorter than some durations.

The period scales with the size so that every backend is loaded but not saturated:
an active session holds its backend (INT-IDLE-DEVICE=hold) from its first start until
it closes, about ``session_jobs * (mean_duration + mean_think)`` seconds plus 300 s per
long pause, and a
fair-share job holds it for ``mean_duration``; the period puts the expected
occupation of each backend at ``load``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from math import log
from typing import NamedTuple

SIZES: dict[str, int] = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}


class JobPlan(NamedTuple):
    """A fair-share job as the client submits it (everything drawn up front: models see the same job)."""

    id: str
    duration: float
    fault: bool
    max_execution_time: float | None
    group: str


class SessionStep(NamedTuple):
    """One iteration of a session client: submit job ``id``, wait for its end, think ``think`` s."""

    id: str
    duration: float
    fault: bool
    max_execution_time: float | None
    think: float


SESSION_GROUP = "sessions"
"""The fair-share group of every session job."""

_new = tuple.__new__  # NamedTuple construction without its Python-level __new__ (the generator is timed)


class SessionPlan(NamedTuple):
    id: str
    backend: str
    max_time: int | None
    n_jobs: int
    seed: int
    workload: Workload

    def steps(self) -> Iterator[SessionStep]:
        """The session's iterations, drawn from its own generator.

        One uniform draw decides the rare cases (they exclude each other): a device fault,
        an explicit short ``max_execution_time``, a long pause after the job.
        """
        wl = self.workload
        uniform = random.Random(self.seed).random  # exponentials as Random.expovariate computes them
        rate = 1.0 / wl.mean_duration
        think_rate = 1.0 / wl.mean_think
        fault_p = wl.fault_prob
        limit_p = fault_p + wl.short_limit_prob
        pause_p = 1.0 - wl.long_pause_prob
        limit = wl.short_limit
        low, high = wl.long_pause
        prefix = self.id + "."
        for k in range(self.n_jobs):
            duration = -log(1.0 - uniform()) / rate
            u = uniform()
            think = low + (high - low) * uniform() if u >= pause_p else -log(1.0 - uniform()) / think_rate
            met = limit if fault_p <= u < limit_p else None
            yield _new(SessionStep, (prefix + str(k), duration, u < fault_p, met, think))


class BatchPlan(NamedTuple):
    """A batch client: opens a session, submits all its jobs at once, may cancel one, closes it on a timer.

    It does not wait for its jobs: the close comes ``close_after`` seconds after it arrived,
    whatever became of them (queued ones fail, a running one fails), and the cancel of job
    ``cancel`` (never the first: FIRST-JOB-CANCEL is another subject) ``cancel_after`` seconds
    after it arrived, rejected if that job has already ended.
    """

    id: str
    backend: str
    max_time: int | None
    jobs: tuple[JobPlan, ...]
    cancel: int | None
    cancel_after: float
    close_after: float


class Arrival(NamedTuple):
    t: float
    backend: str
    session: SessionPlan | BatchPlan | None
    """The session client arriving, or None for a fair-share job (``job``)."""
    job: JobPlan | None


@dataclass(frozen=True)
class Workload:
    """Parameters of a workload; :meth:`arrivals` generates it."""

    jobs: int = 10_000
    seed: int = 1
    backends: tuple[str, ...] = ("b0", "b1", "b2", "b3")
    session_share: float = 2 / 3
    """Fraction of the jobs that belong to sessions."""
    session_jobs: int = 100
    mean_duration: float = 8.0
    mean_think: float = 5.0
    long_pause_prob: float = 0.01
    long_pause: tuple[float, float] = (310.0, 900.0)
    expiring_share: float = 0.05
    """Fraction of sessions that set ``expiring_max_time`` (and may expire before their last job)."""
    expiring_max_time: int = 1200
    fault_prob: float = 0.002
    short_limit_prob: float = 0.01
    short_limit: float = 20.0
    groups: int = 3
    """Fair-share jobs are spread over this many groups (for the weighted policy)."""
    load: float = 0.6

    @property
    def n_sessions(self) -> int:
        return round(self.jobs * self.session_share / self.session_jobs)

    @property
    def n_fair_share(self) -> int:
        return self.jobs - self.n_sessions * self.session_jobs

    @property
    def period(self) -> float:
        """Seconds over which the arrivals spread (each backend occupied about ``load``)."""
        # A long pause holds the backend for the 300 s interactive window before deactivation.
        hold = self.session_jobs * (self.mean_duration + self.mean_think + self.long_pause_prob * 300.0)
        occupation = self.n_sessions * hold + self.n_fair_share * self.mean_duration
        return occupation / (len(self.backends) * self.load)

    def arrivals(self) -> Iterator[Arrival]:
        rng = random.Random(f"workload:{self.seed}:{self.jobs}")
        uniform = rng.random  # exponential draws are -log(1 - u) / rate, as Random.expovariate computes them
        sessions, fair = self.n_sessions, self.n_fair_share
        rate = (sessions + fair) / self.period
        backends = self.backends
        nb = len(backends)
        groups = [f"g{i}" for i in range(self.groups)]
        ng = len(groups)
        duration_rate = 1.0 / self.mean_duration
        fault_p = self.fault_prob
        limit_p = fault_p + self.short_limit_prob
        limit = self.short_limit
        t = 0.0
        n_s = n_f = 0
        while sessions + fair:
            t += -log(1.0 - uniform()) / rate
            backend = backends[int(uniform() * nb)]
            if uniform() * (sessions + fair) < sessions:
                sessions -= 1
                max_time = self.expiring_max_time if uniform() < self.expiring_share else None
                plan = SessionPlan(f"s{n_s}", backend, max_time, self.session_jobs, rng.getrandbits(64), self)
                n_s += 1
                yield _new(Arrival, (t, backend, plan, None))
            else:
                fair -= 1
                duration = -log(1.0 - uniform()) / duration_rate
                u = uniform()
                met = limit if fault_p <= u < limit_p else None
                job = _new(JobPlan, ("f" + str(n_f), duration, u < fault_p, met, groups[n_f % ng]))
                n_f += 1
                yield _new(Arrival, (t, backend, None, job))

    def only(self, backends: tuple[str, ...]) -> Iterator[Arrival]:
        """The arrivals on some backends only (the per-backend split of a run across processes)."""
        keep = frozenset(backends)
        return (a for a in self.arrivals() if a.backend in keep)


@dataclass(frozen=True)
class OpenLoopWorkload(Workload):
    """Session clients arriving open-loop on one backend, with think gaps long enough to go inactive.

    Every gap is drawn uniformly from ``long_pause`` (``long_pause_prob`` 1): a gap over the
    300 s interactive window deactivates the session, whose next job then waits in the
    fair-share queue behind the background jobs (``1 - session_share`` of the jobs) and
    reactivates it; a shorter gap holds the backend idle (INT-IDLE-DEVICE=hold) while the
    background queue grows. The period counts what a gap really holds (at most the 300 s
    window), so ``load`` is the backend's expected occupation.
    """

    backends: tuple[str, ...] = ("b0",)
    session_share: float = 0.3
    session_jobs: int = 20
    long_pause_prob: float = 1.0
    long_pause: tuple[float, float] = (60.0, 600.0)
    load: float = 0.95

    @property
    def period(self) -> float:
        low, high = self.long_pause
        window = 300.0
        if high <= window:
            gap_hold = (low + high) / 2
        elif low >= window:
            gap_hold = window
        else:  # E[min(U(low, high), window)]
            gap_hold = ((window * window - low * low) / 2 + window * (high - window)) / (high - low)
        hold = self.session_jobs * (self.mean_duration + gap_hold)
        occupation = self.n_sessions * hold + self.n_fair_share * self.mean_duration
        return occupation / (len(self.backends) * self.load)


@dataclass(frozen=True)
class ChurnWorkload:
    """Many short batch sessions on many backends: closes with queued and running jobs, expiries, cancels.

    Each session client (:class:`BatchPlan`) submits ``batch`` jobs at once, closes its
    session after a delay drawn around the work it submitted (often before the last job ran),
    and with ``cancel_prob`` cancels one of its later jobs at a random moment before the
    close; ``max_times`` are drawn per session (None: the system's 8 h), the short ones
    expire sessions with work left. Fair-share jobs (a ``1 - session_share`` part of the jobs)
    arrive in the same Poisson stream. The period puts each backend's expected occupation at
    ``load``, counting ``session_overhead`` seconds per session for the backend held idle
    between a session's last job and its close.
    """

    jobs: int = 10_000
    seed: int = 1
    backends: tuple[str, ...] = tuple(f"b{i}" for i in range(8))
    session_share: float = 0.8
    batch: tuple[int, int] = (2, 8)
    mean_duration: float = 8.0
    fault_prob: float = 0.002
    short_limit_prob: float = 0.01
    short_limit: float = 20.0
    max_times: tuple[int | None, ...] = (None, None, None, 60, 120, 600)
    cancel_prob: float = 0.3
    close_factor: tuple[float, float] = (0.5, 4.0)
    """The close comes this many times the batch's mean work after the arrival (uniform)."""
    groups: int = 3
    session_overhead: float = 20.0
    load: float = 0.6
    retain_finished: bool = True
    """How the engine runs it: a cancel of a job that has ended is rejected JOB-FINISHED by an engine
    that keeps finished jobs (the checker's replay does), UNKNOWN-JOB by one that forgets them, and
    the trace conforms only in the first case. Memory then grows with the run."""

    @property
    def mean_batch(self) -> float:
        return (self.batch[0] + self.batch[1]) / 2

    @property
    def period(self) -> float:
        sessions = self.jobs * self.session_share / self.mean_batch
        occupation = self.jobs * self.mean_duration + sessions * self.session_overhead
        return occupation / (len(self.backends) * self.load)

    def arrivals(self) -> Iterator[Arrival]:
        rng = random.Random(f"churn:{self.seed}:{self.jobs}")
        uniform = rng.random
        mean_batch = self.mean_batch
        rate = (self.jobs * (1 - self.session_share) + self.jobs * self.session_share / mean_batch) / self.period
        backends = self.backends
        nb = len(backends)
        groups = [f"g{i}" for i in range(self.groups)]
        duration_rate = 1.0 / self.mean_duration
        fault_p = self.fault_prob
        limit_p = fault_p + self.short_limit_prob
        limit = self.short_limit
        low, high = self.batch
        close_low, close_high = self.close_factor
        max_times = self.max_times
        left = self.jobs
        t = 0.0
        n_s = n_f = 0

        def job(job_id: str, group: str) -> JobPlan:
            duration = -log(1.0 - uniform()) / duration_rate
            u = uniform()
            met = limit if fault_p <= u < limit_p else None
            return _new(JobPlan, (job_id, duration, u < fault_p, met, group))

        while left > 0:
            t += -log(1.0 - uniform()) / rate
            backend = backends[int(uniform() * nb)]
            if uniform() < self.session_share / (self.session_share + (1 - self.session_share) * mean_batch):
                k = min(left, low + int(uniform() * (high - low + 1)))
                sid = f"c{n_s}"
                n_s += 1
                jobs = tuple(job(f"{sid}.{i}", SESSION_GROUP) for i in range(k))
                left -= k
                max_time = max_times[int(uniform() * len(max_times))]
                close_after = (close_low + (close_high - close_low) * uniform()) * k * self.mean_duration
                cancel = 1 + int(uniform() * (k - 1)) if k > 1 and uniform() < self.cancel_prob else None
                cancel_after = uniform() * close_after
                plan = _new(BatchPlan, (sid, backend, max_time, jobs, cancel, cancel_after, close_after))
                yield _new(Arrival, (t, backend, plan, None))
            else:
                left -= 1
                yield _new(Arrival, (t, backend, None, job("f" + str(n_f), groups[n_f % len(groups)])))
                n_f += 1

    def only(self, backends: tuple[str, ...]) -> Iterator[Arrival]:
        keep = frozenset(backends)
        return (a for a in self.arrivals() if a.backend in keep)


def workload(size: str | int, seed: int = 1, **overrides: object) -> Workload:
    """The workload of a named size (10k, 100k, 1M) or a job count."""
    jobs = SIZES[size] if isinstance(size, str) else int(size)
    return Workload(jobs=jobs, seed=seed, **overrides)  # type: ignore[arg-type]
