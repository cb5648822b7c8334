"""The JSON Schema of one trace line, generated from the line Structs (:mod:`.records`).

``model/schemas/trace.schema.json`` is the published copy; ``tests/test_trace_format.py``
holds it equal to :func:`generate` (:func:`write` rewrites it).
msgspec writes the field types (enums, ``minimum 0``, ``minLength 1``, which keys may appear,
which may be null); to them this adds each line's ``CONDITIONS`` (keys required by another
key's value), drops the defaults of absent keys (absence is what they mean), and names the
document.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

from model.trace.records import LINES, VERSION, Line

PATH = Path(__file__).parent.parent / "schemas" / "trace.schema.json"
_NAMES = {cls.__name__: str(cls.__struct_config__.tag) for cls in LINES}


def generate() -> dict[str, Any]:
    """The schema, from the Structs."""
    raw = msgspec.json.schema(Line, ref_template="#/$defs/{name}")
    rename = {**_NAMES, "BackendLimits": "backend_limits", "Args": "args"}
    text = json.dumps(raw)
    for old, new in rename.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"')
    raw = json.loads(text)
    defs: dict[str, Any] = {}
    for name, definition in raw["$defs"].items():
        definition.pop("title", None)
        for prop in definition.get("properties", {}).values():
            if prop.get("default", 0) is None:
                del prop["default"]
        if not definition.get("required"):
            definition.pop("required", None)
        defs[rename[name]] = definition
    for cls in LINES:
        defs[_NAMES[cls.__name__]].update(cls.CONDITIONS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://sessionspec.invalid/schemas/trace/v{VERSION}",
        "title": f"sessionspec trace line, format version {VERSION}",
        "description": "One line of a sessionspec JSON Lines trace. The first line is a header; every later line "
                       "is a request or a session/job state change. See docs/trace-format.md.",
        "oneOf": [{"$ref": f"#/$defs/{_NAMES[cls.__name__]}"} for cls in LINES],
        "$defs": defs,
    }


def render() -> str:
    """The published file's text."""
    return json.dumps(generate(), indent=2) + "\n"


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of one trace line."""
    return generate()


def write() -> None:
    """Rewrite the published copy: ``python -c 'from model.trace.schema import write; write()'``."""
    PATH.write_text(render(), encoding="utf-8")
