"""The device inputs of a scenario: what the kit told the implementation's mock device.

A trace records a job's end by the device but not its duration, so a trace alone cannot say
whether the device ended the job when it should have. The kit, which drives the
implementation, knows more: every submit's ``duration`` and ``fault`` and every injected device
fault. Given those (``conform`` and ``explore`` always; ``check --scenario FILE`` from the
scenario a finding wrote), the replay submits each job with its real duration and fault, so the
device's end of the job becomes a decision like any other (DEVICE-RUNS-DURATION): a job that
completes early or late, completes when it should fail, fails when it should complete, or is
never ended, diverges; and the same-instant order of a job's end and a session's expiry
(INT-EXPIRY-TIE) is judged too.

Submits are matched to the trace's submit request lines by job ID, in order (a reused ID takes
the next submit of that ID), then, for a submit the scenario gives no ID, in order among those.
A submit whose duration the scenario leaves to the engine's draw stays unknown, and so does its
device end (an input, as for ``check`` without a scenario). An injected fault has its place among
the operations: the replay applies it, as the reference would, once the request lines of the
operations before it have been judged and the trace has reached its time (after every event due
then); the ``device_error`` it causes is then a decision the trace must show.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from model.sim.ops import Action, Advance, Fault, Submit


class DeviceInputs:
    """Each submit's (duration, fault) by job ID, and the injected faults in order."""

    def __init__(self, ops: Iterable[Action] = ()) -> None:
        self._submits: defaultdict[str | None, deque[tuple[float, bool] | None]] = defaultdict(deque)
        self.faults: deque[tuple[int, float, str]] = deque()
        """Injected faults not yet applied, in order: (request lines before it, time, backend)."""
        self._requests = 0
        for op in ops:
            self.add(op)

    def add(self, op: Action) -> None:
        """Note what ``op`` tells the device (nothing, unless a submit or a fault), in the scenario's order."""
        if isinstance(op, Fault):
            self.faults.append((self._requests, op.at, op.backend))
            return
        if isinstance(op, Submit):
            known = None if op.duration is None else (op.duration, bool(op.fault))
            self._submits[op.job].append(known)
        if not isinstance(op, Advance):
            self._requests += 1  # every other operation is one request line of the trace

    def take_submit(self, job_id: str | None) -> tuple[float, bool] | None:
        """The (duration, fault) of the next submit of ``job_id`` (None: unknown)."""
        for key in (job_id, None):
            queue = self._submits.get(key)
            if queue:
                return queue.popleft()
        return None

    def take_faults(self, requests_seen: int, t: float | None) -> list[tuple[float, str]]:
        """The faults to apply before a record at ``t`` once ``requests_seen`` request lines were judged
        (every fault whose requests before it were judged and whose time has come; None: the end of the
        trace, every fault left), taken, in order."""
        due: list[tuple[float, str]] = []
        faults = self.faults
        while faults and (t is None or (faults[0][0] <= requests_seen and faults[0][1] <= t)):
            _, at, backend = faults.popleft()
            due.append((at, backend))
        return due
