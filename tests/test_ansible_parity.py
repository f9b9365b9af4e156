"""The core renders manifests exactly as ``ansible.builtin.template`` does.

One ``ansible-playbook`` run per test session renders every template of the
demo set and the filter showcase with real ansible-core, reading the
``vars.yml`` written by :func:`dump_vars_yml`; each test compares the parsed
YAML documents with what the core renders from the same file.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from mintcloud.errors import RenderError
from mintcloud.render import render_documents
from mintcloud.variables import dump_vars_yml, load_vars_yml, merge_variables
from tests.tools import console_script

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
SHOWCASE = "filters_showcase.yaml"
PASSWORDS = "password_showcase.yaml"
FAILING = {
    # template name -> (text, undefined variable the core must name)
    "undefined.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ app_name }}\n"
        "data:\n  x: {{ no_such_variable }}\n",
        "no_such_variable",
    ),
    "mandatory.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ app_name }}\n"
        "data:\n  x: {{ no_such_variable | mandatory }}\n",
        "no_such_variable",
    ),
}
SECRETS = ("admin_password", "db_password", "backup_s3_secret_key")
HAS_PASSLIB = importlib.util.find_spec("passlib") is not None

# case -> (vars files merged in order, templates)
CASES = {
    "prod": (
        ["demo_vars.yml", "showcase_vars.yml"],
        DEMO + ["mailgun-dns.yaml", SHOWCASE],
    ),
    "int": (
        ["demo_vars_int.yml", "showcase_vars.yml"],
        DEMO + ["reset-job.yaml", SHOWCASE],
    ),
    # suspended, taking the final backup before termination
    "suspended": (["demo_vars.yml", "suspended_vars.yml"], DEMO + ["backup-job.yaml"]),
}

# One host per (case, template) so that ansible-playbook renders them all in
# parallel (each template costs two module runs); each host reads the
# vars.yml of its case.
PLAYBOOK = """
- name: render with ansible.builtin.template
  hosts: all
  gather_facts: false
  vars_files:
    - "{{ parity_vars_file }}"
  tasks:
    - name: render one template
      ansible.builtin.template:
        src: "{{ parity_src }}"
        dest: "{{ parity_dest }}"
        mode: "0600"
      ignore_errors: true
"""


def _template_path(name):
    if (MANIFESTS / name).exists():
        return MANIFESTS / name
    return DATA / name


def _template_text(name):
    if name in FAILING:
        return FAILING[name][0]
    return _template_path(name).read_text(encoding="utf-8")


def _variables(case):
    files, _names = CASES[case]
    layers = [
        load_vars_yml((DATA / name).read_text(encoding="utf-8")) for name in files
    ]
    merged = merge_variables(layers[0], layers[1], None)
    for name in SECRETS:
        if name in merged:
            merged.set(name, merged[name], secret=True)
    return merged


def _names(case):
    names = list(CASES[case][1]) + list(FAILING)
    if HAS_PASSLIB:
        names.append(PASSWORDS)
    return names


@pytest.fixture(scope="module")
def ansible_run(tmp_path_factory):
    """Run ansible-playbook once; return {case: (variables read back, output dir)}."""
    playbook_bin = console_script("ansible-playbook")
    if playbook_bin is None:
        pytest.skip(
            "ansible-playbook is neither next to this Python nor on PATH "
            "(install ansible-core to run the parity tests)"
        )
    tmp = tmp_path_factory.mktemp("ansible")
    templates = tmp / "templates"
    templates.mkdir()
    hosts, result = [], {}
    for case in CASES:
        vars_text = dump_vars_yml(_variables(case), header=f"parity test: {case}")
        vars_file = tmp / f"{case}-vars.yml"
        vars_file.write_text(vars_text, encoding="utf-8")
        out = tmp / f"{case}-out"
        out.mkdir()
        result[case] = (load_vars_yml(vars_text, secrets=SECRETS), out)
        for name in _names(case):
            (templates / name).write_text(_template_text(name), encoding="utf-8")
            hosts.append(
                f"{case}-{len(hosts)} parity_vars_file={vars_file} "
                f"parity_src={templates / name} parity_dest={out / name}"
            )
    (tmp / "playbook.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp / "inventory").write_text(
        "[all:vars]\n"
        f"ansible_connection=local\nansible_python_interpreter={sys.executable}\n"
        "[all]\n" + "\n".join(hosts) + "\n"
    )
    (tmp / "ansible.cfg").write_text(
        "[defaults]\n"
        f"forks = {len(hosts)}\n"
        f"remote_tmp = {tmp / 'remote'}\n"
        "retry_files_enabled = False\n"
        "deprecation_warnings = False\n"
        "[connection]\n"
        "pipelining = True\n"
    )
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(tmp / "ansible.cfg"),
        ANSIBLE_HOME=str(tmp / "home"),
        ANSIBLE_LOCAL_TEMP=str(tmp / "local"),
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [playbook_bin, "-i", str(tmp / "inventory"), str(tmp / "playbook.yml")],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"ansible-playbook failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return result


def _ansible_documents(out, name):
    path = out / name
    assert path.exists(), f"Ansible did not render {name}"
    return [
        doc
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc is not None
    ]


PARAMS = [(case, name) for case in CASES for name in CASES[case][1]]


@pytest.mark.parametrize(("case", "name"), PARAMS, ids=[f"{c}-{n}" for c, n in PARAMS])
def test_core_renders_like_ansible(ansible_run, case, name):
    variables, out = ansible_run[case]
    ours = render_documents(_template_text(name), variables, name)
    theirs = _ansible_documents(out, name)
    assert theirs, f"{name}: no documents"
    assert ours == theirs


def test_demo_set_is_namespaced_and_named_per_app(ansible_run):
    """prod and int share the namespace; no (kind, name) is rendered twice."""
    seen = {}
    for case in ("prod", "int"):
        variables, out = ansible_run[case]
        for name in CASES[case][1]:
            if name == SHOWCASE:
                continue
            for doc in _ansible_documents(out, name):
                meta = doc["metadata"]
                assert meta["namespace"] == "acme"
                assert meta["name"].startswith(variables["app_name"])
                key = (doc["kind"], meta["name"])
                assert key not in seen, (
                    f"{key} rendered by {seen.get(key)} and {case}/{name}"
                )
                seen[key] = f"{case}/{name}"
    assert len(seen) >= 17


def test_a_suspended_app_runs_no_odoo_and_serves_the_suspended_page(ansible_run):
    variables, out = ansible_run["suspended"]
    odoo = {
        (d["kind"], d["metadata"]["name"]): d
        for d in _ansible_documents(out, "odoo.yaml")
    }
    assert odoo[("Deployment", "acme-odoo")]["spec"]["replicas"] == 0
    page = odoo[("Deployment", "acme-suspended")]["spec"]["template"]["spec"]
    env = {e["name"]: e["value"] for e in page["containers"][0]["env"]}
    assert (
        "This app is suspended" in env["PAGE"] and "acme.mint-cloud.ch" in env["PAGE"]
    )
    assert "return 503" in env["CONF"]
    assert ("Service", "acme-suspended") in odoo
    (ingress,) = _ansible_documents(out, "ingress.yaml")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [p["backend"]["service"]["name"] for p in paths] == ["acme-suspended"]
    backup = {d["kind"]: d for d in _ansible_documents(out, "backup-job.yaml")}
    claim = backup["PersistentVolumeClaim"]
    assert claim["metadata"]["labels"]["mint-cloud.ch/retain"] == "true"
    assert claim["spec"]["storageClassName"] == "retain-ssd"
    upload = backup["Job"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert upload[-1] == "s3://mint-backups/customers/acme/k3x9a2b1/"


@pytest.mark.parametrize("name", sorted(FAILING))
def test_undefined_fails_in_both(ansible_run, name):
    variables, out = ansible_run["prod"]
    assert not (out / name).exists(), (
        "Ansible rendered a template with an undefined variable"
    )
    with pytest.raises(RenderError) as info:
        render_documents(_template_text(name), variables, name)
    assert info.value.variable == FAILING[name][1]
    assert info.value.line == 6


@pytest.mark.skipif(
    not HAS_PASSLIB,
    reason="Ansible's password_hash needs passlib, which is not installed",
)
def test_password_hash_like_ansible(ansible_run):
    variables, out = ansible_run["prod"]
    ours = render_documents(_template_text(PASSWORDS), variables, PASSWORDS)
    assert ours == _ansible_documents(out, PASSWORDS)
