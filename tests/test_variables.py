"""Variables, vars.yml round trips, secrets and merging."""

import datetime
import re

import pytest
import yaml

from mintcloud.errors import PermanentError
from mintcloud.variables import (
    DEFAULT_MASK,
    InvalidVariableName,
    Variables,
    VariablesError,
    VarsFileError,
    dump_vars_yml,
    generate_secret,
    load_vars_yml,
    merge_variables,
    validate_name,
)

try:  # ansible is a test-only dependency
    from ansible.parsing.dataloader import DataLoader
except ImportError:  # pragma: no cover - ansible-core is in the test environment
    DataLoader = None

TRICKY = {
    "word_yes": "yes",
    "word_no": "no",
    "word_on": "on",
    "word_off": "Off",
    "word_true": "True",
    "leading_zero": "0123",
    "exponent": "1e3",
    "float_like": "1.5",
    "octal_like": "0o17",
    "hex_like": "0x1F",
    "sexagesimal": "1:20",
    "null_word": "null",
    "tilde": "~",
    "empty": "",
    "colon": "a: b",
    "jinja": "{{ x }}",
    "jinja_block": "{% if x %}y{% endif %}",
    "jinja_comment": "{# note #}",
    "jinja_override": "#jinja2: trim_blocks: False",
    "hash_start": "#x",
    "dash": "- item",
    "star": "*alias",
    "amp": "&anchor",
    "bang": "!tag",
    "percent": "%x",
    "at": "@x",
    "backtick": "`x`",
    "quotes": 'it\'s "quoted"',
    "spaces": "  padded  ",
    "tab": "a\tb",
    "multi": "line one\n  indented\nline three\n",
    "multi_no_newline": "a\nb",
    "multi_trailing_blank": "a\n\n",
    "multi_leading_space": "  first\nsecond\n",
    "multi_trailing_space": "a  \nb",
    "multi_jinja": "{{ a }}\n{{ b }}\n",
    "crlf": "a\r\nb",
    "unicode": "Zürich – 日本 🙂",
    "unicode_multi": "é\n🙂\n",
    "date_like": "2024-06-01",
    "datetime_like": "2024-06-01 12:00:00",
    "int_value": 42,
    "float_value": 2.5,
    "bool_value": True,
    "none_value": None,
    "date_value": datetime.date(2024, 6, 1),
    "list_value": ["yes", 1, None, {"k": "on"}],
    "dict_value": {
        "yes": "no",
        "nested": {"0123": ["~"]},
        "multi": "a\nb\n",
        1: "int key",
        None: "null key",
    },
    "empty_list": [],
    "empty_dict": {},
}


# --- names --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["app_name", "_private", "a1", "A", "db_password"])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("1abc", "letters, digits"),
        ("app-name", "letters, digits"),
        ("app name", "letters, digits"),
        ("", "letters, digits"),
        ("größe", "letters, digits"),
        ("class", "keyword"),
        ("None", "keyword"),
        ("true", "keyword"),
        ("not", "keyword"),
        ("environment", "Ansible reserves"),
        ("vars", "Ansible reserves"),
        ("hostvars", "Ansible reserves"),
        ("ansible_connection", "Ansible reserves"),
        ("template_path", "Ansible reserves"),
        (5, "must be a string"),
    ],
)
def test_invalid_names(name, reason):
    with pytest.raises(InvalidVariableName, match=reason) as info:
        validate_name(name)
    assert isinstance(info.value, PermanentError)
    assert info.value.name == name


# --- Variables ----------------------------------------------------------------


def test_variables_is_an_ordered_mapping():
    v = Variables([("b", 1), ("a", 2)])
    v.set("c", 3)
    v["a"] = 20
    assert list(v) == ["b", "a", "c"]
    assert dict(v) == {"b": 1, "a": 20, "c": 3}
    assert len(v) == 3 and v["a"] == 20 and "c" in v
    del v["b"]
    assert list(v.items()) == [("a", 20), ("c", 3)]
    assert v == {"a": 20, "c": 3}
    assert v.get("missing", "dflt") == "dflt"


def test_variables_from_mapping_and_other_variables():
    source = Variables({"a": 1, "pw": "x"}, secrets=["pw"])
    copy = Variables(source)
    assert copy == source and copy.secret_names == {"pw"}
    assert Variables() == {}


def test_variables_reject_bad_names():
    with pytest.raises(InvalidVariableName):
        Variables({"bad-name": 1})
    v = Variables()
    with pytest.raises(InvalidVariableName):
        v["environment"] = "production"
    with pytest.raises(InvalidVariableName):
        Variables(secrets=["not valid"])


def test_secret_flags():
    v = Variables({"app_name": "acme"}, secrets=["db_password"])
    v.set("db_password", "pw-123456")
    v.set("admin_password", "adm-987654", secret=True)
    assert v.secret_names == frozenset({"db_password", "admin_password"})
    assert v.is_secret("db_password") and not v.is_secret("app_name")
    v["admin_password"] = "changed"  # assignment keeps the flag
    assert v.is_secret("admin_password")
    v.set("admin_password", "again")  # set without secret=True keeps it too
    assert v.is_secret("admin_password")
    del v["admin_password"]
    assert not v.is_secret("admin_password")


def test_as_dict_is_a_deep_copy():
    v = Variables({"d": {"l": [1]}})
    data = v.as_dict()
    data["d"]["l"].append(2)
    assert v["d"] == {"l": [1]}
    assert type(data) is dict


def test_redacted_and_secret_values():
    v = Variables(
        {
            "app_name": "acme",
            "db_password": "pw-123456",
            "token": 12345,
            "empty": "",
            "flag": True,
            "nested": {"a": ["n1-secret", None, "n1-secret"], "b": 7},
        },
        secrets=["db_password", "token", "empty", "flag", "nested"],
    )
    redacted = v.redacted()
    assert redacted["app_name"] == "acme"
    assert (
        redacted["db_password"] == DEFAULT_MASK and redacted["nested"] == DEFAULT_MASK
    )
    assert redacted.secret_names == v.secret_names
    assert v["db_password"] == "pw-123456", "redacted() must not touch the original"
    assert v.redacted(mask="XXX")["token"] == "XXX"
    assert v.secret_values() == ["pw-123456", "12345", "n1-secret", "7"]


def test_repr_never_shows_secrets():
    v = Variables(
        {"app_name": "acme", "db_password": "pw-123456"}, secrets=["db_password"]
    )
    text = repr(v)
    assert "pw-123456" not in text
    assert "acme" in text and DEFAULT_MASK in text and "db_password" in text


# --- generate_secret -------------------------------------------------------------


def test_generate_secret():
    first = generate_secret()
    assert len(first) == 32 and re.fullmatch(r"[A-Za-z0-9]+", first)
    assert generate_secret() != first
    assert len(generate_secret(8)) == 8
    # Safe in YAML: loads back as the same string when quoted by dump_vars_yml.
    assert load_vars_yml(dump_vars_yml({"s": first}))["s"] == first
    for bad in (0, -1, "32", True, 1.5):
        with pytest.raises(VariablesError):
            generate_secret(bad)


# --- merge_variables -----------------------------------------------------------------


def test_merge_later_layer_wins_and_secret_flag_sticks():
    builtins = Variables(
        {"app_name": "acme", "db_password": "generated"}, secrets=["db_password"]
    )
    defaults = {"odoo_workers": 2, "app_name": "ignored"}
    overrides = Variables(
        {"odoo_workers": 4, "db_password": "chosen", "api_key": "k"},
        secrets=["api_key"],
    )
    merged = merge_variables(builtins, defaults, overrides)
    assert merged == {
        "app_name": "ignored",
        "db_password": "chosen",
        "odoo_workers": 4,
        "api_key": "k",
    }
    assert list(merged) == ["app_name", "db_password", "odoo_workers", "api_key"]
    assert merged.secret_names == {"db_password", "api_key"}


def test_merge_secret_flag_from_a_layer_without_the_value():
    merged = merge_variables({"token": "t"}, Variables(secrets=["token"]), None)
    assert merged.is_secret("token")
    assert merge_variables(None, None, None) == {}


def test_merge_copies_values():
    nested = {"l": [1]}
    merged = merge_variables({"n": nested}, None, None)
    merged["n"]["l"].append(2)
    assert nested == {"l": [1]}


# --- vars.yml --------------------------------------------------------------------


def test_round_trip_of_tricky_values():
    text = dump_vars_yml(TRICKY)
    assert load_vars_yml(text) == TRICKY
    assert list(load_vars_yml(text)) == list(TRICKY)


@pytest.mark.skipif(DataLoader is None, reason="ansible-core is not installed")
def test_ansible_reads_the_file_like_we_do():
    text = dump_vars_yml(TRICKY, header="exported by Mint Cloud")
    assert DataLoader().load(text) == TRICKY


def test_dump_quotes_strings_keeps_unicode_and_uses_block_scalars():
    text = dump_vars_yml(
        {"a": "yes", "u": "Zürich 🙂", "m": "one\ntwo\n", "n": 5, "j": "{{ x }}"}
    )
    assert "a: 'yes'\n" in text
    assert "u: 'Zürich 🙂'\n" in text
    assert "m: |\n  one\n  two\n" in text
    assert "n: 5\n" in text
    assert "j: !unsafe '{{ x }}'\n" in text
    assert "\\u" not in text and "\\U" not in text


def test_dump_without_aliases():
    shared = ["x"]
    text = dump_vars_yml({"a": shared, "b": shared})
    assert "&" not in text and "*" not in text
    assert load_vars_yml(text) == {"a": ["x"], "b": ["x"]}


def test_dump_header_redact_and_empty():
    v = Variables(
        {"app_name": "acme", "db_password": "pw-123456"}, secrets=["db_password"]
    )
    text = dump_vars_yml(v, redact=True, header="Mint Cloud export\n\napp acme")
    assert text.startswith("# Mint Cloud export\n#\n# app acme\n---\n")
    assert "pw-123456" not in text and DEFAULT_MASK in text
    assert load_vars_yml(text) == {"app_name": "acme", "db_password": DEFAULT_MASK}
    assert "pw-123456" in dump_vars_yml(v)
    assert dump_vars_yml({}) == "---\n{}\n"
    assert load_vars_yml(dump_vars_yml({})) == {}


def test_dump_rejects_bad_names():
    with pytest.raises(InvalidVariableName):
        dump_vars_yml({"bad-name": 1})


def test_load_marks_secrets_and_accepts_empty_text():
    v = load_vars_yml("a: 1\npw: x\n", secrets=["pw", "not_present"])
    assert v.secret_names == {"pw"}
    assert load_vars_yml("") == {}
    assert load_vars_yml("# only a comment\n") == {}
    assert load_vars_yml("---\n") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "top level must be a mapping, not list"),
        ("just text\n", "top level must be a mapping, not str"),
        ("a: 1\n---\nb: 2\n", "single YAML document"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: [1\n", "line"),
        ("x: !unsafe [1]\n", "!unsafe is only supported on strings"),
        ("x: !vault |\n  abc\n", "could not determine a constructor"),
    ],
)
def test_load_rejects_bad_files(text, message):
    with pytest.raises(VarsFileError, match=re.escape(message)):
        load_vars_yml(text)


def test_load_rejects_bad_variable_names():
    with pytest.raises(InvalidVariableName, match="'app-name'"):
        load_vars_yml("app-name: acme\n")
    with pytest.raises(InvalidVariableName, match="Ansible reserves"):
        load_vars_yml("environment: production\n")
    with pytest.raises(InvalidVariableName, match="must be a string"):
        load_vars_yml("1: x\n")


def test_load_error_names_line_but_not_the_text():
    with pytest.raises(VarsFileError) as info:
        load_vars_yml("app_name: acme\ndb_password: 'S3cr3t-Value\n")
    assert "S3cr3t" not in str(info.value)
    assert info.value.line is not None and "line" in str(info.value)
    assert isinstance(info.value, PermanentError)


def test_dumped_file_is_plain_yaml_for_other_readers():
    data = yaml.safe_load(dump_vars_yml({"a": "yes", "n": 1}))
    assert data == {"a": "yes", "n": 1}
