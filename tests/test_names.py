"""Tests of mintcloud.names: app-name rules and the hostile-name corpus."""

import codecs
import pathlib

import pytest
import yaml

from mintcloud import names
from mintcloud.appvars import builtin_variables
from mintcloud.errors import PermanentError
from mintcloud.nameproblems import app_name_problems
from mintcloud.names import (
    AppNameError,
    check_app_name,
    check_app_name_codes,
    hostnames,
    int_name,
    validate_app_name,
)
from mintcloud.render import render_manifests
from mintcloud.validate import validate_documents

CORPUS_FILE = pathlib.Path(__file__).parent / "data" / "hostile_names.txt"


def load_corpus():
    """``[(name, expected_code, line_number)]`` from the corpus file."""
    cases = []
    for number, line in enumerate(
        CORPUS_FILE.read_text(encoding="ascii").splitlines(), 1
    ):
        if not line or line.startswith("#"):
            continue
        raw, code = line.rsplit("\t", 1)
        cases.append((codecs.decode(raw, "unicode_escape"), code, number))
    return cases


CORPUS = load_corpus()


def codes(name, **kwargs):
    return [code for code, _message in check_app_name_codes(name, **kwargs)]


def test_corpus_is_large_and_uses_known_codes():
    print(f"hostile name corpus: {len(CORPUS)} names")
    assert len(CORPUS) >= 60
    assert {code for _n, code, _l in CORPUS} <= set(names.RULES)
    # every decoded name is distinct, so no case hides another
    assert len({name for name, _c, _l in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize(
    "name, expected",
    [(n, c) for n, c, _l in CORPUS],
    ids=[f"line{lineno}" for _n, _c, lineno in CORPUS],
)
def test_hostile_name_is_rejected_with_expected_code(name, expected):
    found = codes(name)
    assert expected in found, f"{name!r}: expected {expected}, got {found}"
    with pytest.raises(AppNameError) as info:
        validate_app_name(name)
    assert expected in info.value.codes


def test_corpus_covers_required_families():
    decoded = [name for name, _c, _l in CORPUS]
    for sample in [
        "\u0430cme",
        "\uff41cme",
        "\u0131nvoice",
        "stra\u00dfe",
        "my\u00a0shop",
        "my\u200dshop",
        "my\tshop",
        "my\nshop",
        "xn--abc",
        "{{7*7}}",
        "<script>",
        "$(id)",
        "`id`",
        "!!python/object",
        "..",
        "localhost",
        "acme\U0001f600",
        "",
    ]:
        assert sample in decoded


@pytest.mark.parametrize(
    "name", ["acme", "a1b", "my-shop-2", "abc", "a" * 59, "a" + "-b" * 29]
)
def test_valid_names_are_accepted(name):
    assert check_app_name(name) == []
    assert validate_app_name(name) == name


def test_boundary_lengths():
    assert codes("a" * 59) == []
    assert codes("a" * 60) == ["length"]
    assert codes("abc") == []
    assert codes("ab") == ["length"]
    assert len(int_name("a" * 59)) == 63


def test_uppercase_is_rejected_not_lowercased():
    messages = check_app_name("Acme")
    assert messages == ["use lowercase letters: 'A' at position 1 is upper case"]
    with pytest.raises(AppNameError) as info:
        validate_app_name("Acme")
    assert "use lowercase letters" in str(info.value)


def test_message_names_first_offending_character():
    (message,) = check_app_name("\u0430cme")
    assert "U+0430 CYRILLIC SMALL LETTER A at position 1" in message
    (message,) = check_app_name("my shop")
    assert "a space at position 3" in message
    assert (
        "U+0009 (control or unassigned character) at position 3"
        in check_app_name("my\tshop")[0]
    )
    assert "'.' at position 3" in check_app_name("my.shop")[0]


def test_all_violations_are_reported():
    found = codes("-My--Shop.-int-")
    assert found == ["charset", "start", "end", "double-hyphen"]
    found = codes("-a", taken={"-a"})
    assert found == ["start", "length", "taken"]
    assert codes("x-int", reserved=["x-int"]) == ["int-suffix", "reserved"]
    assert codes("2001-12-14") == ["start", "yaml"]
    assert codes("YES") == ["charset", "yaml"]


@pytest.mark.parametrize("value", [None, False, ""])
def test_required(value):
    assert codes(value) == ["required"]
    assert check_app_name(value) == ["an app name is required"]


def test_non_string_is_a_programming_error():
    with pytest.raises(TypeError):
        check_app_name(42)


def test_reserved_defaults_and_extra_names():
    assert codes("www") == ["reserved"]
    assert codes("mint-cloud") == ["reserved"]
    assert codes("acme") == []
    assert codes("acme", reserved=["ACME"]) == ["reserved"]
    # extra reserved names never remove the defaults
    assert codes("www", reserved={"other"}) == ["reserved"]
    assert names.DEFAULT_RESERVED == set(
        "www mail smtp imap pop pop3 admin api app apps int staging test dev demo status ftp "
        "ns1 ns2 mx webmail autoconfig autodiscover portal shop static cdn support help billing "
        "kubernetes k8s odoo mint mint-cloud root localhost".split()
    )


@pytest.mark.parametrize(
    "name, taken, expected",
    [
        ("acme", {"acme"}, True),
        ("acme", {"acme-int"}, True),
        ("acme", ["ACME"], True),  # other iterables are compared case-insensitively
        ("acme", ("acme-int",), True),
        ("acme", {"acme2", "acm"}, False),
        ("acme", (), False),
        ("acme", frozenset(), False),
        ("acme", {"acme": 1}, True),  # a mapping is used as a set of keys
    ],
)
def test_taken(name, taken, expected):
    assert ("taken" in codes(name, taken=taken)) is expected


def test_taken_x_is_y_int():
    # "shop-int" can never be chosen anyway, but the uniqueness rule also
    # catches it when Y exists
    assert "taken" in codes("acme-int", taken={"acme"})
    assert "taken" not in codes("acme-int", taken={"other"})


def test_taken_with_generator_and_callable():
    assert codes("acme", taken=(n for n in ["x", "acme"])) == ["taken"]
    asked = []

    def is_taken(candidate):
        asked.append(candidate)
        return candidate == "acme-int"

    assert codes("acme", taken=is_taken) == ["taken"]
    assert asked == ["acme", "acme-int"]
    assert codes("other", taken=lambda n: False) == []


def test_many_taken_names_as_set():
    taken = {f"app{i:05d}" for i in range(10_000)}
    assert codes("app09999", taken=taken) == ["taken"]
    assert codes("app10000", taken=taken) == []
    assert codes("app10000", taken=list(taken)) == []


def test_app_name_error_is_permanent_and_lists_messages():
    with pytest.raises(AppNameError) as info:
        validate_app_name("A", taken=())
    error = info.value
    assert isinstance(error, PermanentError) and not error.transient
    assert error.codes == ["charset", "length"]
    assert len(error.messages) == 2
    assert str(error).startswith("Invalid app name: use lowercase letters")


def test_hostnames_and_int_name():
    assert int_name("acme") == "acme-int"
    assert hostnames("acme") == ("acme.mint-cloud.ch", "acme-int.mint-cloud.ch")
    assert hostnames("acme", "example.org") == (
        "acme.example.org",
        "acme-int.example.org",
    )


def test_length_message_mentions_domain():
    (message,) = check_app_name("ab", domain="example.org")
    assert message.startswith("must be 3 to 59 characters long (is 2)")
    assert "NAME-int.example.org" in message


def test_resource_prefix_keeps_short_names_and_shortens_long_ones_uniquely():
    assert names.resource_prefix("acme") == "acme"
    long_prod = "a" * 59
    prod, int_ = (
        names.resource_prefix(long_prod),
        names.resource_prefix(long_prod + "-int"),
    )
    assert (
        len(prod) <= names.RESOURCE_PREFIX_MAX
        and len(int_) <= names.RESOURCE_PREFIX_MAX
    )
    assert prod != int_
    assert prod.startswith("a" * 31 + "-")


def test_demo_manifests_fit_kubernetes_name_limits_for_the_longest_names():
    """59 characters (and its -int app) render to valid object names."""
    folder = (
        pathlib.Path(__file__).parent.parent / "kubernetes_manifest/static/manifests"
    )
    prod = "a" * 59
    for app, env, files in [
        (prod, "prod", ["secret", "filestore-pvc", "postgres", "odoo", "ingress"]),
        (prod + "-int", "int", ["secret", "postgres", "odoo", "ingress", "reset-job"]),
    ]:
        variables = builtin_variables(
            app,
            f"{app}.mint-cloud.ch",
            env,
            prod,
            "x@example.com",
            prod_app_name=prod if env == "int" else None,
        )
        variables.update(
            admin_password="p" * 32, db_password="q" * 32, reset_id="k3x9a2b1"
        )
        docs = render_manifests(
            [(f, (folder / f"{f}.yaml").read_text()) for f in files], variables
        )
        assert validate_documents(docs) == []


# --- rule yaml: words YAML reads as something other than text ---------------

YAML11_BOOLEANS = (
    "y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF"
).split()


def test_yaml_rule_comes_before_the_lookup():
    assert names.RULES.index("reserved") < names.RULES.index("yaml")
    assert names.RULES[-1] == "taken"


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "null",
            "YAML reads 'null' as null (no value), not as text; pick another name",
        ),
        ("true", "YAML reads 'true' as a boolean, not as text; pick another name"),
        ("off", "YAML reads 'off' as a boolean, not as text; pick another name"),
        ("1e5", "YAML reads '1e5' as a number, not as text; pick another name"),
        (
            "2001-12-14",
            "YAML reads '2001-12-14' as a date, not as text; pick another name",
        ),
        ("<<", "YAML reads '<<' as YAML syntax, not as text; pick another name"),
    ],
)
def test_yaml_message_says_what_yaml_reads(name, message):
    assert dict(check_app_name_codes(name))["yaml"] == message
    with pytest.raises(AppNameError) as info:
        validate_app_name(name)
    assert "yaml" in info.value.codes and message in info.value.messages


@pytest.mark.parametrize("name", ["null", "true", "false", "yes", "off"])
def test_yaml_words_that_pass_every_other_rule_are_refused(name):
    assert codes(name) == ["yaml"]


@pytest.mark.parametrize("word", YAML11_BOOLEANS)
def test_every_yaml11_boolean_spelling(word):
    assert names.yaml_kind(word) == "boolean"
    assert "yaml" in codes(word)


@pytest.mark.parametrize(
    "word", ["nan", "inf", "nul", "nulls", "yess", "ok", "none", "nil", "acme", "x1e5"]
)
def test_near_misses_are_text(word):
    assert names.yaml_kind(word) is None
    assert yaml.safe_load(word) == word


def test_pyyaml_resolver_agrees_with_safe_load():
    """The YAML 1.1 resolver is PyYAML's: its verdict is what safe_load builds."""
    for word in [
        *YAML11_BOOLEANS,
        "null",
        "~",
        "",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "0x1f",
        "0b101",
        "012",
        "1_000",
        "190:20:30",
        "1.5",
        ".inf",
        ".nan",
        "1e5",
        "0o17",
        "acme",
        "my-shop",
    ]:
        is_text = names.yaml_types(word)["yaml1.1"] == "str"
        assert isinstance(yaml.safe_load(word), str) is is_text, repr(word)


@pytest.mark.parametrize(
    "word, expected",
    # YAML 1.2.2, example 10.9 "Core Tag Resolution", and the table of 10.3.2
    [
        ("null", "null"),
        ("Null", "null"),
        ("NULL", "null"),
        ("~", "null"),
        ("", "null"),
        ("true", "bool"),
        ("True", "bool"),
        ("false", "bool"),
        ("FALSE", "bool"),
        ("0", "int"),
        ("0o7", "int"),
        ("0x3A", "int"),
        ("-19", "int"),
        ("0.", "float"),
        ("-0.0", "float"),
        (".5", "float"),
        ("+12e03", "float"),
        ("-2E+05", "float"),
        ("1e5", "float"),
        (".inf", "float"),
        ("-.Inf", "float"),
        ("+.INF", "float"),
        (".NAN", "float"),
        ("yes", "str"),
        ("off", "str"),
        ("2001-12-14", "str"),
        ("0b101", "str"),
        ("1_000", "str"),
        ("+.nan", "str"),
        ("nan", "str"),
    ],
)
def test_yaml12_core_schema(word, expected):
    assert names.yaml_types(word)["yaml1.2-core"] == expected


@pytest.mark.parametrize(
    "word, kind",
    [
        ("y", "boolean"),  # YAML 1.1 type repository only (not PyYAML)
        ("yes", "boolean"),  # YAML 1.1 only
        ("1e5", "number"),  # YAML 1.2 core only
        ("0o17", "number"),  # YAML 1.2 core only
        ("0b101", "number"),  # YAML 1.1 only
        ("2001-12-14", "date"),  # YAML 1.1 only
        ("~", "null"),
        ("=", "syntax"),
    ],
)
def test_any_resolver_that_reads_a_non_string_rejects(word, kind):
    assert names.yaml_kind(word) == kind
    assert "yaml" in codes(word)


def test_yaml_rule_checks_the_int_form_too(monkeypatch):
    asked = []
    real = names.yaml_kind

    def spy(word):
        asked.append(word)
        return real(word)

    monkeypatch.setattr(names, "yaml_kind", spy)
    assert codes("acme") == []
    assert asked == ["acme", "acme-int"]

    # No real word is text while its -int form is not (a non-string never ends
    # in "-int"); a resolver that reads "acme-int" as a boolean shows the path.
    monkeypatch.setattr(
        names, "yaml_kind", lambda word: "boolean" if word == "acme-int" else None
    )
    assert check_app_name_codes("acme") == [
        (
            "yaml",
            "YAML reads 'acme-int' (the name of the integration app) as a boolean, "
            "not as text; pick another name",
        )
    ]
    assert names.yaml_problem("acme") == ("acme-int", "boolean")


def test_yaml_problem_names_the_word_and_the_kind():
    assert names.yaml_problem("null") == ("null", "null")
    assert names.yaml_problem("acme") is None


def test_yaml_params_for_a_translated_message():
    [problem] = app_name_problems("off")
    assert problem["code"] == "yaml"
    assert problem["params"] == {"name": "off", "kind": "boolean", "integration": False}
