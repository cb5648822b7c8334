"""docs/scenario-format.md's key table and the scenario schema agree on which keys a file must have."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_key_the_schema_requires_is_documented_as_required() -> None:
    """The table said ``operations[]`` defaults to none, but a file without it was refused."""
    schema = json.loads((ROOT / "model" / "schemas" / "scenario.schema.json").read_text())
    table = {match.group(1): match.group(0) for match in
             re.finditer(r"^\| `(\w+)(?:\[\])?` \|.*\|$", (ROOT / "docs" / "scenario-format.md").read_text(), re.M)}
    for key in schema["required"]:
        assert "required" in table[key], (key, table.get(key))
    for key, row in table.items():
        if row.rstrip(" |").endswith("| required") and key in schema["properties"]:
            assert key in schema["required"], key
