"""What a run of a workload came to, in a form two models can be compared on.

Job outcomes are kept as order-independent digests (count, sum of the job IDs'
hashes, sum of end times in microseconds) per outcome, so a million-job run compares
without holding a million IDs: two runs with equal digests completed and failed
the same jobs (up to a hash collision) at the same instants. String hashes are
salted per interpreter, so digests compare only within one process or its forks.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Outcome:
    submitted: int = 0
    rejected: int = 0
    """Submissions rejected (to a closed session)."""
    cancel_rejected: int = 0
    """Cancels of a job that had already ended (JOB-FINISHED, or UNKNOWN-JOB once forgotten)."""
    activations: int = 0
    """Sessions that became active (first start or reactivation)."""
    deactivations: int = 0
    """Sessions deactivated by the interactive timeout."""
    closed: dict[str, int] = field(default_factory=dict)
    """Sessions closed, by trigger (close, max_time_reached, ...)."""
    jobs: dict[str, list[int]] = field(default_factory=dict)
    """Per outcome (``completed``, ``failed:<reason>``, ``cancelled``): [count, id hash sum, end-time µs sum]."""
    end_time: float = 0.0
    max_live: int = 0
    """The most jobs alive (queued or running) at an arrival: what a run's memory is bounded by
    (0 where not counted: an engine that retains finished jobs, the heapq model)."""

    def job_ended(self, job_id: str, outcome: str, t: float) -> None:
        digest = self.jobs.get(outcome)
        if digest is None:
            digest = self.jobs[outcome] = [0, 0, 0]
        digest[0] += 1
        digest[1] += hash(job_id)
        digest[2] += round(t * 1e6)

    def session_closed(self, trigger: str) -> None:
        self.closed[trigger] = self.closed.get(trigger, 0) + 1

    @property
    def finished(self) -> int:
        return sum(d[0] for d in self.jobs.values())

    def counts(self) -> dict[str, int]:
        return {k: v[0] for k, v in sorted(self.jobs.items())}

    def comparable(self) -> dict[str, object]:
        """Everything two faithful models of the same semantics must agree on."""
        return {
            "submitted": self.submitted,
            "rejected": self.rejected,
            "cancel_rejected": self.cancel_rejected,
            "activations": self.activations,
            "deactivations": self.deactivations,
            "closed": dict(sorted(self.closed.items())),
            "jobs": {k: tuple(v) for k, v in sorted(self.jobs.items())},
        }

    def summary(self) -> str:
        """The outcome in one line: job counts per outcome, session events."""
        jobs = ", ".join(f"{k} {n:,}" for k, n in self.counts().items())
        closed = ", ".join(f"{k} {n:,}" for k, n in sorted(self.closed.items()))
        return (f"{jobs}; {self.activations:,} activations, {self.deactivations:,} deactivations; closed: {closed}; "
                f"rejected {self.rejected:,} submits, {self.cancel_rejected:,} cancels; live jobs <= {self.max_live:,}")

    def differences(self, other: Outcome) -> list[str]:
        mine, theirs = self.comparable(), other.comparable()
        return [f"{key}: {mine[key]} != {theirs[key]}" for key in mine if mine[key] != theirs[key]]

    def merge(self, other: Outcome) -> None:
        """Add another run's outcome (a run split by backend across processes)."""
        self.submitted += other.submitted
        self.rejected += other.rejected
        self.cancel_rejected += other.cancel_rejected
        self.activations += other.activations
        self.deactivations += other.deactivations
        for trigger, n in other.closed.items():
            self.closed[trigger] = self.closed.get(trigger, 0) + n
        for key, digest in other.jobs.items():
            mine = self.jobs.setdefault(key, [0, 0, 0])
            for i in range(3):
                mine[i] += digest[i]
        self.end_time = max(self.end_time, other.end_time)
        self.max_live += other.max_live
