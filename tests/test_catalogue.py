"""The rule catalogue is complete and agrees with everything that cites it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from model.spec.catalogue import API, PARAMETERS, Encoding, encodings, encodings_by_rule
from model.spec.interpretations import INTERPRETATION_POINTS, POINTS_BY_ID
from model.spec.lifecycles import LIFECYCLES
from model.spec.rules import PAGE_TITLES, RULES, RULES_BY_ID, SEED_TITLES, Page, Source
from model.spec.validations import VALIDATIONS
from properties.cli.rules import catalogue, markdown
from properties.invariants.rule_checks import marked_tests, property_checks

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+", i) for i in ids)


def test_every_rule_cites_a_seed_position() -> None:
    for rule in RULES:
        assert rule.sources, rule.id
        for source in rule.sources:
            if rule.profiles == ("platform",):
                assert isinstance(source, Page) and source.url in PAGE_TITLES, rule.id
                continue
            assert isinstance(source, Source)
            assert source.seed in SEED_TITLES
            assert 1 <= source.lines[0] <= source.lines[1] <= 135


def test_every_rule_has_an_encoding() -> None:
    missing = [rule_id for rule_id, found in encodings_by_rule().items() if not found]
    assert not missing, f"rules with no encoding in the declaration, validations or API: {missing}"


def test_every_rule_has_a_check() -> None:
    props = property_checks()
    marks = marked_tests(TESTS)
    missing = [r.id for r in RULES if not props.get(r.id) and not marks.get(r.id)]
    assert not missing, f"rules no property or marked test checks: {missing}"


def test_every_cited_rule_exists() -> None:
    cited = {rule_id for e in encodings() for rule_id in e.rules}
    cited |= set(property_checks()) | set(marked_tests(TESTS))
    unknown = sorted(cited - set(RULES_BY_ID))
    assert not unknown, f"unknown rule IDs cited: {unknown}"


def test_rules_name_existing_interpretations() -> None:
    for rule in RULES:
        if rule.interpretation is not None:
            assert rule.interpretation in POINTS_BY_ID, rule.id


def test_only_if_names_real_options() -> None:
    for lc in LIFECYCLES:
        for t in lc.transitions:
            for key, option in t.only_if:
                assert option in POINTS_BY_ID[key].option_names, (lc.name, t.trigger)


def test_interpretation_points_have_two_options_and_sources() -> None:
    """A point with one option is a fixed reading, named so that it is documented; its rationale says so
    and why the other reading is not offered."""
    for point in INTERPRETATION_POINTS:
        assert point.sources and point.rationale, point.id
        # one option only where the alternative is named as not modelled, or the point is a fixed reading
        # (the rationale says so)
        assert len(point.options) >= 2 or "not modelled" in point.rationale or point.rationale.startswith(
            "A fixed reading"
        ), point.id


@pytest.mark.parametrize("encoding", [*PARAMETERS, *API], ids=lambda e: e.where)
def test_named_encodings_resolve(encoding: Encoding) -> None:
    """Parameters and API behaviours are named by dotted path; each must exist in the code."""
    where = encoding.where
    parts = where.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return
    pytest.fail(f"{where} does not resolve")


def test_every_validation_code_is_unique() -> None:
    codes = [v.code for v in VALIDATIONS]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(("profile", "name"), [("seeds", "rules.md"), ("platform", "rules-platform.md")])
def test_generated_rule_document_is_current(profile: str, name: str) -> None:
    """docs/rules.md and docs/rules-platform.md are generated; regenerate with `make rules-doc` when this fails."""
    fresh = "\n".join(markdown(catalogue(TESTS, profile), profile)) + "\n"
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert committed == fresh, f"docs/{name} is stale: run `make rules-doc`"


@pytest.mark.rule("PLATFORM-CLOSE-DRAINS", "PLATFORM-CANCEL-SESSION")
def test_the_platform_catalogue_lists_every_platform_rule_with_its_page() -> None:
    entries = {e["id"]: e for e in catalogue(None, "platform")}
    platform = [r.id for r in RULES if r.profiles == ("platform",)]
    assert platform and set(platform) <= set(entries)
    for rule_id in platform:
        assert all(s.startswith("https://docs.quantum.ibm.com/guides/") for s in entries[rule_id]["sources"])
    assert "CLOSE-FAILS-INCOMPLETE" not in entries and "SESSION-CLOSE" not in entries
    assert not set(platform) & {e["id"] for e in catalogue(None)}
