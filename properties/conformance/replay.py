"""Replay a recorded trace through the reference engine and compare every decision.

The trace's *inputs* (client requests, and a running job's end by the device) are fed
to a :class:`~.replay_engine.ReplayEngine` configured from the header; every other
line is a *decision* that must match, in order per backend, what the engine produces
at that virtual time (within a tolerance). Backends are independent, so the events of
different backends may come in any order at the same instant: reaching a backend's line,
the engine runs that backend's events of the instant only (:meth:`ReplayEngine.step_on`).

Timing conventions (those of the engine and of the scenario format):

- A request at time t comes after every event due at t: any decision the spec takes at
  or before t on the request's backend must appear before the request.
- A device outcome is applied where the trace puts it, after the events before its time,
  unless the device inputs are known (:mod:`.inputs`): the device's end of a job is then a
  decision, and an injected fault is applied in its place among the requests, after every
  event due at its time.
- A decision is late when the trace moves past its time (plus the tolerance) without it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.requests import NotInProfile
from model.spec.interpretations import Interpretation
from model.spec.lifecycles import LIFECYCLES_BY_NAME
from model.spec.rules import RULES_BY_ID
from model.spec.validations import VALIDATIONS_BY_CODE, RequestRejected
from model.trace import Change, Emitter, Header, Record, Request
from model.trace.reader import CHANGE, REQUEST
from model.trace.timing import TIME_EPSILON, slack, time_text
from properties.conformance.inputs import DeviceInputs
from properties.conformance.reader import Unusable
from properties.conformance.render import describe, in_cascade_run, same
from properties.conformance.replay_engine import DEVICE_TRIGGERS, Observed, ReplayEngine


@dataclass(frozen=True)
class Divergence:
    """The trace and the spec disagree at one line (``line`` is 1-based; end of trace is last + 1)."""

    line: int
    rules: tuple[str, ...]
    got: str
    expected: str

    def render(self, path: str) -> str:
        rules = f" [{', '.join(self.rules)}]" if self.rules else ""  # none: the spec could not follow the trace
        return f"{path}:{self.line}: divergence{rules}: got {self.got}; the spec expected {self.expected}"


DEVICE_RULE: Final = "DEVICE-RUNS-DURATION"
"""Cited, beside the rules of the records, by a divergence in a device end the kit's inputs decide."""

_NONE_LATE: Final[list[tuple[str | None, Change]]] = []
"""What ``_late`` returns when nothing is late (shared: never changed)."""


def backend_configs(header: Header) -> list[BackendConfig]:
    return [
        BackendConfig(
            name,
            system_max_time=float(limits["system_max_time"]),
            program_max_execution_time=float(limits["program_max_execution_time"]),
        )
        for name, limits in header.backends.items()
    ]


class Replayer:
    """Feed it the records after the header, in order; it returns the divergences it finds."""

    def __init__(
        self, header: Header, interpretation: Interpretation, *, tolerance: float = 0.0, keep_going: bool = False,
        window: int = 10_000, inputs: DeviceInputs | None = None,
    ) -> None:
        self.tolerance = tolerance
        self.inputs = inputs
        """What the kit told the device, if known: its jobs' ends are then decisions."""
        self.keep_going = keep_going
        self.pending: dict[str | None, deque[Change]] = {}
        """Per backend, the decisions the engine took that the trace has yet to show (:meth:`_queue`)."""
        self._echo: Request | Change | None = None
        self._capture_job: str | None = None
        self.engine = ReplayEngine(
            backend_configs(header), interpretation=interpretation, sink=_Sink(self), window=window
        )
        self.observed = Observed(header.backends, interpretation) if keep_going else None
        self.end_time = 0.0
        self.last_line = 1
        self._updated = False
        self.suspended: set[str] = set()

    def _sink(self, record: Record) -> None:
        if isinstance(record, CHANGE):
            if self._capture_job == record.id and record.entity == "job" and self._echo is None:
                self._echo = record  # the engine's own record of the device end being replayed
            else:
                self._queue(record.backend).append(record)
        elif isinstance(record, REQUEST):
            self._echo = record  # the engine's own record of the request being replayed

    def _queue(self, backend: str | None) -> deque[Change]:
        """The backend's queue in ``pending``, added empty on first use (a plain dict: compiled, iterating a
        defaultdict is a Python method call; the keys keep the order in which the backends were first used)."""
        queue = self.pending.get(backend)
        if queue is None:
            queue = self.pending[backend] = deque()
        return queue

    def _foreseen(self, change: Change) -> bool:
        """Whether ``change`` is about the entity of the next decision the engine took on its backend: then the
        header declares the backend and a request created the ID, with no lookup in the engine's tables (which
        keep every ID the trace has used)."""
        queue = self.pending.get(change.backend)
        if not queue:
            return False
        head = queue[0]
        return head.id == change.id and head.entity == change.entity

    def _take_echo(self) -> Request | Change | None:
        """The record ``_sink`` captured, and none any more. (Read through a call: after ``self._echo = None``,
        mypy takes the attribute for None across the engine call that sets it.)"""
        echo = self._echo
        self._echo = None
        return echo

    # ------------------------------------------------------------------ one line

    def feed(self, line: int, record: Request | Change) -> list[Divergence]:
        """The divergences this line shows (at most one unless ``keep_going``)."""
        self.last_line = line
        engine = self.engine
        engine.drop_dead_events()
        if isinstance(record, CHANGE):
            self.end_time = record.t
            if self.observed is not None or (not self._foreseen(record) and (
                record.backend not in engine.backends
                or record.id not in (engine.jobs if record.entity == "job" else engine.sessions)
            )):
                self._check_known(line, record)
        else:
            self.end_time = record.t
        self._updated = False
        try:
            return self._feed(line, record)
        except (Unusable, KeyboardInterrupt):
            raise
        except Exception as error:  # the spec cannot follow this trace: say so, never crash
            cannot = f"a state the spec can follow from (replaying it raised {type(error).__name__}: {error})"
            if not self.keep_going:
                raise Unusable(line, f"the reference engine cannot replay this line: {cannot}") from None
            if self.observed is not None and not self._updated:
                self.observed.update(record)
            self._suspend(record.backend if isinstance(record, CHANGE) else self._route(record))
            return [Divergence(line, rules_for(None, record, self.engine), describe(record), cannot)]

    def _feed(self, line: int, record: Request | Change) -> list[Divergence]:
        found: list[Divergence] = []
        engine = self.engine
        pending = self.pending
        request: Request | None
        change: Change | None
        if self.inputs is not None and self.inputs.faults:
            self._inject(record)
        if isinstance(record, REQUEST):
            request, change, device = record, None, False
            sent = request if self.inputs is None else self.inputs.saw(request, self.tolerance)
            if self.inputs is not None and self.inputs.stray is not None:
                found.append(Divergence(line, (), describe(request), self.inputs.stray))
                if not self.keep_going:
                    return found
        else:
            request, change = None, record
            device = record.entity == "job" and record.trigger in DEVICE_TRIGGERS and (
                self.inputs is None or self._is_input(record)
            )
        if self.observed is not None and self.suspended:
            backend = record.backend if isinstance(record, CHANGE) else self._route(record)
            if backend in self.suspended:
                if not self._resumes_at(record):
                    self.observed.update(record)
                    self._updated = True
                    return found
                engine.adopt(backend, self.observed)
                pending.pop(backend, None)
                self.suspended.discard(backend)
        if change is None:
            engine.run_through(record.t, self._route(sent) if engine.several else None)
        elif device:
            engine.advance_before(record.t)
        elif not self._queue(change.backend):
            self._step_for(change)
        bound = record.t - self.tolerance - TIME_EPSILON  # (the slack is never smaller: a cheap first test)
        for queue in pending.values():
            if queue and queue[0].t < bound and queue[0].t < record.t - self.tolerance - slack(record.t):
                # a decision due earlier is missing: say which
                for backend, late in self._late(record):
                    rules = self._cite_device(rules_for(late, record, engine), late, record)
                    got = describe(record)
                    if record.backend != late.backend:  # another backend's line: say that this one shows none
                        got = f"no line of {late.backend} at t={time_text(late.t)} (the trace goes on with {got})"
                    found.append(Divergence(line, rules, got, describe(late)))
                    if not self.keep_going:
                        return found
                    self._suspend(backend)
                break
        if request is not None:
            problem = self._request(line, request, sent)
        elif change is None:  # pragma: no cover - a record is a request or a change
            raise AssertionError(record)
        elif device:
            problem = self._device(line, change)
        else:
            expected = pending.get(change.backend)
            if expected and same(expected[0], change, self.tolerance):  # the next decision, as expected
                expected.popleft()
                problem = None
            else:
                problem = self._decision(line, change)
        if self.observed is not None:
            self.observed.update(record)
            self._updated = True
        if problem is not None:
            found.append(problem)
            if self.keep_going:
                self._suspend(record.backend if isinstance(record, CHANGE) else self._route(record))
        return found

    def finish(self, until: float | None = None) -> list[Divergence]:
        """Decisions the spec takes up to the end that the trace never shows.

        The end is the trace's last time, or ``until`` if the run it records went on
        longer (the recording then says that nothing happened in between).
        """
        end = max(self.end_time, until if until is not None else 0.0)
        at_end = f"the end of the trace (t={time_text(end)})"
        try:
            if self.inputs is not None:
                self._inject(None)
            self.engine.run_until(max(end, self.engine.now))
        except KeyboardInterrupt:
            raise
        except Exception as error:  # as in ``feed``: the spec cannot follow this trace; say so, never crash
            cannot = f"a state the spec can follow to the end (replaying it raised {type(error).__name__}: {error})"
            if not self.keep_going:
                raise Unusable(self.last_line, f"the reference engine cannot replay this trace to its end: {cannot}") \
                    from None
            return [Divergence(self.last_line + 1, (), at_end, cannot)]
        found = []
        unseen = self.inputs.unseen() if self.inputs is not None else None
        if unseen is not None:
            found.append(Divergence(self.last_line + 1, (), at_end, unseen))
            if not self.keep_going:
                return found
        for queue in self.pending.values():
            if queue and queue[0].t + self.tolerance <= end + slack(end):
                rules = self._cite_device(queue[0].rules, queue[0])
                found.append(Divergence(self.last_line + 1, rules, at_end, describe(queue[0])))
                if not self.keep_going:
                    break
        return found

    # ------------------------------------------------------------------ the three kinds of line

    def _request(self, line: int, recorded: Request, request: Request) -> Divergence | None:
        """Replay ``request`` (the ``recorded`` line's, or as the client sent it where the kit knows that:
        :meth:`DeviceInputs.saw`) and compare the reference's line with the one recorded."""
        backend = self._route(request)
        queue = self.pending.get(backend)
        if queue and queue[0].t + self.tolerance <= request.t + slack(request.t):
            return Divergence(line, queue[0].rules, describe(recorded), f"{describe(queue[0])} first")
        self._echo = None
        engine = self.engine
        try:
            if request.op == "open":
                max_time = request.args.get("max_time") if request.args else None
                mode = request.args.get("mode") if request.args else None
                engine.open_session(request.backend, max_time, request.session, mode)
            elif request.op == "submit":
                engine.submit_recorded(
                    request, self.inputs.take_submit(request.job, request.t, self.tolerance) if self.inputs else None
                )
            elif request.op == "cancel":
                engine.cancel(request.job or "")
            elif request.op == "cancel_session":
                engine.cancel_session(request.session or "")
            else:
                engine.close(request.session or "")
        except RequestRejected:
            pass
        except NotInProfile as error:  # a cancel_session line in a trace of the seeds' profile
            return Divergence(line, ("PLATFORM-CANCEL-SESSION",), describe(recorded), str(error))
        echo = self._take_echo()
        assert isinstance(echo, REQUEST), "the engine records every request"
        if same(echo, recorded, self.tolerance):
            return None
        return Divergence(line, rules_for(echo, recorded, engine), describe(recorded), describe(echo))

    def _device(self, line: int, change: Change) -> Divergence | None:
        job = self.engine.jobs[change.id]
        if job.state != "running":
            return Divergence(
                line, rules_for(None, change, self.engine), describe(change),
                f"job {job.id} to be {job.state} at t={time_text(change.t)}, so the device cannot end it",
            )
        self._echo = None
        self._capture_job = job.id
        try:
            self.engine.end_running(job, change.trigger)
        finally:
            self._capture_job = None
        echo = self._take_echo()
        assert echo is not None
        if same(echo, change, self.tolerance):
            return None
        return Divergence(line, rules_for(echo, change, self.engine), describe(change), describe(echo))

    def _decision(self, line: int, change: Change) -> Divergence | None:
        queue = self.pending.get(change.backend)
        if not queue:
            nxt = self.engine.next_event_time
            later = f" (its next event is due at t={time_text(nxt)})" if nxt is not None else ""
            return Divergence(
                line, self._cite_device(rules_for(None, change, self.engine), change), describe(change),
                f"no change on {change.backend} at t={time_text(change.t)}{later}",
            )
        expected = queue[0]
        for index, candidate in enumerate(queue):
            if index and not in_cascade_run(expected, candidate):
                break
            if same(candidate, change, self.tolerance):
                del queue[index]
                return None
        queue.popleft()
        rules = self._cite_device(rules_for(expected, change, self.engine), expected, change)
        return Divergence(line, rules, describe(change), describe(expected))

    # ------------------------------------------------------------------ the device inputs

    def _is_input(self, change: Change) -> bool:
        """Whether this device line is an input (applied as the trace says), not the engine's decision: the
        job's device inputs are unknown and the line is not the engine's own failure of it by an injected fault."""
        job = self.engine.jobs.get(change.id)
        if job is None or not math.isinf(job.duration):
            return job is None
        expected = self.pending.get(change.backend)
        return not (expected and same(expected[0], change, self.tolerance))

    def _inject(self, record: Request | Change | None) -> None:
        """Apply the injected faults whose place the trace has reached before ``record`` (None: at its end):
        after every event due at the fault's time, the engine fails the job running then, if any, and that
        record waits among the decisions the trace must show."""
        assert self.inputs is not None
        engine = self.engine
        for at, backend in self.inputs.take_faults(record, self.tolerance):
            if backend in engine.backends and backend not in self.suspended:
                engine.run_until(max(at, engine.now))
                engine.inject_fault(backend)

    def _cite_device(self, rules: tuple[str, ...], *records: Request | Change | None) -> tuple[str, ...]:
        """``rules``, with :data:`DEVICE_RULE` if one of ``records`` is a device end the inputs decide."""
        if self.inputs is None or DEVICE_RULE in rules:
            return rules
        for record in records:
            if (
                isinstance(record, CHANGE) and record.entity == "job" and record.trigger in DEVICE_TRIGGERS
                and not math.isinf(getattr(self.engine.jobs.get(record.id), "duration", math.inf))
            ):
                return (*rules, DEVICE_RULE)
        return rules

    # ------------------------------------------------------------------ helpers

    def _step_for(self, change: Change) -> None:
        """Run the engine until it has a decision for this backend or the line's time is past."""
        engine = self.engine
        queue = self._queue(change.backend)
        horizon = change.t + self.tolerance + slack(change.t)
        if engine.several:  # the other backends' events of this instant wait for their own lines
            instant = change.t - slack(change.t)
            while not queue and engine.step_on(change.backend, horizon, instant):
                pass
            return
        while not queue:
            nxt = engine.next_event_time
            if nxt is None or nxt > horizon:
                break
            engine.step()

    def _late(self, record: Request | Change) -> list[tuple[str | None, Change]]:
        horizon = record.t - self.tolerance - slack(record.t)
        late: list[tuple[str | None, Change]] = _NONE_LATE
        for backend, queue in self.pending.items():
            if queue and queue[0].t < horizon:
                if late is _NONE_LATE:
                    late = []
                late.append((backend, queue[0]))
        return late

    def _check_known(self, line: int, change: Change) -> None:
        engine = self.engine
        if change.backend not in engine.backends:
            raise Unusable(line, f"unknown backend {change.backend!r}: the header does not declare it")
        known: Mapping[str, object] = engine.jobs if change.entity == "job" else engine.sessions
        seen = self.observed
        if seen is not None and change.id in (seen.jobs if change.entity == "job" else seen.sessions):
            return  # the trace created it; --all follows the trace even where the spec lost track
        if change.id not in known:
            request = "submit" if change.entity == "job" else "open"
            raise Unusable(line, f"unknown {change.entity} id {change.id!r}: no accepted {request} request created it")

    def _route(self, request: Request) -> str | None:
        """The backend a request concerns, as the spec sees it."""
        engine = self.engine
        if request.op in ("submit", "close", "cancel_session") and request.session in engine.sessions:
            return engine.sessions[request.session].backend_name
        if request.op == "cancel":
            job = engine.jobs.get(request.job or "")
            return job.backend_name if job is not None else None
        return request.backend

    def _suspend(self, backend: str | None) -> None:
        """After a divergence (``--all``): stop judging this backend until a line it can resume at."""
        if backend is not None and backend in self.engine.backends:
            self.suspended.add(backend)
            self.pending.pop(backend, None)

    def _resumes_at(self, record: Request | Change) -> bool:
        """Resynchronise before an input the trace's own state can take: a request, or the device
        ending a job the trace shows running. The engine adopts the trace's state, then judges
        the line and everything after it."""
        if isinstance(record, REQUEST):
            return True
        assert self.observed is not None
        job = self.observed.jobs.get(record.id) if record.entity == "job" else None
        return record.trigger in DEVICE_TRIGGERS and job is not None and job.state == "running"


class _Sink(Emitter):
    """The replay engine's sink: hands each record it emits to the replayer (compiled, a direct call; a bound
    method as the sink was called through Python's calling convention, once a record)."""

    def __init__(self, replayer: Replayer) -> None:
        self.replayer = replayer

    def __call__(self, record: Record) -> None:
        self.replayer._sink(record)


def rules_for(expected: Request | Change | None, got: Request | Change, engine: Engine) -> tuple[str, ...]:
    """The rules a divergence breaks: the spec's reasons for what it expected, then those of what the
    trace shows instead (the rules the observed record goes against, or claims)."""
    found = [*_expected_rules(expected, got), *_observed_rules(got, engine)]
    if found:
        return tuple(dict.fromkeys(found))
    return ("SESSION-GROUPS-JOBS",) if isinstance(got, REQUEST) else ("JOB-TERMINAL",)


def _expected_rules(expected: Request | Change | None, got: Request | Change) -> tuple[str, ...]:
    if isinstance(expected, CHANGE):
        return expected.rules
    if isinstance(expected, REQUEST):
        if expected.error is not None:
            return expected.rules
        if isinstance(got, REQUEST) and got.error in VALIDATIONS_BY_CODE:
            return VALIDATIONS_BY_CODE[got.error].rules
    return ()


def _observed_rules(got: Request | Change, engine: Engine) -> list[str]:
    if isinstance(got, REQUEST):
        return [r for r in got.rules if r in RULES_BY_ID]
    found: list[str] = []
    if got.entity == "job" and got.dst == "running":
        backend = engine.backends.get(got.backend)
        if backend is not None and backend.running is not None:
            found.append("SCHED-ONE-AT-A-TIME")
        elif backend is not None and backend.active_session is not None and backend.active_session.id != got.session:
            found += ["SCHED-PRIORITY", "SESSION-SINGLE-ACTIVE"]
    if got.entity == "session" and got.dst == "active":
        backend = engine.backends.get(got.backend)
        if backend is not None and backend.active_session is not None and backend.active_session.id != got.id:
            found.append("SESSION-SINGLE-ACTIVE")
    lifecycle = LIFECYCLES_BY_NAME.get(got.entity)
    if lifecycle is not None:
        for transition in lifecycle.under(engine.interpretation).transitions:
            if transition.trigger == got.trigger and (got.src is None or got.src in transition.source):
                found += transition.rules
    found += [r for r in got.rules if r in RULES_BY_ID]
    return found
