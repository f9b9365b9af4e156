"""The launcher behind ``make run``/``make test`` (``dev/``): its decisions, without Odoo."""

import configparser
import pathlib
import stat
import subprocess
import sys

import pytest

from dev import bootstrap, odoo_server
from tests import run_suites
from tests.tools import console_script

ODOO_REQUIREMENTS = """\
Babel==2.9.1  # min version = 2.6.0
gevent==22.10.2; python_version > '3.10'
psycopg2==2.9.2 ; sys_platform != 'win32' and python_version <= '3.10'
psycopg2==2.9.5 ; python_version > '3.10' or sys_platform == 'win32'
python-ldap==3.4.0 ; sys_platform != 'win32'  # min version = 3.2.0
Werkzeug==2.0.2
"""


def test_odoo_requirements_need_no_compiler():
    text = bootstrap.odoo_requirements(ODOO_REQUIREMENTS)
    assert "python-ldap" not in text
    assert "psycopg2-binary==2.9.5 ; python_version > '3.10'" in text
    assert "psycopg2-binary==2.9.2 ; sys_platform" in text
    assert "\npsycopg2==" not in "\n" + text
    assert "Werkzeug==2.0.2" in text and "Babel==2.9.1" in text


@pytest.mark.parametrize(
    "spec, jobs, expected",
    [
        ("root:4,root.kubernetes:2", 2, "root:4,root.kubernetes:2"),
        ("root:4,root.kubernetes:2", 6, "root:6,root.kubernetes:6"),
        ("root:1", 3, "root:3,root.kubernetes:3"),
        (
            "root:4,root.mail:1,root.kubernetes:2",
            1,
            "root:4,root.kubernetes:1,root.mail:1",
        ),
    ],
)
def test_channels_set_the_kubernetes_capacity(spec, jobs, expected):
    assert odoo_server.channels(spec, jobs) == expected


def test_run_config_is_the_example_with_local_overrides(tmp_path):
    path = odoo_server.write_config(
        str(tmp_path / "odoo.conf"),
        database="demo",
        http_port=8123,
        gevent_port=8124,
        pg={"host": "127.0.0.1", "port": 5433, "user": None, "password": None},
        data_dir="/x/data",
        addons=["/odoo/addons", "/mint"],
        kubernetes_jobs=3,
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    example = configparser.ConfigParser(interpolation=None)
    example.read(odoo_server.EXAMPLE_CONFIG)
    options = parser["options"]
    # What an operator's install needs comes from the example unchanged.
    assert options["server_wide_modules"] == example["options"]["server_wide_modules"]
    assert "queue_job" in options["server_wide_modules"].split(",")
    assert options["list_db"] == example["options"]["list_db"]
    # What a local run must change.
    assert options["addons_path"] == "/odoo/addons,/mint"
    assert (options["db_host"], options["db_port"]) == ("127.0.0.1", "5433")
    assert (options["db_user"], options["db_password"]) == ("False", "False")
    assert (options["db_name"], options["dbfilter"]) == ("demo", "^demo$")
    assert (options["http_port"], options["workers"]) == ("8123", "0")
    assert parser["queue_job"]["channels"] == "root:4,root.kubernetes:3"


def test_example_without_queue_job_server_wide_is_refused(tmp_path, monkeypatch):
    broken = tmp_path / "odoo.conf"
    broken.write_text("[options]\nserver_wide_modules = base,web\n")
    monkeypatch.setattr(odoo_server, "EXAMPLE_CONFIG", str(broken))
    with pytest.raises(SystemExit):
        odoo_server.write_config(
            str(tmp_path / "run.conf"),
            database="demo",
            http_port=1,
            gevent_port=2,
            pg=odoo_server.pg_settings({}),
            data_dir="d",
            addons=[],
        )


def test_pg_settings_default_to_the_local_server():
    assert odoo_server.pg_settings({}) == {
        "host": "127.0.0.1",
        "port": 5432,
        "user": None,
        "password": None,
    }
    assert (
        odoo_server.pg_settings({"PGHOST": "db", "PGPORT": "6000", "PGUSER": "u"})[
            "port"
        ]
        == 6000
    )


HASHES = {addon: f"h-{addon}" for addon in odoo_server.ADDONS}
INSTALLED = {m: "installed" for m in odoo_server.ADDONS + odoo_server.DEMO_MODULES}


def test_plan_first_run_installs_everything():
    assert odoo_server.plan(None, HASHES) == (
        odoo_server.ADDONS + odoo_server.DEMO_MODULES,
        [],
    )


def test_plan_second_run_does_nothing():
    assert odoo_server.plan((INSTALLED, dict(HASHES)), HASHES) == ([], [])


def test_plan_updates_only_the_changed_addon():
    stored = dict(HASHES, kubernetes_app="old")
    assert odoo_server.plan((INSTALLED, stored), HASHES) == ([], ["kubernetes_app"])


def test_plan_installs_what_is_missing_and_never_recreates():
    modules = dict(INSTALLED, mailgun_domain="uninstalled")
    modules.pop("payment_demo")
    install, update = odoo_server.plan((modules, dict(HASHES)), HASHES)
    assert install == ["mailgun_domain", "payment_demo"] and update == []


def test_addon_hashes_ignore_tests_and_assets(tmp_path, monkeypatch):
    for addon in odoo_server.ADDONS:
        (tmp_path / addon / "tests").mkdir(parents=True)
        (tmp_path / addon / "static").mkdir()
        (tmp_path / addon / "__manifest__.py").write_text("{}")
    monkeypatch.setattr(odoo_server, "ROOT", str(tmp_path))
    before = odoo_server.addon_hashes()
    (tmp_path / "kubernetes_app" / "tests" / "test_x.py").write_text("x = 1")
    (tmp_path / "kubernetes_app" / "static" / "a.js").write_text("1")
    assert odoo_server.addon_hashes() == before
    (tmp_path / "kubernetes_app" / "views.xml").write_text("<odoo/>")
    after = odoo_server.addon_hashes()
    assert after["kubernetes_app"] != before["kubernetes_app"]
    assert {a for a in after if after[a] != before[a]} == {"kubernetes_app"}


def test_console_script_is_found_next_to_the_interpreter(tmp_path, monkeypatch):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "ansible-playbook"
    script.write_text("#!/bin/sh\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert console_script("ansible-playbook") == str(script)
    assert console_script("no-such-tool") is None


def test_a_proof_count_of_zero_fails_the_run():
    output = [
        "==== Mint Cloud proof counts ====\n",
        "hostile app names rejected with the right message: 84\n",
        "templates rendered as ansible-playbook renders them: 0\n",
        "injected API faults classified, then converged: 5\n",
        "=== 900 passed in 3.0s ===\n",
    ]
    assert run_suites.zero_proofs(output) == [
        "templates rendered as ansible-playbook renders them"
    ]
    assert run_suites.zero_proofs(output[:2]) == []


def test_source_check_refuses_another_odoo_version(tmp_path):
    (tmp_path / "odoo").mkdir()
    (tmp_path / "odoo" / "release.py").write_text(
        "version_info = (16, 0, 0, FINAL, 0, '')\n"
    )
    with pytest.raises(SystemExit):
        bootstrap._check_source(str(tmp_path))
    (tmp_path / "odoo" / "release.py").write_text(
        "version_info = (17, 0, 0, FINAL, 0, '')\n"
    )
    assert bootstrap._check_source(str(tmp_path)) == str(tmp_path)


def test_uninstallable_addons_are_left_out_of_our_clone(tmp_path):
    manifests = {
        "sale": "{'name': 'Sales', 'depends': ['base']}",
        "session_redis": "{'installable': False, 'auto_install': True}",
        "broken": "{'name': ",
    }
    for name, text in manifests.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__manifest__.py").write_text(text)
    (tmp_path / "README.md").write_text("not an addon")
    assert bootstrap._drop_uninstallable(str(tmp_path)) == ["session_redis"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "broken", "sale"]


STOP_SCRIPT = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as for a job started with '&'
from dev.launch import stop_on_signals
stop_on_signals()
try:
    os.kill(os.getpid(), signal.{sig})
    time.sleep(5)
except KeyboardInterrupt:
    print("stopping cleanly")
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_make_run_stops_cleanly_on_ctrl_c_and_kill_even_in_the_background(sig):
    """The launcher turns SIGINT (even when the shell made it ignore SIGINT)
    and SIGTERM into the clean stop: Odoo first, then PostgreSQL."""
    root = str(pathlib.Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", STOP_SCRIPT.format(root=root, sig=sig)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.strip() == "stopping cleanly", done.stderr
