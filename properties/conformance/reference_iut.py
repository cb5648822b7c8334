#!/usr/bin/env python3
"""An example out-of-process implementation under test, speaking the conformance kit's
JSON-lines protocol on stdin/stdout (see docs/conformance.md).

It wraps the reference engine, so it conforms; ``--mutant NAME`` wraps one of the
mutant engines of ``properties.conformance.mutants`` instead, which must be caught:

    sessionspec conform --cmd "python -m properties.conformance.reference_iut"
    sessionspec conform --cmd "python -m properties.conformance.reference_iut --mutant session-lifo"

One request per input line, one answer per output line; flush after each answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from model import BackendConfig, Engine, Interpretation, apply
from model.sim.ops import decode_request
from model.trace import to_json
from model.trace.strict_json import Unusable, loads
from properties.conformance import EngineIUT, IUTConfig


def build(request: dict[str, Any], engine_class: type[Engine]) -> EngineIUT:
    backends = tuple(
        BackendConfig(
            name, system_max_time=float(limits["system_max_time"]),
            program_max_execution_time=float(limits["program_max_execution_time"]),
        )
        for name, limits in request["backends"].items()
    )
    interpretation = Interpretation(request.get("interpretation", {}), request.get("profile", "seeds"))
    return EngineIUT(IUTConfig(backends, interpretation), engine_class)


def handle(iut: EngineIUT, request: dict[str, Any]) -> None:
    """Apply one operation request to the IUT."""
    apply(iut, decode_request(request))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutant", help="wrap this mutant engine instead of the reference")
    args = parser.parse_args()
    engine_class: type[Engine] = Engine
    if args.mutant:
        from properties.conformance.mutants import MUTANTS_BY_NAME

        engine_class = MUTANTS_BY_NAME[args.mutant].engine
    iut: EngineIUT | None = None
    for number, line in enumerate(sys.stdin, 1):
        try:
            request = loads(line, line=number)
        except Unusable as error:  # the kit sends JSON; a person typing at it may not
            request = error
        if isinstance(request, dict) and request.get("op") == "quit":
            break
        try:
            if isinstance(request, Unusable):
                raise ValueError(f"request line {request.line}: {request.reason}")
            if not isinstance(request, dict):
                raise ValueError(f"request line {number}: not a JSON object")
            if request.get("op") == "init":
                iut = build(request, engine_class)
            elif iut is None:
                raise ValueError("the first request must be init")
            else:
                handle(iut, request)
            answer: dict[str, Any] = {"ok": True, "events": [to_json(record) for record in iut.events()]}
        except Exception as error:  # reported to the kit, which reports it as a finding
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
