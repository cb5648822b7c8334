"""``Session``: the client's handle on one engine session.

The engine session is opened when the ``Session`` is constructed, so every refusal
(no backend, several backends, bad max_time) comes at once. It stays *pending* until
its first job starts (SESSION-START-FIRST-JOB).

:meth:`Session.status` maps the spec states to the strings the client shows:
``pending`` -> "Pending", ``active`` -> "Active", ``inactive`` -> "Inactive" (deactivated by
the interactive timeout; its next job reactivates it), ``closed`` -> "Closed" (closed by
the client, by max_time expiry, or by first-job cancel under INT-FIRST-JOB-CANCEL=close_session).

Used as a context manager it is the *current* session (a ``contextvars`` variable) for
primitives created inside the block (CONTEXT-PRIMITIVES), and it is closed on exit
(CONTEXT-CLOSE), even when the block raises.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from model.runtime.exceptions import IBMInputValueError, from_rejection, refusal
from model.runtime.service import IBMBackend, QiskitRuntimeService, default_service
from model.sim.entities import SessionRecord
from model.spec.interpretations import MaxtimeClock
from model.spec.lifecycles import INTERACTIVE_TIMEOUT
from model.spec.validations import RequestRejected, shown

BackendLike = str | IBMBackend

STATUS_BY_STATE: dict[str, str] = {
    "pending": "Pending",
    "active": "Active",
    "inactive": "Inactive",
    "closed": "Closed",
}

_current: ContextVar[Session | None] = ContextVar("sessionspec_current_session", default=None)


def current_session() -> Session | None:
    """The session of the innermost enclosing ``with Session(...)`` block, if any."""
    return _current.get()


def resolve_service(service: QiskitRuntimeService | None, backend: object) -> QiskitRuntimeService:
    """The given service, else the backend object's, else the process-wide default."""
    if service is not None:
        if not isinstance(service, QiskitRuntimeService):
            raise IBMInputValueError(f"service must be a QiskitRuntimeService, got {service!r}")
        return service
    if isinstance(backend, IBMBackend):
        return backend.service
    return default_service()


def backend_name(service: QiskitRuntimeService, backend: object) -> str | None:
    """The name of a backend given by name or object (BACKEND-NAME-OR-OBJECT); one only (BACKEND-FIXED)."""
    if isinstance(backend, list | tuple | set | frozenset):
        raise refusal(
            "BACKEND-FIXED",
            f"a session runs on exactly one backend; got {len(backend)}: {sorted(map(str, backend))}",
        )
    if isinstance(backend, IBMBackend):
        if backend.service is not service:
            raise refusal("BACKEND-UNKNOWN", f"backend {backend.name!r} belongs to another service")
        return backend.name
    if backend is None or isinstance(backend, str):
        return backend
    raise refusal("BACKEND-UNKNOWN", f"a backend is given by name or backend object, got {backend!r}")


def _check_int_max_time(max_time: object, backend: str) -> None:
    """Refuse, before the engine, an int max_time beyond 64 bits: no service could hold it, and
    its thousands of digits would fill the trace (a format error if negative, else too long)."""
    if isinstance(max_time, int) and not isinstance(max_time, bool) and max_time.bit_length() > 63:
        if max_time < 0:
            raise refusal("MAXTIME-FORMAT", f"max_time must be positive, got {shown(max_time)}")
        raise refusal(
            "MAXTIME-ABOVE-SYSTEM", f"max_time {shown(max_time)} is above the system max_time of {backend}"
        )


class Session:
    """A runtime session on one backend; see the module docstring for states and context use."""

    def __init__(
        self,
        service: QiskitRuntimeService | None = None,
        backend: BackendLike | list[BackendLike] | tuple[BackendLike, ...] | None = None,
        max_time: int | str | None = None,
    ) -> None:
        self._service = resolve_service(service, backend)
        name = backend_name(self._service, backend)
        if name is None and self._service.channel == "ibm_cloud":
            name = self._service.least_busy().name
        if name is not None and any(b.name == name for b in self._service.backends()):  # else the engine refuses it
            _check_int_max_time(max_time, name)
        try:
            self._record: SessionRecord = self._service.engine.open_session(name, max_time)
        except RequestRejected as error:
            raise from_rejection(error) from None
        self._tokens: list[Token[Session | None]] = []

    # ------------------------------------------------------------------ identity

    @property
    def session_id(self) -> str:
        return self._record.id

    @property
    def service(self) -> QiskitRuntimeService:
        return self._service

    @property
    def record(self) -> SessionRecord:
        """The engine's record (read-only use: the spec state lives there)."""
        return self._record

    def backend(self) -> str:
        """The backend's name (fixed for the session's life: BACKEND-FIXED)."""
        return self._record.backend_name

    # ------------------------------------------------------------------ state

    def status(self) -> str:
        """"Pending", "Active", "Inactive" or "Closed" (mapping in the module docstring)."""
        return STATUS_BY_STATE[self._record.state]

    def details(self) -> dict[str, Any]:
        """What the service knows of the session, in virtual seconds.

        ``max_time`` is the effective limit once the session has started (None before,
        since under INT-MAXTIME-DEFAULT=first_job_limit it depends on the first job);
        ``remaining_max_time`` counts from the start (MAXTIME-ASSIGNED) and is None while pending (from the
        open, pending or not, under INT-MAXTIME-CLOCK=open).
        """
        record = self._record
        now = self._service.now
        remaining: float | None = None
        if record.state == "closed":
            remaining = 0.0
        elif self._service.engine.policy.maxtime_clock is MaxtimeClock.OPEN:
            remaining = max(0.0, record.deadline - now)  # counted from the open, pending or not
        elif record.started_at is not None and record.max_time is not None:
            remaining = max(0.0, record.max_time - (now - record.started_at))
        return {
            "id": record.id,
            "backend_name": record.backend_name,
            "state": record.state,
            "status": self.status(),
            "accepting_jobs": record.state != "closed",
            "requested_max_time": record.requested_max_time,
            "max_time": record.max_time,
            "remaining_max_time": remaining,
            "interactive_timeout": INTERACTIVE_TIMEOUT,
            "started_at": record.started_at,
            "closed_at": record.closed_at,
            "jobs": record.n_jobs,
            "queued_jobs": record.n_queued,
            "running_job": record.running.id if record.running is not None else None,
        }

    def close(self) -> None:
        """Close the session (SESSION-CLOSE); its unfinished jobs fail (CLOSE-FAILS-INCOMPLETE).

        Idempotent: closing a closed or expired session changes nothing."""
        self._service.engine.close(self._record.id)

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> Session:
        self._tokens.append(_current.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _current.reset(self._tokens.pop())
        self.close()

    def __repr__(self) -> str:
        return f"<Session({self.session_id!r}, backend={self.backend()!r}, status={self.status()!r})>"
