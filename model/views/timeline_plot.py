"""A picture of one run: who held each device when, each session's state, and what fired.

:func:`render_timeline` draws a trace (records in order, as the engine emits them or
:func:`model.trace.loads_all` reads them) with matplotlib's Agg backend. One lane per
backend shows the job on the device (bars coloured by session, fair-share jobs
grey); one band per session shows pending / active / inactive / closed; markers show
timers firing (interactive timeout, max_time expiry), failures with their reason
and cancellations. Long runs stay readable through a time window and by grouping
all but the busiest sessions into one "other sessions" row.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator
from matplotlib.transforms import offset_copy

from model.spec.interpretations import Interpretation, InterpretationError
from model.spec.lifecycles import JOB_UNSUCCESSFUL
from model.trace import Change, Header, Record
from model.trace.timing import time_text
from model.views.output import replacing

TOP_SESSIONS = 12
"""Sessions drawn on their own band; the rest share one "other sessions" row."""

STATE_COLOURS = {"pending": "#fee391", "active": "#74c476", "inactive": "#c6dbef", "closed": "#e6e6e6"}
PROFILE_STATE_COLOURS = {"pending_closed": "#fdae6b"}
"""States of a profile other than the seeds' (platform: a closing session draining its jobs): drawn and listed
only when a run has them."""
FAIR_SHARE = "#b0b0b0"
OTHERS = "#c5b0d5"
_PALETTE = ("#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#393b79", "#bcbd22", "#7b4173", "#e6550d",
            "#843c39", "#5254a3", "#d6616b")
"""Session colours: none close to a state colour, so bars and bands never read alike."""
_MARKERS: dict[str, tuple[str, str, str]] = {
    # kind: (marker, colour, legend text)
    "interactive_timeout": ("v", "#08519c", "interactive timeout (timer)"),
    "max_time_reached": ("s", "#6a3d9a", "max_time expiry (timer)"),
    "failed": ("X", "#cb181d", "job failed"),
    "cancelled": ("o", "#000000", "job cancelled"),
}
_MAX_LABELLED_BARS = 300
_MAX_ANNOTATED_EVENTS = 40
_ROW = 1.0
_BAR = 0.7


class TimelineError(ValueError):
    """The records cannot be drawn (bad window, unsupported output format)."""


@dataclass
class _Bar:
    start: float
    end: float
    job: str
    session: str | None


@dataclass
class _Event:
    t: float
    kind: str
    backend: str
    session: str | None
    reason: str | None = None


@dataclass
class _Run:
    """What the trace says, reduced to intervals and point events."""

    interpretation: str | None = None
    backends: list[str] = field(default_factory=list)
    session_backend: dict[str, str] = field(default_factory=dict)
    bars: dict[str, list[_Bar]] = field(default_factory=lambda: defaultdict(list))
    states: dict[str, list[tuple[float, float, str]]] = field(default_factory=lambda: defaultdict(list))
    events: list[_Event] = field(default_factory=list)
    first: float | None = None
    last: float = 0.0


def _collect(records: Iterable[Record]) -> _Run:
    run = _Run()
    running: dict[str, tuple[float, str, str | None]] = {}
    state_since: dict[str, tuple[float, str]] = {}
    for record in records:
        if isinstance(record, Header):
            run.interpretation = _interpretation_name(record.interpretation, record.profile)
            run.backends.extend(b for b in record.backends if b not in run.backends)
            continue
        run.first = record.t if run.first is None else min(run.first, record.t)
        run.last = max(run.last, record.t)
        if record.backend is not None and record.backend not in run.backends:
            run.backends.append(record.backend)
        if not isinstance(record, Change):
            continue
        if record.entity == "session":
            run.session_backend.setdefault(record.id, record.backend)
            if record.id in state_since:
                since, state = state_since[record.id]
                run.states[record.id].append((since, record.t, state))
            state_since[record.id] = (record.t, record.dst)
            if record.trigger in ("interactive_timeout", "max_time_reached"):
                run.events.append(_Event(record.t, record.trigger, record.backend, record.id))
            continue
        if record.src == "running" and record.id in running:
            start, backend, session = running.pop(record.id)
            run.bars[backend].append(_Bar(start, record.t, record.id, session))
        if record.dst == "running":
            running[record.id] = (record.t, record.backend, record.session)
        if record.dst in JOB_UNSUCCESSFUL:
            run.events.append(_Event(record.t, record.dst, record.backend, record.session, record.reason))
    for job, (start, backend, session) in running.items():
        run.bars[backend].append(_Bar(start, run.last, job, session))
    for session, (since, state) in state_since.items():
        run.states[session].append((since, run.last, state))
    return run


def _spans(intervals: list[tuple[float, float, str]], state: str, lo: float, hi: float) -> list[tuple[float, float]]:
    """(start, width) of the intervals in ``state``, clipped to the window."""
    return [(max(a, lo), min(b, hi) - max(a, lo)) for a, b, st in intervals if st == state and b >= lo and a <= hi]


def _interpretation_name(choices: Any, profile: str) -> str:
    try:
        return Interpretation(dict(choices), profile).name
    except InterpretationError:
        return "custom"


def _activity(run: _Run, start: float, end: float) -> dict[str, float]:
    """Device seconds plus one per job, per session, inside the window: who gets a band of their own."""
    score: dict[str, float] = defaultdict(float)
    for bars in run.bars.values():
        for bar in bars:
            if bar.session is not None and bar.end >= start and bar.start <= end:
                score[bar.session] += 1 + max(0.0, min(bar.end, end) - max(bar.start, start))
    return score


def _tick_step(span: float) -> float:
    """A 1-2-5 step giving about eight ticks over ``span`` (in display units)."""
    rough = span / 8
    magnitude = 10.0 ** math.floor(math.log10(rough))
    return next(float(m) * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)


def _unit(span: float) -> tuple[float, str]:
    if span >= 4 * 3600:
        return 3600.0, "h"
    if span >= 20 * 60:
        return 60.0, "min"
    return 1.0, "s"


def render_timeline(
    records: Iterable[Record],
    path: str | Path,
    start: float | None = None,
    end: float | None = None,
    top: int = TOP_SESSIONS,
) -> Path:
    """Draw ``records`` into ``path`` (.svg or .png), limited to the window [start, end] if given."""
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise TimelineError(f"{out}: output must end in .svg or .png")
    run = _collect(records)
    lo = start if start is not None else (run.first or 0.0)
    hi = end if end is not None else run.last
    if hi <= lo:
        if start is not None and end is not None:
            raise TimelineError(f"empty window: --from {time_text(start)} is not before --to {time_text(end)}")
        hi = lo + 1.0
    if not math.isfinite(hi - lo):
        raise TimelineError(f"window {time_text(lo)} to {time_text(hi)}: wider than a float can hold")
    if (hi - lo) / 8 < 8 * math.ulp(max(abs(lo), abs(hi))):
        # its ticks would fall between the floats there (matplotlib then asks for petabytes)
        raise TimelineError(f"window {lo:.17g} to {hi:.17g}: too narrow to draw at times this large")
    figure = _draw(run, lo, hi, max(0, top))
    metadata: dict[str, Any] = (
        {"Creator": "sessionspec timeline", "Date": None} if fmt == "svg" else {"Software": "sessionspec timeline"}
    )
    with rc_context({"svg.hashsalt": "sessionspec", "svg.fonttype": "none"}), replacing(Path(out), "wb") as stream:
        figure.savefig(stream, format=fmt, dpi=110, metadata=metadata, bbox_inches="tight")
    return out


def _draw(run: _Run, lo: float, hi: float, top: int) -> Any:
    score = _activity(run, lo, hi)
    visible = [s for s in run.session_backend if any(a <= hi and b >= lo for a, b, _ in run.states[s])]
    ranked = sorted(visible, key=lambda s: (-score[s], _natural(s)))
    own = set(ranked[:top]) if len(ranked) > top + 1 else set(ranked)
    grouped = [s for s in visible if s not in own]
    colour = {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(s for s in visible if s in own)}

    backends = run.backends or sorted(run.bars)
    session_rows = [s for b in backends for s in visible if s in own and run.session_backend[s] == b]
    rows = [f"{b} device" for b in backends] + [f"{s} · {run.session_backend[s]}" for s in session_rows]
    if grouped:
        rows.append(f"{len(grouped)} other sessions\n(active spans)")
    y_backend = {b: i * _ROW for i, b in enumerate(backends)}
    gap = 0.6 if session_rows or grouped else 0.0
    y_session = {s: (len(backends) + i) * _ROW + gap for i, s in enumerate(session_rows)}
    y_others = (len(backends) + len(session_rows)) * _ROW + gap
    ticks = [*y_backend.values(), *y_session.values(), *([y_others] if grouped else [])]

    height = 1.6 + 0.42 * len(rows)
    # A bare Figure on the Agg canvas: no pyplot, so no global backend or figure registry.
    figure = Figure(figsize=(14, max(3.2, height)))
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    scale, unit = _unit(hi - lo)
    px_per_s = (14 * 0.8 * 110) / (hi - lo)

    # Session bands: one broken bar per state; grouped sessions show only when one of them is active.
    for session, y in y_session.items():
        for state, fill in (STATE_COLOURS | PROFILE_STATE_COLOURS).items():
            spans = _spans(run.states[session], state, lo, hi)
            if spans:
                ax.broken_barh(spans, (y - _BAR / 2, _BAR), facecolors=fill, linewidth=0)
    if grouped:
        ax.broken_barh([(lo, hi - lo)], (y_others - _BAR / 2, _BAR), facecolors="#f4f4f4", linewidth=0)
        active = [span for s in grouped for span in _spans(run.states[s], "active", lo, hi)]
        if active:
            ax.broken_barh(active, (y_others - _BAR / 2, _BAR), facecolors=STATE_COLOURS["active"], linewidth=0)

    _draw_lanes(ax, run, lo, hi, y_backend, colour, px_per_s)
    _draw_events(ax, run, lo, hi, y_backend, y_session, y_others, own)

    ax.set_yticks(ticks, rows)
    for label, session in zip(ax.get_yticklabels()[len(backends):], session_rows, strict=False):
        label.set_color(colour[session])
        label.set_fontweight("bold")
    ax.set_ylim(max([*ticks, 0.0]) + 0.8, -0.8)
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(MultipleLocator(_tick_step((hi - lo) / scale) * scale))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / scale:g}"))
    ax.set_xlabel(f"virtual time ({unit})")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if gap:
        ax.axhline(y_backend[backends[-1]] + (_ROW + gap) / 2, color="#888888", linewidth=0.6)
    title = "run timeline"
    if run.interpretation:
        title += f" — interpretation: {run.interpretation}"
    title += f" — window {lo:.6g}–{hi:.6g} s"
    ax.set_title(title, fontsize=12)
    below = offset_copy(ax.transAxes, figure, y=-36, units="points")
    ax.legend(handles=_legend(run, lo, hi, grouped), loc="upper center", bbox_to_anchor=(0.5, 0.0),
              bbox_transform=below, ncol=5, fontsize=8.5, frameon=False)
    return figure


def _draw_lanes(
    ax: Any, run: _Run, lo: float, hi: float, y_backend: dict[str, float], colour: dict[str, str], px_per_s: float,
) -> None:
    """One bar per job on the device, one draw call per lane and colour; ids where they fit."""
    visible = [(backend, bar) for backend, bars in run.bars.items() for bar in bars
               if bar.end >= lo and bar.start <= hi]
    spans: dict[tuple[float, str], list[tuple[float, float]]] = defaultdict(list)
    for backend, bar in visible:
        a, b = max(bar.start, lo), min(bar.end, hi)
        fill = FAIR_SHARE if bar.session is None else colour.get(bar.session, OTHERS)
        spans[(y_backend[backend], fill)].append((a, b - a))
        if len(visible) <= _MAX_LABELLED_BARS and (b - a) * px_per_s > 7.0 * len(bar.job) + 4:
            ax.text((a + b) / 2, y_backend[backend], bar.job, ha="center", va="center", fontsize=7.5,
                    color="black" if fill in (FAIR_SHARE, OTHERS) else "white")
    for (y, fill), bars in spans.items():
        ax.broken_barh(bars, (y - _BAR / 2, _BAR), facecolors=fill, edgecolors="white", linewidth=0.6)


def _draw_events(
    ax: Any, run: _Run, lo: float, hi: float, y_backend: dict[str, float], y_session: dict[str, float],
    y_others: float, own: set[str],
) -> None:
    """Timer markers on the session's band; failures and cancellations above the device lane, grouped by instant."""
    groups: dict[tuple[float, float, str], Counter[str]] = defaultdict(Counter)
    for event in run.events:
        if not lo <= event.t <= hi:
            continue
        if event.kind in ("interactive_timeout", "max_time_reached"):
            assert event.session is not None
            y = y_session.get(event.session, y_others) if event.session in own else y_others
        else:
            y = y_backend.get(event.backend, 0.0) - _BAR / 2 - 0.08
        groups[(event.t, y, event.kind)][event.reason or ""] += 1
    annotate = len(groups) <= _MAX_ANNOTATED_EVENTS
    for (t, y, kind), reasons in sorted(groups.items()):
        marker, fill, _ = _MARKERS[kind]
        face = "white" if kind == "cancelled" else fill
        ax.plot([t], [y], marker=marker, markersize=8, markerfacecolor=face, markeredgecolor=fill,
                linestyle="none", zorder=5, clip_on=False)
        if annotate and kind == "failed":
            text = ", ".join(f"{n}× {r}" if n > 1 else r for r, n in sorted(reasons.items()))
            ax.annotate(text, (t, y), xytext=(6, 3), textcoords="offset points", fontsize=7.5, color=fill,
                        zorder=6)


def _legend(run: _Run, lo: float, hi: float, grouped: list[str]) -> list[Any]:
    handles: list[Any] = [Patch(facecolor=c, label=f"session {s}") for s, c in STATE_COLOURS.items()]
    seen = {state for intervals in run.states.values() for _, _, state in intervals}
    handles.extend(Patch(facecolor=c, label=f"session {s}") for s, c in PROFILE_STATE_COLOURS.items() if s in seen)
    handles.append(Patch(facecolor=FAIR_SHARE, label="fair-share job (no session)"))
    if grouped:
        handles.append(Patch(facecolor=OTHERS, label="job of another session"))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in run.events:
        if lo <= event.t <= hi:
            counts[event.kind][event.reason or ""] += 1
    for kind, (marker, fill, text) in _MARKERS.items():
        if kind in counts:
            if kind == "failed":
                text += " (" + ", ".join(f"{r} ×{n}" for r, n in sorted(counts[kind].items())) + ")"
            else:
                text += f" ×{sum(counts[kind].values())}"
            handles.append(Line2D([], [], marker=marker, linestyle="none", markersize=8, label=text,
                                  markerfacecolor="white" if kind == "cancelled" else fill, markeredgecolor=fill))
    return handles


def _natural(name: str) -> tuple[str, int]:
    """s2 before s10."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return head, int(tail) if tail else -1
