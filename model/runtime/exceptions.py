"""Exceptions named like qiskit_ibm_runtime's, carrying the spec's validation code and rules.

Code written against the real client catches these names; the spec adds ``code`` (a
:mod:`model.spec.validations` code, or None for plain client-side checks) and ``rules`` (the
catalogue IDs the refusal rests on), and every message ends with those rule IDs.
qiskit is not a dependency, so ``QiskitError`` and ``JobError`` are stood in here.
"""

from __future__ import annotations

from model.spec.validations import VALIDATIONS_BY_CODE, RequestRejected


class QiskitError(Exception):
    """Base of every runtime error; ``code`` and ``rules`` say which spec check refused."""

    def __init__(self, message: str, *, code: str | None = None, rules: tuple[str, ...] = ()) -> None:
        self.message = message
        self.code = code
        self.rules = rules
        super().__init__(message)


class IBMError(QiskitError):
    """Base of the errors the service raises."""


class IBMInputValueError(IBMError, ValueError):
    """An argument the spec refuses (max_time, backend choice, options)."""


class IBMRuntimeError(IBMError):
    """A request the service refuses in the current state (e.g. a closed session)."""


class SimulationLimitError(IBMRuntimeError):
    """A call that lets virtual time pass stopped at its event budget (the service's ``max_events``).

    The spec's own guard, not the real client's: a simulated service under endless background
    load could otherwise be asked to run for hours of real time (``advance(1e12)``). The clock
    stops after a whole instant, so the state is consistent and the client may go on."""


class RuntimeInvalidStateError(IBMRuntimeError):
    """The job is not in a state that allows the operation (cancelled, already ended)."""


class RuntimeJobNotFound(IBMRuntimeError):
    """The service knows no job with that ID."""


class JobError(QiskitError):
    """Base of the errors about a job's outcome."""


class RuntimeJobFailureError(JobError):
    """The job failed; ``reason`` is the engine's failure reason, the message names it and its rules."""

    def __init__(self, message: str, *, reason: str | None = None, rules: tuple[str, ...] = ()) -> None:
        self.reason = reason
        super().__init__(message, rules=rules)


class JobTimeoutError(JobError):
    """Waiting for a job ended before the job did."""


class RuntimeJobTimeoutError(JobTimeoutError):
    """Waiting for a job ended before the job did (virtual time, or no event left)."""


class RuntimeJobMaxTimeoutError(IBMRuntimeError):
    """The job ran past its max_execution_time (the client raises it from ``result()``)."""


class QiskitBackendNotFoundError(QiskitError):
    """The service has no backend of that name."""


_CLASS_BY_CODE: dict[str, type[QiskitError]] = {
    "MAXTIME-FORMAT": IBMInputValueError,
    "MAXTIME-ABOVE-SYSTEM": IBMInputValueError,
    "MAXTIME-BELOW-JOB": IBMInputValueError,
    "MAX-EXECUTION-TIME-FORMAT": IBMInputValueError,
    "BACKEND-REQUIRED": IBMInputValueError,
    "BACKEND-FIXED": IBMInputValueError,
    "DUPLICATE-ID": IBMInputValueError,
    "BACKEND-UNKNOWN": QiskitBackendNotFoundError,
    "SESSION-CLOSED": IBMRuntimeError,
    "SESSION-NOT-ACCEPTING": IBMRuntimeError,
    "UNKNOWN-SESSION": IBMRuntimeError,
    "UNKNOWN-JOB": RuntimeJobNotFound,
    "JOB-FINISHED": RuntimeInvalidStateError,
}
assert set(_CLASS_BY_CODE) == set(VALIDATIONS_BY_CODE), "every validation code needs a runtime exception"


def from_rejection(error: RequestRejected) -> QiskitError:
    """The runtime exception for an engine refusal: same message, code and rules."""
    cls = _CLASS_BY_CODE.get(error.code, IBMRuntimeError)
    return cls(str(error), code=error.code, rules=error.rules)


def refusal(code: str, message: str) -> QiskitError:
    """A client-side refusal under a validation code (checks made before any engine request)."""
    return from_rejection(RequestRejected(code, message))


def stated(cls: type[QiskitError], message: str, rules: tuple[str, ...]) -> QiskitError:
    """A client-side refusal that no validation code covers: ``message`` followed by its rules."""
    suffix = f" [{', '.join(rules)}]" if rules else ""
    return cls(f"{message}{suffix}", rules=rules)
