"""An API shaped like qiskit_ibm_runtime, running on the reference engine.

Client code written for the real service runs against the spec: ``QiskitRuntimeService``
simulates a service with mock backends on a virtual clock, ``Session`` and the primitives
submit engine requests, and every refusal is raised as the real client's exception class
carrying the spec's rule IDs.

A service runs one profile. ``seeds`` (the default) speaks the 2023 client of the seeds'
examples: ``Session(service, backend, max_time)``, ``Sampler``/``Estimator(session=...)``.
``platform`` speaks today's client: ``Session(backend, max_time)``, ``Batch``,
``SamplerV2``/``EstimatorV2(mode=...)``, ``Session.cancel()``, ``Session.from_id`` and the
platform's status strings and details.
"""

from model.runtime.exceptions import (
    IBMError,
    IBMInputValueError,
    IBMRuntimeError,
    JobError,
    JobTimeoutError,
    QiskitBackendNotFoundError,
    QiskitError,
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobMaxTimeoutError,
    RuntimeJobNotFound,
    RuntimeJobTimeoutError,
    SimulationLimitError,
)
from model.runtime.jobs import JobStatus, RuntimeJob, RuntimeJobV2
from model.runtime.options import EstimatorOptions, Options, SamplerOptions
from model.runtime.primitives import Estimator, Sampler
from model.runtime.primitives_v2 import EstimatorV2, SamplerV2
from model.runtime.results import EstimatorResult, PrimitiveResultV2, PubResult, SamplerResult
from model.runtime.service import IBMBackend, QiskitRuntimeService, default_service, set_default_service
from model.runtime.session import Batch, Session, current_session

__all__ = [
    "Batch",
    "Estimator",
    "EstimatorOptions",
    "EstimatorResult",
    "EstimatorV2",
    "IBMBackend",
    "IBMError",
    "IBMInputValueError",
    "IBMRuntimeError",
    "JobError",
    "JobStatus",
    "JobTimeoutError",
    "Options",
    "PrimitiveResultV2",
    "PubResult",
    "QiskitBackendNotFoundError",
    "QiskitError",
    "QiskitRuntimeService",
    "RuntimeInvalidStateError",
    "RuntimeJob",
    "RuntimeJobFailureError",
    "RuntimeJobMaxTimeoutError",
    "RuntimeJobNotFound",
    "RuntimeJobTimeoutError",
    "RuntimeJobV2",
    "Sampler",
    "SamplerOptions",
    "SamplerResult",
    "SamplerV2",
    "Session",
    "SimulationLimitError",
    "current_session",
    "default_service",
    "set_default_service",
]
