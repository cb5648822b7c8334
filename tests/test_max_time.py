"""The max_time parameter: its format (seed 002: int seconds or "2h 30m 40s") and its bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.spec.max_time import format_seconds, parse_max_time
from model.spec.validations import RequestRejected
from tests.scenario_helpers import B0, Scenario, backend


@pytest.mark.rule("MAXTIME-FORMAT", "MAXTIME-PARAM")
@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1, 1),
        (1500, 1500),
        ("2h 30m 40s", 9040),
        ("25m", 1500),
        ("90s", 90),
        ("2h", 7200),
        ("1h 30s", 3630),
        ("2h30m", 9000),
        ("90m", 5400),
        ("  45s ", 45),
        ("1500", 1500),
        (" 60 ", 60),
    ],
)
def test_accepted_formats(value: int | str, seconds: int) -> None:
    assert parse_max_time(value) == seconds


@pytest.mark.rule("MAXTIME-FORMAT", "MAXTIME-PARAM")
@pytest.mark.parametrize(
    "value",
    [0, -1, -3600, 1.5, 3600.0, True, False, None, [60], "1h 1h", "30m 2h", "40s 2h", "abc", "", "   ",
     "0", "0h 0m 0s", "-5", "1.5h", "10 minutes", "2d", "h", "5x",
     "²", "2²", "٣", "٣m", "１５", "1h ２m", "𝟗s"],
    ids=repr,
)
def test_refused_formats_raise_maxtime_format(value: object) -> None:
    with pytest.raises(RequestRejected) as raised:
        parse_max_time(value)
    assert raised.value.code == "MAXTIME-FORMAT"
    assert raised.value.rules == ("MAXTIME-FORMAT", "MAXTIME-PARAM")
    assert repr(value) in str(raised.value), "the message names the value it refuses"


@pytest.mark.rule("MAXTIME-FORMAT", "MAXTIME-PARAM")
@pytest.mark.parametrize("digits", [4301, 5000, 100_000])
def test_more_digits_than_python_converts_is_a_format_error(digits: int) -> None:
    for value in ("9" * digits, "9" * digits + "m", "1h " + "9" * digits + "s"):
        with pytest.raises(RequestRejected) as raised:
            parse_max_time(value)
        assert raised.value.code == "MAXTIME-FORMAT" and "too many digits" in str(raised.value)


@pytest.mark.rule("MAXTIME-FORMAT", "MAXTIME-PARAM")
@given(st.text(max_size=12) | st.from_regex(r"\A\s*[0-9²٣]{1,4}\s*[hms]?\s*\Z"))
def test_any_string_is_seconds_of_ascii_digits_or_a_format_error(value: str) -> None:
    try:
        seconds = parse_max_time(value)
    except RequestRejected as rejected:
        assert rejected.code == "MAXTIME-FORMAT"
    else:
        assert seconds > 0 and all(c in "0123456789hmsHMS" for c in value if not c.isspace())


@pytest.mark.rule("MAXTIME-FORMAT")
@pytest.mark.parametrize("value", [0, -5, 2.5, True, "1h 1h", "30m 2h", "abc", ""], ids=repr)
def test_the_engine_rejects_a_malformed_max_time_and_records_it(value: object) -> None:
    sc = Scenario()
    with pytest.raises(RequestRejected) as raised:
        sc.at(0).open_session(B0, session_id="s", max_time=value)
    assert raised.value.code == "MAXTIME-FORMAT"
    assert "s" not in sc.engine.sessions
    [rejected] = sc.rejections()
    assert (rejected.op, rejected.error, rejected.args) == ("open", "MAXTIME-FORMAT", {"max_time": value})


@pytest.mark.rule("MAXTIME-DEFAULT", "MAXTIME-PARAM")
def test_none_means_the_default_max_time() -> None:
    sc = Scenario()
    e = sc.at(0)
    session = e.open_session(B0, session_id="s", max_time=None)
    assert session.requested_max_time is None
    e.submit("s", job_id="j1")
    assert sc.change("s", "active").max_time == 28800.0


@pytest.mark.rule("MAXTIME-PARAM", "MAXTIME-ASSIGNED", "MAXTIME-EXPIRY")
def test_the_seeds_25m_example_closes_the_session_25_minutes_after_it_starts() -> None:
    """Seed 002: five jobs of about five minutes each need a max_time of at least 25 minutes.

    The jobs take 295 s so that the last one does not end at the very instant of expiry
    (a tie this test does not decide)."""
    sc = Scenario(backend(B0, 295.0))
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time="25m")
    for n in range(5):
        e.submit("s", job_id=f"j{n}")
    e.submit("s", job_id="sixth")
    sc.settle()
    assert [sc.when(f"j{n}", "completed") for n in range(5)] == [295.0 * (n + 1) for n in range(5)]
    assert sc.change("s", "active").max_time == 1500.0
    assert sc.when("s", "closed") == 1500.0
    assert (sc.when("sixth", "failed"), sc.change("sixth", "failed").reason) == (1500.0, "session_expired")


@pytest.mark.rule("MAXTIME-BOUNDS", "MAXTIME-SYSTEM-LIMIT")
@pytest.mark.parametrize(
    ("system", "accepted", "refused"),
    [(28800.0, ["8h", 28800, "7h 59m 59s"], ["8h 1s", 28801, "9h"]), (10800.0, ["3h", 60], ["3h 1s", "8h"])],
)
def test_max_time_may_not_exceed_the_system_limit(
    system: float, accepted: list[int | str], refused: list[int | str]
) -> None:
    sc = Scenario(backend(B0, system_max_time=system))
    e = sc.at(0)
    for value in accepted:
        e.open_session(B0, max_time=value)
    for value in refused:
        with pytest.raises(RequestRejected) as raised:
            e.open_session(B0, max_time=value)
        assert raised.value.code == "MAXTIME-ABOVE-SYSTEM"
        assert raised.value.rules == ("MAXTIME-BOUNDS", "MAXTIME-SYSTEM-LIMIT")
        assert f"{system:g} s" in str(raised.value)
    assert len(sc.rejections()) == len(refused)


@pytest.mark.rule("MAXTIME-BOUNDS")
@pytest.mark.parametrize(("max_time", "bound"), [("25m", 1500.0), (None, 28800.0)])
def test_a_jobs_explicit_max_execution_time_must_be_below_max_time(max_time: str | None, bound: float) -> None:
    sc = Scenario()
    e = sc.at(0)
    e.open_session(B0, session_id="s", max_time=max_time)
    e.submit("s", job_id="ok", max_execution_time=bound - 1)
    e.submit("s", job_id="unset")  # sets none: not checked (seed 002's own 25m example)
    for met in (bound, bound + 1):
        with pytest.raises(RequestRejected) as raised:
            e.submit("s", max_execution_time=met)
        assert raised.value.code == "MAXTIME-BELOW-JOB"
        assert raised.value.rules == ("MAXTIME-BOUNDS",)
    e.submit(backend=B0, job_id="plain", max_execution_time=bound + 1)  # outside a session: no session bound
    assert {"ok", "unset", "plain"} <= set(sc.engine.jobs)


@pytest.mark.rule("MAXTIME-FORMAT")
@given(st.integers(min_value=1, max_value=10**7))
def test_format_seconds_round_trips_through_parse_max_time(seconds: int) -> None:
    text = format_seconds(seconds)
    assert parse_max_time(text) == seconds
    assert parse_max_time(seconds) == seconds
    assert parse_max_time(str(seconds)) == seconds


@pytest.mark.rule("MAXTIME-FORMAT")
@given(
    st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
    st.sampled_from(["", " ", "  "]), st.booleans(),
)
def test_any_ordered_h_m_s_string_parses_to_its_seconds(h: int, m: int, s: int, gap: str, upper: bool) -> None:
    parts = [f"{n}{unit}" for n, unit in ((h, "h"), (m, "m"), (s, "s")) if n]
    text = gap.join(parts)
    if upper:
        text = text.upper()
    total = h * 3600 + m * 60 + s
    if total == 0:
        with pytest.raises(RequestRejected):
            parse_max_time(text)
    else:
        assert parse_max_time(text) == total
