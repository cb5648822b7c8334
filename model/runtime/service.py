"""``QiskitRuntimeService``: a simulated service that owns one reference engine.

No network and no account: the credentials the real client takes (``token``, ``url``,
``instance``...) are accepted and ignored so that client code runs unchanged. The
service owns one :class:`~model.sim.engine.Engine` on a virtual clock with a
:class:`~model.trace.MemoryTrace` sink; every request made through the API is on
``service.trace``. Virtual time moves only when a client waits for a job
(``RuntimeJob.result``) or thinks (:meth:`QiskitRuntimeService.advance`), a whole
instant at a time and at most ``max_events`` events per call (:mod:`model.runtime.clock`).

Backend choice on the ``ibm_cloud`` channel (BACKEND-REQUIRED): when a session is opened
without a backend, the service takes :meth:`QiskitRuntimeService.least_busy`, the
backend with the fewest unfinished (queued or running) jobs, the first configured on ties.

A service runs one rule set, its ``profile``: ``seeds`` (the 2023 documents, the default) or
``platform`` (today's documented platform). The profile fixes which channels exist (the 2023
client's ``ibm_quantum``; today's ``ibm_quantum_platform``; ``ibm_cloud`` in both) and which
classes of the API apply (:mod:`model.runtime.session` and :mod:`model.runtime.primitives_v2`
refuse the other era's calls with a message naming the profile).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Literal

import model.runtime.arguments as arguments
from model.runtime.clock import run_engine
from model.runtime.exceptions import IBMInputValueError, RuntimeJobNotFound, refusal
from model.sim.devices import BackendConfig, BackgroundLoad, simulator
from model.sim.engine import Engine
from model.sim.fair_share import POLICIES, FairShare, FifoQueue
from model.spec.interpretations import DEFAULT, Interpretation
from model.spec.profiles import DEFAULT_PROFILE, PLATFORM, PROFILE_NAMES, SEEDS
from model.spec.validations import shown
from model.trace import MemoryTrace
from model.trace.timing import time_text

if TYPE_CHECKING:
    from model.runtime.jobs import RuntimeJob

Channel = Literal["ibm_quantum", "ibm_cloud", "ibm_quantum_platform"]
CHANNELS_BY_PROFILE: dict[str, tuple[str, ...]] = {
    SEEDS: ("ibm_quantum", "ibm_cloud"),
    PLATFORM: ("ibm_quantum_platform", "ibm_cloud"),
}
"""The channels each profile's client knows, its default first (client 0.11 and 0.51)."""
assert tuple(CHANNELS_BY_PROFILE) == PROFILE_NAMES, "every profile needs its client's channels"
CHANNELS: tuple[str, ...] = CHANNELS_BY_PROFILE[SEEDS]
PLATFORM_BACKEND = "ibm_sessionspec"
"""The default backend of a platform service: a physical device (a simulator gets no server session)."""

DEFAULT_WAIT_HORIZON = 7 * 24 * 3600.0
"""How much virtual time ``result()`` waits at most before giving up: a guard against a
job that never ends while background load keeps the event heap from ever emptying."""

DEFAULT_MAX_EVENTS = 1_000_000
"""How many engine events one call that lets time pass may process (``max_events``): a
guard against a request like ``advance(1e12)`` under background load running for hours."""

_UNFINISHED = ("queued", "running")


class _ProfileDefault(Enum):
    """An argument left to the profile's default (``jobs(limit=...)``: None is a value there)."""

    TOKEN = "the profile's default"


PROFILE_DEFAULT = _ProfileDefault.TOKEN


class IBMBackend:
    """A backend of one service, named like the real client's backend class."""

    def __init__(self, service: QiskitRuntimeService, config: BackendConfig) -> None:
        self._service = service
        self._config = config

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def service(self) -> QiskitRuntimeService:
        return self._service

    def configuration(self) -> BackendConfig:
        """The mock device's limits and behaviour."""
        return self._config

    @property
    def max_time(self) -> float:
        """The system max_time (MAXTIME-SYSTEM-LIMIT)."""
        return self._config.system_max_time

    def __repr__(self) -> str:
        return f"<IBMBackend({self.name!r})>"


class QiskitRuntimeService:
    """A simulated runtime service: backends, one engine, one trace, one virtual clock."""

    def __init__(
        self,
        channel: str | None = None,
        backends: Sequence[BackendConfig] | None = None,
        seed: int = 0,
        interpretation: Interpretation | None = None,
        background_load: BackgroundLoad | Iterable[BackgroundLoad] | None = None,
        fair_share: str | Callable[[], FairShare] | None = None,
        token: str | None = None,
        *,
        wait_horizon: float = DEFAULT_WAIT_HORIZON,
        max_events: int = DEFAULT_MAX_EVENTS,
        profile: str | None = None,
        **ignored_credentials: object,
    ) -> None:
        if interpretation is not None and not isinstance(interpretation, Interpretation):
            raise IBMInputValueError(f"interpretation must be an Interpretation, got {shown(interpretation)}")
        if profile is None:
            profile = interpretation.profile if interpretation is not None else DEFAULT_PROFILE
        if profile not in CHANNELS_BY_PROFILE:
            raise IBMInputValueError(f"profile must be one of {', '.join(CHANNELS_BY_PROFILE)}, got {shown(profile)}")
        if interpretation is not None and interpretation.profile != profile:
            raise IBMInputValueError(
                f"the interpretation is for profile {interpretation.profile!r}, the service for {profile!r}"
            )
        channels = CHANNELS_BY_PROFILE[profile]
        if channel is None:
            channel = channels[0]
        if channel not in channels:
            other = [name for name, known in CHANNELS_BY_PROFILE.items() if channel in known]
            hint = f" (channel {channel!r} belongs to profile {other[0]!r})" if other else ""
            raise IBMInputValueError(
                f"channel must be one of {', '.join(channels)} under profile {profile!r}, got {shown(channel)}{hint}"
            )
        self.profile = profile
        """The rule set this service runs (:mod:`model.spec.profiles`): ``seeds`` or ``platform``."""
        arguments.seed(seed)
        self.channel = channel
        self.wait_horizon = arguments.seconds("wait_horizon", wait_horizon, positive=True)
        self.max_events = arguments.count("max_events", max_events)
        """Events one call that lets virtual time pass may process before SimulationLimitError."""
        configs = list(backends) if backends is not None else [_default_backend(profile, interpretation)]
        if not configs or not all(isinstance(config, BackendConfig) for config in configs):
            raise IBMInputValueError(
                f"backends must be a non-empty sequence of BackendConfig, got {shown(backends)}"
            )
        if len({config.name for config in configs}) != len(configs):
            raise IBMInputValueError(f"backend names must be distinct, got {[c.name for c in configs]}")
        self.trace = MemoryTrace()
        self.engine = Engine(
            configs,
            interpretation=interpretation if interpretation is not None else Interpretation({}, profile),
            seed=seed,
            sink=self.trace,
            fair_share=_policy(fair_share),
        )
        self._backends = {config.name: IBMBackend(self, config) for config in configs}
        self._jobs: dict[str, RuntimeJob] = {}
        if isinstance(background_load, BackgroundLoad):
            background_load = (background_load,)
        for load in background_load or ():
            self.add_background_load(load)

    # ------------------------------------------------------------------ backends

    def backends(self) -> list[IBMBackend]:
        """Every backend, in configuration order."""
        return list(self._backends.values())

    def backend(self, name: str) -> IBMBackend:
        """The backend of that name; QiskitBackendNotFoundError (BACKEND-NAME-OR-OBJECT) otherwise."""
        if not isinstance(name, str):
            raise refusal("BACKEND-UNKNOWN", f"a backend is named by a string, got {shown(name)}")
        found = self._backends.get(name)
        if found is None:
            known = ", ".join(self._backends)
            raise refusal("BACKEND-UNKNOWN", f"no backend named {name!r}; this service has: {known}")
        return found

    def get_backend(self, name: str) -> IBMBackend:
        """Older spelling of :meth:`backend` (seed 002 uses it)."""
        return self.backend(name)

    def least_busy(self, *args: object, **filters: object) -> IBMBackend:
        """The backend with the fewest unfinished jobs; the first configured on ties.

        Today's client filters (``operational=True, simulator=False, min_num_qubits=...``) are
        accepted and ignored: every mock backend is operational and holds sessions."""
        load = dict.fromkeys(self._backends, 0)
        for job in self.engine.jobs.values():
            if job.state in _UNFINISHED:
                load[job.backend_name] += 1
        name = min(load, key=lambda n: load[n])
        return self._backends[name]

    def add_background_load(self, load: BackgroundLoad, until: float | None = None) -> None:
        """Other users' fair-share jobs from now on (forever when ``until`` is None)."""
        if not isinstance(load, BackgroundLoad):
            raise IBMInputValueError(f"load must be a BackgroundLoad, got {shown(load)}")
        if until is not None:
            arguments.seconds("until", until, minimum=self.now)
        self.backend(load.backend)
        self.engine.add_background_load(load, until=until)

    # ------------------------------------------------------------------ clock and jobs

    @property
    def now(self) -> float:
        """The virtual time in seconds."""
        return self.engine.now

    def trace_jsonl(self) -> str:
        """The trace so far as JSON Lines, ended by the end-of-run line at the current virtual time:
        the run stops here, so ``sessionspec check`` judges the timers due by now too."""
        return self.trace.jsonl(end=self.now)

    def advance(self, seconds: float) -> None:
        """Let virtual time pass (client think time): the scheduler works meanwhile.

        Finite, non-negative seconds only; at most ``max_events`` events (SimulationLimitError)."""
        duration = arguments.seconds("advance: seconds", seconds)
        until = self.engine.now + duration
        if math.isinf(until):
            raise IBMInputValueError(
                f"advance: t={time_text(self.engine.now)} + {seconds!r} s is beyond the virtual clock"
            )
        self.run_until(until, what=f"advance({seconds!r})")

    def run_until(self, until: float, *, what: str, stop: Callable[[], bool] | None = None) -> bool:
        """Let virtual time pass up to ``until`` or until ``stop()``, by whole instants (see
        :mod:`model.runtime.clock`); whether ``stop`` held. ``what`` names the caller in errors."""
        return run_engine(self.engine, until=until, max_events=self.max_events, what=what, stop=stop)

    def job(self, job_id: str) -> RuntimeJob:
        """A job submitted through this service's primitives."""
        found = self._jobs.get(arguments.name("job_id", job_id))
        if found is None:
            raise RuntimeJobNotFound(f"no job {job_id!r} was submitted through this service")
        return found

    def jobs(
        self,
        limit: int | _ProfileDefault | None = PROFILE_DEFAULT,
        skip: int = 0,
        backend_name: str | None = None,
        pending: bool | None = None,
        session_id: str | None = None,
        descending: bool | _ProfileDefault = PROFILE_DEFAULT,
    ) -> list[RuntimeJob]:
        """The jobs submitted through this service's primitives.

        The filters are today's client's: ``pending`` (True: queued or running; False: ended),
        ``backend_name``, ``session_id`` (an unknown ID gives ``[]``, as the platform does);
        ``descending`` orders newest first; ``skip`` and then ``limit`` (None: no limit) cut the
        list. The defaults follow the profile: every job oldest first under ``seeds``, the
        client's newest 10 under ``platform``."""
        platform = self.profile == "platform"
        if isinstance(descending, _ProfileDefault):
            descending = platform
        if isinstance(limit, _ProfileDefault):
            limit = 10 if platform else None
        found = [
            job for job in self._jobs.values()
            if (backend_name is None or job.record.backend_name == backend_name)
            and (session_id is None or job.session_id == session_id)
            and (pending is None or (job.record.state in _UNFINISHED) == pending)
        ]
        if descending:
            found.reverse()
        found = found[arguments.count("skip", skip, minimum=0):]
        return found if limit is None else found[:arguments.count("limit", limit, minimum=0)]

    def session_details(self, session_id: str) -> dict[str, object]:
        """``GET /sessions/{id}`` (platform profile): the server's fields for a session of this service.

        IBMInputValueError for an unknown ID, as the client's ``Session.from_id`` raises."""
        from model.runtime.platform import not_found, server_details  # it names this class for its types

        if self.profile != "platform":
            raise IBMInputValueError("session_details is the platform's GET /sessions/{id}; this service runs seeds")
        record = self.engine.sessions.get(session_id) if isinstance(session_id, str) else None
        if record is None:
            raise not_found(session_id)
        return server_details(self, record)

    def _register(self, job: RuntimeJob) -> None:
        self._jobs[job.job_id()] = job

    def __repr__(self) -> str:
        return f"<QiskitRuntimeService(channel={self.channel!r}, backends={list(self._backends)})>"


def _default_backend(profile: str, interpretation: Interpretation | None) -> BackendConfig:
    """The seeds' examples use the 2023 simulator (its limit per INT-SIMULATOR-MAXTIME); a platform session
    needs a physical device."""
    if profile != SEEDS:
        return BackendConfig(PLATFORM_BACKEND)
    return simulator(interpretation=interpretation if interpretation is not None else DEFAULT)


def _policy(fair_share: str | Callable[[], FairShare] | None) -> Callable[[], FairShare]:
    if fair_share is None:
        return FifoQueue
    if isinstance(fair_share, str):
        try:
            return POLICIES[fair_share]
        except KeyError:
            raise IBMInputValueError(
                f"unknown fair-share policy {fair_share!r}; known: {', '.join(POLICIES)}"
            ) from None
    return fair_share


_default_service: QiskitRuntimeService | None = None


def default_service() -> QiskitRuntimeService:
    """The process-wide service used when a Session or primitive is given no service and a
    backend *name* (seed 002's ``Session(backend="ibmq_qasm_simulator")``): created on first
    need with no arguments, i.e. the ibm_quantum channel and the default simulator."""
    global _default_service
    if _default_service is None:
        _default_service = QiskitRuntimeService()
    return _default_service


def set_default_service(service: QiskitRuntimeService | None = None) -> None:
    """Replace the default service, or forget it (None) so the next need creates a fresh one.

    Tests call it to isolate themselves from each other."""
    if service is not None and not isinstance(service, QiskitRuntimeService):
        raise IBMInputValueError(f"service must be a QiskitRuntimeService or None, got {shown(service)}")
    global _default_service
    _default_service = service
