"""``RuntimeJob`` and ``JobStatus``: the client's view of one engine job.

``result()`` and ``wait_for_final_state()`` are the only job calls that make virtual time
pass: they run the engine until the job is final, then finish that instant (every event
due then runs before the client's next request; :mod:`model.runtime.clock`). They never
loop forever: they give up with ``RuntimeJobTimeoutError`` when the engine has no event
left that could end the job, or after ``timeout`` (default: the service's wait
horizon) virtual seconds, and with ``SimulationLimitError`` past the service's
``max_events``; both bound waits under endless background load.

``RuntimeJobV2`` is today's job (platform profile): ``status()`` returns the client's plain
strings ("QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED"), ``result()`` a
:class:`~model.runtime.results.PrimitiveResultV2`, and a job that ran past its
max_execution_time raises ``RuntimeJobMaxTimeoutError`` as the client does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import model.runtime.arguments as arguments
from model.runtime.exceptions import (
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobMaxTimeoutError,
    RuntimeJobTimeoutError,
    from_rejection,
)
from model.runtime.options import EstimatorOptions, Options, SamplerOptions
from model.runtime.results import (
    PrimitiveResult,
    PrimitiveResultV2,
    estimator_result,
    estimator_result_v2,
    sampler_result,
    sampler_result_v2,
)
from model.sim.entities import JobRecord
from model.spec.lifecycles import JOB
from model.spec.validations import RequestRejected
from model.trace.timing import time_text

if TYPE_CHECKING:
    from model.runtime.service import IBMBackend, QiskitRuntimeService


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"


STATUS_BY_STATE: dict[str, JobStatus] = {
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "completed": JobStatus.DONE,
    "failed": JobStatus.ERROR,
    "cancelled": JobStatus.CANCELLED,
}
_FINAL = frozenset(JOB.final_states)
REASON_RULES: dict[str, tuple[str, ...]] = {}
"""Each failure reason with the rules of the declared transitions that record it."""
for _t in JOB.transitions:
    if _t.reason is not None:
        REASON_RULES[_t.reason] = tuple(dict.fromkeys((*REASON_RULES.get(_t.reason, ()), *_t.rules)))


class RuntimeJob:
    """One primitive job; its state is the engine's job record."""

    def __init__(
        self,
        service: QiskitRuntimeService,
        record: JobRecord,
        primitive_id: str,
        circuits: tuple[object, ...],
        options: Options,
    ) -> None:
        self._service = service
        self._record = record
        self._primitive_id = primitive_id
        self._circuits = circuits
        self._options = options
        self._result: PrimitiveResult | None = None

    # ------------------------------------------------------------------ identity

    def job_id(self) -> str:
        return self._record.id

    @property
    def session_id(self) -> str | None:
        return self._record.session_id

    @property
    def primitive_id(self) -> str:
        return self._primitive_id

    @property
    def record(self) -> JobRecord:
        """The engine's record (read-only use)."""
        return self._record

    def backend(self) -> IBMBackend:
        return self._service.backend(self._record.backend_name)

    # ------------------------------------------------------------------ state

    def status(self) -> JobStatus:
        return STATUS_BY_STATE[self._record.state]

    def in_final_state(self) -> bool:
        return self._record.state in _FINAL

    def done(self) -> bool:
        return self._record.state == "completed"

    def error_message(self) -> str | None:
        """Why the job did not complete, with the rules behind it; None otherwise."""
        record = self._record
        if record.state == "failed":
            reason = record.reason or "unknown"
            rules = ", ".join(REASON_RULES.get(reason, ()))
            return f"job {record.id} failed: {reason} [{rules}]"
        if record.state == "cancelled":
            return f"job {record.id} was cancelled [JOB-CANCEL]"
        return None

    def metrics(self) -> dict[str, Any]:
        """Virtual timestamps and device usage, shaped like the real client's metrics."""
        record = self._record
        quantum = None
        if record.started_at is not None and record.ended_at is not None:
            quantum = record.ended_at - record.started_at
        return {
            "timestamps": {"created": record.submitted_at, "running": record.started_at, "finished": record.ended_at},
            "usage": {"quantum_seconds": quantum},
            "queue_wait": None if record.started_at is None else record.started_at - record.submitted_at,
        }

    # ------------------------------------------------------------------ waiting

    def wait_for_final_state(self, timeout: float | None = None) -> None:
        """Run virtual time until the job is final; RuntimeJobTimeoutError if it cannot be."""
        service = self._service
        engine = service.engine
        record = self._record
        budget = service.wait_horizon if timeout is None else arguments.seconds("timeout", timeout)
        deadline = engine.now + budget

        def settled() -> bool:
            return record.state in _FINAL or engine.next_event_time is None

        service.run_until(deadline, what=f"waiting for job {record.id}", stop=settled)
        if record.state in _FINAL:
            return
        if engine.next_event_time is None:
            raise RuntimeJobTimeoutError(
                f"job {record.id} is {record.state} at t={time_text(engine.now)} and the simulation has no event "
                "left that could end it"
            )
        raise RuntimeJobTimeoutError(
            f"job {record.id} is still {record.state} after waiting {time_text(budget)} s of virtual time "
            f"(t={time_text(engine.now)})"
        )

    def result(self, timeout: float | None = None) -> PrimitiveResult:
        """Block (in virtual time) until the job is final; its result if it completed.

        A failed job raises RuntimeJobFailureError naming the reason and its rules; a
        cancelled one raises RuntimeInvalidStateError (JOB-CANCEL)."""
        self.wait_for_final_state(timeout)
        record = self._record
        if record.state == "cancelled":
            raise RuntimeInvalidStateError(
                f"unable to retrieve the result of job {record.id}: it was cancelled [JOB-CANCEL]",
                rules=("JOB-CANCEL",),
            )
        if record.state == "failed":
            message = self.error_message()
            assert message is not None
            raise RuntimeJobFailureError(message, reason=record.reason, rules=REASON_RULES.get(record.reason or "", ()))
        if self._result is None:
            levels = {
                "optimization_level": self._options.optimization_level,
                "resilience_level": self._options.resilience_level,
            }
            make = estimator_result if self._primitive_id == "estimator" else sampler_result
            self._result = make(self._service.engine.seed, record.id, self._circuits, levels)
        return self._result

    def cancel(self) -> None:
        """Cancel the job (JOB-CANCEL); a job that has ended raises RuntimeInvalidStateError."""
        try:
            self._service.engine.cancel(self._record.id)
        except RequestRejected as error:
            raise from_rejection(error) from None

    def __repr__(self) -> str:
        return f"<RuntimeJob({self.job_id()!r}, {self._primitive_id}, {self.status().value})>"


class RuntimeJobV2(RuntimeJob):
    """Today's primitive job (platform profile); its state is the engine's job record."""

    def __init__(
        self,
        service: QiskitRuntimeService,
        record: JobRecord,
        primitive_id: str,
        pubs: tuple[object, ...],
        options: SamplerOptions | EstimatorOptions,
    ) -> None:
        super().__init__(service, record, primitive_id, pubs, Options())
        self._options_v2 = options
        self._result_v2: PrimitiveResultV2 | None = None

    def status(self) -> str:  # type: ignore[override]  # the client's V2 jobs return plain strings
        """"QUEUED", "RUNNING", "DONE", "ERROR" or "CANCELLED"."""
        return STATUS_BY_STATE[self._record.state].value

    def cancelled(self) -> bool:
        return self._record.state == "cancelled"

    def errored(self) -> bool:
        return self._record.state == "failed"

    def running(self) -> bool:
        return self._record.state == "running"

    def usage(self) -> float:
        """Device seconds the job used so far (0 before it starts)."""
        record = self._record
        if record.started_at is None:
            return 0.0
        end = record.ended_at if record.ended_at is not None else self._service.now
        return end - record.started_at

    def result(self, timeout: float | None = None) -> PrimitiveResultV2:  # type: ignore[override]
        """Block (in virtual time) until the job is final; its result if it completed.

        RuntimeJobMaxTimeoutError if it ran past its max_execution_time, RuntimeJobFailureError
        for any other failure, RuntimeInvalidStateError if it was cancelled; each names its rules."""
        self.wait_for_final_state(timeout)
        record = self._record
        if record.state == "cancelled":
            raise RuntimeInvalidStateError(
                f"Unable to retrieve result for job {record.id}. Job was cancelled. [JOB-CANCEL]",
                rules=("JOB-CANCEL",),
            )
        if record.state == "failed":
            message = self.error_message()
            rules = REASON_RULES.get(record.reason or "", ())
            if record.reason == "max_execution_time_reached":
                raise RuntimeJobMaxTimeoutError(f"Unable to retrieve job result. {message}", rules=rules)
            raise RuntimeJobFailureError(
                f"Unable to retrieve job result. {message}", reason=record.reason, rules=rules
            )
        if self._result_v2 is None:
            seed = self._service.engine.seed
            options = self._options_v2
            if isinstance(options, EstimatorOptions):
                self._result_v2 = estimator_result_v2(seed, record.id, self._circuits, options.default_precision)
            else:
                self._result_v2 = sampler_result_v2(seed, record.id, self._circuits, options.default_shots)
        return self._result_v2

    def __repr__(self) -> str:
        return f"<RuntimeJobV2({self.job_id()!r}, {self._primitive_id}, {self.status()})>"
