"""Property test of the app-name rules against the demo manifests.

Over generated names (random DNS-label-like strings mixed with the words YAML
reads as null, booleans, numbers or dates, in several cases, with and without
``-int``):

* every name the rules accept renders, for the production app and its
  ``-int`` app, to documents that pass :func:`mintcloud.validate` and whose
  names, namespaces and ``app.kubernetes.io/instance`` labels are exactly the
  expected strings;
* every name the rules reject gets at least one message.

The examples are derandomized (no example database), so every run checks the
same names.
"""

import pathlib

import pytest
import yaml
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from mintcloud.appvars import app_variables, builtin_variables
from mintcloud.names import (
    RULES,
    check_app_name_codes,
    hostnames,
    int_name,
    resource_prefix,
)
from mintcloud.render import render_manifests
from mintcloud.validate import validate_documents
from mintcloud.variables import load_vars_yml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "kubernetes_manifest" / "static" / "manifests"
DATA = ROOT / "tests" / "data"

FILES = {
    "prod": ["secret", "filestore-pvc", "postgres", "odoo", "ingress"],
    "int": ["secret", "filestore-pvc", "postgres", "odoo", "ingress", "reset-job"],
}
TEMPLATES = {
    name: (MANIFESTS / f"{name}.yaml").read_text(encoding="utf-8")
    for name in FILES["int"]
}
#: Product-level values of the demo (storage class, SMTP...): the built-ins
#: of the generated app win over the app name, namespace and host in it.
DEFAULTS = load_vars_yml((DATA / "demo_vars.yml").read_text(encoding="utf-8"))
RESET_ID = "k3x9a2b1"

#: Words YAML 1.1 or the YAML 1.2 core schema read as something other than
#: text (and a few near misses that are text).
YAML_WORDS = (
    "null ~ true false yes no on off y n "
    "nan inf .inf .nan 1e5 1e+5 1.5 0 012 0x1f 0o17 0b101 1_000 "
    "2001-12-14 190:20:30 nul nulls yess none"
).split()
LABEL_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"

dns_like = st.text(alphabet=LABEL_ALPHABET, min_size=0, max_size=70)
#: Names that look acceptable (so that many examples get rendered).
plausible = st.from_regex(r"[a-z][a-z0-9-]{0,60}[a-z0-9]", fullmatch=True)
yaml_word = st.sampled_from(YAML_WORDS).flatmap(
    lambda word: st.sampled_from(
        sorted({word, word.lower(), word.upper(), word.title()})
    )
)
app_names = st.one_of(
    dns_like,
    plausible,
    yaml_word,
    yaml_word.map(int_name),
    dns_like.map(int_name),
    st.tuples(yaml_word, dns_like).map("".join),
    st.tuples(dns_like, yaml_word).map("-".join),
)


def render_app(app, environment, prod):
    """The demo documents of app ``app`` (``prod``'s own or its -int app)."""
    builtins = builtin_variables(
        app,
        hostnames(prod)[0 if environment == "prod" else 1],
        environment,
        prod,
        "marie@example.com",
        prod_app_name=prod if environment == "int" else None,
    )
    variables = app_variables(builtins, DEFAULTS)
    variables.update(admin_password="p" * 32, db_password="q" * 32)
    if environment == "int":
        variables["reset_id"] = RESET_ID
    return render_manifests(
        [(file, TEMPLATES[file]) for file in FILES[environment]], variables
    )


def expected_objects(app, environment):
    """``[(kind, metadata.name)]`` the demo set makes for ``app``, sorted."""
    prefix = resource_prefix(app)
    objects = [
        ("Secret", f"{prefix}-secrets"),
        ("PersistentVolumeClaim", f"{prefix}-filestore"),
        ("Service", f"{prefix}-db"),
        ("StatefulSet", f"{prefix}-db"),
        ("Deployment", f"{prefix}-odoo"),
        ("Service", f"{prefix}-odoo"),
        ("Service", f"{prefix}-websocket"),
        ("Ingress", prefix),
    ]
    if environment == "int":
        objects.append(("Job", f"{prefix}-reset-{RESET_ID}"))
    return sorted(objects)


def instance_labels(node):
    """Every ``app.kubernetes.io/instance`` value anywhere in ``node``."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "app.kubernetes.io/instance"]
        for value in node.values():
            found.extend(instance_labels(value))
        return found
    if isinstance(node, list):
        return [label for item in node for label in instance_labels(item)]
    return []


def assert_renders_exactly(app, environment, prod):
    docs = render_app(app, environment, prod)
    assert validate_documents(docs) == [], app
    names = []
    for doc in docs:
        metadata = doc["metadata"]
        assert type(metadata["name"]) is str, (app, metadata["name"])
        assert type(metadata["namespace"]) is str and metadata["namespace"] == prod
        labels = instance_labels(doc)
        # object labels, selectors, pod templates, volume claim templates
        assert labels and all(type(v) is str and v == app for v in labels), labels
        names.append((doc["kind"], metadata["name"]))
        if doc["kind"] == "Ingress":
            host = hostnames(prod)[0 if environment == "prod" else 1]
            assert [rule["host"] for rule in doc["spec"]["rules"]] == [host]
            assert doc["spec"]["tls"][0]["hosts"] == [host]
        if doc["kind"] == "Job":
            source = doc["metadata"]["labels"]["mintcloud.io/source-instance"]
            assert type(source) is str and source == prod
    assert sorted(names) == expected_objects(app, environment)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(app_names)
@example("null")
@example("true")
@example("false")
@example("yes")
@example("off")
@example("on")
@example("no")
@example("y")
@example("n")
@example("nan")
@example("inf")
@example("1e5")
@example("2001-12-14")
@example("0x1f")
@example("0o17")
@example("0b101")
@example("190:20:30")  # not a DNS label: refused by the charset rule anyway
@example("Null")
@example("OFF")
@example("null-int")
@example("acme")
@example("nulls")
@example("a" * 59)
def test_accepted_names_render_exactly_and_rejected_names_are_told_why(name):
    problems = check_app_name_codes(name)
    event("rejected" if problems else "accepted")
    if problems:
        assert all(code in RULES for code, _message in problems)
        assert all(isinstance(m, str) and m.strip() for _code, m in problems)
        return
    # Accepted: the name, its -int form and the names derived from them are
    # text for YAML even unquoted...
    for app in (name, int_name(name)):
        for word in (app, resource_prefix(app), *hostnames(app)):
            assert yaml.safe_load(word) == word
    # ...and the demo set renders them (and the -int app) to exactly that.
    assert_renders_exactly(name, "prod", name)
    assert_renders_exactly(int_name(name), "int", name)


def test_yaml_words_in_every_case_are_refused():
    for word in ("null", "true", "false", "yes", "no", "on", "off", "y", "n"):
        for form in {word, word.upper(), word.title()}:
            codes = [code for code, _message in check_app_name_codes(form)]
            assert "yaml" in codes, form


@pytest.mark.parametrize("word", ["null", "true", "yes", "off", "on", "no", "y", "n"])
def test_the_quoted_demo_set_keeps_even_a_name_the_rules_would_miss(word):
    """The demo manifests quote what they interpolate: a YAML word that got
    past the name rules still renders as that exact text everywhere."""
    assert "yaml" in [code for code, _message in check_app_name_codes(word)]
    assert_renders_exactly(word, "prod", word)
    assert_renders_exactly(int_name(word), "int", word)
