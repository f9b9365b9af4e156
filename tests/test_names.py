"""Tests of mintcloud.names: app-name rules and the hostile-name corpus."""

import codecs
import pathlib

import pytest

from mintcloud import names
from mintcloud.appvars import builtin_variables
from mintcloud.errors import PermanentError
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
