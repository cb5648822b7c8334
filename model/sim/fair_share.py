"""Fair-share queue policies: the order in which a backend takes jobs without priority.

Every queued job of a backend is in its fair-share queue, session jobs included;
jobs that leave ``queued`` (started, cancelled, failed) are dropped lazily when they
reach the front, so every operation is amortised O(1) for FIFO and O(groups) for
the weighted policy. ``first`` may skip jobs that are not eligible without removing them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import ClassVar

from mypy_extensions import mypyc_attr

from model.sim.entities import JobRecord

Eligible = Callable[[JobRecord], bool]
"""Whether a queued session job may start now. A job outside any session always may: the
queues do not ask (the scheduler asks after every job, and most jobs it finds are plain)."""


@mypyc_attr(allow_interpreted_subclasses=True)
class FairShare:
    """What a policy provides; a policy subclasses it (one base, so that the compiled scheduler calls a
    policy's methods directly, not through Python's call protocol, on every submit and dispatch)."""

    charges: ClassVar[bool] = True
    """False when ``charge`` does nothing: the scheduler then skips the call."""

    def push(self, job: JobRecord) -> None:
        """A job was submitted to the backend."""
        raise NotImplementedError

    def first(self, eligible: Eligible | None = None) -> JobRecord | None:
        """The queued job to start next (None: none may start)."""
        raise NotImplementedError

    def charge(self, job: JobRecord, seconds: float) -> None:
        """``job`` used the device ``seconds`` long."""
        raise NotImplementedError


def _first_in(queue: deque[JobRecord], eligible: Eligible | None) -> JobRecord | None:
    while queue:
        head = queue[0]
        if head.state == "queued":
            break
        queue.popleft()
    else:
        return None
    if head.session is None or eligible is None or eligible(head):
        return head
    for job in queue:  # past an ineligible head: the first queued job that may start
        if job.state == "queued" and (job.session is None or eligible(job)):
            return job
    return None


class FifoQueue(FairShare):
    """First come, first served over all queued jobs: the default policy."""

    name: ClassVar[str] = "fifo"
    charges: ClassVar[bool] = False

    def __init__(self) -> None:
        self._queue: deque[JobRecord] = deque()

    def push(self, job: JobRecord) -> None:
        self._queue.append(job)

    def first(self, eligible: Eligible | None = None) -> JobRecord | None:
        return _first_in(self._queue, eligible)

    def charge(self, job: JobRecord, seconds: float) -> None:
        """FIFO keeps no account of usage."""


class WeightedFairShare(FairShare):
    """Groups (instances) share the device by weight: the group with the least device time
    per unit of weight goes next, FIFO within a group; ties go to the group name."""

    name: ClassVar[str] = "weighted"

    def __init__(self, weights: dict[str, float] | None = None, default_weight: float = 1.0) -> None:
        self.weights = dict(weights or {})
        if any(w <= 0 for w in self.weights.values()) or default_weight <= 0:
            raise ValueError("fair-share weights must be positive")
        self.default_weight = default_weight
        self.usage: dict[str, float] = {}
        self._groups: dict[str, deque[JobRecord]] = {}

    def push(self, job: JobRecord) -> None:
        queue = self._groups.get(job.group)
        if queue is None:
            queue = self._groups[job.group] = deque()
            self.usage.setdefault(job.group, 0.0)
        queue.append(job)

    def first(self, eligible: Eligible | None = None) -> JobRecord | None:
        best: JobRecord | None = None
        best_key: tuple[float, str] | None = None
        for group, queue in self._groups.items():
            job = _first_in(queue, eligible)
            if job is None:
                continue
            key = (self.usage[group] / self.weights.get(group, self.default_weight), group)
            if best_key is None or key < best_key:
                best, best_key = job, key
        return best

    def charge(self, job: JobRecord, seconds: float) -> None:
        self.usage[job.group] = self.usage.get(job.group, 0.0) + seconds


POLICIES: dict[str, Callable[[], FairShare]] = {"fifo": FifoQueue, "weighted": WeightedFairShare}


def weighted(weights: Iterable[tuple[str, float]]) -> Callable[[], FairShare]:
    """A factory for a weighted policy (each backend gets its own accounts)."""
    table = dict(weights)
    return lambda: WeightedFairShare(table)
