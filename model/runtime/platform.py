"""Today's platform as its client sees it: requests, state names, status strings, details, usage.

The runtime's ``Session``, ``Batch`` and V2 primitives call these under the ``platform``
profile; the engine holds the state, this module only asks it and names what it says the way
the platform's server and client do:

- **server state** (``GET /sessions/{id}``'s ``state``, PLATFORM-STATES), mapped as
  docs/trace-format.md says: ``open`` until the first job starts (the spec's ``pending``),
  ``active`` while a job of it is queued or running, ``pending_inactive`` when it is active with
  nothing queued or running (its interactive window is open), ``inactive``, ``pending_closed``
  (closing: its jobs drain), ``closed``; plus the ``accepting_jobs`` flag, false exactly in
  ``pending_closed`` and ``closed``;
- **client status** (``Session.status()`` of client 0.51): ``open``/``inactive`` -> "Pending";
  ``active`` while accepting jobs, or ``pending_inactive`` -> "In progress, accepting new jobs";
  ``active`` while not accepting, or ``pending_closed`` -> "In progress, not accepting new jobs";
  ``closed`` -> "Closed";
- **details**: the server's fields (:func:`server_details`) renamed as the client's
  ``Session.details()`` returns them (:func:`client_details`). Times are virtual seconds, not
  ISO timestamps; ``active_ttl`` is the max TTL (the max-time clock never pauses, so that is
  how long a session can stay active).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from model.runtime.exceptions import IBMInputValueError, QiskitError, stated
from model.sim.engine import Engine
from model.sim.entities import JobRecord, SessionRecord
from model.spec.lifecycles import SESSION_FINAL
from model.spec.validations import VALIDATIONS_BY_CODE, shown
from model.trace import Change

if TYPE_CHECKING:
    from model.runtime.service import QiskitRuntimeService

MODES: tuple[str, ...] = ("dedicated", "batch")
"""The execution modes a session is opened in (``POST /sessions {mode}``): session mode is
``dedicated`` on the wire, batch mode ``batch``; job mode opens no session."""

MODE_RULES: tuple[str, ...] = ("SESSION-GROUPS-JOBS",)
"""The rules a mode mismatch (a Batch's ID given to ``Session.from_id``) rests on."""
NOT_ACCEPTING_RULES: tuple[str, ...] = VALIDATIONS_BY_CODE["SESSION-NOT-ACCEPTING"].rules
"""The rules behind the client's own refusal of a job after ``close()`` or ``cancel()``."""

SERVER_STATE: dict[str, str] = {"pending": "open"}
"""The platform server's name for an engine session state, where it differs from the spec's."""
NOT_ACCEPTING: frozenset[str] = frozenset({"pending_closed", *SESSION_FINAL})
"""The spec states of a session that accepts no jobs (PLATFORM-NOT-ACCEPTING)."""

ACCEPTING_STATUS = "In progress, accepting new jobs"
NOT_ACCEPTING_STATUS = "In progress, not accepting new jobs"
CLIENT_STATUSES: tuple[str, ...] = ("Pending", ACCEPTING_STATUS, NOT_ACCEPTING_STATUS, "Closed")
"""Every string today's ``Session.status()`` returns for a session the service knows."""

UNKNOWN_SESSION_RULES: tuple[str, ...] = VALIDATIONS_BY_CODE["UNKNOWN-SESSION"].rules


def not_found(session_id: object) -> QiskitError:
    """The client's refusal of an unknown session ID (``Session.from_id``): IBMInputValueError."""
    return stated(IBMInputValueError, f"Session not found: {shown(session_id)}", UNKNOWN_SESSION_RULES)


# ---------------------------------------------------------------------- requests


def open_session(engine: Engine, backend: str, max_time: object, mode: str) -> SessionRecord:
    """``POST /sessions {mode, backend, max_ttl}``: ``dedicated`` opens a session, ``batch`` a batch
    (PLATFORM-BATCH: never exclusive, ends by itself 60 s after its last job)."""
    return engine.open_session(backend, max_time, mode="batch" if mode == "batch" else None)


def close(engine: Engine, record: SessionRecord) -> None:
    """``PATCH /sessions/{id} {accepting_jobs: false}``: stop accepting; queued and running jobs drain
    (PLATFORM-CLOSE-DRAINS)."""
    engine.close(record.id)


def cancel(engine: Engine, record: SessionRecord) -> None:
    """``DELETE /sessions/{id}/close``: cancel the session's queued jobs and end it (PLATFORM-CANCEL-SESSION)."""
    engine.cancel_session(record.id)


# ---------------------------------------------------------------------- what the server says


def session_mode(record: SessionRecord) -> str:
    """``dedicated`` or ``batch``."""
    return "batch" if record.batch else "dedicated"


def accepting_jobs(record: SessionRecord) -> bool:
    """Whether the session takes new jobs: False once it is closing or closed (PLATFORM-NOT-ACCEPTING)."""
    return record.state not in NOT_ACCEPTING


def server_state(record: SessionRecord) -> str:
    """The session's state as the platform server names it (PLATFORM-STATES; module docstring)."""
    if record.state == "active" and record.n_queued == 0 and record.running is None:
        return "pending_inactive"
    return SERVER_STATE.get(record.state, record.state)


def client_status(record: SessionRecord) -> str:
    """The client's ``Session.status()`` string for the session (module docstring)."""
    return status_of(server_state(record), accepting_jobs(record))


def status_of(state: str, accepting: bool) -> str:
    """The client's status string for a server state and ``accepting_jobs`` flag."""
    if state in ("open", "inactive"):
        return "Pending"
    if state == "pending_inactive" or (state == "active" and accepting):
        return ACCEPTING_STATUS
    if state == "pending_closed" or state == "active":
        return NOT_ACCEPTING_STATUS
    return state.capitalize()


def server_details(service: QiskitRuntimeService, record: SessionRecord) -> dict[str, Any]:
    """The body of ``GET /sessions/{id}``: the platform's fields, times in virtual seconds."""
    return details(service.engine, service.trace, record)


def details(engine: Engine, trace: Iterable[object], record: SessionRecord) -> dict[str, Any]:
    """The platform's session fields from an engine and its trace so far, times in virtual seconds: the one
    computation behind this runtime's :func:`server_details` and ``sessionspec serve``'s ``GET /sessions/{id}``."""
    history = _History(trace, record, engine.now)
    mine = [job for job in engine.jobs.values() if job.session_id == record.id]
    started = [job.started_at for job in mine if job.started_at is not None]
    ended = [job.ended_at for job in mine if job.ended_at is not None]
    max_ttl = record.max_time if record.max_time is not None else record.max_time_bound
    return {
        "id": record.id,
        "backend_name": record.backend_name,
        "state": server_state(record),
        "accepting_jobs": accepting_jobs(record),
        "interactive_ttl": engine.interpretation.rules.interactive_timeout,
        "max_ttl": max_ttl,
        "active_ttl": max_ttl,
        "started_at": record.started_at,
        "closed_at": record.closed_at,
        "activated_at": history.activated_at,
        "last_job_started": max(started, default=None),
        "last_job_completed": max(ended, default=None),
        "mode": session_mode(record),
        "elapsed_time": _usage(record, history, mine, engine.now),
        "timestamps": history.timestamps,
    }


def client_details(service: QiskitRuntimeService, record: SessionRecord) -> dict[str, Any]:
    """``Session.details()`` of client 0.51: the server's fields under the client's names (``timestamps``:
    the session's state changes, each ``{"status": server state, "timestamp": t}``)."""
    wire = server_details(service, record)
    return {
        "id": wire["id"],
        "backend_name": wire["backend_name"],
        "interactive_timeout": wire["interactive_ttl"],
        "max_time": wire["max_ttl"],
        "active_timeout": wire["active_ttl"],
        "state": wire["state"],
        "accepting_jobs": wire["accepting_jobs"],
        "last_job_started": wire["last_job_started"],
        "last_job_completed": wire["last_job_completed"],
        "started_at": wire["started_at"],
        "closed_at": wire["closed_at"],
        "activated_at": wire["activated_at"],
        "mode": wire["mode"],
        "usage_time": wire["elapsed_time"],
        "timestamps": wire["timestamps"],
    }


class _History:
    """What the trace tells of one session: when it was last activated, and the periods in which it
    held its backend: while active, and while closing after being active (its jobs drain first);
    a session closed before it ever started drains through the normal queue and holds nothing, and
    a batch holds its backend only while a job of it runs (it never holds it while closing)."""

    def __init__(self, trace: Iterable[object], record: SessionRecord, now: float) -> None:
        self.activated_at: float | None = None
        self.held: list[tuple[float, float]] = []
        self.timestamps: list[dict[str, Any]] = []
        since: float | None = None
        for line in trace:
            if not isinstance(line, Change) or line.entity != "session" or line.id != record.id:
                continue
            self.timestamps.append({"status": SERVER_STATE.get(line.dst, line.dst), "timestamp": line.t})
            if line.dst == "active" and line.src != "active":
                self.activated_at = line.t
            holding = line.dst == "active" or (line.dst == "pending_closed" and since is not None and not record.batch)
            if holding and since is None:
                since = line.t
            elif not holding and since is not None:
                self.held.append((since, line.t))
                since = None
        if since is not None:
            self.held.append((since, now))

    @property
    def busy(self) -> float:
        return sum(end - start for start, end in self.held)


def held_periods(service: QiskitRuntimeService, record: SessionRecord) -> list[tuple[float, float]]:
    """The periods in which a dedicated session held its backend (PLATFORM-SESSION-EXCLUSIVE)."""
    return _History(service.trace, record, service.now).held


def usage(service: QiskitRuntimeService, record: SessionRecord) -> float:
    """``elapsed_time`` of a session of this runtime (see :func:`_usage`)."""
    mine = [job for job in service.engine.jobs.values() if job.session_id == record.id]
    return _usage(record, _History(service.trace, record, service.now), mine, service.now)


def _usage(record: SessionRecord, history: _History, jobs: Iterable[JobRecord], now: float) -> float:
    """``elapsed_time``: a dedicated session's time holding its backend (from its first job's
    start until it goes inactive or closes, the idle window included, summed over its active
    periods); a batch's device time only (the sum of its jobs' run times)."""
    if record.batch:
        return sum((job.ended_at if job.ended_at is not None else now) - job.started_at
                   for job in jobs if job.started_at is not None)
    return history.busy
