"""An API shaped like qiskit_ibm_runtime, running on the reference engine.

Client code written for the real service (the seeds' examples) runs against the
spec: ``QiskitRuntimeService`` simulates a service with mock backends on a virtual
clock, ``Session`` and the primitives submit engine requests, and every refusal is
raised as the real client's exception class carrying the spec's rule IDs.
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
    RuntimeJobNotFound,
    RuntimeJobTimeoutError,
    SimulationLimitError,
)
from model.runtime.jobs import JobStatus, RuntimeJob
from model.runtime.options import Options
from model.runtime.primitives import Estimator, Sampler
from model.runtime.results import EstimatorResult, SamplerResult
from model.runtime.service import IBMBackend, QiskitRuntimeService, default_service, set_default_service
from model.runtime.session import Session, current_session

__all__ = [
    "Estimator",
    "EstimatorResult",
    "IBMBackend",
    "IBMError",
    "IBMInputValueError",
    "IBMRuntimeError",
    "JobError",
    "JobStatus",
    "JobTimeoutError",
    "Options",
    "QiskitBackendNotFoundError",
    "QiskitError",
    "QiskitRuntimeService",
    "RuntimeInvalidStateError",
    "RuntimeJob",
    "RuntimeJobFailureError",
    "RuntimeJobNotFound",
    "RuntimeJobTimeoutError",
    "Sampler",
    "SamplerResult",
    "Session",
    "SimulationLimitError",
    "current_session",
    "default_service",
    "set_default_service",
]
