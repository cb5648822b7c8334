"""``Session`` and ``Batch``: the client's handles on one engine session.

The engine session is opened when the ``Session`` is constructed, so every refusal
(no backend, several backends, bad max_time) comes at once. It stays *pending* until
its first job starts (SESSION-START-FIRST-JOB).

Under the ``seeds`` profile (the 2023 client), ``Session(service, backend, max_time)`` and
:meth:`Session.status` maps the spec states to the strings that client showed:
``pending`` -> "Pending", ``active`` -> "Active", ``inactive`` -> "Inactive" (deactivated by
the interactive timeout; its next job reactivates it), ``closed`` -> "Closed" (closed by
the client, by max_time expiry, or by first-job cancel under INT-FIRST-JOB-CANCEL=close_session).

Under the ``platform`` profile (today's client), ``Session(backend, max_time)`` and ``Batch``
take a backend object, ``close()`` stops accepting jobs and lets the queued ones drain,
``cancel()`` cancels them and ends the session, ``from_id`` re-attaches to a session, and
``status()``/``details()`` speak the platform's vocabulary (:mod:`model.runtime.platform`).
After ``close()`` or ``cancel()`` the handle refuses new jobs itself, as the client does.

Used as a context manager it is the *current* session (a ``contextvars`` variable) for
primitives created inside the block (CONTEXT-PRIMITIVES), and it is closed on exit
(CONTEXT-CLOSE), even when the block raises.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, ClassVar

import model.runtime.platform as platform
from model.runtime.exceptions import IBMInputValueError, IBMRuntimeError, from_rejection, refusal, stated
from model.runtime.service import IBMBackend, QiskitRuntimeService, default_service
from model.sim.entities import SessionRecord
from model.spec.interpretations import MaxtimeClock
from model.spec.lifecycles import INTERACTIVE_TIMEOUT, SESSION_FINAL
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
    if backend == "":  # the engine would record it on the refused request's line, which no reader takes
        raise refusal("BACKEND-UNKNOWN", "a backend is named by a non-empty string, got ''")
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

    mode: ClassVar[str] = "dedicated"
    """The execution mode the platform records for it: ``dedicated`` (session) or ``batch``."""

    def __init__(
        self,
        service: QiskitRuntimeService | IBMBackend | None = None,
        backend: BackendLike | list[BackendLike] | tuple[BackendLike, ...] | int | None = None,
        max_time: int | str | None = None,
    ) -> None:
        """Seeds: ``Session(service, backend, max_time)``. Platform: ``Session(backend, max_time)``, so a
        backend object first makes the second argument the max_time (an int or a text)."""
        given_service: QiskitRuntimeService | None = None
        if isinstance(service, IBMBackend):  # today's Session(backend, max_time): the second is max_time
            if isinstance(backend, str | int) and not isinstance(backend, bool) and max_time is None:
                backend, max_time = None, backend
            if backend is not None:
                raise IBMInputValueError(f"two backends given: {service!r} and {backend!r}")
            backend = service
        else:
            given_service = service
        self._service = resolve_service(given_service, backend)
        self._tokens: list[Token[Session | None]] = []
        self._active = True
        """The client-side flag: False once this handle closed or cancelled the session."""
        if self._service.profile == "platform":
            self._record: SessionRecord = self._open_platform(given_service, backend, max_time)
            return
        if type(self) is not Session:
            raise seeds_only(f"{type(self).__name__} (execution modes came after the seeds)")
        name = backend_name(self._service, backend)
        if name is None and self._service.channel == "ibm_cloud":
            name = self._service.least_busy().name
        if name is not None and any(b.name == name for b in self._service.backends()):  # else the engine refuses it
            _check_int_max_time(max_time, name)
        try:
            self._record = self._service.engine.open_session(name, max_time)
        except RequestRejected as error:
            raise from_rejection(error) from None

    def _open_platform(self, given_service: QiskitRuntimeService | None, backend: object, max_time: object) -> (
        SessionRecord
    ):
        """Today's client: a backend object of this service, then one POST /sessions with the mode."""
        kind = type(self).__name__
        if given_service is not None:
            raise IBMInputValueError(
                f"{kind}(backend, max_time) takes no service under the platform profile: "
                "the backend object's service runs it"
            )
        if backend is None:
            raise refusal("BACKEND-REQUIRED", f"{kind} needs a backend object under the platform profile")
        if not isinstance(backend, IBMBackend):
            raise stated(
                IBMInputValueError,
                f"Invalid backend type {type(backend).__name__}: {kind} takes a backend object "
                "(service.backend(name)) under the platform profile",
                ("BACKEND-NAME-OR-OBJECT",),
            )
        _check_int_max_time(max_time, backend.name)
        try:
            return platform.open_session(self._service.engine, backend.name, max_time, self.mode)
        except RequestRejected as error:
            raise from_rejection(error) from None

    @classmethod
    def from_id(cls, session_id: str, service: QiskitRuntimeService) -> Session:
        """A handle on an existing session of ``service`` (platform profile), e.g. from a job's ``session_id``.

        IBMInputValueError if the service has no such session or it was opened in another mode
        (a Batch's ID given to ``Session.from_id``); the handle of a closed session refuses jobs."""
        if not isinstance(service, QiskitRuntimeService):
            raise IBMInputValueError(f"service must be a QiskitRuntimeService, got {shown(service)}")
        if service.profile != "platform":
            raise seeds_only(f"{cls.__name__}.from_id")
        record = service.engine.sessions.get(session_id) if isinstance(session_id, str) else None
        if record is None:
            raise platform.not_found(session_id)
        mode = platform.session_mode(record)
        if mode != cls.mode:
            raise stated(
                IBMInputValueError,
                f"Input ID {session_id} has execution mode {mode} instead of {cls.mode}",
                platform.MODE_RULES,
            )
        session = cls.__new__(cls)
        session._service = service
        session._record = record
        session._tokens = []
        session._active = record.state not in SESSION_FINAL
        return session

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

    def check_accepting(self) -> None:
        """Refuse a job through a handle that closed or cancelled its session (platform profile),
        as the client does before any request; the service refuses the others itself."""
        if not self._active and self._service.profile == "platform":
            raise stated(
                IBMRuntimeError,
                f"The session is closed: {type(self).__name__} {self.session_id} accepts no new jobs",
                platform.NOT_ACCEPTING_RULES,
            )

    # ------------------------------------------------------------------ state

    def status(self) -> str:
        """Seeds: "Pending", "Active", "Inactive" or "Closed". Platform: the client's strings
        ("Pending", "In progress, accepting new jobs", "In progress, not accepting new jobs",
        "Closed"), from the platform state and ``accepting_jobs``."""
        if self._service.profile == "platform":
            return platform.client_status(self._record)
        return STATUS_BY_STATE[self._record.state]

    def details(self) -> dict[str, Any]:
        """What the service knows of the session, in virtual seconds.

        Seeds: ``max_time`` is the effective limit once the session has started (None before,
        since under INT-MAXTIME-DEFAULT=first_job_limit it depends on the first job);
        ``remaining_max_time`` counts from the start (MAXTIME-ASSIGNED) and is None while pending (from the
        open, pending or not, under INT-MAXTIME-CLOCK=open).
        Platform: the client's details dictionary (:func:`model.runtime.platform.client_details`).
        """
        if self._service.profile == "platform":
            return platform.client_details(self._service, self._record)
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

    def usage(self) -> float:
        """Platform: the session's usage in virtual seconds (``elapsed_time``; see
        :func:`model.runtime.platform.usage`)."""
        if self._service.profile != "platform":
            raise seeds_only("Session.usage")
        return platform.usage(self._service, self._record)

    def close(self) -> None:
        """Seeds: close the session (SESSION-CLOSE); its unfinished jobs fail (CLOSE-FAILS-INCOMPLETE).
        Platform: stop accepting jobs; the queued and running ones run to completion, then the
        session closes at once.

        Idempotent: closing a closed or expired session changes nothing."""
        self._active = False
        if self._service.profile == "platform":
            platform.close(self._service.engine, self._record)
            return
        self._service.engine.close(self._record.id)

    def cancel(self) -> None:
        """Platform: cancel every queued job of the session and end it (the client's ``cancel``)."""
        if self._service.profile != "platform":
            raise seeds_only("Session.cancel")
        self._active = False
        platform.cancel(self._service.engine, self._record)

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
        if not hasattr(self, "_record"):  # its construction was refused
            return f"<{type(self).__name__} (not opened)>"
        return f"<{type(self).__name__}({self.session_id!r}, backend={self.backend()!r}, status={self.status()!r})>"


class Batch(Session):
    """Batch mode (platform profile, PLATFORM-BATCH): independent jobs on one backend, not exclusive.

    Same handle as :class:`Session` (``close``, ``cancel``, ``from_id``, ``status``, ``details``). The
    batch is active only while one of its jobs runs (other users' jobs run between its jobs; between
    them it is ``inactive``, which the client shows as "Pending"), and closes by itself 60 s after its
    last job. Refused under the seeds profile."""

    mode: ClassVar[str] = "batch"


def seeds_only(what: str) -> IBMRuntimeError:
    """The refusal of a platform-only call on a seeds-profile service."""
    return IBMRuntimeError(
        f"{what} is part of today's platform, not of the seeds (2023) rule set this service runs: "
        "use QiskitRuntimeService(profile='platform')"
    )
