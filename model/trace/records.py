"""Trace records, and the layout of their JSON lines, defined once.

In memory a trace is a sequence of :class:`Header`, :class:`Request` and :class:`Change`
records: named tuples, which the engine builds positionally on its hot path. On disk each
record is one JSON line, whose layout is the msgspec Struct of its kind here
(:class:`HeaderLine`, :class:`RequestLine`, :class:`SessionLine`, :class:`JobLine`): the
``type`` key is the Struct's tag and comes first, the other keys follow in field order, a key
whose value is absent is left out, and decoding is strict (no unknown key, no null where the
key may only be absent, no coercion). What a field type cannot say (a key required by another
key's value) each Struct checks after decoding and declares in ``CONDITIONS`` for the schema.
The writer encodes these Structs, the reader decodes into them, and the JSON Schema is
generated from them (:mod:`model.trace.schema`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Final, Literal, NamedTuple

from msgspec import UNSET, Meta, Struct, UnsetType, field

from model.spec.lifecycles import JOB, SESSION
from model.spec.profiles import DEFAULT_PROFILE, PROFILE_NAMES

FORMAT: Final = "sessionspec-trace"
VERSION: Final = 1
RULE_PATTERN = "^[A-Z][A-Z0-9-]*$"
FLOAT_MAX = sys.float_info.max


class Header(NamedTuple):
    """First line: format, version, the profile and interpretation in force and the backends' limits."""

    interpretation: Mapping[str, str]
    backends: Mapping[str, Mapping[str, float]]
    interactive_timeout: float
    profile: str = "seeds"
    """The profile (model.spec.profiles); the line leaves the key out for the default, ``seeds``."""


class Request(NamedTuple):
    """A client request (open, submit, cancel, close) and whether the spec accepted it."""

    t: float
    op: str
    backend: str | None
    session: str | None
    job: str | None
    args: Mapping[str, Any] | None
    error: str | None = None
    """The validation code if the request was rejected, else None (accepted)."""
    rules: tuple[str, ...] = ()
    message: str | None = None


class Change(NamedTuple):
    """One state change of a session or a job, with the trigger and the rules behind it."""

    t: float
    entity: str
    id: str
    backend: str
    session: str | None
    src: str | None
    dst: str
    trigger: str
    rules: tuple[str, ...]
    reason: str | None = None
    max_time: float | None = None


class End(NamedTuple):
    """Optional last line: the run went on to virtual time ``t`` (at or after the last record's time).

    Without it a reader cannot tell a timer event missing at the end of the run from a run that
    stopped before the timer was due; a trace without it stays valid."""

    t: float


Record = Header | Request | Change
Sink = Callable[[Record], None]
Entry = Record | End
"""Whatever one line of a trace holds: a record, or the end-of-run line."""

# --- The lines. Field types are held as values typed ``Any`` where they are built at run time
# (the states come from the declared lifecycles).

ABSENT: Any = None
"""The default of a key that may be absent: left out of a line when None, and null is refused."""

Name = Annotated[str, Meta(min_length=1)]
Time = Annotated[float, Meta(ge=0)]
Seconds = Annotated[float, Meta(gt=0)]
Limit = Annotated[int, Meta(gt=0, le=2**63 - 1)] | Seconds
"""A backend's limit in seconds: an integer is kept as one (a header reads back as it was written)."""
Rules = tuple[Annotated[str, Meta(extra_json_schema={"pattern": RULE_PATTERN})], ...]
"""Rule IDs. Their pattern is checked after decoding, once per distinct list (:func:`_checked`): msgspec
would run it on every string of every line, which costs more than decoding the line."""
ArgValue = int | float | str | bool | None
SessionState: Any = Literal[SESSION.state_names]
JobState: Any = Literal[JOB.state_names]
_new = tuple.__new__
_RULE = re.compile(RULE_PATTERN).search
_RULE_LISTS: dict[tuple[str, ...], tuple[str, ...]] = {}
"""Each distinct rule list seen valid, kept once: records share it instead of holding a fresh tuple
each (far fewer objects for the garbage collector to track over a long trace)."""
_RULE_LISTS_LIMIT = 4096


def _checked(rules: tuple[str, ...]) -> tuple[str, ...]:
    """``rules`` if every rule ID matches the pattern (as the one equal list seen before), else ValueError."""
    known = _RULE_LISTS.get(rules)
    if known is None:
        for index, rule in enumerate(rules):
            if not _RULE(rule):
                raise ValueError(f"Expected `str` matching regex {RULE_PATTERN!r} - at `$.rules[{index}]`")
        if len(_RULE_LISTS) >= _RULE_LISTS_LIMIT:
            _RULE_LISTS.clear()
        known = _RULE_LISTS[rules] = rules
    return known


class BackendLimits(Struct, forbid_unknown_fields=True, gc=False):
    system_max_time: Limit
    program_max_execution_time: Limit


class _Line(Struct, tag_field="type", omit_defaults=True, forbid_unknown_fields=True, gc=False):
    """A trace line; ``CONDITIONS``: JSON Schema for what ``record()`` checks beyond the fields."""

    CONDITIONS: ClassVar[dict[str, Any]] = {}


class HeaderLine(_Line, tag="header", kw_only=True):
    format: Literal["sessionspec-trace"]
    version: Literal[1]
    profile: Literal[PROFILE_NAMES] = ABSENT  # type: ignore[valid-type]
    interactive_timeout: Limit
    interpretation: dict[str, str]
    backends: Annotated[dict[str, BackendLimits], Meta(min_length=1)]

    def record(self) -> Header:
        backends = {name: {"system_max_time": b.system_max_time,
                           "program_max_execution_time": b.program_max_execution_time}
                    for name, b in self.backends.items()}
        return Header(self.interpretation, backends, self.interactive_timeout, self.profile or DEFAULT_PROFILE)


class Args(Struct, forbid_unknown_fields=True, gc=False):
    """A request's arguments as the client gave them (open: max_time; submit: the others). Only an
    accepted request's are well-formed: a rejected one's malformed values are recorded as given, or
    by their repr string where JSON cannot hold them."""

    max_time: ArgValue | UnsetType = UNSET
    mode: Literal["batch"] | UnsetType = UNSET
    """open, platform profile only: present (``"batch"``) when the session is a batch (PLATFORM-BATCH)."""
    max_execution_time: ArgValue | UnsetType = UNSET
    group: str | UnsetType = UNSET
    program: str | UnsetType = UNSET

    def as_dict(self) -> dict[str, Any]:
        """The arguments given, in field order (written out: a loop over the fields costs twice as much);
        ValueError for an integer no float can hold (the request's record is then refused)."""
        for value in (self.max_time, self.max_execution_time):
            if value.__class__ is int and not -FLOAT_MAX <= value <= FLOAT_MAX:
                raise ValueError("an integer beyond a 64-bit float")
        given: dict[str, Any] = {}
        if self.max_time is not UNSET:
            given["max_time"] = self.max_time
        if self.mode is not UNSET:
            given["mode"] = self.mode
        if self.max_execution_time is not UNSET:
            given["max_execution_time"] = self.max_execution_time
        if self.group is not UNSET:
            given["group"] = self.group
        if self.program is not UNSET:
            given["program"] = self.program
        return given


def _needs(kind: str, keys: list[str]) -> str:
    return f"{kind} needs {', '.join(repr(key) for key in keys)}"


class RequestLine(_Line, tag="request", kw_only=True):
    t: Time
    op: Literal["open", "submit", "cancel", "close", "cancel_session"]
    backend: Name = ABSENT
    session: Name = ABSENT
    job: Name = ABSENT
    args: Args = ABSENT
    outcome: Literal["accepted", "rejected"]
    error: str = ABSENT
    rules: Rules = ABSENT
    message: str = ABSENT

    CONDITIONS: ClassVar[dict[str, Any]] = {"allOf": [
        {"if": {"properties": {"outcome": {"const": "rejected"}}},
         "then": {"required": ["error", "rules", "message"]},
         "else": {"not": {"anyOf": [{"required": ["error"]}, {"required": ["message"]}]}}},
        {"if": {"properties": {"outcome": {"const": "accepted"}}},
         "then": {"properties": {"args": {"properties": {
             "max_time": {"type": ["integer", "string", "null"]},
             "max_execution_time": {"type": ["number", "null"]}}}}}},
        {"if": {"properties": {"op": {"const": "submit"}, "outcome": {"const": "accepted"}}},
         "then": {"required": ["job", "backend"]}},
        {"if": {"properties": {"op": {"const": "open"}, "outcome": {"const": "accepted"}}},
         "then": {"required": ["session", "backend"]}},
        {"if": {"properties": {"op": {"const": "cancel"}}}, "then": {"required": ["job"]}},
        {"if": {"properties": {"op": {"const": "close"}}}, "then": {"required": ["session"]}},
    ]}

    def record(self) -> Request:
        """The record, once the conditions across keys hold (ValueError naming the first that does not)."""
        rules, args, op = self.rules, self.args, self.op
        if rules is not None:
            rules = _checked(rules)
        if self.outcome == "rejected":
            missing = [k for k, v in (("error", self.error), ("rules", self.rules), ("message", self.message))
                       if v is None]
            if missing:
                raise ValueError(_needs("a rejected request", missing))
        else:
            if self.error is not None or self.message is not None:
                raise ValueError("an accepted request has no 'error' or 'message'")
            if args is not None:
                max_time = args.max_time
                if max_time.__class__ is bool or (max_time.__class__ is float and not max_time.is_integer()):
                    raise ValueError(
                        "an accepted open's max_time is an integer, a string or null - at `$.args.max_time`"
                    )
                mex = args.max_execution_time
                if mex.__class__ is bool or mex.__class__ is str:
                    raise ValueError("an accepted submit's max_execution_time is a number or null"
                                     " - at `$.args.max_execution_time`")
            if op == "submit" or op == "open":
                target = "job" if op == "submit" else "session"
                missing = [k for k, v in ((target, getattr(self, target)), ("backend", self.backend)) if v is None]
                if missing:
                    raise ValueError(_needs(f"an accepted {op}", missing))
        if op == "cancel" and self.job is None:
            raise ValueError(_needs("a cancel", ["job"]))
        if op == "close" and self.session is None:
            raise ValueError(_needs("a close", ["session"]))
        return _new(Request, (
            self.t, self.op, self.backend, self.session, self.job, None if args is None else args.as_dict(),
            self.error, () if rules is None else rules, self.message,
        ))


class SessionLine(_Line, tag="session", kw_only=True):
    t: Time
    id: Name
    backend: Name
    src: SessionState | None = field(name="from")
    dst: SessionState = field(name="to")
    trigger: str
    rules: Rules
    max_time: Seconds = ABSENT

    def record(self) -> Change:
        return _new(Change, (
            self.t, "session", self.id, self.backend, None, self.src, self.dst, self.trigger, _checked(self.rules),
            None, self.max_time,
        ))


class JobLine(_Line, tag="job", kw_only=True):
    t: Time
    id: Name
    backend: Name
    session: Name = ABSENT
    src: JobState | None = field(name="from")
    dst: JobState = field(name="to")
    trigger: str
    rules: Rules
    reason: str = ABSENT

    CONDITIONS: ClassVar[dict[str, Any]] = {"if": {"properties": {"to": {"const": "failed"}}},
                                            "then": {"required": ["reason"]}}

    def record(self) -> Change:
        reason = self.reason
        if reason is None and self.dst == "failed":
            raise ValueError(_needs("a line into failed", ["reason"]))
        return _new(Change, (
            self.t, "job", self.id, self.backend, self.session, self.src, self.dst, self.trigger,
            _checked(self.rules), reason, None,
        ))


class EndLine(_Line, tag="end", kw_only=True):
    t: Time

    def record(self) -> End:
        return End(self.t)


Line = HeaderLine | RequestLine | SessionLine | JobLine | EndLine
LINES: tuple[type[_Line], ...] = (HeaderLine, RequestLine, SessionLine, JobLine, EndLine)
KINDS: dict[str, type[_Line]] = {str(line.__struct_config__.tag): line for line in LINES}

