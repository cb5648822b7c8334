"""The qiskit_ibm_runtime-shaped API: misuse raises the real client's exception with the rule ID,
states and waits follow the spec, and the context manager scopes primitives and closes."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.runtime import (
    Estimator,
    EstimatorResult,
    IBMInputValueError,
    IBMRuntimeError,
    JobStatus,
    Options,
    QiskitBackendNotFoundError,
    QiskitRuntimeService,
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobNotFound,
    RuntimeJobTimeoutError,
    Sampler,
    SamplerResult,
    Session,
    SimulationLimitError,
    current_session,
    default_service,
    set_default_service,
)
from model.runtime.service import DEFAULT_MAX_EVENTS
from model.sim.devices import BackendConfig, BackgroundLoad, Duration, simulator
from model.spec.interpretations import Interpretation
from model.trace import Request, schema, to_json

SIM = "ibmq_qasm_simulator"


@pytest.fixture(autouse=True)
def fresh_default_service() -> Iterator[None]:
    set_default_service(None)
    yield
    set_default_service(None)


def two_backends(channel: str = "ibm_quantum", **kwargs: object) -> QiskitRuntimeService:
    backends = [BackendConfig("alpha", duration=Duration.fixed(10)), BackendConfig("beta", duration=Duration.fixed(10))]
    return QiskitRuntimeService(channel, backends=backends, **kwargs)  # type: ignore[arg-type]


def rejections(service: QiskitRuntimeService) -> list[Request]:
    return [r for r in service.trace if isinstance(r, Request) and r.error is not None]


# ---------------------------------------------------------------- misuse


@pytest.mark.rule("SESSION-CLOSED-REJECTS", "SESSION-CLOSE")
def test_submitting_to_a_closed_session_raises_and_is_traced() -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM)
    estimator = Estimator(session=session)
    session.close()
    with pytest.raises(IBMRuntimeError, match="SESSION-CLOSED-REJECTS") as info:
        estimator.run("circuit")
    assert info.value.code == "SESSION-CLOSED"
    assert rejections(service)[-1].error == "SESSION-CLOSED"


@pytest.mark.rule("SESSION-CLOSED-REJECTS", "MAXTIME-EXPIRY")
def test_submitting_to_an_expired_session_raises() -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM, max_time=60)
    estimator = Estimator(session=session)
    estimator.run("c").result()
    service.advance(60)
    assert session.status() == "Closed"
    with pytest.raises(IBMRuntimeError, match="SESSION-CLOSED-REJECTS"):
        estimator.run("c")


@pytest.mark.rule("MAXTIME-FORMAT")
@pytest.mark.parametrize("bad", ["2 hours", "1.5h", "30m 2h", "", 0, -5, 1.5, True, [60]])
def test_bad_max_time_format_raises_input_value_error(bad: object) -> None:
    service = QiskitRuntimeService()
    with pytest.raises(IBMInputValueError, match="MAXTIME-FORMAT") as info:
        Session(service, SIM, max_time=bad)  # type: ignore[arg-type]
    assert info.value.code == "MAXTIME-FORMAT"
    assert rejections(service)[-1].error == "MAXTIME-FORMAT"


@pytest.mark.rule("MAXTIME-FORMAT", "MAXTIME-PARAM")
@pytest.mark.parametrize(("given", "seconds"), [("2h 30m 40s", 9040), ("25m", 1500), (90, 90), ("90", 90)])
def test_good_max_time_is_the_session_limit(given: int | str, seconds: int) -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM, max_time=given)
    assert session.details()["requested_max_time"] == seconds
    Estimator(session=session).run("c")
    assert session.details()["max_time"] == seconds


@pytest.mark.rule("MAXTIME-BOUNDS", "MAXTIME-SYSTEM-LIMIT")
def test_max_time_above_the_system_limit_raises() -> None:
    service = QiskitRuntimeService()  # simulator: system max_time 3 h
    with pytest.raises(IBMInputValueError, match="MAXTIME-BOUNDS"):
        Session(service, SIM, max_time="3h 1s")
    assert Session(service, SIM, max_time="3h").status() == "Pending"


@pytest.mark.rule("MAXTIME-BOUNDS")
def test_max_time_equal_to_the_system_limit_raises_under_strict() -> None:
    service = QiskitRuntimeService(interpretation=Interpretation.of(MAXTIME_UPPER_BOUND="strict"))
    with pytest.raises(IBMInputValueError, match="MAXTIME-BOUNDS"):
        Session(service, SIM, max_time="3h")


@pytest.mark.rule("MAXTIME-BOUNDS")
def test_job_limit_not_below_session_max_time_raises() -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM, max_time=600)
    options = Options()
    options.max_execution_time = 600
    with pytest.raises(IBMInputValueError, match="MAXTIME-BOUNDS") as info:
        Estimator(session=session, options=options).run("c")
    assert info.value.code == "MAXTIME-BELOW-JOB"
    options.max_execution_time = 599
    assert Estimator(session=session, options=options).run("c").status() == JobStatus.RUNNING


@pytest.mark.rule("BACKEND-FIXED")
def test_primitive_on_another_backend_than_its_session_raises() -> None:
    service = two_backends()
    session = Session(service, "alpha")
    with pytest.raises(IBMInputValueError, match="BACKEND-FIXED"):
        Estimator(session=session, backend="beta")
    with pytest.raises(IBMInputValueError, match="BACKEND-FIXED"), session:
        Sampler(backend=service.backend("beta"))
    assert Estimator(session=session, backend=service.backend("alpha")).backend() == "alpha"


@pytest.mark.rule("BACKEND-FIXED")
@pytest.mark.parametrize("several", [["alpha", "beta"], ("alpha",)])
def test_several_backends_for_one_session_raise(several: list[str] | tuple[str, ...]) -> None:
    service = two_backends()
    with pytest.raises(IBMInputValueError, match="BACKEND-FIXED"):
        Session(service, several)  # type: ignore[arg-type]
    assert not service.engine.sessions


@pytest.mark.rule("BACKEND-REQUIRED")
def test_no_backend_on_ibm_quantum_raises_and_is_traced() -> None:
    service = QiskitRuntimeService(channel="ibm_quantum")
    with pytest.raises(IBMInputValueError, match="BACKEND-REQUIRED"):
        Session(service)
    assert rejections(service)[-1].error == "BACKEND-REQUIRED"


@pytest.mark.rule("BACKEND-REQUIRED")
def test_no_backend_on_ibm_cloud_takes_the_least_busy() -> None:
    service = two_backends("ibm_cloud")
    assert Session(service).backend() == "alpha"  # tie: first configured
    Estimator(backend=service.backend("alpha")).run("c")
    assert Session(service).backend() == "beta"


@pytest.mark.rule("BACKEND-REQUIRED", "CONTEXT-PRIMITIVES")
def test_primitive_without_session_or_backend_raises() -> None:
    assert current_session() is None
    with pytest.raises(IBMInputValueError, match="BACKEND-REQUIRED"):
        Estimator()


@pytest.mark.rule("BACKEND-NAME-OR-OBJECT")
def test_unknown_backend_raises_backend_not_found() -> None:
    service = QiskitRuntimeService()
    with pytest.raises(QiskitBackendNotFoundError, match="BACKEND-NAME-OR-OBJECT"):
        Session(service, "ibm_nowhere")
    with pytest.raises(QiskitBackendNotFoundError, match="BACKEND-NAME-OR-OBJECT"):
        service.backend("ibm_nowhere")
    with pytest.raises(QiskitBackendNotFoundError, match="BACKEND-NAME-OR-OBJECT"):
        Session(service, QiskitRuntimeService().backend(SIM))


@pytest.mark.rule("BACKEND-NAME-OR-OBJECT")
def test_backend_by_object_uses_its_service() -> None:
    service = QiskitRuntimeService()
    session = Session(backend=service.get_backend(SIM))
    assert session.service is service
    assert Session(backend=SIM).service is default_service() is not service


def test_bad_options_and_unknown_jobs_raise() -> None:
    service = QiskitRuntimeService()
    estimator = Estimator(backend=service.backend(SIM), options={"resilience_level": 7})
    with pytest.raises(IBMInputValueError, match="resilience_level"):
        estimator.run("c")
    with pytest.raises(IBMInputValueError, match="unknown option"):
        Estimator(backend=SIM, options={"optimisation_level": 1})
    with pytest.raises(AttributeError):
        Options().optimisation_level = 1  # type: ignore[attr-defined]
    with pytest.raises(RuntimeJobNotFound):
        service.job("j99")
    with pytest.raises(IBMInputValueError, match="channel"):
        QiskitRuntimeService(channel="ibm_elsewhere")


# ---------------------------------------------------------------- states


@pytest.mark.rule(
    "SESSION-START-FIRST-JOB", "MAXTIME-ASSIGNED", "TTL-INTERACTIVE", "SESSION-REACTIVATE", "SESSION-CLOSE"
)
def test_status_and_details_through_the_lifecycle() -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM, max_time="1h")
    details = session.details()
    assert session.status() == "Pending"
    assert details["started_at"] is None and details["remaining_max_time"] is None and details["jobs"] == 0

    service.advance(30)  # opening is not starting: still pending
    assert session.status() == "Pending"
    job = Estimator(session=session).run("c")
    assert job.status() == JobStatus.RUNNING and session.status() == "Active"
    assert session.details()["running_job"] == job.job_id()

    job.result()
    details = session.details()
    assert service.now == 40 and job.status() == JobStatus.DONE and session.status() == "Active"
    assert details["started_at"] == 30 and details["remaining_max_time"] == 3600 - 10

    service.advance(300)  # the interactive window ran out
    assert session.status() == "Inactive"
    assert session.details()["remaining_max_time"] == 3600 - 310  # max_time keeps running while inactive

    again = Estimator(session=session).run("c")
    assert session.status() == "Active" and again.status() == JobStatus.RUNNING
    again.result()
    session.close()
    details = session.details()
    assert session.status() == "Closed" and details["closed_at"] == service.now
    assert details["accepting_jobs"] is False and details["jobs"] == 2 and details["remaining_max_time"] == 0.0


@pytest.mark.rule("SESSION-CLOSE")
def test_close_is_idempotent() -> None:
    session = Session(QiskitRuntimeService(), SIM)
    session.close()
    session.close()
    assert session.status() == "Closed"


# ---------------------------------------------------------------- waiting for results


@pytest.mark.rule("JOB-TERMINAL")
def test_result_blocks_until_the_job_ends_in_virtual_time() -> None:
    service = QiskitRuntimeService()
    blocker = Estimator(backend=service.backend(SIM)).run("c")
    job = Estimator(backend=service.backend(SIM)).run(["a", "b"], ["p"], "obs")
    assert service.now == 0 and job.status() == JobStatus.QUEUED and blocker.status() == JobStatus.RUNNING
    result = job.result()
    assert isinstance(result, EstimatorResult)
    assert service.now == 20 and job.status() == "DONE" and blocker.status() == "DONE"
    assert len(result.values) == 2 and all(-1 <= v <= 1 for v in result.values)
    assert len(result.metadata) == 2 and result.metadata[0]["shots"] > 0
    assert job.result() is result and service.now == 20  # a final job does not move time


@pytest.mark.rule("SCHED-SUBMIT-WHILE-RUNNING", "SCHED-SESSION-FIFO", "SCHED-ONE-AT-A-TIME")
def test_session_jobs_submitted_while_one_runs_queue_and_run_in_order() -> None:
    service = QiskitRuntimeService(token="ignored", instance="ibm-q/open/main")
    session = Session(service, SIM)
    estimator = Estimator(session=session)
    jobs = [estimator.run("c") for _ in range(3)]
    assert [job.status() for job in jobs] == [JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.QUEUED]
    jobs[2].result()
    assert service.now == 30
    assert [job.metrics()["timestamps"]["running"] for job in jobs] == [0, 10, 20]


@pytest.mark.rule("SCHED-PRIORITY", "SCHED-FIRST-JOB-WAITS", "TTL-INTERACTIVE", "SESSION-SINGLE-ACTIVE")
def test_result_waits_for_the_active_session_to_release_the_backend() -> None:
    service = QiskitRuntimeService()
    holder = Session(service, SIM)
    Estimator(session=holder).run("c").result()
    waiting = Estimator(session=Session(service, SIM)).run("c")
    assert waiting.status() == JobStatus.QUEUED  # held for the active session (INT-IDLE-DEVICE=hold)
    waiting.result()
    assert service.now == 10 + 300 + 10  # started when the holder's interactive window ran out
    assert waiting.metrics()["queue_wait"] == 300


@pytest.mark.rule("CLOSE-FAILS-INCOMPLETE", "JOB-TERMINAL")
def test_result_of_a_job_failed_by_closing_raises_failure_error() -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM)
    job = Estimator(session=session).run("c")
    session.close()
    assert job.status() == JobStatus.ERROR
    with pytest.raises(RuntimeJobFailureError, match=r"session_closed.*CLOSE-FAILS-INCOMPLETE") as info:
        job.result()
    assert info.value.reason == "session_closed"
    assert job.error_message() is not None and "session_closed" in job.error_message()  # type: ignore[operator]


@pytest.mark.rule("JOB-MAX-EXECUTION")
def test_job_past_its_max_execution_time_fails() -> None:
    service = QiskitRuntimeService()
    job = Estimator(backend=service.backend(SIM), options={"max_execution_time": 4}).run("c")
    with pytest.raises(RuntimeJobFailureError, match=r"max_execution_time_reached.*JOB-MAX-EXECUTION"):
        job.result()
    assert service.now == 4


def test_result_timeout_leaves_the_job_running() -> None:
    service = QiskitRuntimeService()
    job = Sampler(backend=service.backend(SIM)).run("c")
    with pytest.raises(RuntimeJobTimeoutError, match="still running"):
        job.result(timeout=3)
    assert service.now == 3 and job.status() == JobStatus.RUNNING
    assert isinstance(job.result(), SamplerResult)


def test_wait_horizon_bounds_waits_under_endless_background_load() -> None:
    endless = BackendConfig("slow", duration=Duration.fixed(math.inf))
    service = QiskitRuntimeService(
        backends=[endless], background_load=BackgroundLoad("slow", 10.0), wait_horizon=5000
    )
    job = Estimator(backend=service.backend("slow")).run("c")
    with pytest.raises(RuntimeJobTimeoutError, match="after waiting 5000 s"):
        job.result()
    assert service.now == 5000


def test_result_with_no_event_left_raises_instead_of_looping() -> None:
    service = QiskitRuntimeService()
    job = Estimator(backend=service.backend(SIM)).run("c")
    service.engine.discard(lambda target: True)  # no reachable state does this; it stands for an engine that stalls
    with pytest.raises(RuntimeJobTimeoutError, match="no event left"):
        job.result()


def test_results_are_deterministic_per_seed_and_job() -> None:
    def values(seed: int) -> list[list[float]]:
        service = QiskitRuntimeService(seed=seed)
        estimator = Estimator(backend=service.backend(SIM))
        jobs = [estimator.run("c") for _ in range(2)]
        return [job.result().values for job in jobs]  # type: ignore[union-attr]

    assert values(1) == values(1)
    assert values(1) != values(2)
    assert values(1)[0] != values(1)[1]


def test_sampler_result_is_a_distribution_over_the_circuit_outcomes() -> None:
    class Circuit:
        num_qubits = 2

    service = QiskitRuntimeService()
    result = Sampler(backend=service.backend(SIM)).run([Circuit(), Circuit()]).result()
    assert isinstance(result, SamplerResult) and len(result.quasi_dists) == 2
    for dist in result.quasi_dists:
        assert set(dist) <= {0, 1, 2, 3} and math.isclose(sum(dist.values()), 1.0, abs_tol=1e-5)


# ---------------------------------------------------------------- cancelling


@pytest.mark.rule("JOB-CANCEL")
def test_cancel_a_queued_job_then_result_raises_invalid_state() -> None:
    service = QiskitRuntimeService()
    estimator = Estimator(backend=service.backend(SIM))
    first, second = estimator.run("c"), estimator.run("c")
    second.cancel()
    assert second.status() == JobStatus.CANCELLED and first.status() == JobStatus.RUNNING
    with pytest.raises(RuntimeInvalidStateError, match="JOB-CANCEL"):
        second.result()
    assert second.error_message() is not None


@pytest.mark.rule("JOB-CANCEL", "JOB-TERMINAL")
def test_cancel_a_finished_job_raises_invalid_state() -> None:
    service = QiskitRuntimeService()
    job = Estimator(backend=service.backend(SIM)).run("c")
    job.result()
    with pytest.raises(RuntimeInvalidStateError, match="JOB-TERMINAL") as info:
        job.cancel()
    assert info.value.code == "JOB-FINISHED"


@pytest.mark.rule("FIRST-JOB-CANCEL")
def test_cancelling_the_first_job_fails_the_later_ones() -> None:
    service = QiskitRuntimeService()
    session = Session(service, SIM)
    estimator = Estimator(session=session)
    first, later = estimator.run("c"), estimator.run("c")
    first.cancel()
    with pytest.raises(RuntimeJobFailureError, match=r"first_job_cancelled.*FIRST-JOB-CANCEL"):
        later.result()
    with pytest.raises(RuntimeJobFailureError, match="first_job_cancelled"):
        estimator.run("c").result()


# ---------------------------------------------------------------- context manager


@pytest.mark.rule("CONTEXT-CLOSE", "CONTEXT-PRIMITIVES")
def test_context_manager_scopes_primitives_and_closes() -> None:
    service = QiskitRuntimeService()
    with Session(service, SIM) as session:
        assert current_session() is session
        estimator, sampler = Estimator(), Sampler()
        assert estimator.session is session and sampler.session is session
        job = estimator.run("c")
        job.result()
        assert session.status() == "Active"
    assert current_session() is None and session.status() == "Closed"
    assert job.session_id == session.session_id and job.status() == JobStatus.DONE
    with pytest.raises(IBMRuntimeError, match="SESSION-CLOSED-REJECTS"):
        estimator.run("c")


@pytest.mark.rule("CONTEXT-CLOSE")
def test_context_manager_closes_when_the_block_raises() -> None:
    service = QiskitRuntimeService()
    with pytest.raises(KeyError), Session(service, SIM) as session:
        raise KeyError("boom")
    assert session.status() == "Closed" and current_session() is None


@pytest.mark.rule("CONTEXT-PRIMITIVES")
def test_nested_contexts_use_the_innermost_session() -> None:
    service = two_backends()
    with Session(service, "alpha") as outer:
        with Session(service, "beta") as inner:
            assert Estimator().session is inner
        assert inner.status() == "Closed" and outer.status() == "Pending"
        assert Estimator().session is outer
    given = Session(service, "alpha")
    with Session(service, "beta"):
        assert Estimator(session=given).session is given  # an explicit session wins over the context


@pytest.mark.rule("SCHED-FAIRSHARE")
def test_primitive_with_a_backend_runs_outside_any_session() -> None:
    service = QiskitRuntimeService()
    job = Estimator(backend=service.backend(SIM)).run("c")
    assert job.session_id is None and job.primitive_id == "estimator"
    assert Estimator(backend=SIM).backend() == SIM  # a bare name goes to the default service
    assert service.job(job.job_id()) is job and service.jobs() == [job]


def test_runtime_trace_lines_follow_the_schema() -> None:
    service = QiskitRuntimeService()
    with Session(service, SIM) as session:
        Estimator(session=session).run("c").result()
    with pytest.raises(IBMRuntimeError):
        Estimator(session=session).run("c")
    validator = jsonschema.Draft202012Validator(schema())
    for record in service.trace:
        validator.validate(json.loads(json.dumps(to_json(record))))


def test_default_service_is_created_once_and_resettable() -> None:
    first = default_service()
    assert default_service() is first and [b.name for b in first.backends()] == [SIM]
    set_default_service(None)
    assert default_service() is not first
    mine = QiskitRuntimeService(backends=[simulator("ibm_other")])
    set_default_service(mine)
    assert Session(backend="ibm_other").service is mine


# ---------------------------------------------------------------- arguments, instants, bounded work


def trace_has_no_non_finite_time(service: QiskitRuntimeService) -> bool:
    return all(math.isfinite(getattr(record, "t", 0.0)) for record in service.trace)


@pytest.mark.parametrize(
    "bad", [math.nan, math.inf, -math.inf, -1, 10**400, "5", None, True, [1]],
    ids=["nan", "inf", "-inf", "-1", "1e400", "str", "None", "True", "list"],
)
def test_advance_refuses_what_is_not_finite_non_negative_seconds(bad: object) -> None:
    service = QiskitRuntimeService()
    before = len(service.trace)
    with pytest.raises(IBMInputValueError, match="finite number of seconds") as info:
        service.advance(bad)  # type: ignore[arg-type]
    assert "10000000000" not in str(info.value), "a huge int is described, not printed"
    assert service.now == 0 and len(service.trace) == before and trace_has_no_non_finite_time(service)


def test_advance_past_the_end_of_the_clock_is_refused() -> None:
    service = QiskitRuntimeService()
    service.advance(1.5e308)
    with pytest.raises(IBMInputValueError, match="beyond the virtual clock"):
        service.advance(1.5e308)
    assert service.now == 1.5e308


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1, "3", True], ids=repr)
def test_result_timeout_must_be_finite_non_negative_seconds(bad: object) -> None:
    service = QiskitRuntimeService()
    job = Estimator(backend=service.backend(SIM)).run("c")
    with pytest.raises(IBMInputValueError, match="timeout must be a finite number of seconds"):
        job.result(timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(IBMInputValueError, match="timeout"):
        job.wait_for_final_state(timeout=bad)  # type: ignore[arg-type]
    assert service.now == 0 and job.status() == JobStatus.RUNNING


@pytest.mark.rule("JOB-MAX-EXECUTION")
@pytest.mark.parametrize("huge", [10**400, 10**5000], ids=["1e400", "1e5000"])
def test_max_execution_time_beyond_any_float_is_refused_with_its_rule(huge: int) -> None:
    service = QiskitRuntimeService()
    options = Options()
    options.max_execution_time = huge
    with pytest.raises(IBMInputValueError, match=r"JOB-MAX-EXECUTION") as info:
        Estimator(backend=service.backend(SIM), options=options).run("c")
    assert info.value.code == "MAX-EXECUTION-TIME-FORMAT"
    assert not service.engine.jobs


@pytest.mark.rule("JOB-MAX-EXECUTION")
@pytest.mark.parametrize("bad", [math.nan, math.inf, 0, -5, "60", True])
def test_max_execution_time_the_engine_refuses_is_traced(bad: object) -> None:
    service = QiskitRuntimeService()
    options = Options()
    options.max_execution_time = bad  # type: ignore[assignment]
    with pytest.raises(IBMInputValueError, match="JOB-MAX-EXECUTION") as info:
        Estimator(backend=service.backend(SIM), options=options).run("c")
    assert info.value.code == "MAX-EXECUTION-TIME-FORMAT"
    assert rejections(service)[-1].error == "MAX-EXECUTION-TIME-FORMAT"
    json.loads(service.trace.jsonl().splitlines()[-1])  # the refused value is recorded as valid JSON


@pytest.mark.rule("MAXTIME-FORMAT", "MAXTIME-BOUNDS")
@pytest.mark.parametrize(
    ("max_time", "code"),
    [(10**400, "MAXTIME-ABOVE-SYSTEM"), (-(10**5000), "MAXTIME-FORMAT"), ("²", "MAXTIME-FORMAT"),
     ("٣m", "MAXTIME-FORMAT"), ("9" * 5000, "MAXTIME-FORMAT")],
    ids=["huge", "hugely-negative", "superscript-digit", "arabic-indic-digit", "5000-digits"],
)
def test_max_time_beyond_reason_is_refused_with_its_rules(max_time: object, code: str) -> None:
    service = QiskitRuntimeService()
    with pytest.raises(IBMInputValueError) as info:
        Session(service, SIM, max_time=max_time)  # type: ignore[arg-type]
    assert info.value.code == code and info.value.rules and info.value.rules[0] in str(info.value)
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: QiskitRuntimeService(seed="0"), "seed must be an int"),  # type: ignore[arg-type]
        (lambda: QiskitRuntimeService(seed=10**5000), "seed must be an int"),
        (lambda: QiskitRuntimeService(wait_horizon=math.nan), "wait_horizon must be a finite number"),
        (lambda: QiskitRuntimeService(wait_horizon=0), "wait_horizon must be a finite number of seconds above 0"),
        (lambda: QiskitRuntimeService(max_events=0), "max_events must be an int of at least 1"),
        (lambda: QiskitRuntimeService(max_events=1.5), "max_events must be an int"),  # type: ignore[arg-type]
        (lambda: QiskitRuntimeService(backends=[]), "non-empty sequence of BackendConfig"),
        (lambda: QiskitRuntimeService(backends=["alpha"]), "non-empty sequence of BackendConfig"),  # type: ignore[list-item]
        (lambda: QiskitRuntimeService(backends=[simulator(), simulator()]), "distinct"),
        (lambda: QiskitRuntimeService(interpretation={"INT-IDLE-DEVICE": "hold"}), "Interpretation"),  # type: ignore[arg-type]
        (lambda: QiskitRuntimeService().job(7), "job_id must be a non-empty string"),  # type: ignore[arg-type]
        (lambda: Estimator(backend=SIM, options=5), "options must be Options"),  # type: ignore[arg-type]
        (lambda: QiskitRuntimeService().add_background_load("load"), "BackgroundLoad"),  # type: ignore[arg-type]
        (lambda: QiskitRuntimeService().add_background_load(BackgroundLoad(SIM, 1.0), until=math.nan), "until"),
        (lambda: set_default_service("service"), "QiskitRuntimeService or None"),  # type: ignore[arg-type]
    ],
)
def test_misuse_raises_input_value_error_not_a_bare_type_error(make: object, says: str) -> None:
    with pytest.raises(IBMInputValueError, match=re.escape(says)):
        make()  # type: ignore[operator]


@pytest.mark.rule("BACKEND-NAME-OR-OBJECT")
def test_a_backend_named_by_something_else_than_a_string_is_not_found() -> None:
    service = QiskitRuntimeService()
    with pytest.raises(QiskitBackendNotFoundError, match="BACKEND-NAME-OR-OBJECT"):
        service.backend(["alpha"])  # type: ignore[arg-type]


def no_event_due_now(service: QiskitRuntimeService) -> bool:
    due = service.engine.next_event_time
    return due is None or due > service.now


@pytest.mark.rule("MAXTIME-EXPIRY", "TTL-INTERACTIVE", "SESSION-CLOSED-REJECTS")
@settings(max_examples=60, deadline=None)
@given(
    duration=st.integers(1, 400),
    thinks=st.lists(st.sampled_from([0, 1, 100, 299, 300, 301]), min_size=1, max_size=8),
    max_time=st.integers(1, 1500),
    tie=st.sampled_from(["job_first", "expiry_first"]),
)
def test_every_call_that_lets_time_pass_leaves_no_event_due_at_its_instant(
    duration: int, thinks: list[int], max_time: int, tie: str
) -> None:
    """The engine's ordering rule, through the API: a request made at t comes after every event
    due at t, so no call returns with one still pending. Whole seconds everywhere, so that job
    ends, think gaps, the interactive window (300 s) and max_time often fall on one instant."""
    backend = BackendConfig("b", duration=Duration.fixed(duration))
    service = QiskitRuntimeService(backends=[backend], interpretation=Interpretation.of(EXPIRY_TIE=tie))
    session = Session(service, "b", max_time=max_time)
    for think in thinks:
        try:
            job = Estimator(session=session).run("c")
        except IBMRuntimeError as refused:
            assert refused.code == "SESSION-CLOSED" and session.status() == "Closed"
            break
        job.wait_for_final_state()
        assert no_event_due_now(service)
        service.advance(think)
        assert no_event_due_now(service)


def test_max_events_stops_an_endless_advance_on_a_whole_instant() -> None:
    busy = BackgroundLoad("alpha", jobs_per_hour=100_000.0, duration=Duration.exponential(1.0))
    service = two_backends(background_load=busy, max_events=5_000)
    with pytest.raises(SimulationLimitError, match="max_events=5000") as info:
        service.advance(1e12)
    assert "advance(1000000000000.0) stopped at t=" in str(info.value)
    assert 0 < service.now < 1e12 and no_event_due_now(service)
    service.max_events = 10**9
    service.advance(1.0)  # the client may go on
    assert no_event_due_now(service)


def test_max_events_stops_a_wait_too() -> None:
    endless = BackendConfig("slow", duration=Duration.fixed(math.inf))
    busy = BackgroundLoad("slow", jobs_per_hour=100_000.0)
    service = QiskitRuntimeService(backends=[endless], background_load=busy, max_events=2_000)
    job = Estimator(backend=service.backend("slow")).run("c")
    with pytest.raises(SimulationLimitError, match=f"waiting for job {job.job_id()} stopped"):
        job.result()
    assert isinstance(SimulationLimitError("x"), IBMRuntimeError)
    assert QiskitRuntimeService().max_events == DEFAULT_MAX_EVENTS


def test_an_empty_backend_name_is_refused_before_the_engine_records_it() -> None:
    """The engine recorded the empty name on the refused open's line, which no reader takes: the service's
    own trace was unusable to check."""
    from properties.conformance.checker import CONFORMS, check_lines

    service = QiskitRuntimeService(seed=1)
    with pytest.raises(QiskitBackendNotFoundError, match="non-empty"):
        Session(service=service, backend="")
    report = check_lines([json.dumps(to_json(record)) for record in service.trace], "runtime.jsonl")
    assert report.status == CONFORMS, report.lines
