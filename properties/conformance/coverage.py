"""Coverage: which situations that matter for the rules a trace exercised, and how often.

The situations come from the declaration wherever it can give them: every traced transition
of the lifecycles under the interpretation (:meth:`model.spec.lifecycles.Lifecycle.under`),
every rejection code each request can get (:data:`model.spec.validations.PRECEDENCE`), every
timer firing. The rest (boundary instants, close/expiry/first-job cancel with queued and
running jobs, contention, max_time forms, duplicate IDs) are named with the rule IDs they
exercise. Coverage is computed from the reference side's trace, so ``conform``, ``check`` and
the stateful campaign all report it the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace as _replace
from functools import cache

from model.sim.devices import BackendConfig
from model.sim.engine import Engine
from model.sim.ops import run_operations
from model.spec.interpretations import DEFAULT, Interpretation
from model.spec.lifecycles import JOB_FINAL, LIFECYCLES
from model.spec.validations import PRECEDENCE
from model.trace import MemoryTrace
from model.trace.records import Change, Header, Record, Request
from properties.conformance.draws import HORIZON, Abstract, DrawOpen, DrawSubmit, DrawTie, resolve


@dataclass(frozen=True)
class Situation:
    key: str
    rules: tuple[str, ...]
    doc: str


_SESSION_TIMERS = ("interactive_timeout", "max_time_reached")
_TIMER_OF: dict[str, str] = {t.trigger: t.timer for lc in LIFECYCLES for t in lc.transitions if t.timer is not None}
"""Which timer's firing each timed trigger records, from the declaration."""
_CLOSE_KIND = {"close": "close", "max_time_reached": "expiry"}
_TIMER_TRIGGERS: dict[str, str] = {t.name: t.trigger for lc in LIFECYCLES for t in lc.timers}
_BY_EXPIRY: frozenset[str] = frozenset(
    t.trigger for lc in LIFECYCLES if lc.entity == "job" for t in lc.transitions
    if "running" in t.source and "MAXTIME-EXPIRY" in t.rules
)
"""How the expiry itself ends a running job (not a job end that falls at its instant), from the declaration."""

NAMED: tuple[Situation, ...] = (
    Situation("close-with-queued", ("CLOSE-FAILS-INCOMPLETE",), "a session closed while one of its jobs is queued"),
    Situation("close-with-running", ("CLOSE-FAILS-INCOMPLETE",), "a session closed while one of its jobs runs"),
    Situation("expiry-with-queued", ("MAXTIME-EXPIRY",), "a session expires while one of its jobs is queued"),
    Situation("expiry-with-running", ("MAXTIME-EXPIRY",), "a session expires while one of its jobs runs"),
    Situation("expiry-while-inactive", ("MAXTIME-EXPIRY",), "a session expires while inactive"),
    Situation("contention", ("SESSION-SINGLE-ACTIVE",),
              "a session's job is queued while another session is active on the same backend"),
    Situation("session-job-behind-fair-share", ("SCHED-PRIORITY",),
              "a job of the active session is queued while an older fair-share job waits on its backend"),
    Situation("job-end-at-expiry-with-queued", ("MAXTIME-EXPIRY", "SCHED-PRIORITY"),
              "a session's job ends at the instant its max_time expires, with another of its jobs queued"),
    Situation("job-cut-at-expiry", ("JOB-MAX-EXECUTION", "MAXTIME-EXPIRY"),
              "a job's max_execution_time cuts it at the instant its session's max_time expires"),
    Situation("request-at-interactive-deadline", ("TTL-INTERACTIVE", "TTL-INTERACTIVE-VALUE"),
              "a request for a session at the instant its interactive timeout fires"),
    Situation("request-after-interactive-deadline", ("TTL-INTERACTIVE", "SESSION-REACTIVATE"),
              "a submit to a session within 1 s after its interactive timeout fired"),
    Situation("request-at-max-time-deadline", ("MAXTIME-EXPIRY", "SESSION-CLOSED-REJECTS"),
              "a request for a session at the instant its max_time expires"),
    Situation("request-before-max-time-deadline", ("MAXTIME-EXPIRY",),
              "a submit to a session within 1 s before its max_time expires"),
    Situation("job-end-at-timer", ("MAXTIME-EXPIRY", "TTL-INTERACTIVE"),
              "a job ends at the instant a session timer fires"),
    Situation("max-time-int", ("MAXTIME-FORMAT",), "a session opened with an integer max_time"),
    Situation("max-time-string", ("MAXTIME-FORMAT",), "a session opened with a max_time string"),
    Situation("duplicate-session-id", ("SESSION-GROUPS-JOBS",), "an open reusing a session ID"),
    Situation("duplicate-job-id", ("SESSION-GROUPS-JOBS",), "a submit reusing a job ID"),
)
"""Situations the declaration cannot enumerate, named with the rules they exercise."""


def situations(interpretation: Interpretation = DEFAULT) -> tuple[Situation, ...]:
    """Every situation that matters under ``interpretation``: declared ones first, then :data:`NAMED`."""
    found: list[Situation] = []
    for lifecycle in LIFECYCLES:
        if not lifecycle.traced:
            continue
        for t in lifecycle.under(interpretation).transitions:
            for source in t.source:
                found.append(Situation(transition_key(lifecycle.entity, source, t.dest, t.trigger), t.rules, t.doc))
            if t.timer is not None:
                found.append(Situation(f"timer {t.timer} fires", t.rules, f"the {t.timer} timer fires"))
    for op, codes in PRECEDENCE.items():
        for code in codes:
            if (op, code) in _PLATFORM_ONLY and not interpretation.is_platform:
                continue
            found.append(Situation(f"{op} rejected {code}", (code,), f"a {op} request refused with {code}"))
    for lifecycle in LIFECYCLES:
        for timer in lifecycle.under(interpretation).timers if lifecycle.entity == "session" else ():
            if timer.name in REARMED_BY_A_CANCEL:
                found.append(Situation(_after_cancel(timer.trigger), timer.rules,
                                       f"a session's queued job cancelled, nothing else of it queued or running, "
                                       f"later than anything else that arms {timer.name}; then {timer.name} fires"))
    if interpretation.is_platform:  # a close drains there: the same situations, under the platform's rule
        found.extend(_replace(s, rules=_PLATFORM_RULES.get(s.key, s.rules)) for s in NAMED)
    else:
        found.extend(NAMED)
    ruled_out = unreachable(interpretation)
    return tuple({s.key: s for s in found if s.key not in ruled_out}.values())


_PLATFORM_ONLY = frozenset({("submit", "SESSION-NOT-ACCEPTING"), ("cancel_session", "UNKNOWN-SESSION")})
"""Rejections only the platform profile has."""
_PLATFORM_RULES = {
    "close-with-queued": ("PLATFORM-CLOSE-DRAINS",),
    "close-with-running": ("PLATFORM-CLOSE-DRAINS",),
    "expiry-with-queued": ("MAXTIME-EXPIRY", "PLATFORM-EXPIRY-RUNNING-FINISH"),
    "expiry-with-running": ("MAXTIME-EXPIRY", "PLATFORM-EXPIRY-RUNNING-FINISH"),
    "request-at-interactive-deadline": ("TTL-INTERACTIVE", "PLATFORM-ITTL-60S"),
}


REARMED_BY_A_CANCEL = ("unused", "batch_end")
"""Session timers a job's end arms, and so a queued job's cancel (an end too) re-arms: the cancel is where an
implementation forgets it. The situations exist under the interpretations whose lifecycle has the timer."""


def _after_cancel(trigger: str) -> str:
    return f"{trigger} after a queued job's cancel"


_REARMED_KEYS = frozenset(_after_cancel(_TIMER_TRIGGERS[name]) for name in REARMED_BY_A_CANCEL)


def transition_key(entity: str, source: str, dest: str, trigger: str) -> str:
    return f"{entity} {source}->{dest} by {trigger}"


WITNESSES: dict[str, tuple[tuple[Abstract, ...], ...]] = {
    "job-end-at-expiry-with-queued": ((DrawTie(0, 400),), (DrawTie(0, 100),)),
    "job-cut-at-expiry": ((DrawTie(0, 400, cut=True),),),
    "submit rejected MAXTIME-BELOW-JOB": ((DrawOpen(0, 200), DrawSubmit(0, 0, 300, 10, False)),),
}
"""Situations some interpretations rule out, each with the generator's own draws for it (its witnesses).
Under an interpretation a situation is reachable if one of its witnesses, run on the reference engine under
it, reaches it: an expiry that fails the running job (INT-EXPIRY-TIE=expiry_first with
INT-EXPIRY-RUNNING-JOB=fail) leaves no job to end or be cut at its instant; INT-MAXTIME-JOB-BOUND=allow (fixed
by the platform) refuses no job for its max_execution_time. Derived, not listed per interpretation: a new
point that rules one of these out needs no edit here (``tests/test_coverage.py``: every witness reaches its
situation under each profile's defaults)."""


WITNESS_BACKENDS = (BackendConfig("b0", system_max_time=1800.0, program_max_execution_time=400.0),)
"""The campaign's first backend (a test holds them equal; the campaign imports this module, not the reverse)."""


def unreachable(interpretation: Interpretation = DEFAULT) -> frozenset[str]:
    """The :data:`WITNESSES` situations that none of their witnesses reaches under ``interpretation``."""
    return _unreachable(interpretation.profile, tuple(sorted(interpretation.items())))


@cache
def _unreachable(profile: str | None, choices: tuple[tuple[str, str], ...]) -> frozenset[str]:
    interpretation = Interpretation(dict(choices), profile)
    out: set[str] = set()
    for key, witnesses in WITNESSES.items():
        reached = False
        for drawn in witnesses:
            ops, end = resolve(drawn, WITNESS_BACKENDS, interpretation)
            trace = MemoryTrace()
            engine = Engine(list(WITNESS_BACKENDS), interpretation=interpretation, sink=trace)
            run_operations(engine, ops)
            engine.run_until(end + HORIZON)
            coverage = Coverage(None)
            coverage.observe_all(trace)
            reached = reached or coverage.counts[key] > 0
        if not reached:
            out.add(key)
    return frozenset(out)


UNREACHABLE: frozenset[str] = frozenset()
"""Situations the conformance campaign cannot produce (none: it also opens sessions and submits jobs
naming no backend, for BACKEND-REQUIRED). Listed here, they are left out of the budget and the report."""


class Coverage:
    """Counts, per situation, how often the observed trace records exercised it."""

    def __init__(self, interpretation: Interpretation | None = DEFAULT) -> None:
        """``None``: counts only, against no situations (what deriving :func:`unreachable` needs)."""
        self.situations = () if interpretation is None else situations(interpretation)
        self.ruled_out = frozenset() if interpretation is None else unreachable(interpretation)
        """Situations the interpretation rules out (:data:`WITNESSES`): not counted, said in the report."""
        self.counts: Counter[str] = Counter()
        self._jobs: dict[str, tuple[str | None, str, str]] = {}
        """Job ID: (its session, its state, its backend)."""
        self._sessions: dict[str, tuple[str, str]] = {}
        """Session ID: (its backend, its state)."""
        self._fired: dict[tuple[str, str], float] = {}
        """(session, timer trigger): when it last fired."""
        self._requests_at: dict[tuple[str, float], int] = {}
        self._ends_at: set[float] = set()
        self._session_ends: set[tuple[str, float]] = set()
        """(session, time) of each end of one of the session's jobs."""
        self._cuts: set[tuple[str, float]] = set()
        """(session, time) of each max_execution_time cut of one of the session's jobs."""
        self._expired_with_queued: set[tuple[str, float]] = set()
        """(session, time) of each expiry of a session with one of its jobs queued."""
        self._armed_at: dict[str, float] = {}
        """Session: when it last opened, got a job or saw one of its jobs end other than by a queued cancel."""
        self._cancelled_idle: set[str] = set()
        """Sessions whose last job event is a queued job's cancel, after their last other arming, leaving them idle."""
        self._seen_ids: set[tuple[str, str]] = set()

    def reset_run(self) -> None:
        """Forget per-run state (IDs, states) between traces; counts accumulate."""
        self._jobs.clear()
        self._sessions.clear()
        self._fired.clear()
        self._requests_at.clear()
        self._ends_at.clear()
        self._session_ends.clear()
        self._cuts.clear()
        self._expired_with_queued.clear()
        self._armed_at.clear()
        self._cancelled_idle.clear()
        self._seen_ids.clear()

    def observe_all(self, records: Iterable[Record]) -> None:
        self.reset_run()
        for record in records:
            self.observe(record)

    def observe(self, record: Record) -> None:
        if isinstance(record, Header):
            self.reset_run()
        elif isinstance(record, Request):
            self._request(record)
        else:
            self._change(record)

    def _request(self, r: Request) -> None:
        hit = self.counts
        if r.error is not None:
            hit[f"{r.op} rejected {r.error}"] += 1
        if r.op == "open" and r.args is not None and r.args.get("max_time") is not None:
            value = r.args["max_time"]
            if isinstance(value, str):
                hit["max-time-string"] += 1
            elif isinstance(value, int) and not isinstance(value, bool):
                hit["max-time-int"] += 1
        if r.error == "DUPLICATE-ID":
            hit["duplicate-session-id" if r.op == "open" else "duplicate-job-id"] += 1
        if r.session is None:
            return
        self._requests_at[(r.session, r.t)] = 1
        if self._fired.get((r.session, "interactive_timeout")) == r.t:
            hit["request-at-interactive-deadline"] += 1
        if self._fired.get((r.session, "max_time_reached")) == r.t:
            hit["request-at-max-time-deadline"] += 1
        fired = self._fired.get((r.session, "interactive_timeout"))
        if r.op == "submit" and fired is not None and 0 < r.t - fired <= 1:
            hit["request-after-interactive-deadline"] += 1

    def _change(self, c: Change) -> None:
        hit = self.counts
        if c.src is not None:
            hit[transition_key(c.entity, c.src, c.dst, c.trigger)] += 1
        timer = _TIMER_OF.get(c.trigger)
        if timer is not None:
            hit[f"timer {timer} fires"] += 1
        if c.entity == "job":
            if c.src is None and c.session is not None:
                mine = self._sessions.get(c.session)
                if mine is not None and any(
                    s != c.session and b == mine[0] and state == "active" for s, (b, state) in self._sessions.items()
                ):
                    hit["contention"] += 1
                if mine is not None and mine[1] == "active" and any(
                    session is None and state == "queued" and backend == c.backend
                    for session, state, backend in self._jobs.values()
                ):
                    hit["session-job-behind-fair-share"] += 1
            self._jobs[c.id] = (c.session, c.dst, c.backend)
            if c.session is not None and (c.src is None or c.dst in JOB_FINAL):
                self._cancelled_idle.discard(c.session)
                if c.src == "queued" and c.trigger == "cancel":
                    if c.t > self._armed_at.get(c.session, c.t) and not any(
                        session == c.session and state in ("queued", "running")
                        for session, state, _ in self._jobs.values()
                    ):
                        self._cancelled_idle.add(c.session)
                else:
                    self._armed_at[c.session] = c.t
            if c.src == "running":
                self._ends_at.add(c.t)
                if c.session is not None:
                    self._session_ends.add((c.session, c.t))
                    if c.trigger == "max_execution_time_reached":
                        self._cuts.add((c.session, c.t))
                if any(t == c.t for (_, trig), t in self._fired.items() if trig in _SESSION_TIMERS):
                    hit["job-end-at-timer"] += 1
                # The expiry recorded first (INT-EXPIRY-TIE=expiry_first): the same tie, the other order.
                if (c.session is not None and c.trigger not in _BY_EXPIRY
                        and self._fired.get((c.session, "max_time_reached")) == c.t):
                    if c.trigger == "max_execution_time_reached":
                        hit["job-cut-at-expiry"] += 1
                    if (c.session, c.t) in self._expired_with_queued:
                        hit["job-end-at-expiry-with-queued"] += 1
            return
        if c.src is None:
            self._armed_at[c.id] = c.t
        elif c.id in self._cancelled_idle and _after_cancel(c.trigger) in _REARMED_KEYS:
            hit[_after_cancel(c.trigger)] += 1
        if c.trigger in _SESSION_TIMERS:
            self._fired[(c.id, c.trigger)] = c.t
            if c.trigger == "max_time_reached" and any(
                session == c.id and state == "queued" for session, state, _ in self._jobs.values()
            ):
                self._expired_with_queued.add((c.id, c.t))
            if (c.id, c.t) in self._requests_at:
                hit["request-at-interactive-deadline" if c.trigger == "interactive_timeout"
                    else "request-at-max-time-deadline"] += 1
            if c.t in self._ends_at:
                hit["job-end-at-timer"] += 1
                if c.trigger == "max_time_reached" and (c.id, c.t) in self._cuts:
                    hit["job-cut-at-expiry"] += 1
                if (c.id, c.t) in self._expired_with_queued and (c.id, c.t) in self._session_ends:
                    hit["job-end-at-expiry-with-queued"] += 1
            if c.trigger == "max_time_reached" and any(
                s == c.id and c.t - 1 <= t < c.t for s, t in self._requests_at
            ):
                hit["request-before-max-time-deadline"] += 1
        if c.src is not None and (c.dst == "closed" or c.dst == "pending_closed"):  # pending_closed: a platform close
            states = {state for session, state, _ in self._jobs.values() if session == c.id}
            kind = _CLOSE_KIND.get(c.trigger)
            if kind is not None:
                for state in ("queued", "running"):
                    if state in states:
                        hit[f"{kind}-with-{state}"] += 1
            if c.trigger == "max_time_reached" and c.src == "inactive":
                hit["expiry-while-inactive"] += 1
        previous = self._sessions.get(c.id)
        backend = c.backend if previous is None else previous[0]
        self._sessions[c.id] = (backend, c.dst)

    def merge(self, other: Coverage) -> None:
        self.counts.update(other.counts)

    def missing(self, at_least: int = 1, reachable_only: bool = True) -> list[Situation]:
        """The situations exercised fewer than ``at_least`` times."""
        return [s for s in self.situations
                if self.counts[s.key] < at_least and not (reachable_only and s.key in UNREACHABLE)]

    def complete(self, at_least: int) -> bool:
        return not self.missing(at_least)

    def report(self, verbose: bool = False) -> str:
        """One summary line, then what was never reached (and, if ``verbose``, every count)."""
        reachable = [s for s in self.situations if s.key not in UNREACHABLE]
        hit = [s for s in reachable if self.counts[s.key]]
        lines = [f"coverage: {len(hit)} of {len(reachable)} situations exercised"]
        if self.ruled_out:
            lines[0] += f" (the interpretation rules out: {'; '.join(sorted(self.ruled_out))})"
        if verbose:
            lines += [f"  {self.counts[s.key]:6d}  {s.key}  [{', '.join(s.rules)}]" for s in reachable]
        never = self.missing()
        if never:
            lines.append("never reached: " + "; ".join(f"{s.key} [{', '.join(s.rules)}]" for s in never))
        return "\n".join(lines)
