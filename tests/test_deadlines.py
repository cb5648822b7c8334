"""The timer properties' deadline heap (:class:`properties.invariants.timers.Deadlines`) answers as a plain
table of live deadlines would, however many disarmed entries it has dropped along the way."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from properties.invariants.timers import Deadlines, _past

_KEYS = st.sampled_from([f"j{n}" for n in range(6)])
_STEP = st.one_of(
    st.tuples(st.just("arm"), _KEYS, st.floats(-5.0, 50.0)),
    st.tuples(st.just("disarm"), _KEYS, st.just(0.0)),
    st.tuples(st.just("pass"), st.just(""), st.floats(0.0, 3.0)),
)


@settings(max_examples=300)
@given(st.lists(_STEP, max_size=400))
def test_deadlines_are_a_table_of_live_deadlines(steps: list[tuple[str, str, float]]) -> None:
    deadlines, table = Deadlines(), {}
    t = 0.0
    for op, key, value in steps:
        if op == "arm":
            deadlines.arm(key, t + value)
            table[key] = t + value
        elif op == "disarm":
            deadlines.due.pop(key, None)
            table.pop(key, None)
        else:
            t += value
            passed = sorted((when, name) for name, when in table.items() if _past(when, t))
            for _, name in passed:
                del table[name]
            assert deadlines.passed(t) == [(name, when) for when, name in passed]
        assert deadlines.due == table


def test_disarmed_deadlines_do_not_pile_up() -> None:
    """A job's limit runs out hours after its run has ended: its heap entry is dropped before then."""
    deadlines = Deadlines()
    for n in range(10_000):
        deadlines.arm(f"j{n}", n + 28_800.0)
        del deadlines.due[f"j{n}"]  # the job ended
    assert len(deadlines._heap) < 100
