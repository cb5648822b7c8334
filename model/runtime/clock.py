"""How the runtime API lets virtual time pass: whole instants, and a bounded amount of work.

Every runtime call that advances the clock (``service.advance``, ``job.result``,
``job.wait_for_final_state``) goes through :func:`run_engine`, which keeps two promises:

- **Whole instants.** When the call returns at time t, every event due at t has run,
  even if what the caller waited for (a job's end) happened earlier in that instant. The
  engine's ordering rule puts a client request made at t after every event due at t; a
  wait that returned mid-instant would let the next request jump ahead of, say, the
  max_time expiry due at the same t (MAXTIME-EXPIRY, SESSION-CLOSED-REJECTS).
- **Bounded work.** One call processes at most ``max_events`` events (counted when a new
  instant would start, so the clock still stops on a whole instant), then raises
  :class:`~model.runtime.exceptions.SimulationLimitError`; the state stays consistent and
  the client may call again.

Only the engine's public clock methods are used: ``step``, ``next_event_time``, ``now``
and ``run_until``.
"""

from __future__ import annotations

from collections.abc import Callable

from model.runtime.exceptions import SimulationLimitError
from model.sim.engine import Engine
from model.trace.timing import time_text


def run_engine(
    engine: Engine,
    *,
    until: float,
    max_events: int,
    what: str,
    stop: Callable[[], bool] | None = None,
) -> bool:
    """Run events until ``stop()`` holds or none is due by ``until``; finish the instant reached.

    Returns whether ``stop`` held. Without it, or when it never holds, the clock ends at
    ``until`` (every event due by then processed). ``what`` names the call in the message
    of the SimulationLimitError raised when ``max_events`` is spent.
    """
    done = 0
    stopped = False
    while True:
        if stop is not None and stop():
            stopped = True
            break
        when = engine.next_event_time
        if when is None or when > until:
            break
        if when > engine.now and done >= max_events:
            raise SimulationLimitError(
                f"{what} stopped at t={time_text(engine.now)} after {done} events: the service's limit of "
                f"max_events={max_events} per call (raise it with QiskitRuntimeService(max_events=...))"
            )
        engine.step()
        done += 1
    now = engine.now
    while (when := engine.next_event_time) is not None and when <= now:
        engine.step()
    if not stopped and until > engine.now:
        engine.run_until(until)
    return stopped
