"""Rendering: Ansible template-module semantics, errors, sandbox, demo manifests."""

import pathlib
import re

import jinja2
import jinja2.meta
import kubernetes_validate
import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from mintcloud.errors import PermanentError, RenderError
from mintcloud.render import (
    make_environment,
    parse_documents,
    render_documents,
    render_manifests,
    render_text,
)
from mintcloud.variables import Variables, load_vars_yml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "kubernetes_manifest" / "static" / "manifests"
DATA = ROOT / "tests" / "data"
DEMO = [
    "secret.yaml",
    "postgres.yaml",
    "filestore-pvc.yaml",
    "odoo.yaml",
    "ingress.yaml",
]
SECRETS = ("admin_password", "db_password")

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ app_name }}\n"


def demo_variables(name="demo_vars.yml"):
    return load_vars_yml((DATA / name).read_text(encoding="utf-8"), secrets=SECRETS)


def manifest(name):
    return name, (MANIFESTS / name).read_text(encoding="utf-8")


# --- environment ----------------------------------------------------------------


def test_environment_is_a_strict_sandbox_like_ansible_template():
    env = make_environment()
    assert isinstance(env, SandboxedEnvironment)
    assert env.undefined is jinja2.StrictUndefined
    assert env.trim_blocks is True and env.lstrip_blocks is False
    assert env.keep_trailing_newline is True
    assert {"to_nice_yaml", "combine", "mandatory", "b64encode"} <= set(env.filters)
    assert {"match", "truthy"} <= set(env.tests)
    assert make_environment() is not env


def test_trim_blocks_and_trailing_newline():
    template = (
        "a: 1\n{% if flag %}\nb: 2\n{% endif %}\n  {% if flag %}\nc: 3\n  {% endif %}\n"
    )
    assert render_text(template, {"flag": True}) == "a: 1\nb: 2\n  c: 3\n  "
    assert render_text("x\n\n", {}) == "x\n\n"


def test_none_renders_as_empty_string_like_ansible():
    assert (
        render_text("[{{ value }}] [{{ value | string }}]", {"value": None})
        == "[] [None]"
    )


def test_variables_or_dict():
    v = Variables({"app_name": "acme"})
    assert (
        render_text("{{ app_name }}", v)
        == render_text("{{ app_name }}", {"app_name": "acme"})
        == "acme"
    )
    assert render_text("static", None) == "static"


def test_rendering_does_not_modify_variables():
    v = Variables({"items": [1, 2]})
    render_text("{% set x = items %}{{ x | length }}", v)
    assert v["items"] == [1, 2]


def test_ansible_filters_work_in_templates():
    text = render_text(
        "{{ 'yes' | bool }} {{ pw | b64encode }} "
        "{{ {'a': 1} | combine({'b': 2}) | to_json }} "
        "{{ 'x' is match('x') }} {{ missing | default('d') }} "
        "{{ 'a-b' | regex_replace('-', '_') }}",
        {"pw": "pw"},
    )
    assert text == 'True cHc= {"a": 1, "b": 2} True d a_b'


def test_namespace_variable_and_namespace_function():
    assert render_text("{{ namespace }}", {"namespace": "acme"}) == "acme"
    loop = (
        "{% set ns = namespace(n=0) %}"
        "{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"
    )
    assert render_text(loop, {}) == "6"
    with pytest.raises(RenderError) as info:
        render_text("ns: {{ namespace }}", {}, "x.yaml")
    assert info.value.variable == "namespace"


# --- errors ----------------------------------------------------------------------


def test_undefined_variable_names_manifest_line_and_variable():
    template = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n"
        "stringData:\n  pw: {{ db_password }}\n"
    )
    with pytest.raises(RenderError) as info:
        render_text(template, {}, "secret.yaml")
    error = info.value
    assert isinstance(error, PermanentError)
    assert (error.manifest, error.line, error.variable) == (
        "secret.yaml",
        6,
        "db_password",
    )
    assert str(error) == "secret.yaml, line 6: undefined variable 'db_password'"


def test_undefined_inside_a_block_and_a_filter():
    template = (
        "a: 1\n{% for i in [1] %}\nb: {{ (missing_var | upper) }}\n{% endfor %}\n"
    )
    with pytest.raises(RenderError) as info:
        render_text(template, {}, "loop.yaml")
    assert (info.value.line, info.value.variable) == (3, "missing_var")
    with pytest.raises(RenderError) as info:
        render_text("a: 1\n{% if missing_flag %}x{% endif %}\n", {}, "if.yaml")
    assert (info.value.line, info.value.variable) == (2, "missing_flag")


def test_undefined_attribute_has_no_variable_name():
    with pytest.raises(
        RenderError, match="undefined value: 'dict object' has no attribute 'nope'"
    ) as info:
        render_text("a: 1\nb: {{ d.nope }}\n", {"d": {}}, "attr.yaml")
    assert info.value.line == 2 and info.value.variable is None


def test_mandatory_names_the_variable():
    with pytest.raises(RenderError) as info:
        render_text(
            "a: 1\nb: 2\nc: {{ prod_app_name | mandatory('needs prod_app_name') }}\n",
            {},
            "job.yaml",
        )
    assert str(info.value) == "job.yaml, line 3: needs prod_app_name"
    assert info.value.variable == "prod_app_name"


def test_syntax_error_has_its_line():
    with pytest.raises(RenderError, match="template syntax error") as info:
        render_text("a: 1\nb: 2\n{% if x %}\nc: 3\n", {}, "broken.yaml")
    assert info.value.manifest == "broken.yaml"
    assert info.value.line == 4
    with pytest.raises(RenderError) as info:
        render_text("a: {{ x | no_such_filter }}\n", {"x": 1}, "f.yaml")
    assert info.value.line == 1 and "no_such_filter" in str(info.value)


def test_filter_and_python_errors_become_render_errors():
    with pytest.raises(RenderError, match=r"x.yaml, line 2: from_json: invalid JSON"):
        render_text("a: 1\nb: {{ 'nope' | from_json }}\n", {}, "x.yaml")
    with pytest.raises(RenderError, match=r"line 3: ZeroDivisionError") as info:
        render_text("a\nb\n{{ 1 // zero }}\n", {"zero": 0}, "div.yaml")
    assert info.value.manifest == "div.yaml"


def test_error_messages_never_contain_secret_values():
    v = Variables({"db_password": "Sup3rS3cretPw", "n": "x"}, secrets=["db_password"])
    with pytest.raises(RenderError) as info:
        render_text("{{ db_password | int(base=2) / 0 }}", v)
    assert "Sup3rS3cretPw" not in str(info.value)
    with pytest.raises(RenderError) as info:
        render_text("{{ db_password | regex_replace('(', '') }}", v)
    assert "Sup3rS3cretPw" not in str(info.value)
    with pytest.raises(RenderError) as info:  # a message that would echo the value
        render_text(
            "{{ {}[db_password] }}",
            Variables({"db_password": "Sup3rS3cretPw"}, secrets=["db_password"]),
        )
    assert "Sup3rS3cretPw" not in str(info.value)


def test_invalid_yaml_after_rendering_names_the_rendered_line():
    template = CONFIGMAP.replace("{{ app_name }}", "x") + "data:\n  a: {{ value }}\n"
    with pytest.raises(RenderError, match="invalid YAML after rendering") as info:
        render_documents(template, {"value": "b: c"}, "cm.yaml")
    assert info.value.manifest == "cm.yaml" and info.value.line == 6


def test_yaml_error_does_not_leak_secret_values():
    # An unquoted password that starts with "!" reads as a YAML tag, and the
    # YAML error message quotes the tag.
    v = Variables({"pw": "!TagLookingPw"}, secrets=["pw"])
    with pytest.raises(RenderError) as info:
        render_documents(
            CONFIGMAP.replace("{{ app_name }}", "x") + "data:\n  a: {{ pw }} x\n",
            v,
            "cm.yaml",
        )
    assert "TagLookingPw" not in str(info.value)
    assert "********" in str(info.value)
    assert info.value.line == 6
    v = Variables({"pw": "AliasLookingPw"}, secrets=["pw"])
    with pytest.raises(RenderError) as info:
        render_documents(
            CONFIGMAP.replace("{{ app_name }}", "x") + "data:\n  a: *{{ pw }}\n",
            v,
            "cm.yaml",
        )
    assert "AliasLookingPw" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("- a\n- b\n", "document 1 is a list, not a mapping", 1),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: ok\n"
            "---\nkind: X\nmetadata: {name: a}\n",
            "document 2 has no apiVersion",
            6,
        ),
        ("apiVersion: v1\nmetadata:\n  name: a\n", "document 1 has no kind", 1),
        ("apiVersion: v1\nkind: X\n", "document 1 has no metadata.name", 1),
        (
            "apiVersion: v1\nkind: X\nmetadata: []\n",
            "document 1 has no metadata.name",
            1,
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: ''\n",
            "document 1 has no metadata.name",
            1,
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: 5\n",
            "document 1 has no metadata.name",
            1,
        ),
        ("---\n---\njust text\n", "document 2 is a str", 3),
    ],
)
def test_documents_must_be_kubernetes_objects(text, message, line):
    with pytest.raises(RenderError, match=re.escape(message)) as info:
        parse_documents(text, "objs.yaml")
    assert info.value.manifest == "objs.yaml"
    assert info.value.line == line


def test_multi_document_parsing_skips_empty_documents():
    text = (
        "# comment only\n---\n---\n"
        + CONFIGMAP.replace("{{ app_name }}", "a")
        + "---\n\n---\n"
        + CONFIGMAP.replace("{{ app_name }}", "b")
        + "...\n"
    )
    docs = parse_documents(text)
    assert [d["metadata"]["name"] for d in docs] == ["a", "b"]
    assert parse_documents("") == []


def test_render_manifests_keeps_manifest_order():
    manifests = [
        ("b.yaml", CONFIGMAP + "---\n" + CONFIGMAP.replace("}}\n", "}}-2\n")),
        ("a.yaml", CONFIGMAP.replace("}}\n", "}}-3\n")),
    ]
    docs = render_manifests(manifests, {"app_name": "acme"})
    assert [d["metadata"]["name"] for d in docs] == ["acme", "acme-2", "acme-3"]
    with pytest.raises(RenderError) as info:
        render_manifests(
            [("good.yaml", CONFIGMAP), ("bad.yaml", "x: {{ oops }}\n")],
            {"app_name": "a"},
        )
    assert info.value.manifest == "bad.yaml" and info.value.variable == "oops"
    assert render_manifests([], {}) == []


# --- sandbox -----------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__dict__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__code__ }}",
    "{{ lipsum.func_globals }}",
    "{{ range.__class__ }}",
    "{{ range.__self__ }}",
    "{{ dict.mro() }}",
    "{{ namespace.__call__.__globals__ }}",
    "{{ '{0.__class__}'.format(1) }}",
    "{{ '{0.__class__.__base__}'.format_map({'0': 1}) }}",
    "{{ ''|attr('__class__') }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
    "{{ [].append(1) }}",
    "{{ {}.update(a=1) }}",
    "{{ 'x' * 100000000 }}",
    "{{ 10 ** 10 ** 10 }}",
    "{{ range(10 ** 9) | list }}",
    "{{ config }}",
    "{{ request.application }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_escapes_are_refused(template):
    try:
        result = render_text(template, {"app_name": "acme"}, "evil.yaml")
    except RenderError as error:
        assert error.manifest == "evil.yaml"
        return
    # Rendered: nothing from Python's internals may show up.
    for leak in (
        "<class",
        "<built-in",
        "<function",
        "__",
        "module",
        "object at 0x",
        "os.",
    ):
        assert leak not in result, result


def test_sandbox_refusal_says_unsafe_template():
    with pytest.raises(RenderError, match="unsafe template") as info:
        render_text("ok\n{{ ''.__class__ }}\n", {}, "evil.yaml")
    assert info.value.line == 2
    with pytest.raises(RenderError, match="unsafe template"):
        render_text("{{ 'x' * 2000000 }}", {})
    with pytest.raises(
        RenderError, match="unsafe template: '\\*\\*' would build a number"
    ):
        render_text("{{ 10 ** 100000 }}", {})
    assert (
        render_text("{{ 'ab' * 3 }} {{ 3 * 4 }} {{ [0] * 2 }} {{ 2 ** 10 }}", {})
        == "ababab 12 [0, 0] 1024"
    )


def test_globals_and_filters_cannot_be_changed_by_templates():
    env = make_environment()
    with pytest.raises(RenderError):
        render_text("{{ filters.update({'x': 1}) }}", {})
    assert "x" not in env.filters


# --- demo manifests ----------------------------------------------------------------


def test_demo_manifests_render_to_valid_objects():
    prod = render_manifests([manifest(n) for n in DEMO], demo_variables())
    integration = render_manifests(
        [manifest(n) for n in DEMO + ["reset-job.yaml"]],
        demo_variables("demo_vars_int.yml"),
    )
    assert [d["kind"] for d in prod] == [
        "Secret",
        "Service",
        "StatefulSet",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
        "Service",
        "Ingress",
    ]
    assert integration[-1]["kind"] == "Job"
    keys = set()
    for doc in prod + integration:
        kubernetes_validate.validate(doc, "1.30", strict=True)
        assert doc["metadata"]["namespace"] == "acme"
        key = (doc["kind"], doc["metadata"]["name"])
        assert key not in keys, f"{key} rendered twice: prod and int apps would collide"
        keys.add(key)


def test_demo_objects_content():
    docs = {
        (d["kind"], d["metadata"]["name"]): d
        for d in render_manifests([manifest(n) for n in DEMO], demo_variables())
    }
    secret = docs[("Secret", "acme-secrets")]
    assert secret["stringData"]["db-password"] == "b7HcJ4dFs6GeUXk3pQ9vT2mLw8RzA5nY"
    assert "workers = 4" in secret["stringData"]["odoo.conf"]
    assert "smtp_server = smtp.eu.mailgun.org" in secret["stringData"]["odoo.conf"]
    deployment = docs[("Deployment", "acme-odoo")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "odoo:17.0"
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/web/health",
        "port": "http",
    }
    assert (
        deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"]
        == "acme"
    )
    ingress = docs[("Ingress", "acme")]
    assert (
        ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        == "letsencrypt-prod"
    )
    assert ingress["spec"]["tls"][0]["hosts"] == ["acme.mint-cloud.ch"]
    paths = {
        p["path"]: p["backend"]["service"]
        for p in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert paths == {
        "/websocket": {"name": "acme-websocket", "port": {"number": 8072}},
        "/": {"name": "acme-odoo", "port": {"number": 8069}},
    }
    statefulset = docs[("StatefulSet", "acme-db")]
    claim = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]
    assert (
        claim["resources"]["requests"]["storage"] == "20Gi"
        and claim["storageClassName"] == "longhorn"
    )


def test_demo_defaults_apply_with_minimal_variables():
    minimal = {
        "app_name": "shop",
        "namespace": "shop",
        "hostname": "shop.mint-cloud.ch",
        "partner_email": "a@b.ch",
        "admin_password": "a",
        "db_password": "b",
    }
    docs = {
        (d["kind"], d["metadata"]["name"]): d
        for d in render_manifests([manifest(n) for n in DEMO], minimal)
    }
    odoo = docs[("Deployment", "shop-odoo")]["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert odoo["image"] == "odoo:17.0"
    assert (
        docs[("PersistentVolumeClaim", "shop-filestore")]["spec"]["resources"][
            "requests"
        ]["storage"]
        == "20Gi"
    )
    assert (
        "storageClassName"
        not in docs[("PersistentVolumeClaim", "shop-filestore")]["spec"]
    )
    assert (
        docs[("Ingress", "shop")]["metadata"]["annotations"][
            "cert-manager.io/cluster-issuer"
        ]
        == "letsencrypt"
    )
    assert docs[("Ingress", "shop")]["spec"]["ingressClassName"] == "nginx"
    assert (
        "smtp_server" not in docs[("Secret", "shop-secrets")]["stringData"]["odoo.conf"]
    )


def test_demo_manifest_missing_variable_is_reported():
    minimal = {
        "app_name": "shop",
        "namespace": "shop",
        "partner_email": "a@b.ch",
        "admin_password": "a",
    }
    with pytest.raises(RenderError) as info:
        render_manifests([manifest(n) for n in DEMO], minimal)
    assert info.value.manifest == "secret.yaml" and info.value.variable == "db_password"
    assert info.value.line == 23


def test_reset_job_requires_an_integration_app():
    with pytest.raises(
        RenderError, match="only an integration app can be reset"
    ) as info:
        render_manifests([manifest("reset-job.yaml")], demo_variables())
    assert info.value.variable == "prod_app_name"


def test_reset_job_copies_neutralizes_and_verifies():
    (job,) = render_manifests(
        [manifest("reset-job.yaml")], demo_variables("demo_vars_int.yml")
    )
    assert job["metadata"]["name"] == "acme-int-reset-20240601-1200"
    assert (
        job["spec"]["backoffLimit"] == 0
        and job["spec"]["ttlSecondsAfterFinished"] == 3600
    )
    pod = job["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == [
        "copy-database",
        "copy-filestore",
        "neutralize",
    ]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "acme-filestore"
    assert pod["initContainers"][2]["command"][:2] == ["odoo", "neutralize"]
    script = pod["containers"][0]["args"][0]
    assert (
        "database.is_neutralized" in script
        and "ir_mail_server" in script
        and "exit 1" in script
    )
    assert "smtp_host IS DISTINCT FROM 'invalid'" in script
    copy_script = pod["initContainers"][0]["args"][0]
    assert "SOURCE_DB=acme\n" in copy_script and "TARGET_DB=acme-int\n" in copy_script


def test_readme_lists_every_template_variable():
    readme = (MANIFESTS / "README.md").read_text(encoding="utf-8")
    env = make_environment()
    templates = sorted(MANIFESTS.glob("*.yaml"))
    assert {t.name for t in templates} == set(DEMO) | {
        "reset-job.yaml",
        "mailgun-dns.yaml",
        "backup-job.yaml",
        "upgrade-job.yaml",
    }
    for template in templates:
        used = jinja2.meta.find_undeclared_variables(
            env.parse(template.read_text(encoding="utf-8"))
        )
        used |= {"namespace"}  # a Jinja global too, so meta does not report it
        for name in used:
            assert f"`{name}`" in readme, (
                f"{template.name}: variable {name} is not documented"
            )
        assert f"`{template.name}`" in readme


def test_demo_vars_files_are_realistic_and_loadable():
    for name in ("demo_vars.yml", "demo_vars_int.yml"):
        v = demo_variables(name)
        assert v.secret_values() and all(len(s) >= 32 for s in v.secret_values())
        assert v["namespace"] == "acme"
    assert (
        yaml.safe_load((DATA / "demo_vars_int.yml").read_text())["prod_app_name"]
        == "acme"
    )
