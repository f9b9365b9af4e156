"""The Ansible filters and tests of mintcloud.filters.

Each filter is checked on its own and, where ansible-core is installed (a
test-only dependency), against ansible's own implementation on the same input.
"""

import base64
import datetime
import hashlib
import json
import re
import shlex

import jinja2
import pytest
import yaml

from mintcloud import filters as F
from mintcloud.errors import PermanentError
from mintcloud.filters import FILTERS, TESTS, FilterError
from mintcloud.variables import Variables

try:  # ansible is a test-only dependency
    from ansible.plugins.filter import core as ansible_filters
    from ansible.plugins.test import core as ansible_tests
except ImportError:  # pragma: no cover - ansible-core is in the test environment
    ansible_filters = ansible_tests = None

needs_ansible = pytest.mark.skipif(
    ansible_filters is None, reason="ansible-core is not installed"
)


def strict_undefined(name="missing"):
    return jinja2.StrictUndefined(name=name)


# --- registry ------------------------------------------------------------------


def test_registry_holds_the_required_filters_and_tests():
    required = {
        "default",
        "d",
        "mandatory",
        "bool",
        "ternary",
        "b64encode",
        "b64decode",
        "to_yaml",
        "to_nice_yaml",
        "to_json",
        "to_nice_json",
        "from_yaml",
        "from_json",
        "regex_replace",
        "regex_search",
        "regex_findall",
        "quote",
        "hash",
        "password_hash",
        "comment",
        "combine",
        "dict2items",
        "items2dict",
        "to_uuid",
        "basename",
        "dirname",
        "splitext",
    }
    assert required <= set(FILTERS)
    assert {"match", "search", "regex", "truthy", "falsy"} <= set(TESTS)
    assert all(callable(f) for f in FILTERS.values())


def test_filter_error_is_permanent():
    assert issubclass(FilterError, PermanentError)
    assert FilterError("x", variable="v").variable == "v"


# --- default / mandatory ------------------------------------------------------


def test_default_replaces_only_undefined():
    assert F.default(strict_undefined(), "x") == "x"
    assert F.default(strict_undefined()) == ""
    assert F.default("", "x") == ""
    assert F.default(None, "x") is None
    assert F.default("", "x", True) == "x"
    assert F.default(0, 5, boolean=True) == 5
    assert F.default("v", "x", True) == "v"


def test_default_boolean_must_be_bool():
    with pytest.raises(FilterError, match="'boolean' must be a bool"):
        F.default("", "x", "yes")


def test_mandatory():
    assert F.mandatory("value") == "value"
    assert F.mandatory(None) is None
    with pytest.raises(FilterError) as info:
        F.mandatory(strict_undefined("db_password"))
    assert str(info.value) == "Mandatory variable 'db_password' not defined."
    assert info.value.variable == "db_password"
    with pytest.raises(FilterError, match="^custom message$"):
        F.mandatory(strict_undefined(), "custom message")
    with pytest.raises(FilterError, match="^Mandatory variable not defined.$"):
        F.mandatory(jinja2.StrictUndefined())


# --- bool / ternary / type_debug -------------------------------------------------

BOOL_INPUTS = [
    "yes",
    "YES",
    "on",
    "true",
    "True",
    "1",
    "no",
    "Off",
    "false",
    "0",
    1,
    0,
    True,
    False,
    1.0,
    "maybe",
    None,
    2,
]


TRUE_INPUTS = BOOL_INPUTS[:6] + [1, True, 1.0]


@pytest.mark.parametrize("value", BOOL_INPUTS, ids=repr)
def test_bool_values(value):
    expected = any(value == t and type(value) is type(t) for t in TRUE_INPUTS)
    assert F.to_bool(value) is expected


@needs_ansible
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("value", BOOL_INPUTS, ids=repr)
def test_bool_like_ansible(value):
    assert F.to_bool(value) == ansible_filters.to_bool(value)


def test_bool_of_unhashable_is_false():
    assert F.to_bool(["yes"]) is False


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((True, "a", "b"), "a"),
        ((False, "a", "b"), "b"),
        ((None, "a", "b"), "b"),
        ((None, "a", "b", "n"), "n"),
        (("x", "a", "b", "n"), "a"),
        ((0, 1, 2), 2),
    ],
)
def test_ternary(args, expected):
    assert F.ternary(*args) == expected
    if ansible_filters is not None:
        assert ansible_filters.ternary(*args) == expected


def test_type_debug():
    assert [F.type_debug(v) for v in ("a", 1, [], {}, None, True)] == [
        "str",
        "int",
        "list",
        "dict",
        "NoneType",
        "bool",
    ]


def test_to_datetime():
    assert F.to_datetime("2024-06-01 12:30:00") == datetime.datetime(2024, 6, 1, 12, 30)
    assert F.to_datetime("01.06.2024", "%d.%m.%Y").year == 2024


# --- encodings --------------------------------------------------------------------

TEXTS = ["", "a", "Zürich 🙂", "line\nbreak", "x" * 100]


@pytest.mark.parametrize("text", TEXTS)
def test_b64_round_trip(text):
    encoded = F.b64encode(text)
    assert encoded == base64.b64encode(text.encode()).decode()
    assert F.b64decode(encoded) == text
    assert F.b64decode(F.b64encode(text, urlsafe=True), urlsafe=True) == text


@needs_ansible
@pytest.mark.parametrize("text", TEXTS)
def test_b64_like_ansible(text):
    assert F.b64encode(text) == ansible_filters.b64encode(text)
    assert F.b64encode(text, "utf-16") == ansible_filters.b64encode(text, "utf-16")
    assert F.b64encode(text, urlsafe=True) == ansible_filters.b64encode(
        text, urlsafe=True
    )


def test_b64_of_non_strings_and_bytes():
    assert F.b64encode(42) == "NDI="
    assert F.b64encode(b"\x00\xff") == "AP8="
    assert F.b64decode(b"NDI=") == "42"


def test_b64decode_invalid_input_does_not_echo_it():
    with pytest.raises(FilterError) as info:
        F.b64decode("s3cr3tvalue!")
    assert "s3cr3tvalue" not in str(info.value)
    assert "b64decode" in str(info.value)


def test_to_uuid():
    assert F.to_uuid("acme") == "64e57c02-cce6-540d-9df6-2ac3afff7898"
    other = "11111111-2222-3333-4444-555555555555"
    assert F.to_uuid("acme", other) != F.to_uuid("acme")
    if ansible_filters is not None:
        assert F.to_uuid("acme") == ansible_filters.to_uuid("acme")
        assert F.to_uuid("acme", other) == ansible_filters.to_uuid("acme", other)
    with pytest.raises(FilterError, match="invalid namespace"):
        F.to_uuid("acme", "not-a-uuid")


# --- JSON / YAML ------------------------------------------------------------------

STRUCTURES = [
    {"b": 1, "a": [1, 2, {"x": None}], "é": "ü"},
    ["a", 1, 2.5, True, None],
    {"nested": {"deep": {"list": [[1], [2, 3]]}}, "s": "multi\nline\n"},
    "plain",
    {"date": datetime.date(2024, 6, 1), "tuple": (1, 2)},
]


@needs_ansible
@pytest.mark.parametrize("value", STRUCTURES, ids=range(len(STRUCTURES)))
def test_json_and_yaml_like_ansible(value):
    assert F.to_json(value) == ansible_filters.to_json(value)
    assert F.to_nice_json(value) == ansible_filters.to_nice_json(value)
    assert F.to_yaml(value) == ansible_filters.to_yaml(value)
    assert F.to_nice_yaml(value) == ansible_filters.to_nice_yaml(value)
    assert F.to_nice_yaml(value, indent=2) == ansible_filters.to_nice_yaml(
        value, indent=2
    )
    assert F.to_json(value, ensure_ascii=False) == ansible_filters.to_json(
        value, ensure_ascii=False
    )


def test_to_json_shapes():
    assert F.to_json({"a": (1, 2), "s": {3}}) == '{"a": [1, 2], "s": [3]}'
    assert F.to_nice_json({"b": 1, "a": 2}) == '{\n    "a": 2,\n    "b": 1\n}'
    assert F.to_nice_json({"a": 1}, separators=(";", "=")) == '{\n    "a": 1\n}'
    assert F.to_json(datetime.datetime(2024, 1, 2, 3, 4)) == '"2024-01-02T03:04:00"'


def test_to_json_of_mapping_types_and_errors():
    class Frozen(dict):
        pass

    class Opaque:
        pass

    assert json.loads(F.to_json(Frozen(a=1))) == {"a": 1}
    assert F.to_json(Variables({"b": 1, "a": 2})) == '{"b": 1, "a": 2}'  # any Mapping
    with pytest.raises(FilterError, match="not JSON serializable"):
        F.to_json(Opaque())
    with pytest.raises(jinja2.UndefinedError):
        F.to_json({"a": strict_undefined("hidden")})


def test_to_yaml_shapes():
    assert F.to_yaml({"a": [1, 2]}) == "a: [1, 2]\n"
    assert F.to_nice_yaml({"a": [1, 2]}) == "a:\n- 1\n- 2\n"
    assert yaml.safe_load(F.to_yaml("é")) == "é"
    assert yaml.safe_load(F.to_yaml({"t": (1, 2), "s": {5}})) == {"t": [1, 2], "s": [5]}
    with pytest.raises(jinja2.UndefinedError):
        F.to_yaml(strict_undefined())


def test_from_json_and_yaml():
    assert F.from_json('{"a": [1, null]}') == {"a": [1, None]}
    assert F.from_yaml("a: [1, b]\nc: yes\n") == {"a": [1, "b"], "c": True}
    assert F.from_yaml("x: !unsafe '{{ y }}'") == {"x": "{{ y }}"}
    assert F.from_yaml(None) is None
    assert F.from_yaml({"already": "data"}) == {"already": "data"}
    assert F.from_yaml_all("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    assert F.from_yaml_all(None) == []
    assert F.from_yaml_all([1]) == [1]


@needs_ansible
@pytest.mark.parametrize(
    "text", ["a: [1, b]\nc: yes\nd: 2024-06-01\n", "- x\n- {y: 1.5}\n", "plain"]
)
def test_from_yaml_like_ansible(text):
    assert F.from_yaml(text) == ansible_filters.from_yaml(text)


def test_from_json_and_yaml_errors_do_not_echo_input():
    with pytest.raises(FilterError, match="from_json: invalid JSON") as info:
        F.from_json("{s3cr3t")
    assert "s3cr3t" not in str(info.value)
    with pytest.raises(FilterError, match="from_yaml: invalid YAML at line 2"):
        F.from_yaml("a: 1\n b: [\n")
    with pytest.raises(FilterError, match="from_yaml_all: invalid YAML"):
        F.from_yaml_all("a: [\n")


# --- strings and regular expressions --------------------------------------------

QUOTE_INPUTS = ["simple", "acme-int", "it's a $value", "", None, 42, "a b;c|d"]


@pytest.mark.parametrize("value", QUOTE_INPUTS, ids=repr)
def test_quote(value):
    result = F.quote(value)
    if ansible_filters is not None:
        assert result == ansible_filters.quote(value)
    assert shlex.split(result) == ([str(value)] if value not in (None, "") else [""])


REGEX_CASES = [
    ("smtp.example.ch", r"\.example\.ch$", ".mint.ch", {}),
    ("Hello World", r"o", "0", {"count": 1}),
    ("Hello World", r"WORLD", "you", {"ignorecase": True}),
    ("a\nb\n", r"^(\w)$", r"[\1]", {"multiline": True}),
    ("acme-int", r"-int$", "", {}),
]


@pytest.mark.parametrize(("value", "pattern", "replacement", "kwargs"), REGEX_CASES)
def test_regex_replace(value, pattern, replacement, kwargs):
    flags = (re.I if kwargs.get("ignorecase") else 0) | (
        re.M if kwargs.get("multiline") else 0
    )
    expected = re.sub(
        pattern, replacement, value, count=kwargs.get("count", 0), flags=flags
    )
    assert F.regex_replace(value, pattern, replacement, **kwargs) == expected
    if ansible_filters is not None:
        assert (
            ansible_filters.regex_replace(value, pattern, replacement, **kwargs)
            == expected
        )


def test_regex_replace_mandatory_count_and_bad_pattern():
    assert F.regex_replace("aaa", "a", "b", mandatory_count=3) == "bbb"
    with pytest.raises(
        FilterError, match="should match 2 times, but matches 3 times"
    ) as info:
        F.regex_replace("s3cr3t-aaa", "a", "b", mandatory_count=2)
    assert "s3cr3t" not in str(info.value)
    with pytest.raises(FilterError, match="invalid regular expression"):
        F.regex_replace("x", "(", "")
    assert F.regex_replace(123, "2", "x") == "1x3"


def test_regex_search_and_findall():
    assert F.regex_search("server1.example.ch", r"\d+") == "1"
    assert F.regex_search("server1", r"(?P<name>[a-z]+)(\d)", "\\g<name>", "\\2") == [
        "server",
        "1",
    ]
    assert F.regex_search("abc", "x") is None
    assert F.regex_search("ABC", "b", ignorecase=True) == "B"
    assert F.regex_search("a\nb", "^b", multiline=True) == "b"
    assert F.regex_findall("a1b22c333", r"\d+") == ["1", "22", "333"]
    assert F.regex_findall("A\na", "^a", multiline=True, ignorecase=True) == ["A", "a"]
    for bad in ("oops", "\\g", "\\x"):
        with pytest.raises(FilterError):
            F.regex_search("abc", "b", bad)


@needs_ansible
def test_regex_search_like_ansible():
    for args in [
        ("server1", r"\d"),
        ("server12", r"(\w+?)(\d+)", "\\2", "\\1"),
        ("x", "y"),
    ]:
        assert F.regex_search(*args) == ansible_filters.regex_search(*args)


def test_regex_escape():
    assert F.regex_escape("a.b*c") == r"a\.b\*c"
    assert F.regex_escape("a.b[c]", "posix_basic") == r"a\.b\[c\]"
    with pytest.raises(FilterError, match="not supported"):
        F.regex_escape("a", "posix_extended")
    if ansible_filters is not None:
        assert F.regex_escape(
            "a.b[c]^$", "posix_basic"
        ) == ansible_filters.regex_escape("a.b[c]^$", "posix_basic")


def test_split():
    assert F.split("a,b,,c", ",") == ["a", "b", "", "c"]
    assert F.split("a b  c") == ["a", "b", "c"]


COMMENT_CASES = [
    ("Managed by Mint Cloud", {}),
    ("one\ntwo", {"style": "c"}),
    ("one\n\ntwo", {"style": "cblock"}),
    ("x", {"style": "xml"}),
    ("x", {"style": "erlang"}),
    ("one\ntwo", {"decoration": "; ", "prefix": "BEGIN", "postfix": "END"}),
    ("x", {"prefix": "\n", "prefix_count": 2, "postfix_count": 3}),
    ("x", {"beginning": "START", "end": "STOP", "newline": "\r\n"}),
]


@pytest.mark.parametrize(("text", "kwargs"), COMMENT_CASES)
def test_comment_like_ansible(text, kwargs):
    result = F.comment(text, **kwargs)
    assert text.splitlines()[0] in result
    if ansible_filters is not None:
        assert result == ansible_filters.comment(text, **kwargs)


def test_comment_layout_and_bad_style():
    assert F.comment("a\nb") == "#\n# a\n# b\n#"
    with pytest.raises(FilterError, match="invalid style 'nope'"):
        F.comment("x", "nope")


# --- hashes ---------------------------------------------------------------------


def test_hash():
    assert F.get_hash("acme") == hashlib.sha1(b"acme").hexdigest()
    assert F.get_hash("acme", "sha256") == hashlib.sha256(b"acme").hexdigest()
    assert F.md5("é") == hashlib.md5("é".encode()).hexdigest()
    assert F.sha1(5) == hashlib.sha1(b"5").hexdigest()
    assert F.get_hash(b"acme") == hashlib.sha1(b"acme").hexdigest()
    with pytest.raises(FilterError, match="unsupported hash type"):
        F.get_hash("x", "nope")
    if ansible_filters is not None:
        for kind in ("md5", "sha1", "sha256", "sha512"):
            assert F.get_hash("Zürich", kind) == ansible_filters.get_hash(
                "Zürich", kind
            )


def test_password_hash_is_deterministic_with_a_salt():
    sha512 = F.password_hash("secret", "sha512", "mysalt")
    assert sha512.startswith("$6$rounds=656000$mysalt$")
    assert sha512 == F.password_hash("secret", "sha512_crypt", "mysalt")
    assert F.password_hash("secret", "sha256", "mysalt").startswith(
        "$5$rounds=535000$mysalt$"
    )
    assert F.password_hash("secret", "sha256", "mysalt", rounds=5000).startswith(
        "$5$mysalt$"
    )
    assert F.password_hash("secret", "sha512", "mysalt", rounds=10000).startswith(
        "$6$rounds=10000$mysalt$"
    )
    assert F.password_hash("secret", "md5", "mysalt").startswith("$1$mysalt$")
    # A known value: sha512-crypt of "secret" with that salt and 656000 rounds.
    assert sha512 == (
        "$6$rounds=656000$mysalt$cDA0t8lm/qt.LT6DzpoHxJ.NwTpx.WTkOPwhseSva8p"
        "RixDSH2./ffedCjAMbTX1Uo1QNT7jJPJ6FIzU2i59K/"
    )


@pytest.mark.skipif(
    ansible_filters is None or not ansible_filters.PASSLIB_AVAILABLE,
    reason="Ansible's password_hash needs passlib",
)
@pytest.mark.parametrize(
    ("hashtype", "salt", "rounds"),
    [("sha512", "mysalt", None), ("sha256", "abc", 5000), ("md5", "x1y2", None)],
)
def test_password_hash_like_ansible(hashtype, salt, rounds):
    ours = F.password_hash("Zürich pw", hashtype, salt, rounds=rounds)
    theirs = ansible_filters.get_encrypted_password(
        "Zürich pw", hashtype, salt, rounds=rounds
    )
    assert ours == theirs


def test_password_hash_random_salt_and_errors():
    first, second = F.password_hash("secret", "md5"), F.password_hash("secret", "md5")
    assert first.startswith("$1$") and first != second
    assert len(F.password_hash("secret", "md5", salt_size=4).split("$")[2]) == 4
    with pytest.raises(FilterError, match="unsupported algorithm"):
        F.password_hash("secret", "bcrypt")
    with pytest.raises(FilterError, match="salt must be"):
        F.password_hash("secret", "sha512", "bad salt!")
    with pytest.raises(FilterError, match="salt must be"):
        F.password_hash("secret", "md5", "waytoolongsalt")


# --- data structures -----------------------------------------------------------------

COMBINE_CASES = [
    (({"a": 1}, {"b": 2}), {}),
    (({"a": {"x": 1, "l": [1, 2]}}, {"a": {"y": 2, "l": [2, 3]}}), {}),
    (({"a": {"x": 1, "l": [1, 2]}}, {"a": {"y": 2, "l": [2, 3]}}), {"recursive": True}),
    (
        ({"a": {"l": [1, 2]}}, {"a": {"l": [2, 3]}}),
        {"recursive": True, "list_merge": "append"},
    ),
    (
        ({"a": {"l": [1, 2]}}, {"a": {"l": [2, 3]}}),
        {"recursive": True, "list_merge": "prepend"},
    ),
    (
        ({"a": {"l": [1, 2]}}, {"a": {"l": [2, 3]}}),
        {"recursive": True, "list_merge": "append_rp"},
    ),
    (
        ({"a": {"l": [1, 2]}}, {"a": {"l": [2, 3]}}),
        {"recursive": True, "list_merge": "prepend_rp"},
    ),
    (
        ({"a": {"l": [1, 2]}}, {"a": {"l": [2, 3]}}),
        {"recursive": True, "list_merge": "keep"},
    ),
    (({"l": [1]}, {"l": [2]}), {"list_merge": "append"}),
    (([{"a": 1}, {"a": 2, "b": 3}], {"c": 4}), {}),
    (({"a": 1},), {}),
    (({}, {"a": 1}), {}),
    (({"a": 1}, {}), {}),
    (({"a": 1}, {"a": "x"}, {"a": [1]}), {"recursive": True}),
]


@pytest.mark.parametrize(("terms", "kwargs"), COMBINE_CASES)
def test_combine_like_ansible(terms, kwargs):
    result = F.combine(*terms, **kwargs)
    if ansible_filters is not None:
        assert result == ansible_filters.combine(*terms, **kwargs)
    assert isinstance(result, dict)


def test_combine_results():
    assert F.combine({"a": {"x": 1}}, {"a": {"y": 2}}) == {"a": {"y": 2}}
    assert F.combine({"a": {"x": 1}}, {"a": {"y": 2}}, recursive=True) == {
        "a": {"x": 1, "y": 2}
    }
    assert F.combine({"l": [1, 2]}, {"l": [2, 3]}, list_merge="append_rp") == {
        "l": [1, 2, 3]
    }
    assert F.combine() == {}
    low = {"a": {"x": 1}}
    F.combine(low, {"a": {"y": 2}}, recursive=True)
    assert low == {"a": {"x": 1}}, "combine must not modify its input"


def test_combine_errors():
    with pytest.raises(FilterError, match="only valid keyword arguments"):
        F.combine({"a": 1}, {"b": 2}, deep=True)
    with pytest.raises(FilterError, match="list_merge"):
        F.combine({"a": 1}, {"b": 2}, list_merge="merge")
    with pytest.raises(FilterError, match="expected dicts"):
        F.combine({"a": 1}, "x")


def test_flatten():
    nested = [1, [2, [3, [4]]], None, "null", "None", [None]]
    assert F.flatten(nested) == [1, 2, 3, 4]
    assert F.flatten(nested, levels=1) == [1, 2, [3, [4]]]
    assert F.flatten([1, None], skip_nulls=False) == [1, None]
    if ansible_filters is not None:
        assert F.flatten(nested, levels=2) == ansible_filters.flatten(nested, levels=2)


def test_dict2items_and_items2dict():
    data = {"b": 1, "a": 2}
    items = F.dict2items(data)
    assert items == [{"key": "b", "value": 1}, {"key": "a", "value": 2}]
    assert F.items2dict(items) == data
    named = F.dict2items(data, key_name="name", value_name="val")
    assert named[0] == {"name": "b", "val": 1}
    assert F.items2dict(named, "name", "val") == data
    if ansible_filters is not None:
        assert items == ansible_filters.dict_to_list_of_dict_key_value_elements(data)
    with pytest.raises(FilterError, match="requires a dictionary"):
        F.dict2items([1])
    with pytest.raises(FilterError, match="requires a list"):
        F.items2dict({"a": 1})
    with pytest.raises(FilterError, match="keys 'key' and 'value'"):
        F.items2dict([{"k": 1}])
    with pytest.raises(FilterError, match="list of dictionaries"):
        F.items2dict([1])


def test_paths():
    path = "/etc/odoo/conf.d/odoo.conf"
    assert FILTERS["basename"](path) == "odoo.conf"
    assert FILTERS["dirname"](path) == "/etc/odoo/conf.d"
    assert FILTERS["splitext"](path) == ("/etc/odoo/conf.d/odoo", ".conf")
    assert FILTERS["normpath"]("/a/./b/../c") == "/a/c"
    assert FILTERS["win_basename"]("C:\\x\\y.txt") == "y.txt"
    assert F.path_join(["/a", "b", "c"]) == "/a/b/c"
    assert F.path_join("/a") == "/a"
    with pytest.raises(FilterError, match="path_join expects"):
        F.path_join(5)


# --- tests ----------------------------------------------------------------------------

TEST_CASES = [
    ("match", ("acme.mint-cloud.ch", "acme"), {}),
    ("match", ("acme.mint-cloud.ch", "mint"), {}),
    ("search", ("acme.mint-cloud.ch", "mint"), {}),
    ("regex", ("ACME", "^acme"), {"ignorecase": True}),
    ("regex", ("a\nb", "^b$"), {"multiline": True}),
    ("regex", ("abc", "abc"), {"match_type": "fullmatch"}),
    ("truthy", ("no",), {}),
    ("truthy", ("no",), {"convert_bool": True}),
    ("truthy", ("maybe",), {"convert_bool": True}),
    ("truthy", ([],), {"convert_bool": True}),
    ("falsy", ("off",), {"convert_bool": True}),
    ("falsy", ("",), {}),
    ("falsy", (True,), {"convert_bool": True}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), TEST_CASES)
def test_tests_like_ansible(name, args, kwargs):
    result = TESTS[name](*args, **kwargs)
    assert isinstance(result, bool)
    if ansible_tests is not None:
        assert result == ansible_tests.TestModule().tests()[name](*args, **kwargs)


def test_test_results():
    assert F.match("acme", "ac") and not F.match("acme", "me")
    assert F.search("acme", "me")
    assert F.truthy("no") and not F.truthy("no", convert_bool=True)
    assert F.falsy("off", convert_bool=True) and not F.falsy("off")
    assert TESTS["any"]([0, 1]) and not TESTS["all"]([0, 1])
    with pytest.raises(FilterError, match="invalid regular expression"):
        F.regex("x", "[")
    with pytest.raises(FilterError, match="match_type"):
        F.regex("abc", "b", match_type="bogus")
