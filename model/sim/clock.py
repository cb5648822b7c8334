"""A minimal virtual clock: a heap of events, like SimPy's ``Environment`` without processes.

An event is ``(time, order, sequence, handler, target, token)``: events due at the same
instant run by their order class, then in the order they were scheduled (``sequence``);
running one calls ``handler(target, token)``. A handler that may have been superseded
compares ``token`` with its target's (timers are cancelled lazily, by bumping it).

Deadlines that are mostly moot by the time they come (a session's max_time, hours ahead, when
most sessions close within minutes) wait in a heap of their own (:meth:`Clock.schedule_deadline`),
so that the events of the next seconds sift through a small heap rather than one swollen with
them. The clock takes the earlier of the two heads: one order over all events, as with one heap.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from typing import Any

from mypy_extensions import mypyc_attr

Handler = Callable[[Any, int], None]
Event = tuple[float, int, int, Handler, Any, int]

# Order classes of events due at the same instant. A device job end comes before timers
# under INT-EXPIRY-TIE=job_first, after them under expiry_first; client callbacks and
# background arrivals come last (a request made at t follows every event due at t).
JOB_END_FIRST = 0
TIMER = 1
JOB_END_LAST = 2
ARRIVAL = 3


@mypyc_attr(allow_interpreted_subclasses=True)
class Clock:
    """Virtual time and the events due in it; no threads, no sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.events_processed = 0
        self._heap: list[Event] = []
        """Pending events; the engine's parts push their own timers on it (keyed with ``_seq``)."""
        self._deadlines: list[Event] = []
        """Pending events scheduled by :meth:`schedule_deadline`: a heap apart, run in the same order."""
        self._seq = itertools.count()
        """Sequence numbers: what orders events due at the same instant and in the same order class."""

    def schedule(self, when: float, handler: Handler, target: Any, token: int = 0, order: int = TIMER) -> None:
        """Call ``handler(target, token)`` at ``when``, after what is already scheduled for then in ``order``."""
        heapq.heappush(self._heap, (when, order, next(self._seq), handler, target, token))

    def schedule_deadline(self, when: float, handler: Handler, target: Any, token: int = 0) -> None:
        """:meth:`schedule` (order ``TIMER``) for a deadline that will mostly be moot when it comes.

        It runs exactly where :meth:`schedule` would have run it; a moot one still comes due (its
        handler ignores it) and counts in ``events_processed``, but it stays out of the heap the
        clock pushes and pops every event of the next seconds on.
        """
        heapq.heappush(self._deadlines, (when, TIMER, next(self._seq), handler, target, token))

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        """Run ``callback()`` at virtual time ``when``: a client acting from inside the run.

        The callback may make requests (open, submit, cancel, close) and schedule further
        callbacks. Like a request made at ``when``, it comes after every event due then
        (callbacks and background arrivals due at the same instant run in the order they
        were scheduled); ``when`` may not lie in the past.
        """
        if when < self.now:
            raise ValueError(f"cannot schedule in the past: now {self.now}, asked {when}")
        heapq.heappush(self._heap, (when, ARRIVAL, next(self._seq), _call, callback, 0))

    def discard(self, doomed: Callable[[Any], bool]) -> None:
        """Drop every pending event whose target ``doomed`` selects."""
        for heap in (self._heap, self._deadlines):
            heap[:] = [event for event in heap if not doomed(event[4])]
            heapq.heapify(heap)

    def _first(self) -> list[Event] | None:
        """The heap whose head is the next event; None when no event is pending."""
        heap, deadlines = self._heap, self._deadlines
        if deadlines and (not heap or _earlier(deadlines[0], heap[0])):
            return deadlines
        return heap if heap else None

    @property
    def next_event_time(self) -> float | None:
        first = self._first()
        return first[0][0] if first is not None else None

    @property
    def pending_events(self) -> int:
        """How many events are pending (spent ones included until they come due or are discarded)."""
        return len(self._heap) + len(self._deadlines)

    def step(self) -> bool:
        """Process the next event; False when none is left."""
        return self._process(math.inf, 1) == 1

    def step_selected(self, until: float, instant: float, selected: Callable[[Any], bool]) -> bool:
        """Process the next event due at or before ``until``, passing over those due at or after ``instant``
        whose target ``selected`` refuses: they stay pending, in their places, for a later call. False when no
        event is left to process.

        For a judge of a trace whose independent parts (backends) may write their lines of one instant in any
        order: it runs one part's events of the instant while the others' wait for their own lines."""
        soon, deadlines = self._heap, self._deadlines
        pop = heapq.heappop
        passed: list[tuple[list[Event], Event]] = []
        while True:
            heap = deadlines if deadlines and (not soon or _earlier(deadlines[0], soon[0])) else soon
            if not heap or heap[0][0] > until:
                event = None
                break
            event = pop(heap)
            if event[0] < instant or selected(event[4]):
                break
            passed.append((heap, event))
        for heap, other in passed:  # back in their places before any handler runs (their keys are unchanged)
            heapq.heappush(heap, other)
        if event is None:
            return False
        when, _, _, handler, target, token = event
        self.now = when
        self.events_processed += 1
        handler(target, token)
        return True

    def run_until(self, when: float) -> None:
        """Process every event due at or before ``when``, then set the clock to ``when``."""
        if when < self.now:
            raise ValueError(f"cannot run back in time: now {self.now}, asked {when}")
        self._drain(when)
        self.now = float(when)

    def run_before(self, when: float) -> None:
        """Process every event due strictly before ``when``, then set the clock to ``when`` (if later)."""
        while (due := self.next_event_time) is not None and due < when:
            self.step()
        self.now = max(self.now, float(when))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative duration ({seconds})")
        self.run_until(self.now + seconds)

    def run(self, stop: Callable[[], bool] | None = None, until: float | None = None) -> bool:
        """Process events until ``stop()`` holds, the next event lies past ``until``, or none is left.

        Returns whether ``stop`` was satisfied (always False without one).
        """
        if stop is None:
            self._drain(until)
            if until is not None and until > self.now:
                self.now = float(until)
            return False
        while True:
            if stop():
                return True
            due = self.next_event_time
            if due is None or (until is not None and due > until):
                if until is not None and until > self.now:
                    self.now = float(until)
                return False
            self.step()

    def _drain(self, until: float | None) -> None:
        """``step()`` until no event is left, or none is due at or before ``until``."""
        self._process(math.inf if until is None else until, -1)

    def _process(self, until: float, most: int) -> int:
        """Process the events due at or before ``until`` in order, at most ``most`` of them (negative: no
        bound); how many. The one loop that runs events (a call per event to ``step`` would cost more)."""
        soon, deadlines = self._heap, self._deadlines
        pop = heapq.heappop
        done = 0
        try:
            while done != most:
                heap = deadlines if deadlines and (not soon or _earlier(deadlines[0], soon[0])) else soon
                if not heap or heap[0][0] > until:
                    break
                when, _, _, handler, target, token = pop(heap)
                self.now = when
                done += 1
                handler(target, token)
        finally:  # counted once, not per event (a handler that raises has run)
            self.events_processed += done
        return done


def _earlier(event: Event, other: Event) -> bool:
    """Whether ``event`` comes before ``other``: by their times, by the rest of their keys only on a tie
    (compiled, two floats compare natively where two tuples would be rebuilt as objects to compare)."""
    return event[0] < other[0] or (event[0] == other[0] and event < other)


def _call(callback: Callable[[], None], _token: int) -> None:
    callback()
