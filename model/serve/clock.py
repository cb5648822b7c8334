"""How the server maps the client's wall clock onto the engine's virtual clock.

Two rules, applied under the server's lock before every request:

- **Think time at a stated pace.** Wall time that passed since the last request counts as
  ``speed`` virtual seconds per wall second (default 1: a program that thinks for 2 s has
  thought for 2 s; the 60 s interactive window of the platform profile closes after 60 s of
  real idleness, as on the device). ``speed=0`` stops virtual time between requests: the run
  is then a pure function of the requests (deterministic traces, what the tests use).
- **Lock-step while the client waits.** A poll of an unfinished job (``GET /jobs/{id}``,
  ``/results``) moves virtual time on to the next instant at which that job's state changes
  (every event due by then runs first, in the engine's order), bounded by ``wait_horizon``.
  Device time and queueing thus cost the client one poll each, not minutes: the seed example
  finishes in seconds, and a waiting client never turns into idle (think) time on the trace.

Why both: a speed factor alone would make a 5-minute queue cost 5 minutes (or, sped up,
turn a second of the program's own computation into minutes of idleness that trips timers);
lock-step alone would make a program that thinks never idle at all. The wall clock enters
only through :meth:`WallClock.owed`, so tests can pass a fake ``now``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_SPEED = 1.0
DEFAULT_WAIT_HORIZON = 9 * 3600.0
"""Virtual seconds one poll may skip at most: more than any max_time (8 h) plus a queue."""
MAX_ADVANCE_TO = 1e9
"""The latest virtual time ``POST /sessionspec/advance`` may reach (about 31.7 years). Within it every time
computation holds: a body's date ``epoch + timedelta(seconds=t)`` stays far below year 9999, and a float
``t`` keeps sub-microsecond steps, so a timer ``t + 1800`` is later than ``t``."""


class WallClock:
    """Virtual seconds owed for the wall time since the last call (think time)."""

    def __init__(self, speed: float = DEFAULT_SPEED, now: Callable[[], float] = time.monotonic) -> None:
        if not speed >= 0 or speed == float("inf"):
            raise ValueError(f"speed must be a finite number >= 0, got {speed!r}")
        self.speed = speed
        self._now = now
        self._last = now()

    def owed(self) -> float:
        """Virtual seconds since the last call (0 at speed 0); restarts the count."""
        now = self._now()
        elapsed, self._last = max(0.0, now - self._last), now
        return elapsed * self.speed

    def restart(self) -> None:
        """Forget the wall time since the last call (a lock-step skip already paid for it)."""
        self._last = self._now()
