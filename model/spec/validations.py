"""Request validations: which client requests the spec rejects, and under which rules.

Like the lifecycles, these are declared once as data. The engine raises
:class:`RequestRejected` with one of these codes, the trace records the code on the
rejected request line, the runtime API maps it to a qiskit_ibm_runtime-shaped
exception, and the rule catalogue counts it as an encoding of its rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Validation:
    code: str
    rules: tuple[str, ...]
    refuses: str


VALIDATIONS: tuple[Validation, ...] = (
    Validation("MAXTIME-FORMAT", ("MAXTIME-FORMAT", "MAXTIME-PARAM"),
               "max_time that is not a positive int of seconds or an h/m/s string"),
    Validation("MAXTIME-ABOVE-SYSTEM", ("MAXTIME-BOUNDS", "MAXTIME-SYSTEM-LIMIT"),
               "max_time above the backend's system max_time (or equal to it, under strict)"),
    Validation("MAXTIME-BELOW-JOB", ("MAXTIME-BOUNDS",),
               "a job whose explicit max_execution_time is not below its session's max_time"),
    Validation("MAX-EXECUTION-TIME-FORMAT", ("JOB-MAX-EXECUTION",),
               "a max_execution_time that is not a positive number of seconds"),
    Validation("SESSION-CLOSED", ("SESSION-CLOSED-REJECTS",),
               "a job submitted to a closed or expired session"),
    Validation("SESSION-NOT-ACCEPTING", ("PLATFORM-NOT-ACCEPTING",),
               "a job submitted to a session that is closing (platform: accepting_jobs false)"),
    Validation("BACKEND-REQUIRED", ("BACKEND-REQUIRED",),
               "a session opened without a backend on the ibm_quantum channel"),
    Validation("BACKEND-FIXED", ("BACKEND-FIXED",),
               "a job for another backend than its session's, or several backends for one session"),
    Validation("BACKEND-UNKNOWN", ("BACKEND-NAME-OR-OBJECT",),
               "a backend name (or object) the service does not have"),
    Validation("UNKNOWN-SESSION", ("SESSION-GROUPS-JOBS",), "a request naming a session that does not exist"),
    Validation("UNKNOWN-JOB", ("JOB-CANCEL",), "a request naming a job that does not exist"),
    Validation("DUPLICATE-ID", ("SESSION-GROUPS-JOBS",), "a session or job ID that is already taken"),
    Validation("JOB-FINISHED", ("JOB-CANCEL", "JOB-TERMINAL"), "cancelling a job that has already ended"),
)

VALIDATIONS_BY_CODE: dict[str, Validation] = {v.code: v for v in VALIDATIONS}

PRECEDENCE: dict[str, tuple[str, ...]] = {
    "open": ("BACKEND-REQUIRED", "BACKEND-UNKNOWN", "DUPLICATE-ID", "MAXTIME-FORMAT", "MAXTIME-ABOVE-SYSTEM"),
    "submit": (
        "UNKNOWN-SESSION", "BACKEND-FIXED", "SESSION-CLOSED", "SESSION-NOT-ACCEPTING", "BACKEND-REQUIRED",
        "BACKEND-UNKNOWN",
        "DUPLICATE-ID", "MAX-EXECUTION-TIME-FORMAT", "MAXTIME-BELOW-JOB",
    ),
    "cancel": ("UNKNOWN-JOB", "JOB-FINISHED"),
    "close": ("UNKNOWN-SESSION",),
    "cancel_session": ("UNKNOWN-SESSION",),
}
"""Which code a rejected request gets when several apply: per operation, the checks in the
order the engine makes them; the first that refuses wins. The session checks apply to a
submit that names a session, the backend checks to one that does not. ``cancel_session`` is an
operation of the platform profile only."""


def _check_precedence() -> None:
    for op, codes in PRECEDENCE.items():
        unknown = [code for code in codes if code not in VALIDATIONS_BY_CODE]
        if unknown or len(set(codes)) != len(codes):
            raise AssertionError(f"PRECEDENCE[{op!r}] names unknown or repeated codes: {codes}")


_check_precedence()


def shown(value: object) -> str:
    """``value`` for a message: its repr, cut short; a huge int by its size (its repr could be
    thousands of digits, or refused by ``sys.set_int_max_str_digits``)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class RequestRejected(Exception):
    """A client request the spec refuses; the message ends with the rule IDs it rests on."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.rules = VALIDATIONS_BY_CODE[code].rules
        self.detail = message
        super().__init__(f"{message} [{', '.join(self.rules)}]")
