"""Client requests: open, submit, cancel and close, each validated by an ordered list of checks.

Each operation's checks are made in the order :data:`model.spec.validations.PRECEDENCE` gives;
the first that refuses names the rejection code, which the trace records on the rejected
request line. A variant engine may declare other lists (``open_checks`` and the like).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, NamedTuple, TypeVar

from mypy_extensions import mypyc_attr

from model.sim.core import Core
from model.sim.entities import BackendRecord, JobRecord, SessionRecord
from model.sim.scheduling import Scheduling
from model.spec.interpretations import MaxTimeJobBound, MaxTimeUpperBound
from model.spec.lifecycles import JOB_FINAL, SESSION_FINAL
from model.spec.max_time import parse_max_time
from model.spec.validations import PRECEDENCE, RequestRejected, shown
from model.trace import Request
from model.trace.records import FLOAT_MAX_INT

F = TypeVar("F", bound=Callable[..., "str | None"])
_new = tuple.__new__


def _open_args(max_time: object, batch: bool) -> dict[str, object]:
    """An open's arguments, as its request records them."""
    return {"max_time": max_time, "mode": "batch"} if batch else {"max_time": max_time}


def _submit_args(max_execution_time: object, group: str, program: str) -> dict[str, object]:
    """A submit's arguments, as its request records them."""
    return {"max_execution_time": max_execution_time, "group": group, "program": program}


@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class Check(Generic[F]):
    """One validation of a request: ``refuses`` gives the message when it refuses, None when it passes.

    ``scope`` says which submits it concerns: those naming a session, the others, or any;
    ``on_limit``, that it judges a submit's max_execution_time (it passes one that gives none).
    """

    code: str
    refuses: F
    scope: Literal["session", "plain", "any"] = "any"
    on_limit: bool = False


class OpenArgs(NamedTuple):
    """An open as the client asked it."""

    backend: str | None
    max_time: Any
    session_id: str | None


SubmitCheck = Callable[
    [Core, str | None, str | None, str | None, object, SessionRecord | None, BackendRecord | None], str | None
]
"""A submit's check, called as ``(engine, session_id, backend, job_id, max_execution_time, session, record)``:
the arguments as the client gave them, then the session it names and the backend it goes to, if they exist
(a submit is checked on its arguments, without building a request object for it)."""
OpenCheck = Callable[[Core, "OpenArgs"], str | None]
CancelCheck = Callable[[Core, "CancelArgs"], str | None]
CloseCheck = Callable[[Core, "CloseArgs"], str | None]


class CancelArgs(NamedTuple):
    """A cancel, with the job it names if that exists."""

    job_id: str
    job: JobRecord | None


class CloseArgs(NamedTuple):
    """A close, with the session it names if that exists."""

    session_id: str
    session: SessionRecord | None


def _ordered(op: str, checks: Iterable[Check[F]]) -> tuple[Check[F], ...]:
    """The checks of ``op`` in the order PRECEDENCE gives; every code there has exactly one check."""
    by_code = {check.code: check for check in checks}
    codes = PRECEDENCE[op]
    if set(codes) != set(by_code):
        raise AssertionError(f"the {op} checks {sorted(by_code)} do not match PRECEDENCE {codes}")
    return tuple(by_code[code] for code in codes)


def refusal(
    checks: Iterable[Check[Callable[[Core, Any], str | None]]], engine: Core, asked: object
) -> tuple[str, str] | None:
    """The code and message of the first check that refuses the request, or None if all pass."""
    for check in checks:
        message = check.refuses(engine, asked)
        if message is not None:
            return check.code, message
    return None


def _valid_duration(value: object) -> bool:
    """A positive number of seconds a float can hold (an int beyond a float's range is refused, not overflowed)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 < value <= sys.float_info.max


def _max_time_detail(value: object) -> str | None:
    try:
        parse_max_time(value)
    except RequestRejected as error:
        return error.detail
    return None


def _above_system(engine: Core, o: OpenArgs) -> str | None:
    if o.max_time is None or o.backend is None:
        return None
    seconds = parse_max_time(o.max_time)
    limit: int | float = engine.backends[o.backend].config.system_max_time  # compared exactly with an int of any size
    strict = engine.policy.maxtime_upper_bound is MaxTimeUpperBound.STRICT
    if seconds > limit or (strict and seconds == limit):
        relation = "below" if strict else "at most"
        given = f"{seconds} s" if seconds.bit_length() <= 64 else f"({shown(seconds)})"
        # :g, not model.trace.timing.time_text: the trace records this message (golden traces, byte for byte)
        return f"max_time {given} must be {relation} the system max_time of {o.backend} ({limit:g} s)"
    return None


OPEN_CHECKS: tuple[Check[OpenCheck], ...] = _ordered("open", (
    Check("BACKEND-REQUIRED", lambda e, o: "a session needs a backend" if o.backend is None else None),
    Check("BACKEND-UNKNOWN", lambda e, o: f"unknown backend {o.backend!r}" if o.backend not in e.backends else None),
    Check("DUPLICATE-ID", lambda e, o: (
        f"session {o.session_id!r} already exists" if o.session_id is not None and o.session_id in e.sessions
        else None
    )),
    Check("MAXTIME-FORMAT", lambda e, o: _max_time_detail(o.max_time) if o.max_time is not None else None),
    Check("MAXTIME-ABOVE-SYSTEM", _above_system),
))


def _below_job(
    engine: Core, session_id: str | None, backend: str | None, job_id: str | None, met: object,
    session: SessionRecord | None, record: BackendRecord | None,
) -> str | None:
    if (
        met is None or session is None or not _valid_duration(met)
        or engine.policy.maxtime_job_bound is not MaxTimeJobBound.REJECT_EXPLICIT
    ):
        return None
    assert isinstance(met, int | float)
    if met < session.max_time_bound:
        return None
    return (  # :g, not time_text: the trace records this message, the golden traces "1e+06" among them
        f"max_execution_time {met:g} s is not below the max_time {session.max_time_bound:g} s of session {session.id}"
    )


SUBMIT_CHECKS: tuple[Check[SubmitCheck], ...] = _ordered("submit", (
    Check("UNKNOWN-SESSION", lambda e, sid, b, j, met, session, r: (
        f"unknown session {sid!r}" if session is None else None
    ), "session"),
    Check("BACKEND-FIXED", lambda e, sid, b, j, met, session, r: (
        f"session {sid} runs on {session.backend_name}, not {b}"
        if session is not None and b is not None and b != session.backend_name else None
    ), "session"),
    Check("SESSION-CLOSED", lambda e, sid, b, j, met, session, r: (
        f"session {sid} is closed" if session is not None and session.state in SESSION_FINAL else None
    ), "session"),
    Check("SESSION-NOT-ACCEPTING", lambda e, sid, b, j, met, session, r: (
        f"session {sid} is closing and accepts no jobs"
        if session is not None and session.state == "pending_closed" else None
    ), "session"),
    Check("BACKEND-REQUIRED", lambda e, sid, b, j, met, session, r: (
        "a job outside a session needs a backend" if b is None else None
    ), "plain"),
    Check("BACKEND-UNKNOWN", lambda e, sid, b, j, met, session, r: (
        f"unknown backend {b!r}" if r is None else None
    ), "plain"),
    Check("DUPLICATE-ID", lambda e, sid, b, j, met, session, r: (
        f"job {j!r} already exists" if j is not None and j in e.jobs else None
    )),
    Check("MAX-EXECUTION-TIME-FORMAT", lambda e, sid, b, j, met, session, r: (
        f"max_execution_time must be a positive number of seconds, got {shown(met)}"
        if met is not None and not _valid_duration(met) else None
    ), on_limit=True),
    Check("MAXTIME-BELOW-JOB", _below_job, "session", on_limit=True),
))
"""A submit that names a session gets the "session" checks, one that does not the "plain" ones."""

_AFTER_BACKEND_FIXED = frozenset(PRECEDENCE["submit"][PRECEDENCE["submit"].index("BACKEND-FIXED") + 1:])
"""A submit refused by these is recorded with its session's backend (it was not refused for naming another)."""

CANCEL_CHECKS: tuple[Check[CancelCheck], ...] = _ordered("cancel", (
    Check("UNKNOWN-JOB", lambda e, c: f"unknown job {c.job_id!r}" if c.job is None else None),
    Check("JOB-FINISHED", lambda e, c: (
        f"job {c.job_id} has already ended ({c.job.state})" if c.job is not None and c.job.state in JOB_FINAL
        else None
    )),
))

CLOSE_CHECKS: tuple[Check[CloseCheck], ...] = _ordered("close", (
    Check("UNKNOWN-SESSION", lambda e, c: f"unknown session {c.session_id!r}" if c.session is None else None),
))

CANCEL_SESSION_CHECKS: tuple[Check[CloseCheck], ...] = _ordered("cancel_session", (
    Check("UNKNOWN-SESSION", lambda e, c: f"unknown session {c.session_id!r}" if c.session is None else None),
))


class NotInProfile(ValueError):
    """An operation the profile in force does not have (cancel_session under the seeds): a usage error of the
    caller, never a request the spec rejects (nothing is traced)."""

_SUBMIT_RULES_SESSION = ("SESSION-GROUPS-JOBS", "SCHED-SUBMIT-WHILE-RUNNING")
_SUBMIT_RULES_PLAIN = ("SCHED-FAIRSHARE",)
_OPEN_RULES = ("SESSION-START-FIRST-JOB",)
_EMPTY_NAME = "a backend, session or job name is never empty (a trace line cannot carry an empty one)"


@mypyc_attr(allow_interpreted_subclasses=True)
class RequestHandling(Scheduling):
    """The client's requests; each is traced, accepted or rejected."""

    open_checks: ClassVar[tuple[Check[OpenCheck], ...]] = OPEN_CHECKS
    """Extension point: the validations of an open, in precedence order (and likewise below)."""
    submit_checks: ClassVar[tuple[Check[SubmitCheck], ...]] = SUBMIT_CHECKS
    cancel_checks: ClassVar[tuple[Check[CancelCheck], ...]] = CANCEL_CHECKS
    close_checks: ClassVar[tuple[Check[CloseCheck], ...]] = CLOSE_CHECKS
    cancel_session_checks: ClassVar[tuple[Check[CloseCheck], ...]] = CANCEL_SESSION_CHECKS

    _session_ids: Iterable[int]
    reserved_ids: set[str]
    """IDs a generated ID skips: those a scenario names in its operations (model.sim.scenario), so that a
    background arrival or an unnamed request never takes an ID a later request asks for."""
    _job_ids: Iterable[int]

    _submit_checks_for: tuple[tuple[tuple[tuple[str, SubmitCheck], ...], ...], ...]
    _checks_of: dict[str, tuple[tuple[str, Callable[[Core, Any], str | None]], ...]]

    def init_requests(self) -> None:
        """Each operation's checks as (code, refuses) pairs, read once, not per request; the submit checks that
        concern each kind of submit, as ``[names a session][gives a max_execution_time]`` (a table indexed by
        the two booleans: no key to build per submit)."""
        self._checks_of = {
            op: tuple((check.code, check.refuses) for check in checks)
            for op, checks in (
                ("open", self.open_checks), ("cancel", self.cancel_checks), ("close", self.close_checks),
                ("cancel_session", self.cancel_session_checks),
            )
        }
        self._submit_checks_for = tuple(
            tuple(
                tuple(
                    (check.code, check.refuses) for check in self.submit_checks
                    if check.scope != ("plain" if named else "session") and (limited or not check.on_limit)
                )
                for limited in (False, True)
            )
            for named in (False, True)
        )

    def _refusal(self, op: str, asked: object) -> tuple[str, str] | None:
        """:func:`refusal` by the operation's checks, as ``init_requests`` read them."""
        for code, refuses in self._checks_of[op]:
            message = refuses(self, asked)
            if message is not None:
                return code, message
        return None

    def _reject(self, rejected: Request, code: str, message: str) -> RequestRejected:
        error = RequestRejected(code, message)
        args = {k: _recordable(v) for k, v in rejected.args.items()} if rejected.args else rejected.args
        self._emit(rejected._replace(args=args, error=code, rules=error.rules, message=error.detail))
        return error

    def open_session(
        self, backend: str | None, max_time: object = None, session_id: str | None = None, mode: str | None = None,
    ) -> SessionRecord:
        """Open a session (pending until its first job starts); ``mode="batch"`` opens a batch (platform profile,
        PLATFORM-BATCH; under another profile :class:`NotInProfile`)."""
        if mode not in (None, "session", "batch"):
            raise ValueError(f"mode must be 'session' or 'batch', got {mode!r}")
        if backend == "" or session_id == "":
            raise ValueError(_EMPTY_NAME)
        batch = mode == "batch"
        if batch and "batch_ended" not in self.session_fsm.fire:
            raise NotInProfile(f"batch mode is not part of profile {self.interpretation.profile}")
        refused = self._refusal("open", _new(OpenArgs, (backend, max_time, session_id)))
        if refused is not None:
            raise self._reject(self._open_request(backend, session_id, max_time, batch), *refused)
        assert backend is not None
        record = self.backends[backend]
        seconds = self.read_max_time(max_time) if max_time is not None else None
        if session_id is None:
            session_id = _fresh(self._session_ids, "s", self.sessions, self.reserved_ids)
        session = SessionRecord(session_id, record, seconds)
        session.batch = batch
        session.opened_at = self.now
        self.sessions[session_id] = session
        if self._tracing:
            now, emit = self.now, self._emitter
            emit.request(now, "open", backend, session_id, None, _open_args(max_time, batch))
            emit.change(now, "session", session_id, backend, None, None, "pending", "open", _OPEN_RULES, None, None)
        if self._clock_at_open:
            self.arm_max_time_at_open(session)
        if self._unused_timeout is not None:
            self.arm_unused(session)
        return session

    def read_max_time(self, max_time: object) -> int:
        """Extension point: the seconds of an open's ``max_time``, once the open's checks have passed it
        (MAXTIME-FORMAT). A variant that reads it otherwise declares ``open_checks`` to match."""
        return parse_max_time(max_time)

    def _open_request(self, backend: str | None, session_id: str | None, max_time: object, batch: bool) -> Request:
        return self._request("open", backend, session_id, None, _open_args(max_time, batch))

    def submit(
        self,
        session_id: str | None = None,
        backend: str | None = None,
        *,
        job_id: str | None = None,
        max_execution_time: object = None,  # any object: a malformed one is rejected (and traced)
        duration: float | None = None,
        fault: bool | None = None,
        group: str = "default",
        program: str = "estimator",
    ) -> JobRecord:
        """Submit a job to a session, or to a backend's fair-share queue when no session is given."""
        if job_id == "" or session_id == "" or backend == "":
            raise ValueError(_EMPTY_NAME)
        session = self.sessions.get(session_id) if session_id is not None else None
        if session is not None:
            record: BackendRecord | None = session.backend
        else:
            record = self.backends.get(backend) if backend is not None else None
        for code, refuses in self._submit_checks_for[session_id is not None][max_execution_time is not None]:
            message = refuses(self, session_id, backend, job_id, max_execution_time, session, record)
            if message is not None:
                if session is not None and code in _AFTER_BACKEND_FIXED:
                    backend = session.backend_name
                raise self._reject(
                    self._submit_request(backend, session_id, job_id, max_execution_time, group, program),
                    code, message,
                )
        assert record is not None
        backend = record.name
        if max_execution_time is None:
            explicit = False
            met = record.default_max_execution_time
        else:
            explicit = True
            met = float(max_execution_time)  # type: ignore[arg-type]  # a valid number: the checks passed
        if duration is None:
            duration = record.config.duration.draw(record.rng)
        elif type(duration) is not float:
            duration = float(duration)
        if fault is None:
            fault = record.rng.random() < record.config.fault_rate
        if job_id is None:
            job_id = _fresh(self._job_ids, "j", self.jobs, self.reserved_ids)
        job = JobRecord(job_id, record, session, met, explicit, duration, fault, group, program, self.now)
        self.jobs[job_id] = job
        if self._tracing:
            now, emit = self.now, self._emitter
            emit.request(now, "submit", backend, session_id, job_id, _submit_args(max_execution_time, group, program))
            emit.change(
                now, "job", job_id, backend, session_id, None, "queued", "submit",
                _SUBMIT_RULES_SESSION if session is not None else _SUBMIT_RULES_PLAIN, None, None,
            )
        record.queue.push(job)
        if session is not None:
            if self._unused_timeout is not None:
                self.arm_unused(session)
            session.queue.append(job)
            session.n_queued += 1
            session.n_jobs += 1
            if session.first_job is None:
                session.first_job = job
            # Queued, if only for an instant: the interactive window closes, to restart when the session
            # is idle again (TTL-INTERACTIVE). This is update_window with a job queued: an open window
            # implies an active session.
            if session.window_deadline is not None:
                session.window_deadline = None
            if session.doomed is not None:
                self.fire(self.job_fsm, job, session.doomed)
                self.leave_queue(job)
                return job
        if record.state == "idle":  # dispatch's own test, saving a call when the device is busy
            self.dispatch.on(record)
        return job

    def _submit_request(
        self, backend: str | None, session_id: str | None, job_id: str | None, max_execution_time: object,
        group: str, program: str,
    ) -> Request:
        args = _submit_args(max_execution_time, group, program)
        return _new(Request, (self.now, "submit", backend, session_id, job_id, args, None, (), None))  # as _request

    def _request(
        self, op: str, backend: str | None, session: str | None, job: str | None, args: dict[str, Any] | None = None
    ) -> Request:
        """An accepted request's record (``_reject`` fills in a rejected one's error), made now."""
        # Every field given: the tuple itself, not NamedTuple's Python-level __new__ (as Emitter.change does).
        return _new(Request, (self.now, op, backend, session, job, args, None, (), None))

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued or running job (JOB-CANCEL); FIRST-JOB-CANCEL follows for a first job."""
        if job_id == "":
            raise ValueError(_EMPTY_NAME)
        job = self.jobs.get(job_id)
        refused = self._refusal("cancel", _new(CancelArgs, (job_id, job)))
        if refused is not None:
            raise self._reject(self._cancel_request(job_id, job), *refused)
        assert job is not None
        if self._tracing:
            self._emitter.request(self.now, "cancel", job.backend_name, job.session_id, job_id, None)
        was_running = job.state == "running"
        self.fire(self.job_fsm, job, "cancel")
        session = job.session
        first = session is not None and session.first_job is job and session.state not in SESSION_FINAL
        # The first job's consequences come before the freed device is dispatched again.
        if was_running:
            self.leave_device(job, dispatch=not first)
        else:
            self.leave_queue(job)
        if first:
            assert session is not None
            self.first_job_cancelled(session)
        elif not was_running:
            self.dispatch.on(job.backend)
        return job

    def _cancel_request(self, job_id: str, job: JobRecord | None) -> Request:
        if job is None:
            return self._request("cancel", None, None, job_id)
        return self._request("cancel", job.backend_name, job.session_id, job_id)

    def close(self, session_id: str) -> SessionRecord:
        """Close a session (SESSION-CLOSE); closing a closed session is accepted and changes nothing."""
        if session_id == "":
            raise ValueError(_EMPTY_NAME)
        session = self.sessions.get(session_id)
        refused = self._refusal("close", _new(CloseArgs, (session_id, session)))
        if refused is not None:
            raise self._reject(self._session_request("close", session_id, session), *refused)
        assert session is not None
        if self._tracing:
            self._emitter.request(self.now, "close", session.backend_name, session_id, None, None)
        if session.state not in SESSION_FINAL and session.state != "pending_closed":
            self.fire(self.session_fsm, session, "close")
            self.dispatch.on(session.backend)
        return session

    def cancel_session(self, session_id: str) -> SessionRecord:
        """Cancel a session (platform, PLATFORM-CANCEL-SESSION): its queued jobs are cancelled, its running job
        per INT-CANCEL-RUNNING-JOB, and it closes; cancelling a closed session changes nothing.

        Raises :class:`NotInProfile` under a profile without the operation (the seeds')."""
        if "cancel_session" not in self.session_fsm.fire:
            raise NotInProfile(f"cancel_session is not an operation of profile {self.interpretation.profile}")
        if session_id == "":
            raise ValueError(_EMPTY_NAME)
        session = self.sessions.get(session_id)
        refused = self._refusal("cancel_session", _new(CloseArgs, (session_id, session)))
        if refused is not None:
            raise self._reject(self._session_request("cancel_session", session_id, session), *refused)
        assert session is not None
        if self._tracing:
            self._emitter.request(self.now, "cancel_session", session.backend_name, session_id, None, None)
        if session.state not in SESSION_FINAL:
            self.fire(self.session_fsm, session, "cancel_session")
            self.dispatch.on(session.backend)
        return session

    def _session_request(self, op: str, session_id: str, session: SessionRecord | None) -> Request:
        backend = session.backend_name if session is not None else None
        return self._request(op, backend, session_id, None)


def _fresh(counter: Iterable[int], prefix: str, taken: Mapping[str, Any], reserved: Set[str]) -> str:
    for n in counter:
        candidate = f"{prefix}{n}"
        if candidate not in taken and candidate not in reserved:
            return candidate
    raise AssertionError("unreachable")


def _recordable(value: object) -> object:
    """A rejected argument as the trace can hold it: JSON scalars as given, anything else
    (NaN, infinities, arbitrary objects) by its repr, so that the line stays valid JSON. An int is
    replayed from its line, so it stays an int as far as a reader takes one (a 64-bit float's range:
    ``10**30`` recorded by its size replayed as a malformed text, not as a max_time above the limit)."""
    if isinstance(value, int) and not -FLOAT_MAX_INT <= value <= FLOAT_MAX_INT:
        return shown(value)  # beyond any float: its digits could be thousands, beyond what a reader takes
    if value is None or isinstance(value, str | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    return repr(value)
