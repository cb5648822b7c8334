"""The server's state and every request it answers, independent of the HTTP framework.

One :class:`RuntimeServer` owns one reference :class:`~model.sim.engine.Engine` (the profile's
and interpretation's), the clock mapping (:mod:`model.serve.clock`), and what the engine does
not model: each job's program, parameters and result, each session's mode. Every method takes
decoded request data and returns JSON-ready data, or raises :class:`ApiError` with the status
code and body the client expects; :mod:`model.serve.app` only routes. A lock serialises the
requests: the engine is single-threaded, and the order in which requests reach it is the order
of the trace.

Client generations (see docs/serve.md): today's client opens a session with ``POST /sessions``
and names it in each job; the seed-era client (0.11.x) opens it with its first job
(``start_session: true``; the job's ID becomes the session's ID). Both close with
``DELETE /sessions/{id}/close``; today's client closes gracefully with
``PATCH /sessions/{id} {"accepting_jobs": false}``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from model.runtime.jobs import REASON_RULES
from model.runtime.platform import details
from model.serve.backends import ServedBackend
from model.serve.clock import DEFAULT_WAIT_HORIZON, MAX_ADVANCE_TO, WallClock
from model.serve.programs import PROGRAMS, Evaluator, requested_shots
from model.sim.devices import BackendConfig, Duration
from model.sim.engine import Engine
from model.sim.entities import JobRecord, SessionRecord
from model.spec.interpretations import DEFAULT, Interpretation
from model.spec.lifecycles import JOB, JOB_UNSUCCESSFUL
from model.spec.validations import RequestRejected
from model.trace import MemoryTrace, Sink, Tee

DEFAULT_JOB_SECONDS = 5.0
"""Virtual seconds the device takes for each job (``--job-seconds``)."""

JOB_STATUS: dict[str, str] = {
    "queued": "Queued", "running": "Running", "completed": "Completed", "failed": "Failed", "cancelled": "Cancelled",
}
"""The engine's job states as the REST API spells them."""


STATUS_BY_CODE: dict[str, int] = {
    "UNKNOWN-JOB": 404, "UNKNOWN-SESSION": 404, "BACKEND-UNKNOWN": 404, "JOB-FINISHED": 409,
    "SESSION-CLOSED": 409, "SESSION-NOT-ACCEPTING": 409, "DUPLICATE-ID": 409,
}
"""HTTP status of each rejection code of the engine; every other code is a 400 (a bad request).
409 is what the client turns into ``RuntimeInvalidStateError`` on a cancel."""

_FINAL = frozenset(JOB.final_states)
RAN_TOO_LONG = 1305
"""The service's reason code for a job stopped at its max_execution_time (the client raises
``RuntimeJobMaxTimeoutError`` for it)."""


def failure_text(record: JobRecord) -> str:
    """Why a job did not complete, with the rules behind it (the job's ``state.reason`` and its results text)."""
    if record.state == "cancelled":
        return f"job {record.id} was cancelled [JOB-CANCEL]"
    reason = record.reason or "unknown"
    return f"job {record.id} failed: {reason} [{', '.join(REASON_RULES.get(reason, ()))}]"


class ApiError(Exception):
    """A refused request: its HTTP status and the JSON body the client parses (``error.message``, ``error.code``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        return {"error": error, "errors": [error]}

    @classmethod
    def rejected(cls, error: RequestRejected, *, submit: bool = False) -> ApiError:
        status = STATUS_BY_CODE.get(error.code, 400)
        if submit and status == 404:
            status = 400  # the client reads a 404 on POST /jobs as "program not found"
        return cls(status, error.code, str(error))


@dataclass(frozen=True)
class Deferred:
    """Work a request still needs, done outside the server's lock and the event loop (a result's evaluation)."""

    work: Callable[[], str]


@dataclass
class ServerJob:
    record: JobRecord
    program_id: str
    params: dict[str, Any]
    result: str | None = None
    result_error: str | None = None


@dataclass
class ServerSession:
    record: SessionRecord
    mode: str
    created: float
    jobs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """What ``sessionspec serve`` was asked to run."""

    backends: tuple[ServedBackend, ...]
    interpretation: Interpretation = DEFAULT
    """The profile (``interpretation.profile``) and the interpretation choices the engine runs."""
    seed: int = 0
    speed: float = 1.0
    job_seconds: float = DEFAULT_JOB_SECONDS
    wait_horizon: float = DEFAULT_WAIT_HORIZON
    instance: str = "crn:v1:bluemix:public:quantum-computing:us-east:a/sessionspec:local::"


class RuntimeServer:
    """The REST API's behaviour on one reference engine (see the module docstring)."""

    def __init__(
        self, settings: Settings, sink: Sink | None = None, *, evaluator: Evaluator | None = None,
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        configs: Sequence[BackendConfig] = [
            BackendConfig(b.name, duration=Duration.fixed(settings.job_seconds)) for b in settings.backends
        ]
        self.trace = MemoryTrace()
        """Every record so far (``GET /sessionspec/trace``); ``sink`` also gets each (the trace file)."""
        self.engine = Engine(
            configs, interpretation=settings.interpretation, seed=settings.seed,
            sink=self.trace if sink is None else Tee(self.trace, sink),
        )
        self.backends = {b.name: b for b in settings.backends}
        self.clock = WallClock(settings.speed) if wall is None else WallClock(settings.speed, wall)
        self.evaluator = evaluator if evaluator is not None else Evaluator()
        self.lock = threading.RLock()
        self.jobs: dict[str, ServerJob] = {}
        self.sessions: dict[str, ServerSession] = {}
        self._session_count = 0
        self._job_count = 0
        self.epoch = datetime.now(UTC).replace(microsecond=0)
        """The wall-clock date of virtual time 0 (dates in bodies only; the trace has virtual seconds)."""

    # ------------------------------------------------------------------ time

    def sync(self) -> None:
        """Let the think time since the last request pass (wall time × speed)."""
        owed = self.clock.owed()
        if owed > 0:
            self.engine.run_until(self.engine.now + owed)

    def advance(self, seconds: float) -> float:
        """Let ``seconds`` of virtual time pass now (the control endpoint); the new virtual time."""
        if not seconds >= 0 or seconds == float("inf"):
            raise ApiError(400, "BAD-REQUEST", f"seconds must be a finite number >= 0, got {seconds!r}")
        if self.engine.now + seconds > MAX_ADVANCE_TO:
            raise ApiError(400, "BAD-REQUEST", f"advancing {seconds!r} s from t={self.engine.now!r} passes "
                                               f"t={MAX_ADVANCE_TO:.0f} s, beyond which dates and timers are not exact")
        self.engine.run_until(self.engine.now + seconds)
        self.clock.restart()
        return self.engine.now

    def fault(self, backend: str) -> str | None:
        """The device of ``backend`` fails its running job now (DEVICE-FAULT); that job's ID, if it ran one."""
        self.backend(backend)
        job = self.engine.inject_fault(backend)
        return job.id if job is not None else None

    def _wait_step(self, job: JobRecord) -> None:
        """Lock-step: a poll of an unfinished job runs the engine to the next change of that job's state."""
        if job.state in _FINAL:
            return
        engine, before = self.engine, job.state
        until = engine.now + self.settings.wait_horizon
        while job.state == before:
            when = engine.next_event_time
            if when is None or when > until:
                break
            engine.step()
        while (when := engine.next_event_time) is not None and when <= engine.now:
            engine.step()  # finish the instant: a request at t comes after every event due at t
        self.clock.restart()

    def date(self, t: float | None) -> str | None:
        if t is None:
            return None
        return (self.epoch + timedelta(seconds=t)).isoformat().replace("+00:00", "Z")

    # ------------------------------------------------------------------ service look-ups (stubs)

    def backend(self, name: str) -> ServedBackend:
        found = self.backends.get(name)
        if found is None:
            raise ApiError(404, "BACKEND-UNKNOWN", f"unknown backend {name!r}; known: {', '.join(self.backends)}")
        return found

    def backend_status(self, name: str) -> dict[str, Any]:
        served = self.backend(name)
        pending = sum(1 for j in self.engine.jobs.values() if j.backend_name == name and j.state == "queued")
        return served.status(pending)

    def usage(self) -> dict[str, Any]:
        return {"instance_id": self.settings.instance, "plan_id": "open", "usage_consumed_seconds": 0,
                "usage_limit_reached": False}

    # ------------------------------------------------------------------ sessions

    def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /sessions``: today's client opens a session (``mode`` dedicated or batch)."""
        backend = body.get("backend")
        mode = body.get("mode") or "dedicated"
        if mode not in ("dedicated", "batch"):
            raise ApiError(400, "BAD-REQUEST", f"a session's mode is 'dedicated' or 'batch', got {mode!r}")
        self._session_count += 1
        session_id = f"s{self._session_count}"
        # PLATFORM-BATCH: the platform profile has a batch of its own; the seeds know sessions only
        batch = mode == "batch" and self.settings.interpretation.is_platform
        record = self._open(backend, body.get("max_ttl"), session_id, mode="batch" if batch else None)
        self.sessions[session_id] = ServerSession(record, mode, self.engine.now)
        return self.session_details(session_id)

    def _open(
        self, backend: object, max_time: object, session_id: str, *, submit: bool = False, mode: str | None = None,
    ) -> SessionRecord:
        if backend is not None and (not isinstance(backend, str) or not backend):
            raise ApiError(400, "BACKEND-UNKNOWN", f"a backend is named by a non-empty string, got {backend!r}")
        try:
            return self.engine.open_session(backend, max_time, session_id, mode=mode)
        except RequestRejected as error:
            raise ApiError.rejected(error, submit=submit) from None

    def _session(self, session_id: str) -> ServerSession:
        found = self.sessions.get(session_id)
        if found is None:
            raise ApiError(404, "UNKNOWN-SESSION", f"no session {session_id!r} [SESSION-GROUPS-JOBS]")
        return found

    def session_details(self, session_id: str) -> dict[str, Any]:
        """``GET /sessions/{id}``: model.runtime.platform's fields (one computation of state, ``elapsed_time``,
        ``active_ttl``, ``timestamps``), with this server's mode and its times as dates."""
        session = self._session(session_id)
        body = details(self.engine, self.trace, session.record)
        for key in ("started_at", "closed_at", "activated_at", "last_job_started", "last_job_completed"):
            body[key] = self.date(body[key])
        body["timestamps"] = [{**stamp, "timestamp": self.date(stamp["timestamp"])} for stamp in body["timestamps"]]
        body["mode"] = session.mode
        body["created_at"] = self.date(session.created)
        return body

    def close_session(self, session_id: str) -> None:
        """``PATCH /sessions/{id} {"accepting_jobs": false}``: today's client's ``close()``: the profile's close
        (platform: stop accepting jobs and drain them, PLATFORM-CLOSE-DRAINS; seeds: unfinished jobs fail)."""
        self._session(session_id)
        self._request(self.engine.close, session_id)

    def cancel_session(self, session_id: str) -> None:
        """``DELETE /sessions/{id}/close``: today's client's ``cancel()``, the seed-era client's ``close()``.

        Platform: cancel_session (PLATFORM-CANCEL-SESSION: queued jobs cancelled, the session ends). The seeds
        have no cancel: it is their close (unfinished jobs fail), which is what the seed-era client meant."""
        self._session(session_id)
        if self.settings.interpretation.is_platform:
            self._request(self.engine.cancel_session, session_id)
        else:
            self._request(self.engine.close, session_id)

    def _request(self, operation: Callable[[str], object], target: str) -> None:
        try:
            operation(target)
        except RequestRejected as error:
            raise ApiError.rejected(error) from None

    # ------------------------------------------------------------------ jobs

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /jobs``: a primitive job, in a session (named, or opened by it) or in job mode."""
        program_id = body.get("program_id")
        if not isinstance(program_id, str) or not program_id:
            raise ApiError(400, "BAD-REQUEST", "a job needs a program_id")
        if program_id not in PROGRAMS:  # the client reads a 404 here as "program not found"
            raise ApiError(404, "PROGRAM-UNKNOWN", f"no program {program_id!r}; known: {', '.join(PROGRAMS)}")
        params = body.get("params")
        if not isinstance(params, dict):
            raise ApiError(400, "BAD-REQUEST", "a job's params must be a JSON object")
        backend, session_id = body.get("backend"), body.get("session_id")
        # an empty name is refused here: the engine would record it, and a trace line cannot carry one
        if backend is not None and (not isinstance(backend, str) or not backend):
            raise ApiError(400, "BACKEND-UNKNOWN", f"a backend is named by a non-empty string, got {backend!r}")
        if session_id is not None and (not isinstance(session_id, str) or not session_id):
            raise ApiError(400, "UNKNOWN-SESSION", f"a session is named by a non-empty string, got {session_id!r}")
        self._check_shots(params, backend, session_id)
        self._job_count += 1
        job_id = f"j{self._job_count}"
        if body.get("start_session") and session_id is None:
            # The seed-era client: the first job opens the session, whose ID is the job's.
            record = self._open(backend, body.get("session_time"), job_id, submit=True)
            self.sessions[job_id] = ServerSession(record, "dedicated", self.engine.now)
            session_id = job_id
        try:
            record_job = self.engine.submit(
                session_id, backend, job_id=job_id, max_execution_time=body.get("cost"), program=program_id,
            )
        except RequestRejected as error:
            raise ApiError.rejected(error, submit=True) from None
        self.jobs[job_id] = ServerJob(record_job, program_id, params)
        if session_id is not None:
            self.sessions[session_id].jobs.append(job_id)
        return {"id": job_id, "backend": record_job.backend_name, "session_id": session_id}

    def _check_shots(self, params: dict[str, Any], backend: str | None, session_id: str | None) -> None:
        """A job asking more shots than its backend's configured ``max_shots`` is refused at submit, as the
        service refuses it: 400 TOO-MANY-SHOTS, before the engine sees it (nothing is traced)."""
        if backend is None and session_id in self.sessions:
            backend = self.sessions[session_id].record.backend_name
        served = self.backends.get(backend) if backend is not None else None
        limit = served.configuration.get("max_shots") if served is not None else None
        if not isinstance(limit, int):
            return
        for shots in requested_shots(params):
            if shots > limit:
                raise ApiError(400, "TOO-MANY-SHOTS", f"{shots} shots requested: backend {backend} runs at most "
                                                      f"{limit} per circuit (its configuration's max_shots)")

    def _job(self, job_id: str) -> ServerJob:
        found = self.jobs.get(job_id)
        if found is None:
            raise ApiError(404, "UNKNOWN-JOB", f"no job {job_id!r} [JOB-CANCEL]")
        return found

    def job(self, job_id: str, *, exclude_params: bool = False, wait: bool = True) -> dict[str, Any]:
        """``GET /jobs/{id}``; a poll of an unfinished job lets virtual time run to its next change."""
        job = self._job(job_id)
        if wait:
            self._wait_step(job.record)
        return self._job_json(job, exclude_params=exclude_params)

    def _job_json(self, job: ServerJob, *, exclude_params: bool) -> dict[str, Any]:
        record = job.record
        status = JOB_STATUS[record.state]
        state: dict[str, Any] = {"status": status}
        if record.state in JOB_UNSUCCESSFUL:
            state["reason"] = failure_text(record)
            if record.reason == "max_execution_time_reached":
                state["reasonCode"] = RAN_TOO_LONG
        body: dict[str, Any] = {
            "id": record.id, "backend": record.backend_name, "session_id": record.session_id,
            "program": {"id": job.program_id}, "status": status, "state": state,
            "created": self.date(record.submitted_at), "runtime": "", "tags": [], "private": False,
            "cost": record.max_execution_time, "user_id": "sessionspec",
        }
        if not exclude_params:
            body["params"] = job.params
        return body

    def jobs_list(self, query: dict[str, str]) -> dict[str, Any]:
        """``GET /jobs``: newest first (``sort=ASC``: oldest first); an unknown ``session_id`` gives
        ``[]``, as the real service does (qiskit-ibm-runtime issue #2398)."""
        chosen = list(self.jobs.values())
        if (session_id := query.get("session_id")) is not None:
            chosen = [j for j in chosen if j.record.session_id == session_id]
        if (backend := query.get("backend")) is not None:
            chosen = [j for j in chosen if j.record.backend_name == backend]
        if (program := query.get("program")) is not None:
            chosen = [j for j in chosen if j.program_id == program]
        if (pending := query.get("pending")) is not None:
            want = pending.lower() == "true"
            chosen = [j for j in chosen if (j.record.state not in _FINAL) == want]
        if query.get("sort", "").upper() != "ASC":
            chosen.reverse()
        offset, limit = _int(query.get("offset"), 0), _int(query.get("limit"), len(chosen))
        page = chosen[offset:offset + limit]
        exclude = query.get("exclude_params", "").lower() == "true"
        return {"jobs": [self._job_json(j, exclude_params=exclude) for j in page], "count": len(chosen),
                "limit": limit, "offset": offset}

    def cancel_job(self, job_id: str) -> None:
        self._job(job_id)
        self._request(self.engine.cancel, job_id)

    def results(self, job_id: str) -> str:
        """``GET /jobs/{id}/results``: waits (lock-step) until the job is final; its result text."""
        prepared = self.prepare_results(job_id)
        return prepared if isinstance(prepared, str) else prepared.work()

    def prepare_results(self, job_id: str) -> str | Deferred:
        """The results of a final job (under the lock): its text, or the evaluation still to do, which the
        application runs off the lock and the event loop so that other clients are answered meanwhile."""
        job = self._job(job_id)
        while job.record.state not in _FINAL:
            before = (self.engine.now, job.record.state)
            self._wait_step(job.record)
            if (self.engine.now, job.record.state) == before:
                break
        record = job.record
        if record.state in JOB_UNSUCCESSFUL:
            # The client fetches the results of a failed job for its error text, as the service answers it.
            return failure_text(record)
        if record.state != "completed":
            raise ApiError(400, "JOB-NOT-COMPLETED", f"job {job_id} is {JOB_STATUS[record.state]}: it has no result")
        if job.result is None and job.result_error is None:
            return Deferred(lambda: self._evaluate(job))
        return self._result_text(job)

    def _evaluate(self, job: ServerJob) -> str:
        """Computes a job's result once (no lock needed: the evaluator keeps no state of the server's)."""
        if job.result is None and job.result_error is None:
            try:
                job.result = self.evaluator.result(job.program_id, job.params, job.record.id)
            except Exception as error:  # a result the evaluator cannot compute is the job's error, not the server's
                job.result_error = f"{type(error).__name__}: {error}"
        return self._result_text(job)

    def _result_text(self, job: ServerJob) -> str:
        if job.result is None:
            raise ApiError(400, "RESULT-UNAVAILABLE", f"job {job.record.id}: {job.result_error}")
        return job.result

    def metrics(self, job_id: str) -> dict[str, Any]:
        record = self._job(job_id).record
        quantum = None
        if record.started_at is not None and record.ended_at is not None:
            quantum = record.ended_at - record.started_at
        return {
            "timestamps": {"created": self.date(record.submitted_at), "running": self.date(record.started_at),
                           "finished": self.date(record.ended_at)},
            "bss": {"seconds": quantum or 0}, "usage": {"quantum_seconds": quantum or 0, "seconds": quantum or 0},
            "qiskit_version": "", "caller": "sessionspec",
        }

    # ------------------------------------------------------------------ the run

    def trace_text(self) -> str:
        """The trace so far as JSON Lines, ended at the current virtual time."""
        return self.trace.jsonl(end=self.engine.now)

    def state(self) -> dict[str, Any]:
        """The control endpoint's view: virtual time, and each session's and job's spec state."""
        return {
            "t": self.engine.now, "profile": self.settings.interpretation.profile,
            "sessions": {k: s.record.state for k, s in self.sessions.items()},
            "jobs": {k: j.record.state for k, j in self.jobs.items()},
        }


def _int(text: str | None, default: int) -> int:
    if text is None:
        return default
    try:
        return max(0, int(text))
    except ValueError:
        raise ApiError(400, "BAD-REQUEST", f"not an integer: {text!r}") from None
