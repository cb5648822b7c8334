"""The trace records the engine writes, built in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model.trace import Change, Request


def change(
    t: float, entity: str, entity_id: str, backend: str, session: str | None, src: str | None, dst: str,
    trigger: str, rules: tuple[str, ...], reason: str | None = None, max_time: float | None = None,
) -> Change:
    """A state change of a session or a job."""
    return Change(t, entity, entity_id, backend, session, src, dst, trigger, rules, reason, max_time)


def request(
    t: float, op: str, backend: str | None, session: str | None, job: str | None, args: Mapping[str, Any] | None,
    error: str | None = None, rules: tuple[str, ...] = (), message: str | None = None,
) -> Request:
    """A client request, accepted (``error`` None) or rejected with its validation code."""
    return Request(t, op, backend, session, job, args, error, rules, message)
