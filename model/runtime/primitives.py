"""The primitives ``Sampler`` and ``Estimator``: each ``run`` submits one engine job.

Where a primitive sends its jobs (CONTEXT-PRIMITIVES), fixed at construction:
the ``session`` argument, else the session of the enclosing ``with Session(...)``
block, else ``backend=`` (jobs outside any session, in the backend's fair-share queue),
else an error. A ``backend`` that is not the session's is refused (BACKEND-FIXED).
``run`` accepts any objects as circuits and further arguments (qiskit is not a
dependency); a list or tuple of circuits is several experiments in one job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from model.runtime.exceptions import IBMInputValueError, IBMRuntimeError, from_rejection, refusal
from model.runtime.jobs import RuntimeJob
from model.runtime.options import Options
from model.runtime.results import experiments
from model.runtime.service import IBMBackend, QiskitRuntimeService
from model.runtime.session import Session, backend_name, current_session, resolve_service
from model.spec.validations import RequestRejected


class BasePrimitive:
    """What Sampler and Estimator share: where jobs go, the options, and ``run``."""

    primitive_id: ClassVar[str]

    def __init__(
        self,
        session: Session | None = None,
        options: Options | Mapping[str, Any] | None = None,
        backend: str | IBMBackend | list[str | IBMBackend] | tuple[str | IBMBackend, ...] | None = None,
    ) -> None:
        if session is not None and not isinstance(session, Session):
            raise IBMInputValueError(f"session must be a Session, got {session!r}")
        self._session = session if session is not None else current_session()
        if self._session is not None:
            self._service: QiskitRuntimeService = self._session.service
            name = backend_name(self._service, backend)
            if name is not None and name != self._session.backend():
                raise refusal(
                    "BACKEND-FIXED",
                    f"session {self._session.session_id} runs on {self._session.backend()}, not {name}",
                )
            self._backend = self._session.backend()
        elif backend is not None:
            self._service = resolve_service(None, backend)
            name = backend_name(self._service, backend)
            assert name is not None
            self._backend = self._service.backend(name).name
        else:
            raise refusal(
                "BACKEND-REQUIRED",
                f"{type(self).__name__} needs a session (argument or enclosing `with Session(...)`) or a backend",
            )
        if self._service.profile != "seeds":
            raise IBMRuntimeError(
                f"{type(self).__name__}(session=...) is the seeds' (2023) primitive; under the platform "
                f"profile use {type(self).__name__}V2(mode=...)"
            )
        self.options = Options.coerce(options)

    @property
    def session(self) -> Session | None:
        return self._session

    def backend(self) -> str:
        return self._backend

    def run(self, circuits: object, *args: object, **kwargs: object) -> RuntimeJob:
        """Submit one job; options.max_execution_time becomes the job's limit (JOB-MAX-EXECUTION)."""
        self.options.validate()
        circuits_run = experiments(circuits)
        if not circuits_run:
            raise IBMInputValueError("run needs at least one circuit")
        engine = self._service.engine
        limit = self.options.max_execution_time
        session_id = self._session.session_id if self._session is not None else None
        try:
            record = engine.submit(session_id, self._backend, max_execution_time=limit, program=self.primitive_id)
        except RequestRejected as error:
            raise from_rejection(error) from None
        job = RuntimeJob(self._service, record, self.primitive_id, circuits_run, Options.coerce(self.options))
        self._service._register(job)
        return job

    def __repr__(self) -> str:
        where = f"session={self._session.session_id!r}" if self._session is not None else f"backend={self._backend!r}"
        return f"<{type(self).__name__}({where})>"


class Estimator(BasePrimitive):
    """Expectation values: ``result().values`` and ``result().metadata``."""

    primitive_id = "estimator"


class Sampler(BasePrimitive):
    """Quasi-probability distributions: ``result().quasi_dists`` and ``result().metadata``."""

    primitive_id = "sampler"
