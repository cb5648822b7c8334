"""A readable text timeline of a trace, for ``sessionspec simulate`` and for humans reading traces."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from model.spec.lifecycles import JOB, JOB_FINAL
from model.trace import Change, Header, Record, Request
from model.trace.timing import time_text

_OUTCOMES = tuple(state.name for state in JOB.states if state.final)
"""A job's final states, in the declaration's order (that of the summary line)."""


def describe(record: Request | Change) -> str:
    """One line: time, backend, what happened, and the rules behind it."""
    if isinstance(record, Request):
        target = " ".join(
            f"{k} {v}" for k, v in (("session", record.session), ("job", record.job)) if v is not None
        )
        args = ""
        if record.args:
            shown = {k: v for k, v in record.args.items() if v is not None and k != "program"}
            args = " " + " ".join(f"{k}={v}" for k, v in shown.items()) if shown else ""
        verdict = f"REJECTED {record.error}: {record.message}" if record.error else "accepted"
        what = f"client {record.op} {target}{args}: {verdict}"
        rules = record.rules
    else:
        label = f"{record.entity} {record.id}"
        if record.entity == "job" and record.session is not None:
            label += f" ({record.session})"
        src = record.src or "·"
        what = f"{label}: {src} -> {record.dst} by {record.trigger}"
        if record.reason:
            what += f" (reason {record.reason})"
        if record.max_time is not None:
            what += f" (max_time {time_text(record.max_time)} s)"
        rules = record.rules
    cite = f"  [{', '.join(rules)}]" if rules else ""
    return f"{record.t:>11.3f}  {record.backend or '-':<20} {what}{cite}"


def render_text(records: Iterable[Record]) -> Iterator[str]:
    """The timeline lines, then a summary of outcomes."""
    jobs: Counter[str] = Counter()
    sessions: dict[str, str] = {}
    for record in records:
        if isinstance(record, Header):
            chosen = ", ".join(f"{k}={v}" for k, v in record.interpretation.items())
            yield f"interpretation: {chosen}"
            yield f"{'t (s)':>11}  {'backend':<20} event"
            continue
        yield describe(record)
        if isinstance(record, Change):
            if record.entity == "session":
                sessions[record.id] = record.dst
            elif record.dst in JOB_FINAL:
                jobs[record.dst] += 1
                jobs["open"] -= 1
            elif record.src is None:
                jobs["open"] += 1
    summary = ", ".join(f"{jobs[k]} {k}" for k in _OUTCOMES)
    yield f"jobs: {summary}, {jobs['open']} unfinished"
    states = Counter(sessions.values())
    yield "sessions: " + (", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none")
