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

import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Final, Literal, NamedTuple

from msgspec import UNSET, Meta, Struct, UnsetType, field

from model.spec.lifecycles import JOB, SESSION
from model.spec.profiles import PROFILE_NAMES

FORMAT: Final = "sessionspec-trace"
VERSION: Final = 1
RULE_PATTERN = "^[A-Z][A-Z0-9-]*$"
FLOAT_MAX = sys.float_info.max
FLOAT_MAX_INT: Final = int(FLOAT_MAX)
"""The largest integer a 64-bit float holds: an int a line may carry, and what compiled code compares an int
with (compared with the float itself, compiled, a larger int is converted to a float first and raises)."""


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
"""Rule IDs. Their pattern is checked after decoding, once per distinct list (the reader's ``_checked``):
msgspec would run it on every string of every line, which costs more than decoding the line."""
ArgValue = int | float | str | bool | None
SessionState: Any = Literal[SESSION.state_names]
JobState: Any = Literal[JOB.state_names]


class BackendLimits(Struct, forbid_unknown_fields=True, gc=False):
    system_max_time: Limit
    program_max_execution_time: Limit


class _Line(Struct, tag_field="type", omit_defaults=True, forbid_unknown_fields=True, gc=False):
    """A trace line; ``CONDITIONS``: JSON Schema for what the reader checks beyond the fields."""

    CONDITIONS: ClassVar[dict[str, Any]] = {}


class HeaderLine(_Line, tag="header", kw_only=True):
    format: Literal["sessionspec-trace"]
    version: Literal[1]
    profile: Literal[PROFILE_NAMES] = ABSENT  # type: ignore[valid-type]
    interactive_timeout: Limit
    interpretation: dict[str, str]
    backends: Annotated[dict[str, BackendLimits], Meta(min_length=1)]


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


class SessionLine(_Line, tag="session", kw_only=True):
    t: Time
    id: Name
    backend: Name
    src: SessionState | None = field(name="from")
    dst: SessionState = field(name="to")
    trigger: str
    rules: Rules
    max_time: Seconds = ABSENT


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


class EndLine(_Line, tag="end", kw_only=True):
    t: Time


Line = HeaderLine | RequestLine | SessionLine | JobLine | EndLine
LINES: tuple[type[_Line], ...] = (HeaderLine, RequestLine, SessionLine, JobLine, EndLine)
KINDS: dict[str, type[_Line]] = {str(line.__struct_config__.tag): line for line in LINES}

