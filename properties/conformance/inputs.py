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

Submits are matched to the trace's submit request lines by job ID and time, in order (a reused
ID takes the next submit of that ID). A submit the scenario gives no ID, no duration or no fault
(the engine draws them), and a background load's, stays unknown, and so does its device end: an
input, as for ``check`` without a scenario. An injected fault has its place among the
operations: the replay applies it, as the reference would, once the request lines of the
operations before it have been judged and the trace has reached its time (after every event due
then); the ``device_error`` it causes is then a decision the trace must show.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from model.sim.ops import Action, Advance, Cancel, Fault, Open, Submit
from model.trace import Change, Request
from model.trace.timing import same_time, slack, time_text

if TYPE_CHECKING:
    from model.sim.scenario import Scenario


class DeviceInputs:
    """Each submit's (duration, fault) by job ID, and the injected faults in order."""

    def __init__(self, ops: Iterable[Action] = (), *, background: bool = False) -> None:
        self._submits: defaultdict[str, deque[tuple[float, tuple[float, bool] | None]]] = defaultdict(deque)
        """Per job ID, in order: each submit's time, and its (duration, fault) if both are given."""
        self.faults: deque[tuple[int, float, str]] = deque()
        """Injected faults not yet applied, in order: (requests of the operations before it, time, backend)."""
        self._awaited: deque[tuple[str, float, str | None, Action]] = deque()
        """The operations' requests not yet seen in the trace, in order: (op, time, the ID it names, the op)."""
        self.requests_seen = 0
        """The operations' requests seen in the trace so far (:meth:`saw`)."""
        self.background = background
        """Whether a background load submits jobs of its own: a submit line matching no operation is one of them."""
        self.stray: str | None = None
        """What the operations led to instead of the request line :meth:`saw` was last given (None: they
        led to it): the trace was not recorded from these operations."""
        for op in ops:
            self.add(op)

    @classmethod
    def of(cls, scenario: Scenario) -> DeviceInputs:
        """What a scenario told the device: its operations, and whether its background loads submit jobs."""
        return cls(scenario.operations, background=bool(scenario.background))

    def add(self, op: Action) -> None:
        """Note what ``op`` tells the device (nothing, unless a submit or a fault), in the scenario's order."""
        if isinstance(op, Fault):
            self.faults.append((self.requests_seen + len(self._awaited), op.at, op.backend))
            return
        if isinstance(op, Submit) and op.job is not None:
            known = op.duration is not None and op.fault is not None  # else the engine draws them
            self._submits[op.job].append((op.at, (op.duration, op.fault) if known else None))  # type: ignore[arg-type]
        if not isinstance(op, Advance):  # every other operation is one request line of the trace
            named = op.job if isinstance(op, Submit | Cancel) else op.session
            self._awaited.append((str(op.__struct_config__.tag), op.at, named, op))

    def saw(self, request: Request, tolerance: float) -> Request:
        """Note a request line of the trace: the next operation's, if it matches it (op, time and the ID the
        operation names), else another (a background arrival's). Returns the request to replay: the line's,
        with what the client sent in place of what the line records of it (an open's or a submit's backend
        when the client named one, the ``max_time``, ``mode`` or ``max_execution_time`` it gave), so that a
        line misrecording the request diverges instead of being replayed as written (contract.md)."""
        awaited = self._awaited
        self.stray = None
        if awaited:
            op, at, named, sent = awaited[0]
            ident = request.job if op in ("submit", "cancel") else request.session
            if op == request.op and same_time(at, request.t, tolerance) and named in (None, ident):
                awaited.popleft()
                self.requests_seen += 1
                return _as_sent(request, sent)
            if at < request.t - tolerance - slack(at):
                self.stray = f"first {_request_of(at, sent)}"
        if self.stray is None and not (self.background and request.op == "submit"):
            self.stray = "no such request: the operations make none here" if not awaited else \
                f"the request of the next operation, at t={time_text(awaited[0][1])}: {awaited[0][3].describe()}"
        if self.stray is not None:
            awaited.clear()  # these operations do not describe the trace: said once, then no more matched
        return request

    def unseen(self) -> str | None:
        """The first operation whose request line the trace never showed (None: it showed every one)."""
        if not self._awaited:
            return None
        _, at, _, sent = self._awaited[0]
        return f"{_request_of(at, sent)} ({len(self._awaited)} not shown)"

    def take_submit(self, job_id: str | None, t: float, tolerance: float = 0.0) -> tuple[float, bool] | None:
        """The (duration, fault) of the submit of ``job_id`` at ``t``, taken (None: unknown, or no such submit:
        a background arrival's, or a submit the trace records at another time)."""
        queue = self._submits.get(job_id) if job_id is not None else None
        if not queue or not same_time(queue[0][0], t, tolerance):
            return None
        return queue.popleft()[1]

    def take_faults(self, record: Request | Change | None, tolerance: float) -> list[tuple[float, str]]:
        """The faults to apply before ``record`` (None: the end of the trace, every fault left), taken, in order.

        A fault's place is after the request lines of the operations before it, and after every event due at
        its time: so it is applied before a later record, a request line (the next operation's), or the
        ``device_error`` on its backend at its time (its own effect, or a job's own device end just before
        it, which the engine then takes first); not before another record at its very time, which may be an
        event the trace shows before it (a device end the inputs do not know)."""
        due: list[tuple[float, str]] = []
        faults = self.faults
        while faults and faults[0][0] <= self.requests_seen:
            _, at, backend = faults[0]
            reached = record is None or record.t > at + tolerance + slack(at) or (
                record.t >= at - tolerance - slack(at)
                and (record.__class__ is Request or self._ends_by_fault(record, tolerance))
            )
            if not reached:
                break
            faults.popleft()
            due.append((at, backend))
        if record is None:
            due.extend((at, backend) for _, at, backend in faults)
            faults.clear()
        return due

    def _ends_by_fault(self, record: Request | Change, tolerance: float) -> bool:
        """Whether ``record`` is a ``device_error`` that a due fault at its time causes: on that fault's backend,
        the first fault's or a later one's (the faults before it, on idle backends too, then apply first)."""
        for before, at, backend in self.faults:
            if before > self.requests_seen or not same_time(at, record.t, tolerance):
                return False
            if _device_error_on(record, backend):
                return True
        return False


def _request_of(at: float, sent: Action) -> str:
    return f"the request of the operation at t={time_text(at)}, {sent.describe()}"


def _as_sent(request: Request, sent: Action) -> Request:
    if isinstance(sent, Open):
        args = {key: value for key, value in (request.args or {}).items() if key != "mode"}
        args["max_time"] = sent.max_time
        if sent.mode == "batch":
            args["mode"] = "batch"
        return request._replace(backend=sent.backend, args=args)
    if isinstance(sent, Submit):
        args = {**(request.args or {}), "max_execution_time": sent.max_execution_time}
        return request._replace(backend=sent.backend, args=args)
    return request


def _device_error_on(record: Request | Change, backend: str) -> bool:
    return record.__class__ is Change and record.entity == "job" and record.trigger == "device_error" \
        and record.backend == backend
