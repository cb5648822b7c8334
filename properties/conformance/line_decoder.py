"""The trace reader's fast path for a file's lines: decode and type-check a line in one step.

``msgspec`` decodes a request, session or job line straight from its bytes into a struct
whose field types say most of what the schema does (the enums, ``minimum 0``,
``minLength 1``, which keys may appear, which may be null), and raises for anything else;
what a struct cannot say (the rule pattern, the requirements that depend on another
field, a request's ``args``) is checked as :class:`~.reader.FastLines` checks it. The
structs are built from the schema, so that they cannot drift from it.

Like ``FastLines`` it only ever *accepts*: a line it does not (a header, a blank line, a
bad line, anything unusual: an ``args`` key the engine never writes, a ``max_time`` or a
float argument of 2**63 or more, a number out of a float's range such as ``1e400``, a lone
surrogate, a byte-order mark) is left to the reference path, which decides and words the
error. ``tests/test_reader.py`` holds it to the schema and to ``json`` on generated and
mutated lines, given as bytes and as text.

It runs in C and builds no intermediate dict: reading the benchmark's 100k-job trace
(399k lines) takes 0.47 s with it, 0.74 s with ``orjson`` and ``FastLines``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import msgspec

from model.trace import Change, Request, schema

if TYPE_CHECKING:
    from properties.conformance.reader import FastLines

_new = tuple.__new__
BIG = 2**63
"""Numbers this large may be integers that a fast path would read as floats (``json`` keeps them exact)."""


def _enum(values: Iterable[str | None]) -> Any:
    """``Literal[...]`` of an enum's strings, or'ed with None if the enum holds null."""
    strings = tuple(sorted(v for v in values if v is not None))
    literal = cast(Any, Literal)[strings]
    return literal | None if None in values else literal


class LineDecoder:
    """``record(line)``: the record ``from_json(json.loads(line))`` gives, for a request, session
    or job line the schema accepts and that uses only what the engine writes; else None."""

    def __init__(self, fast: FastLines) -> None:
        defs = schema()["$defs"]
        # Types held as values (``Any``): mypy would otherwise read these assignments as type aliases.
        name: Any = Annotated[str, msgspec.Meta(min_length=1)]
        time: Any = Annotated[float, msgspec.Meta(ge=0)]
        rules: Any = tuple[str, ...]
        # A default of None under a type that excludes null: absent gives None, an explicit null is an error.
        optional: Any = None

        def change(kind: str, extra: list[tuple[str, Any, Any]]) -> type[msgspec.Struct]:
            props = defs[kind]["properties"]
            return msgspec.defstruct(
                f"{kind.capitalize()}Line",
                [
                    ("t", time), ("id", name), ("backend", name),
                    ("src", _enum(props["from"]["enum"]), msgspec.field(name="from")),
                    ("dst", _enum(props["to"]["enum"]), msgspec.field(name="to")),
                    ("trigger", str), ("rules", rules), *extra,
                ],
                tag_field="type", tag=kind, forbid_unknown_fields=True, gc=False,
            )

        below_big: Any = Annotated[int, msgspec.Meta(gt=0, le=BIG - 1)] | Annotated[float, msgspec.Meta(gt=0, lt=BIG)]
        job = change("job", [("session", name, optional), ("reason", str, optional)])
        session = change("session", [("max_time", below_big, optional)])
        request = defs["request"]["properties"]
        request_line = msgspec.defstruct(
            "RequestLine",
            [
                ("t", time), ("op", _enum(request["op"]["enum"])), ("outcome", _enum(request["outcome"]["enum"])),
                ("backend", name, optional), ("session", name, optional), ("job", name, optional),
                ("args", dict[str, Any], optional), ("error", str, optional), ("rules", rules, optional),
                ("message", str, optional),
            ],
            tag_field="type", tag="request", forbid_unknown_fields=True, gc=False,
        )
        self.record = _reader(msgspec.json.Decoder(job | session | request_line).decode, job, session, fast)
        """``record(line)``: the line's record, or None (see the class)."""


def _reader(decode: Callable[[bytes | str], Any], job: type, session: type, fast: FastLines) -> Callable[
    [bytes | str], Request | Change | None
]:
    """The per-line function, as a closure over what it reads: it runs once per line of a trace."""
    rule_tuple = fast.rule_tuple
    valid_args = fast.args
    # (msgspec's ValidationError is a DecodeError; text with a lone surrogate raises UnicodeEncodeError, a ValueError)
    errors = (msgspec.DecodeError, ValueError)

    def record(line: bytes | str) -> Request | Change | None:
        try:
            s: Any = decode(line)
        except errors:
            return None
        kind = type(s)
        if kind is job:
            rules = rule_tuple(s.rules)
            dst = s.dst
            reason = s.reason
            if rules is None or (reason is None and dst == "failed"):
                return None
            return _new(Change, (s.t, "job", s.id, s.backend, s.session, s.src, dst, s.trigger, rules, reason, None))
        if kind is session:
            rules = rule_tuple(s.rules)
            if rules is None:
                return None
            return _new(Change, (s.t, "session", s.id, s.backend, None, s.src, s.dst, s.trigger, rules, None,
                                 s.max_time))
        args = s.args
        if args is not None and not valid_args(args, s.outcome == "accepted"):
            return None
        if s.rules is None:
            rules = ()
        else:
            rules = rule_tuple(s.rules)
            if rules is None:
                return None
        return _request(s, rules)

    return record


def _request(s: Any, rules: tuple[str, ...]) -> Request | None:
    """A decoded request line's record (``rules``: its valid rules), if the requirements that depend
    on other fields hold."""
    op = s.op
    job = s.job
    session = s.session
    backend = s.backend
    if s.outcome == "accepted":
        if s.error is not None or s.message is not None:
            return None
        if (op == "submit" and (job is None or backend is None)) or (
            op == "open" and (session is None or backend is None)
        ):
            return None
    elif s.error is None or s.message is None or s.rules is None:
        return None
    if (op == "cancel" and job is None) or (op == "close" and session is None):
        return None
    return _new(Request, (s.t, op, backend, session, job, s.args, s.error, rules, s.message))
