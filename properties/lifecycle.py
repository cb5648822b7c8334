"""Lifecycle properties: every state change is declared, final states stay final, no job
is lost, and closing, cancelling and first-job cancel have their consequences at once.
"""

from __future__ import annotations

from model.interpretations import Interpretation
from model.lifecycles import JOB, SESSION, Lifecycle, Transition, declared
from model.rules import RULES_BY_ID
from model.trace import Change, Header, Request
from properties.base import TraceProperty, Violation
from properties.ledger import SESSION_FINAL, LiveProperty, same_time

_SESSION_LIVE = ("pending", "active", "inactive")


class DeclaredTransitions(TraceProperty):
    name = "declared-transitions"
    rules = (
        "JOB-TERMINAL", "SESSION-START-FIRST-JOB", "SESSION-REACTIVATE", "TTL-INTERACTIVE",
        "MAXTIME-EXPIRY", "SESSION-CLOSE", "SCHED-ONE-AT-A-TIME",
    )
    description = (
        "Every change line is a transition the declaration has under the trace's interpretation, "
        "from the entity's current state, citing catalogue rules and the declared failure reason."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.lifecycles: dict[str, Lifecycle] = {lc.entity: lc for lc in declared(self.interpretation) if lc.traced}
        self.table: dict[tuple[str, str, str], tuple[Transition, ...]] = {}
        self.cited: dict[tuple[str, str], tuple[str, ...]] = {}
        for lc in self.lifecycles.values():
            for t in lc.transitions:
                for source in t.source:
                    key = (lc.entity, source, t.trigger)
                    self.table[key] = (*self.table.get(key, ()), t)
                rules = self.cited.get((lc.entity, t.trigger), ())
                self.cited[(lc.entity, t.trigger)] = tuple(dict.fromkeys((*rules, *t.rules)))
        self.state: dict[tuple[str, str], str] = {}

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if not isinstance(record, Change):
            return None
        lc = self.lifecycles.get(record.entity)
        if lc is None:
            return self.violation(index, record.t, f"unknown entity type {record.entity!r}")
        key = (record.entity, record.id)
        what = f"{record.entity} {record.id}"
        current = self.state.get(key)
        found = self._judge(index, record, lc, what, current)
        if record.dst in lc.final_states:
            self.state.pop(key, None)
        elif record.dst in lc.state_names:
            self.state[key] = record.dst
        if found is None:
            unknown = [r for r in record.rules if r not in RULES_BY_ID]
            if unknown:
                found = self.violation(index, record.t, f"{what} cites unknown rule(s) {', '.join(unknown)}")
        return found

    def _judge(self, index: int, record: Change, lc: Lifecycle, what: str, current: str | None) -> Violation | None:
        t = record.t
        if record.src is None:
            if current is not None:
                return self.violation(index, t, f"{what} is created again while it is {current}")
            if record.dst != lc.initial:
                return self.violation(index, t, f"{what} is created in {record.dst}, not in {lc.initial}")
            return None
        if current is None:
            return self.violation(
                index, t, f"{what} changes from {record.src} but is not live (ended, or never created)"
            )
        if current != record.src:
            return self.violation(index, t, f"{what} changes from {record.src} but is {current}")
        candidates = self.table.get((record.entity, record.src, record.trigger), ())
        match = next((c for c in candidates if c.dest == record.dst), None)
        if match is None:
            rules = self.cited.get((record.entity, record.trigger), self.rules)
            return Violation(
                self.name, rules, index, t,
                f"{what}: {record.src} --{record.trigger}--> {record.dst} is not declared "
                f"under {self.interpretation.name}",
            )
        if match.reason is not None and record.reason != match.reason:
            return Violation(
                self.name, match.rules, index, t,
                f"{what} failed with reason {record.reason!r}; {record.trigger} declares {match.reason!r}",
            )
        return None


class _Absorbing(TraceProperty):
    """A final state is never left: a change of an ended entity is a violation."""

    lifecycle: Lifecycle

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.live: set[str] = set()
        self.final = self.lifecycle.final_states

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if not isinstance(record, Change) or record.entity != self.lifecycle.entity:
            return None
        what = f"{record.entity} {record.id}"
        found = None
        if record.src in self.final:
            found = self.violation(index, record.t, f"{what} leaves its final state {record.src} for {record.dst}")
        elif record.src is not None and record.id not in self.live:
            found = self.violation(
                index, record.t, f"{what} changes to {record.dst} after reaching a final state (or was never created)"
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


class NothingLost(TraceProperty):
    name = "nothing-lost"
    rules = ("JOB-TERMINAL",)
    description = (
        "Every accepted submit creates exactly one job, no job appears without one, "
        "and every failed job says why."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.expected: dict[str, tuple[str | None, str | None, float]] = {}
        """job -> (backend, session, t) of its accepted submit, until the job line appears."""

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, Request):
            found = self._missing(index, record.t)
            if record.op == "submit" and record.error is None:
                if record.job is None:
                    return found or self.violation(index, record.t, "an accepted submit names no job")
                self.expected[record.job] = (record.backend, record.session, record.t)
            return found
        if record.entity != "job":
            return None
        if record.src is None:
            submitted = self.expected.pop(record.id, None)
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
        if record.dst not in JOB.state_names:
            return self.violation(index, record.t, f"job {record.id} enters unknown state {record.dst!r}")
        return None

    def _missing(self, index: int, t: float) -> Violation | None:
        if not self.expected:
            return None
        job, (_, _, at) = next(iter(self.expected.items()))
        self.expected.clear()
        return self.violation(index, t, f"the submit of job {job} at t={at:g} was accepted but created no job")

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found = self._missing(index, end_time)
        return [found] if found is not None else []


class ActivationAtFirstStart(TraceProperty):
    name = "activation-at-first-start"
    rules = ("SESSION-START-FIRST-JOB", "SESSION-REACTIVATE")
    description = (
        "A session becomes active right after one of its jobs starts, and (but under run_unactivated) "
        "a job of a pending or inactive session never starts without activating it."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        interp = self.interpretation
        self.unactivated = (
            interp["INT-IDLE-DEVICE"] == "work_conserving" and interp["INT-OTHER-SESSION-JOB"] == "run_unactivated"
        )
        self.state: dict[str, str] = {}
        self.active: dict[str, str] = {}
        self.last_start: Change | None = None
        self.awaiting: Change | None = None
        """The start of a job whose session must become active on the very next line."""

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        found = None
        awaiting = self.awaiting
        if awaiting is not None:
            self.awaiting = None
            activated = (
                isinstance(record, Change) and record.entity == "session"
                and record.id == awaiting.session and record.dst == "active"
            )
            if not activated:
                found = self.violation(
                    index, record.t,
                    f"job {awaiting.id} of {self.state.get(awaiting.session or '', 'closed')} session "
                    f"{awaiting.session} started at t={awaiting.t:g} without activating it",
                )
        if not isinstance(record, Change):
            self.last_start = None
            return found
        if record.entity == "session":
            found = found or self._session(index, record)
            self.last_start = None
        elif record.entity == "job":
            self.last_start = record if record.dst == "running" else None
            session = record.session
            if record.dst == "running" and session is not None and self.state.get(session) in ("pending", "inactive"):
                other = self.active.get(record.backend)
                if not (self.unactivated and other is not None and other != session):
                    self.awaiting = record
        return found

    def _session(self, index: int, record: Change) -> Violation | None:
        found = None
        sid = record.id
        if record.dst == "active" and record.src in ("pending", "inactive"):
            start = self.last_start
            if start is None or start.session != sid or not same_time(start.t, record.t):
                found = self.violation(
                    index, record.t, f"session {sid} becomes active without one of its jobs starting right before"
                )
        if record.src == "active" and self.active.get(record.backend) == sid:
            del self.active[record.backend]
        if record.dst == "active":
            self.active[record.backend] = sid
        if record.dst in SESSION_FINAL:
            self.state.pop(sid, None)
        else:
            self.state[sid] = record.dst
        return found

    def finish(self, index: int, end_time: float) -> list[Violation]:
        awaiting = self.awaiting
        if awaiting is None:
            return []
        message = f"job {awaiting.id} started but session {awaiting.session} never activated"
        return [self.violation(index, end_time, message)]


def running_job_fails(interpretation: Interpretation, session_trigger: str) -> bool:
    """Whether closing a session through ``session_trigger`` fails its running job, per the declaration."""
    lifecycles = {lc.name: lc for lc in declared(interpretation)}
    cascades = {t.cascade for t in lifecycles["session"].transitions if t.trigger == session_trigger and t.cascade}
    return any(lifecycles["job"].targets("running", cascade) for cascade in cascades)


class NoStartAfterClose(LiveProperty):
    name = "no-start-after-close"
    rules = ("SESSION-CLOSED-REJECTS", "CLOSE-FAILS-INCOMPLETE")
    description = (
        "A closed session takes no job and starts none; its queued jobs fail at the close, "
        "and its running job too unless INT-CLOSE-RUNNING-JOB / INT-EXPIRY-RUNNING-JOB say finish."
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
        if isinstance(record, Request):
            if record.op == "submit" and record.error is None:
                return self.violation(index, record.t, f"a job for closed (or unknown) session {session} is accepted")
            return None
        if record.entity == "job" and record.dst == "running":
            return self.violation(index, record.t, f"job {record.id} of closed session {session} starts")
        return None

    def applied(self, index: int, record: Request | Change) -> Violation | None:
        if not isinstance(record, Change):
            return None
        if record.entity == "session":
            if record.dst in SESSION_FINAL:
                self.closing.append((record.id, record.trigger))
            return None
        session = record.session
        if session is None:
            return None
        delta = (record.dst == "queued") - (record.src == "queued")
        if delta:
            count = self.queued.get(session, 0) + delta
            if count:
                self.queued[session] = count
            else:
                self.queued.pop(session, None)
        if record.src == "running" and self.running.get(session) == record.id:
            del self.running[session]
        if record.dst == "running":
            self.running[session] = record.id
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        found = None
        for session, trigger in self.closing:
            if found is not None:
                break
            queued = self.queued.get(session, 0)
            running = self.running.get(session)
            if queued > 0:
                found = self.violation(
                    index, self.now, f"session {session} closed ({trigger}) but {queued} of its job(s) stay queued"
                )
            elif running is not None and self.fails_running.get(trigger, True):
                found = self.violation(
                    index, self.now,
                    f"session {session} closed ({trigger}) but its running job {running} did not fail "
                    f"under {self.interpretation.name}",
                )
        self.closing.clear()
        return found


class FirstJobCancel(LiveProperty):
    name = "first-job-cancel"
    rules = ("FIRST-JOB-CANCEL",)
    description = (
        "Once a session's first job is cancelled, none of its other jobs starts or completes: they fail "
        "at once (fail_subsequent), or the session closes at once (close_session)."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.close_session = self.interpretation["INT-FIRST-JOB-CANCEL"] == "close_session"
        self.first: dict[str, str] = {}
        """live session -> its first job."""
        self.doomed: dict[str, float] = {}
        """live session -> when its first job was cancelled."""

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if not isinstance(record, Change) or record.entity != "job" or record.session not in self.doomed:
            return None
        if record.dst in ("running", "completed"):
            return self.violation(
                index, record.t,
                f"job {record.id} of session {record.session} {'starts' if record.dst == 'running' else 'completes'} "
                f"after its first job was cancelled at t={self.doomed[record.session]:g}",
            )
        return None

    def applied(self, index: int, record: Request | Change) -> Violation | None:
        if not isinstance(record, Change):
            return None
        if record.entity == "session":
            if record.dst in SESSION_FINAL:
                self.first.pop(record.id, None)
                self.doomed.pop(record.id, None)
            return None
        session = record.session
        if session is None or session not in self.ledger.sessions:
            return None
        if record.src is None:
            self.first.setdefault(session, record.id)
        elif record.dst == "cancelled" and self.first.get(session) == record.id:
            self.doomed[session] = record.t
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        found = None
        for session in list(self.doomed):
            view = self.ledger.sessions.get(session)
            if view is None:
                del self.doomed[session]
            elif self.close_session:
                del self.doomed[session]
                found = found or self.violation(
                    index, self.now, f"session {session} stays open after its first job was cancelled"
                )
            elif view.queued > 0:
                found = found or self.violation(
                    index, self.now,
                    f"{view.queued} job(s) of session {session} stay queued after its first job was cancelled",
                )
        return found


class CancelTakesEffect(LiveProperty):
    name = "cancel-takes-effect"
    rules = ("JOB-CANCEL",)
    description = (
        "An accepted cancel ends its queued or running job as cancelled at once; "
        "a cancel of a live job is not refused as finished, and one of an ended job is not accepted."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.pending: dict[str, float] = {}

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, Change):
            asked = self.pending.pop(record.id, None) if record.entity == "job" else None
            if asked is not None and record.dst != "cancelled":
                return self.violation(index, record.t, f"job {record.id} goes to {record.dst}, not cancelled")
            return None
        found = self._unanswered(index, record.t)
        if record.op != "cancel" or record.job is None:
            return found
        live = record.job in self.ledger.jobs
        if record.error is None:
            if not live:
                return found or self.violation(index, record.t, f"cancel of job {record.job}, not live, is accepted")
            self.pending[record.job] = record.t
        elif record.error == "JOB-FINISHED" and live:
            return found or self.violation(
                index, record.t, f"cancel of job {record.job} is refused as finished, but it is still live"
            )
        return found

    def _unanswered(self, index: int, t: float) -> Violation | None:
        if not self.pending:
            return None
        job, at = next(iter(self.pending.items()))
        self.pending.clear()
        return self.violation(index, t, f"the cancel of job {job} at t={at:g} was accepted but it was not cancelled")

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        return self._unanswered(index, self.now)


class CloseTakesEffect(LiveProperty):
    name = "close-takes-effect"
    rules = ("SESSION-CLOSE", "CONTEXT-CLOSE")
    description = (
        "An accepted close of an open session closes it at once (trigger close); "
        "closing a closed one changes nothing."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.pending: dict[str, float] = {}

    def judge(self, index: int, record: Request | Change) -> Violation | None:
        if isinstance(record, Change):
            asked = self.pending.pop(record.id, None) if record.entity == "session" else None
            if asked is not None and (record.dst != "closed" or record.trigger != "close"):
                return self.violation(
                    index, record.t, f"session {record.id} goes {record.trigger} to {record.dst}, not close to closed"
                )
            return None
        found = self._unanswered(index, record.t)
        if record.op != "close" or record.session is None:
            return found
        live = record.session in self.ledger.sessions
        if record.error is None and live:
            self.pending[record.session] = record.t
        elif record.error == "UNKNOWN-SESSION" and live:
            return found or self.violation(index, record.t, f"close of open session {record.session} is refused")
        return found

    def _unanswered(self, index: int, t: float) -> Violation | None:
        if not self.pending:
            return None
        session, at = next(iter(self.pending.items()))
        self.pending.clear()
        return self.violation(index, t, f"the close of session {session} at t={at:g} was accepted but it stayed open")

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        return self._unanswered(index, self.now)



class JobStaysInSession(TraceProperty):
    name = "job-stays-in-session"
    rules = ("SESSION-GROUPS-JOBS", "BACKEND-FIXED")
    description = (
        "A job keeps the session and backend it was submitted with on every line, "
        "and a session's jobs are on the session's backend."
    )

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.sessions: dict[str, str] = {}
        """live session -> its backend."""
        self.jobs: dict[str, tuple[str | None, str]] = {}
        """live job -> (session, backend)."""

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        if not isinstance(record, Change):
            return None
        if record.entity == "session":
            known = self.sessions.get(record.id)
            if record.dst in SESSION_FINAL:
                self.sessions.pop(record.id, None)
            elif known is None:
                self.sessions[record.id] = record.backend
            if known is not None and known != record.backend:
                return self.violation(index, record.t, f"session {record.id} moves from {known} to {record.backend}")
            return None
        if record.entity != "job":
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
        if record.dst in JOB.final_states:
            self.jobs.pop(record.id, None)
        return found
