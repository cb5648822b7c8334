"""``model.runtime`` under the platform profile speaks today's client: ``Session(backend, max_time)``,
``Batch``, ``SamplerV2``/``EstimatorV2(mode=)``, ``cancel``, ``from_id``, the platform's status
strings and details; misuse raises the client's exceptions; its traces pass ``sessionspec check``."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from model.runtime import (
    Batch,
    Estimator,
    EstimatorV2,
    IBMInputValueError,
    IBMRuntimeError,
    QiskitRuntimeService,
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobMaxTimeoutError,
    RuntimeJobV2,
    Sampler,
    SamplerV2,
    Session,
    current_session,
    set_default_service,
)
from model.runtime.jobs import STATUS_BY_STATE
from model.runtime.platform import ACCEPTING_STATUS, CLIENT_STATUSES, NOT_ACCEPTING_STATUS, status_of
from model.runtime.service import PLATFORM_BACKEND
from model.runtime.workload import WorkloadConfig, compare_modes
from model.sim.devices import BackendConfig, Duration
from model.spec.interpretations import Interpretation
from model.trace import MemoryTrace
from properties.cli import cli
from properties.conformance.checker import check_lines

JOB_STATUSES = ("QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")
CLIENT_DETAIL_KEYS = {
    "id", "backend_name", "interactive_timeout", "max_time", "active_timeout", "state", "accepting_jobs",
    "last_job_started", "last_job_completed", "started_at", "closed_at", "activated_at", "mode", "usage_time",
    "timestamps",
}
SERVER_DETAIL_KEYS = {
    "id", "backend_name", "state", "accepting_jobs", "interactive_ttl", "max_ttl", "active_ttl", "started_at",
    "closed_at", "activated_at", "last_job_started", "last_job_completed", "mode", "elapsed_time", "timestamps",
}


@pytest.fixture(autouse=True)
def fresh_default_service() -> Iterator[None]:
    set_default_service(None)
    yield
    set_default_service(None)


def platform(*names: str, seconds: float = 10.0) -> QiskitRuntimeService:
    """A platform service whose backends take ``seconds`` per job."""
    configs = [BackendConfig(name, duration=Duration.fixed(seconds)) for name in names or (PLATFORM_BACKEND,)]
    return QiskitRuntimeService(backends=configs, profile="platform")


def conforms(service: QiskitRuntimeService) -> None:
    """The run's trace passes ``sessionspec check``."""
    report = check_lines(service.trace_jsonl().splitlines(), "runtime.jsonl")
    assert report.status == 0, "\n".join(report.lines)


# ---------------------------------------------------------------- the service and its channels


def test_the_platform_channels_and_the_seeds_channel_refused() -> None:
    assert platform().channel == "ibm_quantum_platform"
    assert QiskitRuntimeService(channel="ibm_cloud", profile="platform").channel == "ibm_cloud"
    assert QiskitRuntimeService().channel == "ibm_quantum"  # the seeds stay the default
    with pytest.raises(IBMInputValueError, match="belongs to profile 'seeds'"):
        QiskitRuntimeService(channel="ibm_quantum", profile="platform")
    with pytest.raises(IBMInputValueError, match="belongs to profile 'platform'"):
        QiskitRuntimeService(channel="ibm_quantum_platform")
    with pytest.raises(IBMInputValueError, match="profile"):
        QiskitRuntimeService(profile="2019")


def test_the_default_platform_backend_is_a_device_and_least_busy_takes_the_clients_filters() -> None:
    service = QiskitRuntimeService(profile="platform")
    assert [b.name for b in service.backends()] == [PLATFORM_BACKEND]
    assert service.least_busy(operational=True, simulator=False).name == PLATFORM_BACKEND


# ---------------------------------------------------------------- one era's calls refused in the other


def test_seed_era_calls_are_refused_under_the_platform() -> None:
    service = platform()
    backend = service.backend(PLATFORM_BACKEND)
    with pytest.raises(IBMInputValueError, match="takes no service"):
        Session(service=service, backend=backend)
    with pytest.raises(IBMInputValueError, match="two backends"):
        Batch(backend, backend=backend)
    assert Session(backend, "25m").details()["max_time"] == 1500  # today's positional max_time
    assert Batch(backend, 600).details()["max_time"] == 600
    session = Session(backend)
    with pytest.raises(IBMRuntimeError, match="V2"):
        Estimator(session=session)
    with pytest.raises(IBMRuntimeError, match="V2"):
        Sampler(backend=backend)


@pytest.mark.rule("BACKEND-NAME-OR-OBJECT")
def test_a_platform_default_service_takes_backend_objects_only() -> None:
    set_default_service(platform())
    with pytest.raises(IBMInputValueError, match=r"Invalid backend type str.*BACKEND-NAME-OR-OBJECT"):
        Session(backend=PLATFORM_BACKEND)
    with pytest.raises(IBMRuntimeError, match="EstimatorV2"):
        Estimator(backend=PLATFORM_BACKEND)


def test_platform_calls_are_refused_under_the_seeds() -> None:
    service = QiskitRuntimeService()
    backend = service.backend("ibmq_qasm_simulator")
    session = Session(service, backend)
    for call in (
        lambda: Batch(backend),
        lambda: session.cancel(),
        lambda: session.usage(),
        lambda: Session.from_id(session.session_id, service),
        lambda: SamplerV2(mode=session),
        lambda: EstimatorV2(mode=backend),
    ):
        with pytest.raises(IBMRuntimeError, match="profile='platform'"):
            call()


# ---------------------------------------------------------------- where the jobs go: mode=


@pytest.mark.rule("CONTEXT-PRIMITIVES", "BACKEND-FIXED", "BACKEND-REQUIRED")
def test_mode_decides_where_jobs_go() -> None:
    service = platform("alpha", "beta")
    alpha, beta = service.backend("alpha"), service.backend("beta")
    assert SamplerV2(mode=alpha).run(["c"]).session_id is None  # job mode
    outside = SamplerV2(mode=alpha)
    with Session(alpha) as session:
        assert current_session() is session
        assert SamplerV2(mode=session).run(["c"]).session_id == session.session_id
        assert SamplerV2().run(["c"]).session_id == session.session_id
        assert SamplerV2(mode=alpha).run(["c"]).session_id == session.session_id  # the block takes it
        assert outside.run(["c"]).session_id is None  # built outside: keeps job mode
        with pytest.raises(IBMInputValueError, match="BACKEND-FIXED"):
            SamplerV2(mode=beta)
    with pytest.raises(IBMInputValueError, match="BACKEND-REQUIRED"):
        EstimatorV2()
    with pytest.raises(IBMInputValueError, match="mode must be"):
        EstimatorV2(mode="alpha")  # type: ignore[arg-type]


def test_run_takes_a_list_of_pubs_and_returns_pub_results() -> None:
    service = platform()
    backend = service.backend(PLATFORM_BACKEND)
    sampler = SamplerV2(mode=backend, options={"default_shots": 100})
    counts = sampler.run(["c1", ("c2", None, 7)]).result()
    assert [pub.data.meas.num_shots for pub in counts] == [100, 7]
    assert sampler.run(["c"], shots=5).result()[0].data.meas.num_shots == 5
    assert sampler.options.default_shots == 100  # run's shots= is for that job only
    values = EstimatorV2(mode=backend).run([("c", "ZZ"), ("c", ["ZZ", "XX"])]).result()
    assert isinstance(values[0].data.evs, float) and len(values[1].data.evs) == 2
    with pytest.raises(IBMInputValueError, match="list of pubs"):
        sampler.run("c")
    with pytest.raises(IBMInputValueError, match="unknown option"):
        SamplerV2(mode=backend, options={"shots": 10})
    with pytest.raises(IBMInputValueError, match="Estimator pub"):
        EstimatorV2(mode=backend).run(["c"])


# ---------------------------------------------------------------- jobs: the client's status strings


@pytest.mark.rule("JOB-TERMINAL", "JOB-CANCEL", "JOB-MAX-EXECUTION", "SCHED-ONE-AT-A-TIME")
def test_job_status_strings_along_a_run() -> None:
    service = platform(seconds=10)
    backend = service.backend(PLATFORM_BACKEND)
    sampler = SamplerV2(mode=backend)
    first, second, third = (sampler.run(["c"]) for _ in range(3))
    assert isinstance(first, RuntimeJobV2)
    assert [first.status(), second.status(), third.status()] == ["RUNNING", "QUEUED", "QUEUED"]
    assert type(first.status()) is str
    third.cancel()
    assert third.status() == "CANCELLED" and third.cancelled()
    with pytest.raises(RuntimeInvalidStateError, match="JOB-CANCEL"):
        third.result()
    second.result()
    assert (first.status(), second.status()) == ("DONE", "DONE") and first.done()
    with pytest.raises(RuntimeInvalidStateError, match=r"JOB-FINISHED|JOB-CANCEL"):
        first.cancel()
    short = SamplerV2(mode=backend, options={"max_execution_time": 5})
    late = short.run(["c"])
    with pytest.raises(RuntimeJobMaxTimeoutError, match="JOB-MAX-EXECUTION"):
        late.result()
    assert late.status() == "ERROR" and late.errored()
    assert {job.status() for job in service.jobs(limit=None)} <= set(JOB_STATUSES)
    conforms(service)


def test_jobs_filters_like_the_client() -> None:
    service = platform()
    backend = service.backend(PLATFORM_BACKEND)
    session = Session(backend)
    in_session = [SamplerV2(mode=session).run(["c"]) for _ in range(2)]
    plain = [SamplerV2(mode=backend).run(["c"]) for _ in range(12)]
    assert len(service.jobs()) == 10 and service.jobs()[0] is plain[-1]  # newest first, 10
    assert service.jobs(session_id=session.session_id, limit=None) == in_session[::-1]
    assert service.jobs(session_id="s404") == []  # as the platform does (qiskit-ibm-runtime#2398)
    assert len(service.jobs(limit=None, pending=True)) == 14  # queued or running
    service.advance(25)
    assert len(service.jobs(limit=None, pending=False)) == 2
    assert service.jobs(limit=None, descending=False)[0] is in_session[0]


# ---------------------------------------------------------------- sessions: status strings and details


@pytest.mark.rule("PLATFORM-STATES")
def test_the_status_strings_of_each_server_state() -> None:
    assert status_of("open", True) == "Pending"
    assert status_of("inactive", True) == "Pending"
    assert status_of("active", True) == ACCEPTING_STATUS
    assert status_of("pending_inactive", True) == ACCEPTING_STATUS
    assert status_of("active", False) == NOT_ACCEPTING_STATUS
    assert status_of("pending_closed", False) == NOT_ACCEPTING_STATUS
    assert status_of("closed", False) == "Closed"
    assert CLIENT_STATUSES == ("Pending", ACCEPTING_STATUS, NOT_ACCEPTING_STATUS, "Closed")


@pytest.mark.rule("PLATFORM-MAXTIME-DEFAULT")
def test_a_job_limit_above_the_sessions_max_time_is_accepted_and_max_time_defaults_to_the_system() -> None:
    """qiskit-ibm-runtime#1428: today's platform no longer rejects such a job (the seeds did, MAXTIME-BOUNDS)."""
    service = platform()
    backend = service.backend(PLATFORM_BACKEND)
    session = Session(backend, max_time=60)
    job = EstimatorV2(mode=session, options={"max_execution_time": 600}).run([("c", "ZZ")])
    assert job.result()[0].data.evs is not None
    assert Session(backend).details()["max_time"] == backend.max_time == 8 * 3600
    conforms(service)


@pytest.mark.rule("PLATFORM-STATES", "PLATFORM-MAXTIME-DEFAULT")
def test_details_have_the_clients_keys_and_the_server_its_fields() -> None:
    service = platform()
    session = Session(service.backend(PLATFORM_BACKEND), max_time="25m")
    details = session.details()
    assert set(details) == CLIENT_DETAIL_KEYS
    assert details["mode"] == "dedicated" and details["max_time"] == 1500 and details["state"] == "open"
    assert details["started_at"] is None and details["accepting_jobs"] is True
    wire = service.session_details(session.session_id)
    assert set(wire) == SERVER_DETAIL_KEYS
    assert wire["max_ttl"] == 1500 and wire["interactive_ttl"] == details["interactive_timeout"]
    with pytest.raises(IBMInputValueError, match=r"Session not found.*SESSION-GROUPS-JOBS"):
        service.session_details("s404")


@pytest.mark.rule("PLATFORM-NOT-ACCEPTING")
def test_a_closed_handle_refuses_jobs_before_any_request() -> None:
    service = platform()
    session = Session(service.backend(PLATFORM_BACKEND))
    sampler = SamplerV2(mode=session)
    session.close()
    requests = len(service.trace)
    with pytest.raises(IBMRuntimeError, match=r"The session is closed.*PLATFORM-NOT-ACCEPTING"):
        sampler.run(["c"])
    assert len(service.trace) == requests  # the client refused it itself


def test_from_id_reattaches_and_checks_the_mode() -> None:
    service = platform()
    backend = service.backend(PLATFORM_BACKEND)
    session = Session(backend)
    job = SamplerV2(mode=session).run(["c"])
    again = Session.from_id(job.session_id or "", service)
    assert again.session_id == session.session_id and again.status() == session.status()
    assert SamplerV2(mode=again).run(["c"]).session_id == session.session_id
    batch = Batch(backend)
    assert Batch.from_id(batch.session_id, service).details()["mode"] == "batch"
    with pytest.raises(IBMInputValueError, match="execution mode batch instead of dedicated"):
        Session.from_id(batch.session_id, service)
    with pytest.raises(IBMInputValueError, match="Session not found"):
        Session.from_id("s404", service)


# ---------------------------------------------------------------- the platform's lifecycle through the API

@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "PLATFORM-NOT-ACCEPTING", "PLATFORM-STATES", "CONTEXT-CLOSE")
def test_a_session_closed_with_queued_jobs_drains_and_the_status_strings_follow(tmp_path: Path) -> None:
    service = platform(seconds=10)
    backend = service.backend(PLATFORM_BACKEND)
    seen: list[str] = []
    with Session(backend, max_time="1h") as session:
        seen.append(session.status())
        sampler = SamplerV2(mode=session)
        jobs = [sampler.run(["c"]) for _ in range(3)]
        seen.append(session.status())
        assert [job.status() for job in jobs] == ["RUNNING", "QUEUED", "QUEUED"]
    seen.append(session.status())  # closed by the block with two jobs queued: they still run
    assert session.details()["accepting_jobs"] is False
    jobs[-1].result()
    assert [job.status() for job in jobs] == ["DONE", "DONE", "DONE"]
    seen.append(session.status())
    assert seen == ["Pending", ACCEPTING_STATUS, NOT_ACCEPTING_STATUS, "Closed"]
    assert session.details()["closed_at"] == jobs[-1].record.ended_at == 30  # at once, no idle window
    trace = tmp_path / "drain.jsonl"
    trace.write_text(service.trace_jsonl(), encoding="utf-8")
    checked = CliRunner().invoke(cli, ["check", str(trace)])
    assert checked.exit_code == 0 and "conforms" in checked.output, checked.output


@pytest.mark.rule("PLATFORM-CANCEL-SESSION", "PLATFORM-NOT-ACCEPTING")
def test_cancel_cancels_the_queued_jobs_and_ends_the_session() -> None:
    service = platform(seconds=10)
    session = Session(service.backend(PLATFORM_BACKEND))
    jobs = [SamplerV2(mode=session).run(["c"]) for _ in range(3)]
    session.cancel()
    assert [job.status() for job in jobs[1:]] == ["CANCELLED", "CANCELLED"]
    service.advance(10)
    assert jobs[0].status() in ("DONE", "CANCELLED") and session.status() == "Closed"
    with pytest.raises(IBMRuntimeError, match="closed"):
        SamplerV2(mode=session).run(["c"])
    conforms(service)


@pytest.mark.rule("PLATFORM-CANCEL-SESSION")
def test_cancel_under_int_cancel_running_job_cancel_cancels_the_running_job_too() -> None:
    chosen = Interpretation.of("platform", CANCEL_RUNNING_JOB="cancel")
    service = QiskitRuntimeService(backends=[BackendConfig(PLATFORM_BACKEND)], interpretation=chosen)
    assert service.profile == "platform"
    session = Session(service.backend(PLATFORM_BACKEND))
    jobs = [SamplerV2(mode=session).run(["c"]) for _ in range(2)]
    session.cancel()
    assert [job.status() for job in jobs] == ["CANCELLED", "CANCELLED"] and session.status() == "Closed"
    conforms(service)
    with pytest.raises(IBMInputValueError, match="profile"):
        QiskitRuntimeService(interpretation=Interpretation.of("platform"), profile="seeds")


@pytest.mark.rule("PLATFORM-NOT-ACCEPTING", "PLATFORM-CLOSE-DRAINS")
def test_a_handle_from_id_on_a_closing_session_is_refused_by_the_service() -> None:
    service = platform()
    session = Session(service.backend(PLATFORM_BACKEND))
    SamplerV2(mode=session).run(["c"])
    session.close()  # one job still running: the session drains
    again = Session.from_id(session.session_id, service)
    assert again.status() == NOT_ACCEPTING_STATUS
    with pytest.raises(IBMRuntimeError, match="PLATFORM-NOT-ACCEPTING") as info:
        SamplerV2(mode=again).run(["c"])
    assert info.value.code == "SESSION-NOT-ACCEPTING"
    conforms(service)


@pytest.mark.rule("PLATFORM-EXPIRY-RUNNING-FINISH", "MAXTIME-EXPIRY")
def test_at_max_time_the_running_job_finishes_and_the_queued_one_raises() -> None:
    service = platform(seconds=50)
    session = Session(service.backend(PLATFORM_BACKEND), max_time=60)
    first, running, queued = (SamplerV2(mode=session).run(["c"]) for _ in range(3))
    service.advance(60)  # max_time: the second job runs (started at 50), the third is still queued
    assert (first.status(), running.status(), queued.status()) == ("DONE", "RUNNING", "ERROR")
    assert session.status() == "Closed"
    assert running.result() is not None and running.status() == "DONE" and service.now == 100
    with pytest.raises(RuntimeJobFailureError, match="session_expired"):
        queued.result()
    conforms(service)


@pytest.mark.rule("PLATFORM-ITTL-60S", "SESSION-REACTIVATE", "PLATFORM-STATES")
def test_a_session_goes_pending_60_s_after_its_last_job_and_a_job_brings_it_back() -> None:
    service = platform(seconds=10)
    session = Session(service.backend(PLATFORM_BACKEND))
    sampler = SamplerV2(mode=session)
    sampler.run(["c"]).result()
    service.advance(59)
    assert session.status() == ACCEPTING_STATUS and session.details()["state"] == "pending_inactive"
    service.advance(1)
    assert session.status() == "Pending" and session.details()["state"] == "inactive"
    sampler.run(["c"]).result()
    assert session.details()["activated_at"] == 70
    conforms(service)


@pytest.mark.rule("PLATFORM-UNUSED-CLOSES")
def test_an_unused_session_closes_by_itself_after_30_minutes() -> None:
    service = platform()
    session = Session(service.backend(PLATFORM_BACKEND))
    service.advance(1799)
    assert session.status() == "Pending"
    service.advance(1)
    assert session.status() == "Closed"
    conforms(service)


@pytest.mark.rule("PLATFORM-BATCH", "PLATFORM-SESSION-EXCLUSIVE")
@pytest.mark.parametrize("kind", [Session, Batch])
def test_a_batch_is_not_exclusive_and_ends_by_itself_60_s_after_its_last_job(kind: type[Session]) -> None:
    service = platform(seconds=10)
    backend = service.backend(PLATFORM_BACKEND)
    handle = kind(backend)
    mine = SamplerV2(mode=handle)
    first = mine.run(["c"])
    other = SamplerV2(mode=backend).run(["c"])  # another user's job, submitted before the second
    second = mine.run(["c"])
    second.result()
    other.result()
    if kind is Batch:  # the other user's job ran between the batch's two
        assert other.record.started_at == 10 and second.record.started_at == 20
        assert handle.status() == "Pending" and handle.details()["state"] == "inactive"
        service.advance(60 - (service.now - 30))
        assert handle.status() == "Closed" and handle.details()["closed_at"] == 90
    else:  # the active session's second job went first, and it held the device for its 60 s window
        assert second.record.started_at == 10 and other.record.started_at == 20 + 60
        assert first.status() == "DONE" and handle.status() == "Pending"  # inactive since 80
    conforms(service)


@pytest.mark.rule("PLATFORM-SESSION-EXCLUSIVE", "PLATFORM-ITTL-60S")
def test_batch_usage_is_device_time_and_session_usage_counts_the_idle_window() -> None:
    service = platform(seconds=10)
    backend = service.backend(PLATFORM_BACKEND)
    with Batch(backend) as batch:
        jobs = [SamplerV2(mode=batch).run(["c"]) for _ in range(12)]  # more than jobs() lists by default
    jobs[-1].result()
    details = batch.details()
    assert details["mode"] == "batch" and batch.usage() == 120 == details["usage_time"]
    assert details["last_job_started"] == 110 and details["last_job_completed"] == 120 == details["closed_at"]
    with Session(backend) as session:
        SamplerV2(mode=session).run(["c"]).result()
        service.advance(60)
    assert session.usage() == 70  # the job's 10 s and the 60 s window it held the device
    conforms(service)


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "CONTEXT-CLOSE", "CONTEXT-PRIMITIVES")
def test_the_docs_example_runs_prints_what_its_comments_say_and_its_trace_conforms() -> None:
    page = (Path(__file__).parent.parent / "docs" / "runtime-platform.md").read_text(encoding="utf-8")
    code = re.search(r"## An example\n.*?```python\n(.*?)```", page, re.S)
    assert code is not None, "docs/runtime-platform.md lost its example"
    out = io.StringIO()
    scope: dict[str, Any] = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "docs/runtime-platform.md", "exec"), scope)
    lines = out.getvalue().splitlines()
    assert lines[:6] == [
        "Pending", ACCEPTING_STATUS, "['RUNNING', 'QUEUED', 'QUEUED']", NOT_ACCEPTING_STATUS,
        "['DONE', 'DONE', 'DONE'] Closed", "batch 40.0",
    ]
    assert lines[6:] == ["None True"]
    assert scope["trace"] == scope["service"].trace_jsonl()
    conforms(scope["service"])


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS")
def test_the_readme_platform_example_prints_what_its_comments_say() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Today's platform.*?```python\n(.*?)```", readme, re.S)
    assert code is not None, "README lost its platform example"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {})
    assert out.getvalue().splitlines() == [NOT_ACCEPTING_STATUS, "['DONE', 'DONE', 'DONE'] Closed"]


# ---------------------------------------------------------------- the demo under the platform


def test_the_platform_demo_compares_the_three_modes_deterministically(tmp_path: Path) -> None:
    args = ["demo", "--profile", "platform", "--iterations", "8", "--timelines", str(tmp_path)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert first.output == CliRunner().invoke(cli, args).output
    assert first.output.count("job mode  session mode    batch mode") == 2
    assert "iterative loop" in first.output and "independent jobs" in first.output
    assert len(list(tmp_path.glob("*.png"))) == 6
    reports = {(r.shape, r.mode): r for r in compare_modes(WorkloadConfig(iterations=8))}
    assert all(report.failed == 0 for report in reports.values())
    iterative = reports["iterative", "session"]
    assert iterative.wall_time < reports["iterative", "job"].wall_time  # what the session buys the loop
    assert reports["independent", "batch"].usage == reports["independent", "batch"].device_time == 80
    for report in reports.values():  # every run of the demo conforms
        assert isinstance(report.records, MemoryTrace)
        checked = check_lines(report.records.jsonl().splitlines(), f"{report.shape}-{report.mode}")
        assert checked.status == 0, "\n".join(checked.lines)


# ---------------------------------------------------------------- any sequence of client calls

_CALLS = st.lists(
    st.one_of(
        st.tuples(st.just("session"), st.sampled_from(["dedicated", "batch"])),
        st.tuples(st.just("run"), st.integers(0, 3)),
        st.tuples(st.just("job_mode"), st.just(0)),
        st.tuples(st.just("close"), st.integers(0, 3)),
        st.tuples(st.just("cancel"), st.integers(0, 3)),
        st.tuples(st.just("cancel_job"), st.integers(0, 7)),
        st.tuples(st.just("advance"), st.sampled_from([1, 9, 10, 59, 60, 61, 1800])),
    ),
    max_size=25,
)


@pytest.mark.rule("PLATFORM-STATES", "PLATFORM-NOT-ACCEPTING", "PLATFORM-CLOSE-DRAINS", "PLATFORM-CANCEL-SESSION")
@settings(max_examples=100)
@given(calls=_CALLS)
def test_any_sequence_of_client_calls_keeps_the_clients_vocabulary_and_conforms(
    calls: list[tuple[str, Any]],
) -> None:
    """Whatever a client does through the API, ``status()`` is one of the client's four strings and agrees
    with ``details()``, jobs report the client's five strings, a closed handle refuses jobs, and the trace
    passes ``sessionspec check``."""
    service = platform(seconds=10)
    backend = service.backend(PLATFORM_BACKEND)
    handles: list[Session] = []
    jobs: list[RuntimeJobV2] = []
    for call, arg in calls:
        if call == "session":
            handles.append(Session(backend) if arg == "dedicated" else Batch(backend))
        elif call == "job_mode":
            jobs.append(SamplerV2(mode=backend).run(["c"]))
        elif call == "advance":
            service.advance(arg)
        elif call == "cancel_job" and jobs:
            job = jobs[arg % len(jobs)]
            if job.status() in ("DONE", "ERROR", "CANCELLED"):
                with pytest.raises(RuntimeInvalidStateError):
                    job.cancel()
            else:
                job.cancel()
        elif handles:
            handle = handles[arg % len(handles)]
            if call == "close":
                handle.close()
            elif call == "cancel":
                handle.cancel()
            elif handle.details()["accepting_jobs"] and handle._active:
                jobs.append(SamplerV2(mode=handle).run(["c"]))
            else:  # refused by the handle, by the closing session or by the closed one
                with pytest.raises(IBMRuntimeError, match=r"PLATFORM-NOT-ACCEPTING|SESSION-CLOSED-REJECTS"):
                    SamplerV2(mode=handle).run(["c"])
        for handle in handles:
            details = handle.details()
            assert handle.status() in CLIENT_STATUSES
            assert handle.status() == status_of(details["state"], details["accepting_jobs"])
            assert (handle.status() == "Closed") == (details["state"] == "closed")
        assert all(job.status() in JOB_STATUSES for job in jobs)
    conforms(service)


# ---------------------------------------------------------------- against the real client's own code


def test_the_real_clients_session_reads_our_server_fields_as_our_details_say() -> None:
    """Today's client (qiskit-ibm-runtime, a dev dependency) fed ``service.session_details`` gives the same
    ``details()`` and ``status()`` as the model's Session, along a run."""
    real = pytest.importorskip("qiskit_ibm_runtime")
    service = platform(seconds=10)
    session = Session(service.backend(PLATFORM_BACKEND))
    client = object.__new__(real.QiskitRuntimeService)
    client._get_api_client = lambda instance=None: SimpleNamespace(
        session_details=lambda sid: service.session_details(sid)
    )
    handle = object.__new__(real.Session)
    handle._session_id, handle._service, handle._instance = session.session_id, client, None

    def same() -> None:
        assert real.Session.details(handle) == session.details()
        assert real.Session.status(handle) == session.status()

    same()
    sampler = SamplerV2(mode=session)
    jobs = [sampler.run(["c"]) for _ in range(2)]
    same()
    jobs[0].result()
    same()
    session.close()
    same()
    jobs[1].result()
    same()
    assert session.status() == "Closed"


def test_the_real_clients_job_status_strings_are_ours() -> None:
    real_job = pytest.importorskip("qiskit_ibm_runtime.runtime_job_v2")
    wire = {"queued": "QUEUED", "running": "RUNNING", "completed": "COMPLETED", "failed": "FAILED",
            "cancelled": "CANCELLED"}
    assert {state: real_job.API_TO_JOB_STATUS[name] for state, name in wire.items()} == {
        state: status.value for state, status in STATUS_BY_STATE.items()
    }
