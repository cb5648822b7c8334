"""Today's primitives ``SamplerV2`` and ``EstimatorV2`` (platform profile): ``mode=`` says where jobs go.

The execution mode is fixed when the primitive is built, as in client 0.51:

- ``mode=`` a :class:`~model.runtime.session.Session` or :class:`~model.runtime.session.Batch`:
  every job goes to it;
- ``mode=`` a backend object: job mode (the backend's queue, no session), unless the primitive
  is built inside a ``with Session(...)``/``with Batch(...)`` block, whose session then takes
  the jobs; a backend other than the block's is refused (BACKEND-FIXED);
- no ``mode``: the enclosing block's session, else IBMInputValueError (BACKEND-REQUIRED).

A primitive built outside a block keeps its mode when used inside one (the client warns; this
model does not log). ``run(pubs)`` takes a list or tuple of pubs and submits one job; a handle that
closed or cancelled its session refuses it before any request, as the client does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

from model.runtime.exceptions import IBMInputValueError, from_rejection, refusal
from model.runtime.jobs import RuntimeJobV2
from model.runtime.options import EstimatorOptions, SamplerOptions
from model.runtime.service import IBMBackend, QiskitRuntimeService
from model.runtime.session import Session, current_session, seeds_only
from model.spec.validations import RequestRejected, shown

OptionsT = TypeVar("OptionsT", SamplerOptions, EstimatorOptions)


class BasePrimitiveV2(Generic[OptionsT]):
    """What SamplerV2 and EstimatorV2 share: the mode, the options and ``run``."""

    primitive_id: ClassVar[str]
    options_class: ClassVar[type[SamplerOptions] | type[EstimatorOptions]]

    def __init__(
        self,
        mode: Session | IBMBackend | None = None,
        options: OptionsT | Mapping[str, Any] | None = None,
    ) -> None:
        enclosing = current_session()
        session: Session | None
        if isinstance(mode, Session):
            session, service, backend = mode, mode.service, mode.backend()
        elif isinstance(mode, IBMBackend):
            service, backend = mode.service, mode.name
            session = enclosing if enclosing is not None and enclosing.service is service else None
            if session is not None and session.backend() != backend:
                raise refusal(
                    "BACKEND-FIXED",
                    f"The backend passed in to the primitive ({backend}) is different from the session "
                    f"backend ({session.backend()})",
                )
        elif mode is None:
            if enclosing is None:
                raise refusal(
                    "BACKEND-REQUIRED",
                    f"{type(self).__name__}: a backend or session must be specified (mode=, or build it "
                    "inside a `with Session(...)` block)",
                )
            session, service, backend = enclosing, enclosing.service, enclosing.backend()
        else:
            raise IBMInputValueError(f"mode must be a Session, a Batch or a backend object, got {shown(mode)}")
        if service.profile != "platform":
            raise seeds_only(type(self).__name__)
        self._mode = session
        self._service: QiskitRuntimeService = service
        self._backend = backend
        self._options: OptionsT = self.options_class.coerce(options)  # type: ignore[assignment]

    @property
    def mode(self) -> Session | None:
        """The Session or Batch the jobs go to; None in job mode."""
        return self._mode

    @property
    def options(self) -> OptionsT:
        return self._options

    def backend(self) -> IBMBackend:
        return self._service.backend(self._backend)

    def _submit(self, pubs: object, options: OptionsT) -> RuntimeJobV2:
        if not isinstance(pubs, list | tuple) or not pubs:
            raise IBMInputValueError(f"run takes a non-empty list of pubs, got {shown(pubs)}")
        options.validate()
        session = self._mode
        if session is not None:
            session.check_accepting()
        try:
            record = self._service.engine.submit(
                session.session_id if session is not None else None,
                self._backend,
                max_execution_time=options.max_execution_time,
                program=self.primitive_id,
            )
        except RequestRejected as error:
            raise from_rejection(error) from None
        job = RuntimeJobV2(self._service, record, self.primitive_id, tuple(pubs), self.options_class.coerce(options))
        self._service._register(job)
        return job

    def __repr__(self) -> str:
        where = f"mode={self._mode!r}" if self._mode is not None else f"backend={self._backend!r}"
        return f"<{type(self).__name__}({where})>"


class SamplerV2(BasePrimitiveV2[SamplerOptions]):
    """Samples: ``result()[i].data.meas.get_counts()``."""

    primitive_id = "sampler"
    options_class = SamplerOptions

    def run(self, pubs: object, *, shots: int | None = None) -> RuntimeJobV2:
        """Submit one job for ``pubs`` (circuits, or (circuit, parameter values, shots) tuples)."""
        options = self._options
        if shots is not None:
            if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
                raise IBMInputValueError(f"shots must be a positive int, got {shown(shots)}")
            options = SamplerOptions(shots, options.max_execution_time)
        return self._submit(pubs, options)


class EstimatorV2(BasePrimitiveV2[EstimatorOptions]):
    """Expectation values: ``result()[i].data.evs`` and ``.stds``."""

    primitive_id = "estimator"
    options_class = EstimatorOptions

    def run(self, pubs: object, *, precision: float | None = None) -> RuntimeJobV2:
        """Submit one job for ``pubs``: (circuit, observables[, parameter values[, precision]]) tuples."""
        if isinstance(pubs, list | tuple) and any(not isinstance(pub, list | tuple) or len(pub) < 2 for pub in pubs):
            raise IBMInputValueError("an Estimator pub is a (circuit, observables, ...) tuple")
        options = self._options
        if precision is not None:
            options = EstimatorOptions(precision, options.resilience_level, options.max_execution_time)
        return self._submit(pubs, options)
