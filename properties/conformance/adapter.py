"""How an implementation under test (IUT) plugs into the conformance kit, in process.

An IUT is any object with the methods of :class:`~.iut.IUT`; a *factory* builds a fresh one
for each generated example from an :class:`~.iut.IUTConfig` (the backends and their limits,
the interpretation). ``sessionspec conform --adapter pkg.module:factory`` imports the
factory with :mod:`importlib`. Out-of-process IUTs speak the JSON-lines protocol of
:mod:`.subprocess_iut` instead (``--cmd``).

The kit drives the device: each submit says how long the job will run and whether the
device will fail it, ``fault`` fails a backend's running job now, and ``advance`` moves
the IUT's virtual clock, during which it must run every timer and device end that
falls due. ``events`` returns the trace records produced since the previous call (the
header first), as :mod:`model.trace` records or JSON objects of the trace format.
A rejected request is an event (a rejected request line); the method may also raise
:class:`~model.spec.validations.RequestRejected`. Any other exception is a finding.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from model.sim.engine import Engine
from model.sim.ops import EngineImplementation
from model.trace import MemoryTrace, Record
from properties.conformance.iut import AdapterError, Factory, IUTConfig

__all__ = ["AdapterError", "EngineIUT", "Factory", "IUTConfig", "factory_for", "load_factory", "reference"]


class EngineIUT(EngineImplementation):
    """An engine class as an IUT: the reference (and the mutants, which subclass it)."""

    def __init__(self, config: IUTConfig, engine_class: type[Engine] = Engine) -> None:
        self._trace = MemoryTrace()
        super().__init__(engine_class(list(config.backends), interpretation=config.interpretation, sink=self._trace))

    def events(self) -> list[Record]:
        drained = list(self._trace)
        self._trace.clear()
        return drained


def reference(config: IUTConfig) -> EngineIUT:
    """The reference engine as an IUT (``--adapter properties.conformance.adapter:reference``)."""
    return EngineIUT(config)


def load_factory(spec: str) -> Factory:
    """Import ``module:attribute`` and return it (it must be callable)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise AdapterError(f"adapter {spec!r}: expected MODULE:FACTORY, e.g. mypkg.iut:make_iut")
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:  # as python -m and pytest do: a module beside the user is found
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any import failure is the adapter's, reported in one line
        raise AdapterError(f"adapter {spec!r}: cannot import {module_name}: {type(error).__name__}: {error}") from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AdapterError(f"adapter {spec!r}: {module_name} has no attribute {attribute!r}") from None
    if not callable(target):
        raise AdapterError(f"adapter {spec!r}: {attribute} is not callable")
    factory: Factory = target
    return factory


def factory_for(
    *, adapter: str | None = None, cmd: str | Sequence[str] | None = None, timeout: float = 10.0
) -> Factory:
    """The factory named by ``--adapter`` or the subprocess factory for ``--cmd``."""
    if adapter is not None:
        return load_factory(adapter)
    if cmd is None:
        raise AdapterError("give an adapter (MODULE:FACTORY) or a command")
    from properties.conformance.subprocess_iut import StdioFactory  # the process machinery: only for --cmd

    return StdioFactory(cmd, timeout=timeout)
