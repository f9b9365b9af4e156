"""Tests of mintcloud.nameproblems: app-name problems with their details."""

import pytest

from mintcloud.nameproblems import (
    app_name_problems,
    first_bad_char,
    name_candidates,
)
from mintcloud.names import check_app_name_codes
from tests.test_names import CORPUS


@pytest.mark.parametrize(
    "name, expected",
    [
        ("acme", ["acme", "acme-int"]),
        ("Acme", ["acme", "acme-int"]),
        ("acme-int", ["acme-int", "acme-int-int", "acme"]),
        ("", []),
        (None, []),
        (42, []),
    ],
)
def test_name_candidates(name, expected):
    assert name_candidates(name) == expected


def test_candidates_are_exactly_the_names_the_core_asks_about():
    for name in ("acme", "shop-int", "Acme"):
        asked = []
        check_app_name_codes(
            name, taken=lambda n, asked=asked: asked.append(n) or False
        )
        assert asked == name_candidates(name)


def test_first_bad_char():
    assert first_bad_char("acme") is None
    assert first_bad_char("ac.me") == (3, ".")
    assert first_bad_char("Acme") == (1, "A")


def test_valid_name_has_no_problems():
    assert app_name_problems("acme-shop") == []


def test_uppercase_is_a_charset_problem_with_position_and_flag():
    [problem] = [p for p in app_name_problems("acmE") if p["code"] == "charset"]
    assert problem["params"] == {"position": 4, "char": "'E'", "upper": True}
    assert "lowercase" in problem["message"]


def test_invisible_char_is_described_by_code_point():
    [problem] = [p for p in app_name_problems("my\u200bshop") if p["code"] == "charset"]
    assert problem["params"]["position"] == 3
    assert problem["params"]["char"] == "U+200B ZERO WIDTH SPACE"
    assert problem["params"]["upper"] is False


def test_length_params_name_the_limits_and_the_domain():
    [problem] = app_name_problems("ab", domain="example.org")
    assert problem["code"] == "length"
    assert problem["params"] == {
        "length": 2,
        "min": 3,
        "max": 59,
        "int_host": "NAME-int.example.org",
    }


def test_reserved_taken_and_suffix_params():
    assert app_name_problems("WWW")[-1]["params"] == {"name": "www"}
    taken = app_name_problems("acme", taken={"acme-int"})
    assert [(p["code"], p["params"]) for p in taken] == [("taken", {"name": "acme"})]
    suffix = [p for p in app_name_problems("shop-int") if p["code"] == "int-suffix"]
    assert suffix[0]["params"] == {"suffix": "-int"}


def test_required_has_no_params():
    assert app_name_problems("") == [
        {"code": "required", "message": "an app name is required", "params": {}}
    ]


def test_same_codes_and_messages_as_the_core_for_the_whole_corpus():
    for name, _code, _line in CORPUS:
        core = check_app_name_codes(name)
        ours = [(p["code"], p["message"]) for p in app_name_problems(name)]
        assert ours == core, repr(name)
