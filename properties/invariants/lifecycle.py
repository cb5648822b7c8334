"""Lifecycle properties: every state change is declared, final states stay final, no job
is lost, and closing, cancelling and first-job cancel have their consequences at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Final

from model.spec.interpretations import FirstJobCancel as FirstJobCancelOption
from model.spec.interpretations import FirstJobFailure, IdleDevice, Interpretation, OtherSessionJob
from model.spec.interpretations import PlatformFirstJobCancel as _PlatformFirstJobCancel
from model.spec.lifecycles import JOB, JOB_OWN_FAILURES, SESSION, Lifecycle, Transition, declared
from model.spec.rules import RULES_BY_ID
from model.trace import Change, Header, Request
from model.trace.reader import CHANGE, REQUEST
from model.trace.timing import same_time, time_text
from properties.invariants.base import Violation, forget, take
from properties.invariants.ledger import JOB_FINAL, SESSION_FINAL, JobView, SessionView
from properties.invariants.suite import Changes, Interest, LiveProperty, Outside, Requests

NO_EFFECT: Final = _PlatformFirstJobCancel.NO_EFFECT
JOB_STATES: Final = frozenset(JOB.state_names)
_RULES_CACHE_LIMIT: Final = 4096


_UNDECLARED: Final = object()
"""No transition is declared for a (from, trigger, to)."""


class _Entity:
    """One lifecycle as :class:`DeclaredTransitions` reads it on every change line: its initial, final and
    known states, the declared failure reason of each (from, trigger, to) it declares (None: any), and the
    current state of each of its live entities."""

    def __init__(self, lifecycle: Lifecycle, table: Mapping[tuple[str, str, str, str], Transition]) -> None:
        self.lifecycle = lifecycle
        self.initial = lifecycle.initial
        self.final = lifecycle.final_states
        self.names = frozenset(lifecycle.state_names)
        self.reasons: dict[tuple[str, str, str], object] = {
            (src, trigger, dst): t.reason for (entity, src, trigger, dst), t in table.items()
            if entity == lifecycle.entity
        }
        self.state: dict[str, str] = {}


class DeclaredTransitions(LiveProperty):
    name = "declared-transitions"
    rules = (
        "JOB-TERMINAL", "SESSION-START-FIRST-JOB", "SESSION-REACTIVATE", "TTL-INTERACTIVE",
        "MAXTIME-EXPIRY", "SESSION-CLOSE", "SCHED-ONE-AT-A-TIME",
    )
    description = (
        "Every change line is a transition the declaration has under the trace's interpretation, "
        "from the entity's current state, citing catalogue rules and the declared failure reason."
    )
    judges = (Changes(),)
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.lifecycles: dict[str, Lifecycle] = {lc.entity: lc for lc in declared(self.interpretation) if lc.traced}
        self.table: dict[tuple[str, str, str, str], Transition] = {}
        """(entity, from, trigger, to) -> the first declared transition that matches."""
        self.cited: dict[tuple[str, str], tuple[str, ...]] = {}
        for lc in self.lifecycles.values():
            for t in lc.transitions:
                for source in t.source:
                    self.table.setdefault((lc.entity, source, t.trigger, t.dest), t)
                rules = self.cited.get((lc.entity, t.trigger), ())
                self.cited[(lc.entity, t.trigger)] = tuple(dict.fromkeys((*rules, *t.rules)))
        self.entities = {entity: _Entity(lc, self.table) for entity, lc in self.lifecycles.items()}
        """What the hot path reads of each entity's lifecycle, and the live entities' states."""
        self.known_rules: set[tuple[str, ...]] = set()
        """Rule lists already found to cite only catalogue rules."""

    def judge(self, index: int, record: Change) -> Violation | None:
        entity = self.entities.get(record.entity)
        if entity is None:
            return self.violation(index, record.t, f"unknown entity type {record.entity!r}")
        state, ident, src, dst = entity.state, record.id, record.src, record.dst
        current = state.get(ident)
        if src is None:
            ok = current is None and dst == entity.initial
        elif current == src:
            reason = entity.reasons.get((src, record.trigger, dst), _UNDECLARED)
            ok = reason is not _UNDECLARED and (reason is None or record.reason == reason)
        else:
            ok = False
        found = None if ok else self._judge(index, record, entity.lifecycle, current)
        if dst in entity.final:
            if current is not None:
                del state[ident]
        elif dst in entity.names:
            state[ident] = dst
        if found is None and record.rules not in self.known_rules:
            unknown = [r for r in record.rules if r not in RULES_BY_ID]
            if unknown:
                what = f"{record.entity} {record.id}"
                found = self.violation(index, record.t, f"{what} cites unknown rule(s) {', '.join(unknown)}")
            else:
                if len(self.known_rules) >= _RULES_CACHE_LIMIT:
                    self.known_rules.clear()
                self.known_rules.add(record.rules)
        return found

    def _judge(self, index: int, record: Change, lc: Lifecycle, current: str | None) -> Violation | None:
        t = record.t
        if record.src is None:
            if current is None and record.dst == lc.initial:
                return None
            what = f"{record.entity} {record.id}"
            if current is not None:
                return self.violation(index, t, f"{what} is created again while it is {current}")
            return self.violation(index, t, f"{what} is created in {record.dst}, not in {lc.initial}")
        if current != record.src:
            what = f"{record.entity} {record.id}"
            if current is None:
                return self.violation(
                    index, t, f"{what} changes from {record.src} but is not live (ended, or never created)"
                )
            return self.violation(index, t, f"{what} changes from {record.src} but is {current}")
        match = self.table.get((record.entity, record.src, record.trigger, record.dst))
        if match is None:
            rules = self.cited.get((record.entity, record.trigger), self.rules)
            return Violation(
                self.name, rules, index, t,
                f"{record.entity} {record.id}: {record.src} --{record.trigger}--> {record.dst} is not declared "
                f"under {self.interpretation.name}",
            )
        if match.reason is not None and record.reason != match.reason:
            return Violation(
                self.name, match.rules, index, t,
                f"{record.entity} {record.id} failed with reason {record.reason!r}; "
                f"{record.trigger} declares {match.reason!r}",
            )
        return None


class _Absorbing(LiveProperty):
    """A final state is never left: a change of an ended entity is a violation."""

    lifecycle: ClassVar[Lifecycle]
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.live: set[str] = set()
        self.final = self.lifecycle.final_states

    def interest(self) -> tuple[Interest, Interest]:
        return (Changes(self.lifecycle.entity),), self.applies

    def judge(self, index: int, record: Change) -> Violation | None:
        found = None
        src = record.src
        if src in self.final:
            found = self.violation(
                index, record.t, f"{record.entity} {record.id} leaves its final state {src} for {record.dst}"
            )
        elif src is not None and record.id not in self.live:
            found = self.violation(
                index, record.t,
                f"{record.entity} {record.id} changes to {record.dst} after reaching a final state "
                "(or was never created)",
            )
        if record.dst in self.final:
            self.live.discard(record.id)
        else:
            self.live.add(record.id)
        return found


class ClosedIsAbsorbing(_Absorbing):
    name = "closed-is-absorbing"
    rules = ("MAXTIME-EXPIRY", "SESSION-CLOSE")
    description = "A closed session (by the client, max_time or first-job cancel) never changes state again."
    lifecycle = SESSION


class JobOutcomeIsFinal(_Absorbing):
    name = "job-outcome-is-final"
    rules = ("JOB-TERMINAL",)
    description = "A completed, failed or cancelled job never changes state again."
    lifecycle = JOB


class NothingLost(LiveProperty):
    name = "nothing-lost"
    rules = ("JOB-TERMINAL",)
    description = (
        "Every accepted submit creates exactly one job, no job appears without one, "
        "and every failed job says why."
    )
    judges = (
        Requests(),
        Changes("job", src=None), Changes("job", dst="failed"), Changes("job", dst=Outside(JOB_STATES)),
    )
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.expected: dict[str, tuple[str | None, str | None, float]] = {}
        """job -> (backend, session, t) of its accepted submit, until the job line appears."""

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, REQUEST):
            found = self._missing(index, record.t, self.ctx.backend)
            if record.op == "submit" and record.error is None:
                if record.job is None:
                    return found or self.violation(index, record.t, "an accepted submit names no job")
                self.expected[record.job] = (record.backend, record.session, record.t)
            return found
        if record.src is None:
            submitted = take(self.expected, record.id)
            if submitted is None:
                return self.violation(index, record.t, f"job {record.id} appears without an accepted submit")
            backend, session, _ = submitted
            if (backend is not None and backend != record.backend) or session != record.session:
                return self.violation(
                    index, record.t,
                    f"job {record.id} appears on {record.backend}/{record.session}, submitted to {backend}/{session}",
                )
        if record.dst == "failed" and not record.reason:
            return self.violation(index, record.t, f"job {record.id} failed without a reason")
        if record.dst not in JOB_STATES:
            return self.violation(index, record.t, f"job {record.id} enters unknown state {record.dst!r}")
        return None

    def _missing(self, index: int, t: float, backend: str | None = None, every: bool = False) -> Violation | None:
        """An accepted submit of ``backend`` (``every``: of any) whose job line has not come; those are forgotten.
        A request of another backend may come first: backends are independent."""
        if not self.expected:
            return None
        missing = [job for job, (on, _, _) in self.expected.items() if every or on == backend]
        if not missing:
            return None
        at = self.expected[missing[0]][2]
        for job in missing:
            del self.expected[job]
        return self.violation(
            index, t, f"the submit of job {missing[0]} at t={time_text(at)} was accepted but created no job"
        )

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found = self._missing(index, end_time, every=True)
        return [found] if found is not None else []


class ActivationAtFirstStart(LiveProperty):
    name = "activation-at-first-start"
    rules = ("SESSION-START-FIRST-JOB", "SESSION-REACTIVATE")
    description = (
        "A session becomes active right after one of its jobs starts, and (but under run_unactivated) "
        "a job of a pending or inactive session never starts without activating it."
    )
    judges = (Changes("session"), Changes("job", dst="running"))
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        policy = self.interpretation.policy
        self.unactivated = (
            policy.idle_device is IdleDevice.WORK_CONSERVING
            and policy.other_session_job is OtherSessionJob.RUN_UNACTIVATED
        )
        self.state: dict[str, str] = {}
        self.active: dict[str, str] = {}
        self.awaiting: dict[str | None, Change] = {}
        """Per backend, the start of a job whose session must become active on the backend's very next line."""
        self.missed_at = -1
        """The record at which an awaited activation was found missing: a session line there is not
        read further (one finding per line; this property has always skipped it)."""

    def _next_line(self, index: int, record: Request | Change) -> Violation | None:
        """The line after a start that must activate its session (the next of that backend)."""
        awaiting = self.awaiting.pop(self.ctx.backend, None)  # (the hook runs on that backend's next line only)
        if awaiting is None:
            return None
        activated = (
            isinstance(record, CHANGE) and record.entity == "session"
            and record.id == awaiting.session and record.dst == "active"
        )
        if activated:
            return None
        self.missed_at = index
        return self.violation(
            index, record.t,
            f"job {awaiting.id} of {self.state.get(awaiting.session or '', 'closed')} session "
            f"{awaiting.session} started at t={time_text(awaiting.t)} without activating it",
        )

    def judge(self, index: int, record: Change) -> Violation | None:
        if record.entity == "session":
            return self._session(index, record) if self.missed_at != index else None
        session = record.session
        if session is not None and self.state.get(session) in ("pending", "inactive"):
            other = self.active.get(record.backend)
            if not (self.unactivated and other is not None and other != session):
                self.awaiting[record.backend] = record
                self.ctx.at_next_record(self, self._next_line)
        return None

    def _session(self, index: int, record: Change) -> Violation | None:
        found = None
        sid = record.id
        if record.dst == "active" and record.src in ("pending", "inactive"):
            start = self.ctx.prev  # "right before": the backend's previous line, if it is a job start
            if (
                not isinstance(start, CHANGE) or start.entity != "job" or start.dst != "running"
                or start.session != sid or not same_time(start.t, record.t)
            ):
                found = self.violation(
                    index, record.t, f"session {sid} becomes active without one of its jobs starting right before"
                )
        if record.src == "active" and self.active.get(record.backend) == sid:
            del self.active[record.backend]
        if record.dst == "active":
            self.active[record.backend] = sid
        if record.dst in SESSION_FINAL:
            forget(self.state, sid)
        else:
            self.state[sid] = record.dst
        return found

    def finish(self, index: int, end_time: float) -> list[Violation]:
        return [
            self.violation(index, end_time, f"job {awaiting.id} started but session {awaiting.session} never activated")
            for awaiting in self.awaiting.values()
        ]


def running_job_fails(interpretation: Interpretation, session_trigger: str) -> bool:
    """Whether closing a session through ``session_trigger`` fails its running job, per the declaration."""
    lifecycles = {lc.name: lc for lc in declared(interpretation)}
    cascades = {t.cascade for t in lifecycles["session"].transitions if t.trigger == session_trigger and t.cascade}
    return any(lifecycles["job"].targets("running", cascade) for cascade in cascades)


_QUEUED_OR_RUNNING: Final = frozenset(("queued", "running"))


class NoStartAfterClose(LiveProperty):
    name = "no-start-after-close"
    rules = ("SESSION-CLOSED-REJECTS", "CLOSE-FAILS-INCOMPLETE")
    description = (
        "A closed session takes no job and starts none; its queued jobs fail at the close, "
        "and its running job too unless INT-CLOSE-RUNNING-JOB / INT-EXPIRY-RUNNING-JOB say finish."
    )
    judges = (Requests("submit", accepted=True), Changes("job", dst="running", session=True))
    applies = (
        Changes("session", dst=SESSION_FINAL),
        Changes("job", src=_QUEUED_OR_RUNNING, session=True), Changes("job", dst=_QUEUED_OR_RUNNING, session=True),
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.fails_running = {
            trigger: running_job_fails(self.interpretation, trigger)
            for trigger in dict.fromkeys(t.trigger for t in SESSION.transitions if t.dest == "closed")
        }
        self.queued: dict[str, int] = {}
        """session -> its queued jobs, closed sessions included."""
        self.running: dict[str, str] = {}
        """session -> its running job, closed sessions included."""
        self.closing: list[tuple[str, str]] = []
        """(session, trigger) closed during the current instant."""

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        session = record.session
        if session is None or session in self.ledger.sessions:
            return None
        if isinstance(record, REQUEST):
            return self.violation(index, record.t, f"a job for closed (or unknown) session {session} is accepted")
        return self.violation(index, record.t, f"job {record.id} of closed session {session} starts")

    def applied(self, index: int, record: Change) -> Violation | None:
        if record.entity == "session":
            self.closing.append((record.id, record.trigger))
            self.wake()
            return None
        session = record.session
        assert session is not None
        delta = (record.dst == "queued") - (record.src == "queued")
        if delta:
            count = self.queued.get(session, 0) + delta
            if count:
                self.queued[session] = count
            else:
                forget(self.queued, session)
        if record.src == "running" and self.running.get(session) == record.id:
            del self.running[session]
        if record.dst == "running":
            self.running[session] = record.id
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        found = None
        now = self.ctx.now
        for session, trigger in self.closing:
            if found is not None:
                break
            queued = self.queued.get(session, 0)
            running = self.running.get(session)
            if queued > 0:
                found = self.violation(
                    index, now, f"session {session} closed ({trigger}) but {queued} of its job(s) stay queued"
                )
            elif running is not None and self.fails_running.get(trigger, True):
                found = self.violation(
                    index, now,
                    f"session {session} closed ({trigger}) but its running job {running} did not fail "
                    f"under {self.interpretation.name}",
                )
        self.closing.clear()
        return found


class FirstJobCancel(LiveProperty):
    name = "first-job-cancel"
    rules = ("FIRST-JOB-CANCEL",)
    description = (
        "Once a session's first job is cancelled (or, under INT-FIRST-JOB-FAILURE=as_cancel, fails), none of "
        "its other jobs starts or completes: they fail at once (fail_subsequent), or the session closes at "
        "once (close_session)."
    )
    judges = (Changes("job", dst=frozenset(("running", "completed")), session=True),)
    applies = (
        Changes("session", dst=SESSION_FINAL),
        Changes("job", src=None, session=True), Changes("job", dst="cancelled", session=True),
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        policy = self.interpretation.policy
        self.close_session = policy.first_job_cancel is FirstJobCancelOption.CLOSE_SESSION
        self.on_failure = policy.first_job_failure is FirstJobFailure.AS_CANCEL
        self.off = self.interpretation.is_platform and policy.platform_first_job_cancel is NO_EFFECT
        """Under the platform profile the rule holds only by INT-PLATFORM-FIRST-JOB-CANCEL=fail_subsequent."""
        self.first: dict[str, str] = {}
        """live session -> its first job."""
        self.doomed: dict[str, float] = {}
        """live session -> when its first job was cancelled (or failed)."""
        self.how: dict[str, str] = {}
        """live doomed session -> how its first job ended (cancelled or failed)."""

    def interest(self) -> tuple[Interest, Interest]:
        if not self.on_failure:
            return self.judges, self.applies
        return self.judges, (*self.applies, Changes("job", dst="failed", session=True))

    def judge(self, index: int, record: Change) -> Violation | None:
        if record.session not in self.doomed:
            return None
        return self.violation(
            index, record.t,
            f"job {record.id} of session {record.session} {'starts' if record.dst == 'running' else 'completes'} "
            f"after its first job was {self.how[record.session]} at t={time_text(self.doomed[record.session])}",
        )

    def applied(self, index: int, record: Change) -> Violation | None:
        if record.entity == "session":
            forget(self.first, record.id)
            forget(self.doomed, record.id)
            forget(self.how, record.id)
            return None
        if self.off:
            return None
        session = record.session
        if session not in self.ledger.sessions:
            return None
        assert session is not None
        if record.src is None:
            self.first.setdefault(session, record.id)
        elif self.first.get(session) == record.id and (record.dst == "cancelled" or record.reason in JOB_OWN_FAILURES):
            self.doomed[session] = record.t
            self.how[session] = record.dst
            self.wake()
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        found = None
        now = self.ctx.now
        for session in list(self.doomed):
            view = self.ledger.sessions.get(session)
            if view is None:
                del self.doomed[session]
            elif self.close_session:
                del self.doomed[session]
                found = found or self.violation(
                    index, now, f"session {session} stays open after its first job was {self.how[session]}"
                )
            elif view.queued > 0:
                found = found or self.violation(
                    index, now,
                    f"{view.queued} job(s) of session {session} stay queued after its first job was "
                    f"{self.how[session]}",
                )
        if self.doomed:
            self.wake()
        return found


class CloseDrains(LiveProperty):
    name = "close-drains"
    rules = ("PLATFORM-CLOSE-DRAINS", "PLATFORM-NOT-ACCEPTING")
    description = (
        "Under the platform profile a closing (pending_closed) session accepts no job, none of its jobs fails "
        "because of the close, and it is closed (trigger drained) within the instant its last job ends, never "
        "before; under the seeds it says nothing."
    )
    judges = (
        Requests("submit", accepted=True), Changes("job", dst="failed", session=True),
        Changes("session", src="pending_closed"),
    )
    applies = (Changes("job", src=_QUEUED_OR_RUNNING, session=True), Changes("session", dst="pending_closed"))

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.on = self.interpretation.is_platform
        self.closing: set[str] = set()
        """pending_closed sessions whose last job may have ended in this instant."""

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if not self.on:
            return None
        if isinstance(record, REQUEST):
            view = self.ledger.sessions.get(record.session or "")
            if view is not None and view.state == "pending_closed":
                message = f"a job is accepted by session {record.session}, which is closing"
                return self.violation(index, record.t, message)
            return None
        if record.entity == "job":
            view = self.ledger.sessions.get(record.session or "")
            if view is not None and view.state == "pending_closed" and record.reason == "session_closed":
                return self.violation(index, record.t, f"job {record.id} of closing session {record.session} fails "
                                      "because of the close; it should run to completion")
            return None
        view = self.ledger.sessions.get(record.id)
        if record.trigger == "drained" and view is not None and (view.queued or view.running is not None):
            return self.violation(index, record.t, f"session {record.id} is closed as drained with jobs left")
        self.closing.discard(record.id)
        return None

    def applied(self, index: int, record: Change) -> Violation | None:
        if not self.on:
            return None
        sid = record.id if record.entity == "session" else record.session
        view = self.ledger.sessions.get(sid or "")
        if view is not None and view.state == "pending_closed" and not view.queued and view.running is None:
            self.closing.add(view.id)
            self.wake()
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        found = None
        for sid in sorted(self.closing):
            view = self.ledger.sessions.get(sid)
            if view is not None and view.state == "pending_closed" and not view.queued and view.running is None:
                found = found or self.violation(
                    index, self.ctx.now, f"session {sid} stays pending_closed though none of its jobs is left"
                )
        self.closing.clear()
        return found


class _TakesEffect(LiveProperty):
    """An accepted request for a live entity takes effect at once: the entity's next line is the
    effect, before the next request and within the instant; the refusal meant for an ended entity
    is not given to a live one. Subclasses say which request, which entity and which effect.

    Only the request's own op is dispatched here; the lines after an accepted one are watched
    (a hook re-armed for each next record) only while it waits for its effect, which is rare:
    the property costs nothing on the other lines.
    """

    op: ClassVar[str]
    entity: ClassVar[str]
    """The entity the request targets: its ID is the request's field of that name."""
    effect: ClassVar[tuple[str, str | None]]
    """(to, trigger) of the line that answers the request (trigger None: any)."""
    effects: tuple[tuple[str, str | None], ...] = ()
    """Per instance: every (to, trigger) that answers the request (set from ``effect``, or by a profile)."""
    inert: frozenset[str] = frozenset()
    """States of the entity in which an accepted request changes nothing (no line answers it)."""
    refusal: ClassVar[str]
    """The validation code that says the entity has ended."""
    accepted_ended: ClassVar[str | None]
    """Message when a request for an ended entity is accepted (None: accepting it is fine)."""
    says: ClassVar[dict[str, str]]
    """Messages: ``wrong`` effect, ``unanswered`` request, ``refused`` though live."""

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.pending: dict[str, tuple[float, str | None]] = {}
        """entity -> when the accepted request for it was made and its backend, until its next line."""
        self.watching: set[str | None] = set()
        """The backends whose next line is watched."""
        self.effects = self.effects or (self.effect,)
        self.wrong = self.says["wrong"]

    def interest(self) -> tuple[Interest, Interest]:
        return (Requests(self.op),), self.applies

    def judge(self, index: int, record: Request) -> Violation | None:
        target: str | None = getattr(record, self.entity)
        if target is None:
            return None
        views: Mapping[str, JobView | SessionView] = self.ledger.jobs if self.entity == "job" else self.ledger.sessions
        view = views.get(target)
        live = view is not None
        if record.error is None:
            if view is not None and view.state not in self.inert:
                self.pending[target] = (record.t, self.ctx.backend)
                self.wake()
                self._watch()
            elif self.accepted_ended is not None:
                return self.violation(index, record.t, self.accepted_ended.format(target=target))
        elif record.error == self.refusal and live:
            return self.violation(index, record.t, self.says["refused"].format(target=target))
        return None

    def _watch(self) -> None:
        backend = self.ctx.backend
        if backend not in self.watching:
            self.watching.add(backend)
            self.ctx.at_next_record(self, self._next_line)

    def _next_line(self, index: int, record: Request | Change) -> Violation | None:
        """A line of a backend after an accepted request there, while one waits: its effect, or a request of that
        backend that comes first (another backend's lines may come between: backends are independent)."""
        backend = self.ctx.backend
        self.watching.discard(backend)
        found = None
        if isinstance(record, CHANGE):
            asked = take(self.pending, record.id) if record.entity == self.entity else None
            if asked is not None and not any(
                record.dst == dst and (trigger is None or record.trigger == trigger) for dst, trigger in self.effects
            ):
                found = self.violation(index, record.t, self.wrong.format(record=record))
        else:
            found = self._unanswered(index, record.t, [backend])
        if any(on == backend for _, on in self.pending.values()):
            self._watch()
        return found

    def _unanswered(self, index: int, t: float, backends: list[str | None] | None = None) -> Violation | None:
        """The first request still unanswered (of ``backends``; None: of any), and forget those."""
        waiting = [target for target, (_, on) in self.pending.items() if backends is None or on in backends]
        if not waiting:
            return None
        at = self.pending[waiting[0]][0]
        for target in waiting:
            del self.pending[target]
        return self.violation(index, t, self.says["unanswered"].format(target=waiting[0], at=time_text(at)))

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        return self._unanswered(index, self.ctx.now)


class CancelTakesEffect(_TakesEffect):
    name = "cancel-takes-effect"
    rules = ("JOB-CANCEL",)
    description = (
        "An accepted cancel ends its queued or running job as cancelled at once; "
        "a cancel of a live job is not refused as finished, and one of an ended job is not accepted."
    )
    op = "cancel"
    entity = "job"
    effect = ("cancelled", None)
    refusal = "JOB-FINISHED"
    accepted_ended = "cancel of job {target}, not live, is accepted"
    says: ClassVar[dict[str, str]] = {
        "wrong": "job {record.id} goes to {record.dst}, not cancelled",
        "unanswered": "the cancel of job {target} at t={at} was accepted but it was not cancelled",
        "refused": "cancel of job {target} is refused as finished, but it is still live",
    }


class CloseTakesEffect(_TakesEffect):
    name = "close-takes-effect"
    rules = ("SESSION-CLOSE", "CONTEXT-CLOSE", "PLATFORM-CLOSE-DRAINS")
    description = (
        "An accepted close of an open session closes it at once (trigger close); under the platform "
        "profile it closes it or makes it pending_closed at once (trigger close), and closing a "
        "pending_closed session changes nothing; closing a closed one changes nothing."
    )
    op = "close"
    entity = "session"
    effect = ("closed", "close")
    refusal = "UNKNOWN-SESSION"
    accepted_ended = None
    says: ClassVar[dict[str, str]] = {
        "wrong": "session {record.id} goes {record.trigger} to {record.dst}, not close to closed",
        "unanswered": "the close of session {target} at t={at} was accepted but it stayed open",
        "refused": "close of open session {target} is refused",
    }

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        if self.interpretation.is_platform:
            self.effects = (("closed", "close"), ("pending_closed", "close"))
            self.inert = frozenset(("pending_closed",))
            self.wrong = (
                "session {record.id} goes {record.trigger} to {record.dst}, not close to closed or pending_closed"
            )


class JobStaysInSession(LiveProperty):
    name = "job-stays-in-session"
    rules = ("SESSION-GROUPS-JOBS", "BACKEND-FIXED")
    description = (
        "A job keeps the session and backend it was submitted with on every line, "
        "and a session's jobs are on the session's backend."
    )
    judges = (Changes(frozenset(("session", "job"))),)
    uses_ledger = False

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.sessions: dict[str, str] = {}
        """live session -> its backend."""
        self.jobs: dict[str, tuple[str | None, str]] = {}
        """live job -> (session, backend)."""

    def judge(self, index: int, record: Change) -> Violation | None:
        if record.entity == "session":
            known = self.sessions.get(record.id)
            if record.dst in SESSION_FINAL:
                forget(self.sessions, record.id)
            elif known is None:
                self.sessions[record.id] = record.backend
            if known is not None and known != record.backend:
                return self.violation(index, record.t, f"session {record.id} moves from {known} to {record.backend}")
            return None
        found = None
        placed = (record.session, record.backend)
        if record.src is None:
            self.jobs[record.id] = placed
            home = self.sessions.get(record.session) if record.session is not None else None
            if home is not None and home != record.backend:
                found = self.violation(
                    index, record.t, f"job {record.id} of session {record.session} (on {home}) is on {record.backend}"
                )
        else:
            known_job = self.jobs.get(record.id)
            if known_job is not None and known_job != placed:
                found = self.violation(
                    index, record.t,
                    f"job {record.id} was submitted to {known_job[0]}/{known_job[1]} but appears in "
                    f"{record.session}/{record.backend}",
                )
        if record.dst in JOB_FINAL:
            forget(self.jobs, record.id)
        return found
