"""``render.same`` (what the replay compares a trace's record with the spec's on) says what ``meaning`` says:
it compares a change field by field, so the two lists of fields must agree."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model.trace import Change, Request
from model.trace.timing import same_time
from properties.conformance.render import meaning, same

_few = st.sampled_from(["a", "b"])
_maybe = st.none() | _few
changes = st.builds(
    Change, st.sampled_from([0.0, 1.0]), st.sampled_from(["job", "session"]), _few, _few, _maybe, _maybe, _few,
    _few, st.sampled_from([(), ("JOB-TERMINAL",)]), _maybe, st.none() | st.sampled_from([1.0, 2.0]),
)
requests = st.builds(
    Request, st.sampled_from([0.0, 1.0]), st.sampled_from(["open", "submit"]), _maybe, _maybe, _maybe,
    st.none() | st.just({"max_time": 1}), _maybe,
)


@given(changes | requests, changes | requests, st.sampled_from([0.0, 0.5, 1.0]))
def test_same_is_the_same_meaning_within_the_tolerance(one: Change | Request, two: Change | Request,
                                                       tolerance: float) -> None:
    expected = meaning(one) == meaning(two) and same_time(one.t, two.t, tolerance)
    assert same(one, two, tolerance) is expected
