"""Conformance campaigns against the reference engine, whole and split by backend: what
``benchmarks.run``'s "campaigns" measurement runs under pytest, in one process and with
pytest-xdist (``-n 2``). Not part of the test suite (its ``testpaths`` is ``tests/``).

Per-backend schedulers are independent and no operation of a campaign spans two backends,
so the campaigns of each backend alone test the same rules as one campaign over all of them
(:meth:`properties.conformance.pytest_plugin.Conformance.check`'s ``backends``).
"""

from __future__ import annotations

import pytest

from properties.conformance.pytest_plugin import Conformance

REFERENCE = "properties.conformance.adapter:reference"


@pytest.mark.sessionspec_adapter(REFERENCE)
def test_whole(sessionspec_conformance: Conformance, request: pytest.FixtureRequest) -> None:
    """One campaign over every backend, of twice the examples of each split campaign."""
    examples = 2 * request.config.getoption("--sessionspec-examples")
    assert sessionspec_conformance.check(examples=examples).finding is None


@pytest.mark.sessionspec_adapter(REFERENCE)
@pytest.mark.parametrize("backend", ["b0", "b1"])
def test_split(backend: str, sessionspec_conformance: Conformance) -> None:
    assert sessionspec_conformance.check(backends=[backend]).finding is None
