"""Tests of mintcloud.appvars: the variable layers of one app."""

import pytest

from mintcloud.appvars import (
    BUILTIN_NAMES,
    FEATURE_BUILTIN_NAMES,
    GENERATED_SECRETS,
    app_variables,
    builtin_variables,
    check_line_name,
    generated_secret_lines,
    lines_to_variables,
)
from mintcloud.variables import (
    InvalidVariableName,
    Variables,
    VariablesError,
    dump_vars_yml,
    load_vars_yml,
)


def test_builtins_of_a_production_app():
    variables = builtin_variables(
        "acme", "acme.mint-cloud.ch", "prod", "acme", "a@example.com", "de_CH"
    )
    assert variables.as_dict() == {
        "app_name": "acme",
        "hostname": "acme.mint-cloud.ch",
        "app_environment": "production",
        "namespace": "acme",
        "partner_email": "a@example.com",
        "partner_lang": "de_CH",
        "resource_prefix": "acme",
        "app_suspended": False,
    }
    assert not variables.secret_names


def test_builtins_of_an_integration_app_name_the_production_app():
    variables = builtin_variables(
        "acme-int", "acme-int.mint-cloud.ch", "int", "acme", prod_app_name="acme"
    )
    assert variables["app_environment"] == "integration"
    assert variables["prod_app_name"] == "acme"
    assert variables["prod_resource_prefix"] == "acme"
    assert variables["partner_email"] == ""
    assert variables["partner_lang"] == "en_US"
    assert list(variables) == [
        name for name in BUILTIN_NAMES if name not in FEATURE_BUILTIN_NAMES
    ]
    assert builtin_variables("a", "h", "prod", "a", suspended=True)["app_suspended"]


def test_builtins_refuse_unknown_environment_and_int_without_prod():
    with pytest.raises(VariablesError, match="Unknown app environment"):
        builtin_variables("acme", "h", "staging", "acme")
    with pytest.raises(VariablesError, match="production app"):
        builtin_variables("acme-int", "h", "int", "acme")


def test_check_line_name():
    assert check_line_name("odoo_workers") == "odoo_workers"
    with pytest.raises(VariablesError, match="built-in"):
        check_line_name("hostname")
    with pytest.raises(InvalidVariableName):
        check_line_name("environment")
    with pytest.raises(InvalidVariableName):
        check_line_name("1abc")


def test_lines_to_variables_marks_secrets_and_keeps_empty_values():
    variables = lines_to_variables(
        [("a", "1", False), ("pw", "s3cret", True), ("b", None, 0)]
    )
    assert variables.as_dict() == {"a": "1", "pw": "s3cret", "b": ""}
    assert variables.secret_names == {"pw"}


def test_layers_later_wins_builtins_always_win_and_secrets_stick():
    builtins = builtin_variables("acme", "acme.mint-cloud.ch", "prod", "acme")
    defaults = Variables({"odoo_workers": "2", "token": "t0"}, secrets=["token"])
    lines = [
        ("odoo_workers", "4", False),
        ("token", "t1", False),
        ("hostname", "evil.example.com", False),
        ("admin_password", "pw", True),
    ]
    merged = app_variables(builtins, defaults, lines)
    assert merged["hostname"] == "acme.mint-cloud.ch"
    assert merged["odoo_workers"] == "4"
    assert merged["token"] == "t1"
    assert merged.secret_names == {"token", "admin_password"}
    assert list(merged)[: len(builtins)] == list(builtins)
    assert list(merged)[len(builtins) :] == ["odoo_workers", "token", "admin_password"]


def test_layers_accept_plain_mappings_and_round_trip_through_vars_yml():
    merged = app_variables({"app_name": "acme"}, None, [("pw", "a'b: {{x}}", True)])
    merged2 = app_variables(merged, {"n": "0123"})
    text = dump_vars_yml(merged2)
    assert load_vars_yml(text).as_dict() == merged2.as_dict()
    assert "a'b" not in dump_vars_yml(merged2, redact=True)


def test_generated_secret_lines_only_for_missing_names():
    lines = generated_secret_lines()
    assert [name for name, _value, _secret in lines] == list(GENERATED_SECRETS)
    assert all(secret and len(value) == 32 for _name, value, secret in lines)
    assert lines[0][1] != lines[1][1]
    assert [n for n, _v, _s in generated_secret_lines(["admin_password"])] == [
        "db_password"
    ]
