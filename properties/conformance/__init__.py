"""The conformance kit: check a recorded trace offline, or another implementation live.

- :mod:`.reader` streams and validates trace lines; :mod:`.replay` feeds a trace's inputs
  to the reference engine and compares its decisions; :mod:`.checker` is ``sessionspec check``.
- :mod:`.adapter` and :mod:`.subprocess_iut` plug an implementation under test (IUT) in;
  :mod:`.campaign` generates operation sequences with Hypothesis and compares the IUT with
  the reference engine (``sessionspec conform``).
- :mod:`.mutants` are reference engines with one rule broken each (``sessionspec mutants``);
  :mod:`.pytest_plugin` runs a campaign as a pytest test.

This face is the documented API of an in-process adapter (docs/conformance.md): what a factory
is given (:class:`IUTConfig`), what it returns (:class:`IUT`), and the reference engine as one.
"""

from properties.conformance.adapter import EngineIUT
from properties.conformance.iut import IUT, AdapterError, Factory, IUTConfig, IUTFailure

__all__ = ["IUT", "AdapterError", "EngineIUT", "Factory", "IUTConfig", "IUTFailure"]
