"""Many properties over one trace: one shared ledger, each record sent only to the properties that read it.

Run naively, the catalogue costs 22 calls per record and nine private ledgers, each fed
every record: most of the offline checker's time. Here a :class:`LiveProperty` declares
as data which records its hooks read (:class:`Changes` patterns over a change line's
entity, ``from``, ``to`` and whether the job has a session; :class:`Requests` patterns
over a request's op and outcome), and reads the state it shares with the others from one
:class:`Context`: the :class:`~properties.invariants.ledger.Ledger`, the current instant, the previous
record. A :class:`Suite` compiles the declarations into a table from a record's kind to
the hooks that want it (built lazily: the key space is small and closed, ``from`` and ``to``
being schema enums), applies the ledger once per record and calls, per record:

1. ``instant_ended`` of the properties that asked for it (:meth:`LiveProperty.wake`), when
   virtual time moves past the current instant;
2. the one-shot hooks armed on the previous record of its backend (:meth:`Context.at_next_record`);
3. ``clock`` (deadline sweeps), when the record's time differs from the previous one's;
4. ``judge``, for the records its ``judges`` patterns match (its :meth:`LiveProperty.interest`),
   before the ledger applies the record;
5. ``applied``, for the records its ``applies`` patterns match, after.

A property reports at most one violation per record, the first of its hooks to find one,
and violations come out in catalogue order: the same as each property observing every
record by itself, which is what :meth:`LiveProperty.observe` still does (through a suite
of one), so a property has one definition whichever way it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from mypy_extensions import mypyc_attr

from model.trace import Change, Header, Record, Request
from model.trace.reader import CHANGE
from model.trace.timing import same_time
from properties.invariants.base import TraceProperty, Violation
from properties.invariants.ledger import Ledger


class _Any:
    def __repr__(self) -> str:
        return "ANY"


ANY: Final[Any] = _Any()
"""A pattern element that matches every value."""


@mypyc_attr(native_class=False)
class Outside(frozenset[Any]):
    """A pattern element that matches the values *not* in the set (``Outside({"queued"})``)."""


def _matches(element: object, value: object) -> bool:
    if element is ANY:
        return True
    if isinstance(element, Outside):
        return value not in element
    if isinstance(element, frozenset):
        return value in element
    return value == element


ChangeKey = tuple[str, "str | None", str, bool]
"""What dispatch knows of a change line: entity, from, to, and whether it names a session."""
RequestKey = tuple[str, bool]
"""What dispatch knows of a request line: op, and whether it was accepted."""
Pattern = object
"""A pattern element: a value, a frozenset of values, :class:`Outside` or ``ANY``."""


@dataclass(frozen=True)
class Changes:
    """Change lines a hook reads: each field a value, a frozenset of values, :class:`Outside` or ``ANY``."""

    entity: Pattern = ANY
    src: Pattern = ANY
    dst: Pattern = ANY
    session: Pattern = ANY
    """Whether the line names a session (job lines of session jobs)."""

    def matches(self, key: ChangeKey) -> bool:
        entity, src, dst, session = key
        return (
            _matches(self.entity, entity) and _matches(self.src, src) and _matches(self.dst, dst)
            and _matches(self.session, session)
        )


@dataclass(frozen=True)
class Requests:
    """Request lines a hook reads, by op and outcome (``accepted``: True, False or ``ANY``)."""

    op: Pattern = ANY
    accepted: Pattern = ANY

    def matches(self, key: RequestKey) -> bool:
        return _matches(self.op, key[0]) and _matches(self.accepted, key[1])


Interest = Sequence[Changes | Requests]
Hook = Callable[[int, Any], Violation | None]
_Hooks = tuple[tuple["LiveProperty", ...], tuple["LiveProperty", ...]]
"""The properties whose ``judge``, and those whose ``applied``, want one kind of record."""
_JUDGE: Final = 0
_APPLIED: Final = 1
_CLOCK: Final = 2
"""Which hook :meth:`Suite._run` calls: a method called on the property, not a bound method kept (compiled,
a direct call)."""


class Context:
    """What the properties of one suite share: the ledger, the current instant, the previous record of the
    record's backend.

    Backends are independent, so the lines of different backends may interleave in any order at one instant
    (docs/conformance.md): "the line right before" and "the next line" are a backend's own."""

    __slots__ = ("armed", "backend", "clock_t", "due", "last_on", "ledger", "now", "prev")

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.now = 0.0
        """The current instant: it ends when a record is later by more than float noise."""
        self.backend: str | None = None
        """The backend of the record being judged (None: a request that names none)."""
        self.prev: Request | Change | None = None
        """The record before the one being judged on its backend."""
        self.last_on: dict[str | None, Request | Change] = {}
        """Per backend, its last record so far."""
        self.clock_t: float | None = None
        """The time of the last ``clock`` round; None runs one at the next record."""
        self.due: dict[LiveProperty, None] = {}
        """Properties whose ``instant_ended`` runs when the current instant ends."""
        self.armed: dict[str | None, list[tuple[LiveProperty, Hook]]] = {}
        """Per backend, one-shot hooks for its next record."""

    def at_next_record(self, prop: LiveProperty, hook: Hook) -> None:
        """Call ``hook(index, record)`` on the next record of this record's backend only (e.g. a line that must
        follow at once)."""
        hooks = self.armed.get(self.backend)
        if hooks is None:
            self.armed[self.backend] = [(prop, hook)]
        else:
            hooks.append((prop, hook))

    def clock_next(self) -> None:
        """Run the clock hooks at the next record even if its time is the same (a deadline already past)."""
        self.clock_t = None


@mypyc_attr(allow_interpreted_subclasses=True)
class LiveProperty(TraceProperty):
    """A property judged against the shared :class:`Context`, through hooks that see only what they declare.

    :meth:`interest` says which records reach ``judge`` (before the ledger applies the record)
    and ``applied`` (after): by default the class data ``judges`` and ``applies``. A property
    whose interpretation decides overrides ``interest`` (``judges`` and ``applies`` are class
    variables, read on the class even where the suite is compiled; a property that overrides
    ``interest`` may leave them empty, so read ``interest()``, not them, to know what it
    reads). ``clock`` sees the time of every record whose time differs from the previous
    record's (deadline sweeps). ``instant_ended`` runs when virtual time moves past an instant
    in which the property called :meth:`wake`, and once more at the end of the trace: whatever
    an implementation must do "at once" has to be done by then.
    """

    judges: ClassVar[Interest] = ()
    applies: ClassVar[Interest] = ()
    uses_ledger: ClassVar[bool] = True
    """Whether the hooks read ``self.ledger`` (dropped, with the property's finding, if a line breaks it)."""

    def __init__(self, header: Header) -> None:
        super().__init__(header)
        self.bind(Context())
        self._solo: Suite | None = None

    def bind(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ledger = ctx.ledger

    def interest(self) -> tuple[Interest, Interest]:
        """Which records reach ``judge`` and ``applied``: the class's ``judges`` and ``applies``."""
        return self.judges, self.applies

    def wake(self) -> None:
        """Have ``instant_ended`` called when the current instant ends."""
        self.ctx.due[self] = None

    def judge(self, index: int, record: Any) -> Violation | None:
        return None

    def applied(self, index: int, record: Any) -> Violation | None:
        return None

    def clock(self, index: int, t: float) -> Violation | None:
        return None

    def instant_ended(self, index: int, next_t: float) -> Violation | None:
        """The instant ``self.ctx.now`` is over; the next record (or the end) is at ``next_t``."""
        return None

    def observe(self, index: int, record: Request | Change) -> Violation | None:
        """This property alone over the trace (a suite of one; the checker runs one suite for all)."""
        if self._solo is None:
            self._solo = Suite([self], context=self.ctx)
        found = self._solo.observe(index, record)
        return found[0] if found else None

    def finish(self, index: int, end_time: float) -> list[Violation]:
        found = self.instant_ended(index, max(end_time, self.ctx.now))
        return [found] if found is not None else []


_SIGNATURES: Final[dict[tuple[Any, ...], int]] = {}
"""Each distinct set of live properties (position, class, what its hooks read) a suite was compiled
with, numbered: the key of :data:`_PLANS`."""
_PLANS: Final[dict[tuple[int, type, Any], tuple[tuple[int, ...], tuple[int, ...]]]] = {}
"""(signature, kind of record, record key) -> the indexes into the live properties of the judges and
of the applied hooks that want it."""
_PLANS_KEPT: Final = 100_000


def _overrides(prop: LiveProperty, name: str) -> bool:
    return getattr(type(prop), name) is not getattr(LiveProperty, name)


class Suite:
    """Properties over one trace, streaming; see the module docstring for the order of the hooks.

    ``tolerant``: a property that raises is dropped and named in ``broken`` instead of
    stopping the run (the checker must judge a trace whatever one property makes of it).
    """

    def __init__(
        self, properties: Sequence[TraceProperty], *, tolerant: bool = False, context: Context | None = None
    ) -> None:
        self.properties = list(properties)
        self.tolerant = tolerant
        self.ctx = ctx = context if context is not None else Context()
        for prop in self.properties:
            if isinstance(prop, LiveProperty):
                prop.bind(ctx)
        self.broken: list[str] = []
        self._dropped: set[int] = set()
        self._epoch = 0
        self._compile()

    def _compile(self) -> None:
        """The hook tables of the properties still running (again after one is dropped)."""
        self._epoch += 1
        running = [(pos, p) for pos, p in enumerate(self.properties) if pos not in self._dropped]
        live = [(pos, p) for pos, p in running if isinstance(p, LiveProperty)]
        self._live = live
        self._positions: dict[TraceProperty, int] = {p: pos for pos, p in running}
        """property -> its catalogue position (looked up only for a violation or a crash)."""
        self._clock = tuple(p for _, p in live if _overrides(p, "clock"))
        self._generic = tuple(p for _, p in running if not isinstance(p, LiveProperty))
        self._keeps_ledger = bool(live)  # a request line's backend (Context.backend) is read from it too
        self._changes: dict[Any, _Hooks] = {}
        self._requests: dict[Any, _Hooks] = {}
        interests = [(pos, p, p.interest()) for pos, p in live]
        self._interests = interests
        signature = tuple(
            (pos, type(p), _overrides(p, "judge") and tuple(j), _overrides(p, "applied") and tuple(a))
            for pos, p, (j, a) in interests
        )
        self._signature = _SIGNATURES.setdefault(signature, len(_SIGNATURES))
        ctx = self.ctx
        ctx.due = {p: None for p in ctx.due if p in self._positions}
        ctx.armed = {b: [(p, hook) for p, hook in hooks if p in self._positions] for b, hooks in ctx.armed.items()}

    def _hooks(self, key: Any, kind: type[Changes | Requests]) -> _Hooks:
        """The judges and the applied hooks that want records of this kind, in catalogue order.

        Which properties want a kind of record depends only on the properties' classes and interests,
        so the answer is shared by every suite of the same properties (:data:`_PLANS`): a checker
        judging many short traces (a conformance campaign) works it out once, not once per trace."""
        plan_key = (self._signature, kind, key)
        plan = _PLANS.get(plan_key)
        if plan is None:

            def wanted(interest: Iterable[Changes | Requests]) -> bool:
                return any(isinstance(p, kind) and p.matches(key) for p in interest)

            interests = self._interests
            plan = (
                tuple(i for i, (_, p, (j, _)) in enumerate(interests) if _overrides(p, "judge") and wanted(j)),
                tuple(i for i, (_, p, (_, a)) in enumerate(interests) if _overrides(p, "applied") and wanted(a)),
            )
            if len(_PLANS) < _PLANS_KEPT:
                _PLANS[plan_key] = plan
        live = self._live
        return tuple(live[i][1] for i in plan[0]), tuple(live[i][1] for i in plan[1])

    # ------------------------------------------------------------------ one record

    def observe(self, index: int, record: Request | Change) -> list[Violation] | None:
        """The violations this record shows, in catalogue order; None if it shows none."""
        found: dict[int, Violation] | None = None
        ctx = self.ctx
        change: Change | None
        backend: str | None
        if isinstance(record, CHANGE):  # (``t`` read on the record's own type: compiled, an index)
            change, t, backend = record, record.t, record.backend
        else:
            change, t = None, record.t
            backend = ctx.ledger.owner(record.backend, record.session, record.job)
        ctx.backend = backend
        ctx.prev = ctx.last_on.get(backend)
        moved = t != ctx.clock_t  # (an instant can only end where time moves)
        if moved:
            now = ctx.now
            if t > now and not same_time(t, now):  # the instant ``now`` is over
                if ctx.due:
                    found = self._instant_ended(index, t)
                ctx.now = t
        if ctx.armed:
            found = self._next_record(index, record, found)
        if moved:
            ctx.clock_t = t
            if self._clock:
                found = self._run(self._clock, _CLOCK, index, t, found)
        epoch = self._epoch
        key: ChangeKey | RequestKey
        kind: type[Changes | Requests]
        if change is not None:
            key = (change.entity, change.src, change.dst, change.session is not None)
            table, kind = self._changes, Changes
        else:
            request: Request = record  # type: ignore[assignment]  # not a change
            key = (request.op, request.error is None)
            table, kind = self._requests, Requests
        hooks = table.get(key)
        if hooks is None:
            hooks = table[key] = self._hooks(key, kind)
        judges, applies = hooks
        if judges:  # (most kinds of record reach few hooks: no call for none)
            found = self._run(judges, _JUDGE, index, record, found)
        if change is not None and self._keeps_ledger:
            try:
                ctx.ledger.apply(change)
            except Exception as error:  # the ledger absorbs bad lines; this is a malformed record
                for pos, prop in self._live:
                    if prop.uses_ledger:
                        self._drop(pos, error)
        if self._epoch != epoch:  # a property was dropped: its later hooks must not run
            applies = self._hooks(key, kind)[1]
        if applies:
            found = self._run(applies, _APPLIED, index, record, found)
        for generic in self._generic:  # a property that is not a LiveProperty sees every record
            try:
                v = generic.observe(index, record)
            except Exception as error:
                self._drop(self._positions[generic], error)
                continue
            if v is not None:
                found = _note(found, self._positions[generic], v)
        ctx.last_on[backend] = record
        if found is None:
            return None
        return [found[pos] for pos in sorted(found)]

    def _instant_ended(self, index: int, t: float) -> dict[int, Violation] | None:
        ctx = self.ctx
        due, ctx.due = ctx.due, {}
        found: dict[int, Violation] | None = None
        for prop in due:  # (the method called, not a bound method made: compiled, a direct call)
            pos = self._positions.get(prop)
            if pos is None:  # dropped since
                continue
            try:
                v = prop.instant_ended(index, t)
            except Exception as error:
                self._drop(pos, error)
                continue
            if v is not None:
                found = _note(found, pos, v)
        return found

    def _next_record(
        self, index: int, record: Request | Change, found: dict[int, Violation] | None
    ) -> dict[int, Violation] | None:
        armed = self.ctx.armed.pop(self.ctx.backend, None)
        if armed is None:
            return found
        return self._run_registered(armed, index, record, found)

    def _run_registered(
        self, calls: Iterable[tuple[LiveProperty, Hook]], index: int, arg: Any, found: dict[int, Violation] | None
    ) -> dict[int, Violation] | None:
        """Like :meth:`_run`, for calls a property registered for later: it may have been dropped since."""
        for prop, hook in calls:
            pos = self._positions.get(prop)
            if pos is None:
                continue
            try:
                v = hook(index, arg)
            except Exception as error:
                self._drop(pos, error)
                continue
            if v is not None:
                found = _note(found, pos, v)
        return found

    def _run(
        self, props: tuple[LiveProperty, ...], hook: int, index: int, arg: Any, found: dict[int, Violation] | None
    ) -> dict[int, Violation] | None:
        """Call each property's ``hook`` (``_JUDGE``, ...) with (index, arg); keep each property's first
        violation; a hook that raises drops its property (or re-raises when not tolerant)."""
        for prop in props:
            try:
                if hook == _JUDGE:
                    v = prop.judge(index, arg)
                elif hook == _APPLIED:
                    v = prop.applied(index, arg)
                else:
                    v = prop.clock(index, arg)
            except Exception as error:
                self._drop(self._positions[prop], error)
                continue
            if v is not None:
                found = _note(found, self._positions[prop], v)
        return found

    def finish(self, index: int, end_time: float) -> list[Violation]:
        """What every property can only judge at the end, in catalogue order."""
        found: list[Violation] = []
        for pos, prop in enumerate(self.properties):
            if pos in self._dropped:
                continue
            try:
                found.extend(prop.finish(index, end_time))
            except Exception as error:
                self._drop(pos, error)
        return found

    def _drop(self, pos: int, error: Exception) -> None:
        if not self.tolerant:
            raise error
        if pos in self._dropped:
            return
        self._dropped.add(pos)
        name = self.properties[pos].name
        self.broken.append(f"property {name} could not judge this trace ({type(error).__name__}: {error})")
        self._compile()


def _note(found: dict[int, Violation] | None, pos: int, violation: Violation) -> dict[int, Violation]:
    """Keep a property's first violation of the record."""
    if found is None:
        return {pos: violation}
    found.setdefault(pos, violation)
    return found


def check_records(records: Iterable[Record], properties: Iterable[type[TraceProperty]]) -> list[Violation]:
    """Run properties over one trace (header first); every violation, in trace order."""
    iterator = iter(records)
    header = next(iterator, None)
    if not isinstance(header, Header):
        raise ValueError("a trace starts with its header record")
    suite = Suite([cls(header) for cls in properties])
    found: list[Violation] = []
    index = 0
    end_time = 0.0
    for index, record in enumerate(iterator, start=1):
        assert not isinstance(record, Header)
        end_time = record.t
        violations = suite.observe(index, record)
        if violations is not None:
            found.extend(violations)
    found.extend(suite.finish(index, end_time))
    return found
