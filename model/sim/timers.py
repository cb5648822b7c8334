"""The session timers: the interactive window (TTL-INTERACTIVE), max_time (MAXTIME-EXPIRY) and, under
the platform profile, the unused-session timeout (PLATFORM-UNUSED-CLOSES).

Timers are clock events cancelled lazily: max_time's handler ignores a closed session, and
the interactive window is closed by clearing its deadline (a session keeps at most one
window event on the clock; see :meth:`Timers.update_window`).
"""

from __future__ import annotations

from heapq import heappush
from typing import ClassVar, NamedTuple

from mypy_extensions import mypyc_attr

from model.sim.clock import TIMER
from model.sim.closing import Closing
from model.sim.entities import SessionRecord
from model.spec.interpretations import InteractiveWindow, MaxtimeClock
from model.spec.lifecycles import INTERACTIVE_TIMEOUT, SESSION_FINAL

_UNUSED_SOURCES = frozenset(("pending", "inactive"))


class TimerSettings(NamedTuple):
    """The timer settings an engine runs with, as one read-only value (:attr:`Timers.timer_settings`): what a
    variant engine (the replay engine re-arming timers it adopts from a trace) needs to know of them."""

    window_seconds: float
    """How long the interactive window lasts (TTL-INTERACTIVE-VALUE): the profile's, or a variant's own."""
    unused_timeout: float | None
    """The unused-session timeout (PLATFORM-UNUSED-CLOSES); None where the profile has none."""
    max_time_from_open: bool
    """INT-MAXTIME-CLOCK=open: the max_time clock starts as the session opens, not as its first job starts."""
    window_on_queue_empty: bool
    """INT-INTERACTIVE-WINDOW=queue_empty: the window opens when the queue empties, even with a job running."""


@mypyc_attr(allow_interpreted_subclasses=True)
class Timers(Closing):
    """Arming and expiry of the interactive window, of max_time and of the unused-session timer."""

    interactive_window: ClassVar[float] = INTERACTIVE_TIMEOUT
    """Extension point: how long an interactive window lasts, in seconds (TTL-INTERACTIVE-VALUE). A variant
    engine that leaves it alone gets its profile's (60 s under the platform); one that sets it gets its own."""

    def update_window(self, session: SessionRecord) -> None:
        """Open or close the interactive window per INT-INTERACTIVE-WINDOW (TTL-INTERACTIVE).

        A window is identified by the event sequence number it takes when it opens (its
        ``window_token``), and its timeout event is keyed (deadline, timer order, that number),
        so it runs exactly where a timer scheduled at the opening would. Most windows close
        within seconds, so the event is pushed lazily: a session keeps at most one timeout event
        on the clock (at ``window_timer``, never later than a window opened since); when it comes
        due for a window that has closed, it pushes the open window's own event, if any.
        """
        if session.state != "active" or session.batch:  # a batch has no window: it deactivates as its job ends
            return
        if session.n_queued == 0 and (self._window_on_queue_empty or session.running is None):  # idle
            if session.window_deadline is None:
                deadline = session.window_deadline = self.now + self._window_seconds
                token = session.window_token = next(self._seq)
                if session.window_timer is None:
                    session.window_timer = deadline
                    heappush(self._heap, (deadline, TIMER, token, self._window_end, session, token))
        elif session.window_deadline is not None:
            session.window_deadline = None

    def init_timers(self) -> None:
        self._window_on_queue_empty = self.policy.interactive_window is InteractiveWindow.QUEUE_EMPTY
        self._clock_at_open = self.policy.maxtime_clock is MaxtimeClock.OPEN
        rules = self.interpretation.rules
        overridden = any("interactive_window" in vars(cls) for cls in type(self).__mro__ if cls is not Timers)
        self._window_seconds = type(self).interactive_window if overridden else rules.interactive_timeout
        self._unused_timeout = rules.unused_timeout

    @property
    def timer_settings(self) -> TimerSettings:
        """The timer settings in force (for variant engines: the engine's own fields stay private)."""
        return TimerSettings(
            self._window_seconds, self._unused_timeout, self._clock_at_open, self._window_on_queue_empty
        )

    def arm_unused(self, session: SessionRecord) -> None:
        """(Re-)arm the unused-session timer: it runs out ``unused_timeout`` from now (PLATFORM-UNUSED-CLOSES).

        Each arming pushes one event; an event whose deadline is no longer the session's does nothing."""
        assert self._unused_timeout is not None
        batch_end = session.batch and session.state == "inactive"  # PLATFORM-BATCH: it ends shortly after its job
        seconds = self._window_seconds if batch_end else self._unused_timeout
        deadline = session.unused_deadline = self.now + seconds
        self.schedule_deadline(deadline, self.on_unused_timeout, session)

    def on_unused_timeout(self, session: SessionRecord, token: int) -> None:
        """Extension point: an unused-session timer event comes due."""
        if session.unused_deadline != self.now or session.state not in _UNUSED_SOURCES:
            return  # re-armed since, or the session is active, closing or closed
        trigger = "batch_ended" if session.batch and session.state == "inactive" else "unused_timeout"
        if self.fire(self.session_fsm, session, trigger) is not None:
            session.unused_deadline = None
            self.dispatch.on(session.backend)

    def guard_session_is_batch(self, session: SessionRecord) -> bool:
        """The session was opened in batch mode (PLATFORM-BATCH)."""
        return session.batch

    def guard_session_unused(self, session: SessionRecord) -> bool:
        """No job of the session is queued or running (PLATFORM-UNUSED-CLOSES)."""
        return session.n_queued == 0 and session.running is None

    def on_interactive_timeout(self, session: SessionRecord, token: int) -> None:
        """Extension point: the interactive-timeout event comes due."""
        session.window_timer = None
        deadline = session.window_deadline
        if deadline is None or session.state != "active":
            return  # the window closed (a job queued or ran, or the session left active)
        if token != session.window_token:
            # Armed by a window that has since closed; the open one's event goes on now, as keyed at its opening.
            token = session.window_token
            session.window_timer = deadline
            heappush(self._heap, (deadline, TIMER, token, self._window_end, session, token))
            return
        self._fire_interactive_timeout.on(session)
        self.dispatch.on(session.backend)

    def max_time_deadline(self, session: SessionRecord) -> float:
        """Extension point: when a started session's max_time runs out (MAXTIME-ASSIGNED); from its opening
        under INT-MAXTIME-CLOCK=open."""
        if self._clock_at_open:
            assert session.opened_at is not None and session.max_time is not None
            return session.opened_at + session.max_time
        assert session.started_at is not None and session.max_time is not None
        return session.started_at + session.max_time

    def arm_max_time_at_open(self, session: SessionRecord) -> None:
        """INT-MAXTIME-CLOCK=open: the clock starts as the session opens, its max_time fixed then (the
        requested value, else the system limit)."""
        session.max_time = session.max_time_bound
        self.action_arm_max_time(session)

    def action_arm_max_time(self, session: SessionRecord) -> None:
        session.deadline = self.max_time_deadline(session)
        self.schedule_deadline(session.deadline, self.on_max_time, session)

    def on_max_time(self, session: SessionRecord, token: int) -> None:
        """Extension point: the session's max_time runs out."""
        if session.state in SESSION_FINAL:
            return
        self._fire_max_time.on(session)
        self.dispatch.on(session.backend)

    def action_release_backend(self, session: SessionRecord) -> None:
        """The session stops holding its backend: deactivated or closed."""
        backend = session.backend
        if backend.active_session is session:
            backend.active_session = None
        session.window_deadline = None  # the interactive window closes
        if session.state in SESSION_FINAL:
            session.closed_at = self.now
            self.retention.session_closed(self.sessions, session)
