"""Benchmark 2: the same deploy through ``ansible-playbook`` and ``kubernetes.core.k8s``.

One ``ansible-playbook`` run deploys N apps (one inventory host per app,
``connection: local``).  Each host reads its own ``vars.yml`` (written by
:func:`mintcloud.variables.dump_vars_yml` from the same per-app variables as
the core benchmark), makes sure its namespace exists and then applies each
demo template, rendered by a ``template`` lookup, with server-side apply
under the field manager ``mint-cloud``.  The objects get the same app labels
as :func:`mintcloud.apply.apply_app` gives them (``metadata.labels`` only;
Ansible does not prune, so it sends fewer requests than the core).

One playbook run for all apps amortises Ansible's start-up over N apps; a
per-deployment ``ansible-playbook`` call (as a job queue would make) costs
more per app.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from bench.common import (
    DEPLOY_ORDER,
    MANIFEST_DIR,
    app_names,
    app_variables,
    base_variables,
    demo_manifests,
    fake_kube,
    rate,
    request_counts,
)
from mintcloud.apply import APP_LABEL, FIELD_MANAGER, MANAGED_BY, MANAGED_BY_LABEL
from mintcloud.render import render_manifests
from mintcloud.variables import dump_vars_yml
from tests.tools import console_script

DEFAULT_APPS = 20
DEFAULT_FORKS = 1
TIMEOUT = 900  # seconds for the whole playbook run

PLAYBOOK = """\
- name: deploy the demo manifest set, one host per app
  hosts: apps
  gather_facts: false
  vars_files:
    - "{{{{ bench_vars_file }}}}"
  vars:
    bench_labels:
      {app_label}: "{{{{ app_name }}}}"
      {managed_by_label}: {managed_by}
    bench_namespace:
      apiVersion: v1
      kind: Namespace
      metadata:
        name: "{{{{ namespace }}}}"
        labels:
          {managed_by_label}: {managed_by}
  module_defaults:
    kubernetes.core.k8s:
      kubeconfig: "{{{{ bench_kubeconfig }}}}"
      apply: true
      server_side_apply:
        field_manager: {field_manager}
  tasks:
    # One module run per app: the namespace first, then every document of the
    # templates in deploy order (a k8s task per template would cost a module
    # start-up each).
    - name: namespace and manifests, in deploy order
      kubernetes.core.k8s:
        definition: >-
          {{{{ [bench_namespace]
             + (query('template', *bench_templates)
                | map('from_yaml_all') | map('list') | flatten(levels=1)
                | map('combine', {{'metadata': {{'labels': bench_labels}}}},
                      recursive=True)
                | list) }}}}
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster:
      server: {url}
users:
  - name: anonymous
    user: {{}}
contexts:
  - name: fake
    context:
      cluster: fake
      user: anonymous
current-context: fake
"""


def missing():
    """Why the benchmark cannot run here (a sentence), or None."""
    if console_script("ansible-playbook") is None:
        return "ansible-playbook is not on PATH (pip install -r bench/requirements.txt)"
    if importlib.util.find_spec("ansible_collections.kubernetes.core") is None:
        return (
            "the kubernetes.core collection is not installed "
            "(pip install -r bench/requirements.txt)"
        )
    return None


def default_forks():
    """Forks of the playbook run: BENCH_ANSIBLE_FORKS or 1 (apps one after another)."""
    return int(os.environ.get("BENCH_ANSIBLE_FORKS") or DEFAULT_FORKS)


def _write_project(work, url, names, variables, forks):
    """Playbook, inventory, ansible.cfg, kubeconfig and one vars.yml per app."""
    (work / "vars").mkdir()
    (work / "kubeconfig").write_text(KUBECONFIG.format(url=url), encoding="utf-8")
    (work / "playbook.yml").write_text(
        PLAYBOOK.format(
            app_label=APP_LABEL,
            managed_by_label=MANAGED_BY_LABEL,
            managed_by=MANAGED_BY,
            field_manager=FIELD_MANAGER,
        ),
        encoding="utf-8",
    )
    hosts = []
    for name in names:
        vars_file = work / "vars" / f"{name}.yml"
        vars_file.write_text(
            dump_vars_yml(variables[name], header=f"benchmark app {name}"),
            encoding="utf-8",
        )
        hosts.append(f"{name} bench_vars_file={vars_file}")
    templates = ",".join(f'"{MANIFEST_DIR / n}"' for n in DEPLOY_ORDER)
    (work / "inventory").write_text(
        "[apps:vars]\n"
        "ansible_connection=local\n"
        f"ansible_python_interpreter={sys.executable}\n"
        f"bench_kubeconfig={work / 'kubeconfig'}\n"
        f"bench_templates=[{templates}]\n"
        "[apps]\n" + "\n".join(hosts) + "\n",
        encoding="utf-8",
    )
    (work / "ansible.cfg").write_text(
        "[defaults]\n"
        f"forks = {forks}\n"
        f"remote_tmp = {work / 'remote'}\n"
        "retry_files_enabled = False\n"
        "deprecation_warnings = False\n"
        "interpreter_python_fallback = []\n"
        "[connection]\n"
        "pipelining = True\n",
        encoding="utf-8",
    )


def _environment(work):
    """The environment of ansible-playbook: everything it writes stays in ``work``."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(work / "ansible.cfg"),
        ANSIBLE_HOME=str(work / "home"),
        ANSIBLE_LOCAL_TEMP=str(work / "local"),
        ANSIBLE_NOCOLOR="1",
        # kubernetes.core keeps its discovery cache in the temp dir.
        TMPDIR=str(work / "tmp"),
    )
    env.pop("K8S_AUTH_KUBECONFIG", None)
    env.pop("KUBECONFIG", None)
    (work / "tmp").mkdir()
    return env


def run(apps=DEFAULT_APPS, forks=None):
    """Deploy ``apps`` apps with ansible-playbook; the result dict (or a skip)."""
    reason = missing()
    if reason:
        return {"skipped": reason}
    forks = forks or default_forks()
    base = base_variables()
    names = app_names(apps)
    variables = {name: app_variables(base, name) for name in names}
    manifests = demo_manifests()
    expected = sum(len(render_manifests(manifests, variables[n])) for n in names)
    with tempfile.TemporaryDirectory(prefix="mintcloud-bench-ansible-") as tmp:
        work = pathlib.Path(tmp)
        with fake_kube() as fake:
            _write_project(work, fake.url, names, variables, forks)
            fake.bench_clock.reset()
            started = time.perf_counter()
            proc = subprocess.run(
                [
                    console_script("ansible-playbook"),
                    "-i",
                    str(work / "inventory"),
                    str(work / "playbook.yml"),
                ],
                cwd=work,
                env=_environment(work),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            total = time.perf_counter() - started
            server_s = fake.bench_clock.seconds
            requests = request_counts(fake.requests)
            deployed = len(fake.list_objects(label_selector=APP_LABEL))
    if proc.returncode != 0:
        tail = (proc.stdout[-3000:] + proc.stderr[-2000:]).strip()
        raise RuntimeError(f"ansible-playbook failed ({proc.returncode}):\n{tail}")
    if deployed != expected:
        raise RuntimeError(
            f"ansible-playbook left {deployed} labelled objects, expected {expected}"
        )
    return {
        "apps": apps,
        "forks": forks,
        "objects": deployed,
        "total_s": total,
        "fake_server_s": server_s,
        "apps_per_s": rate(apps, total),
        "objects_per_s": rate(deployed, total),
        "requests": requests,
        "requests_per_app": requests["total"] / apps if apps else 0,
    }


def report(result, core=None):
    """The printed lines of benchmark 2; ``core`` is benchmark 1's result or None."""
    if "skipped" in result:
        return [f"render+apply, Ansible: skipped: {result['skipped']}"]
    r = result
    lines = [
        f"render+apply, Ansible: {r['apps']} apps, {r['objects']} objects "
        f"in {r['total_s']:.2f} s (forks={r['forks']}, one ansible-playbook run) -> "
        f"{r['apps_per_s']:.2f} apps/s, {r['objects_per_s']:.1f} objects/s",
        f"  fake server {r['fake_server_s']:.2f} s   "
        f"requests: {r['requests']['total']} ({r['requests_per_app']:.1f}/app, "
        f"{r['requests']['server_side_apply']} server-side apply)",
    ]
    if core and core.get("apps_per_s"):
        concurrency = core.get("concurrency", 1)
        lines.append(
            f"core: {core['apps_per_s']:.1f} apps/s (concurrency {concurrency})   "
            f"ansible: {r['apps_per_s']:.2f} apps/s (forks={r['forks']})   "
            f"ratio: {_ratio(core['apps_per_s'], r['apps_per_s']):.0f}×"
        )
        if concurrency == 1 and r["forks"] == 1:
            # Sequential runs only: with threads the server's time overlaps.
            core_client = rate(core["apps"], core["total_s"] - core["fake_server_s"])
            ansible_client = rate(r["apps"], r["total_s"] - r["fake_server_s"])
            lines.append(
                f"  without the fake server's time: core {core_client:.1f} apps/s   "
                f"ansible {ansible_client:.2f} apps/s   "
                f"ratio {_ratio(core_client, ansible_client):.0f}×"
            )
    return lines


def _ratio(fast, slow):
    return fast / slow if slow else 0.0
