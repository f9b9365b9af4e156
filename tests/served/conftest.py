"""One Odoo, started the way ``make run`` starts it, for the served check.

The configuration is derived from ``deploy/odoo.conf`` by the launcher's own
code (``dev/odoo_server.py``), the database is created by the same step as
on a first ``make run`` (the five addons, demo data, the demo payment
provider), and the server runs with queue_job's real runner: nothing here
runs a job synchronously.  The database is dropped afterwards.
"""

import os
import re
import socket
import subprocess
import sys

import pytest

from dev import bootstrap, odoo_server
from dev.launch import wait_healthy
from tests.fakes.kube_api import FakeKubeServer
from tests.served.client import OdooSession

BAD_LOG = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", re.M)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    def __init__(self, url, database, log_path):
        self.url = url
        self.database = database
        self.log_path = log_path

    def session(self):
        return OdooSession(self.url)

    def admin(self):
        session = self.session()
        session.login(self.database, "admin", "admin")
        return session

    def log(self):
        with open(self.log_path, errors="replace") as fh:
            return fh.read()


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    python = sys.executable
    if bootstrap.odoo_version(python) != 17:
        pytest.fail("the served check needs Odoo 17 importable (make test gets it)")
    run_dir = tmp_path_factory.mktemp("served")
    database = f"mintcloud_served_{os.getpid()}"
    port = _free_port()
    pg = odoo_server.pg_settings()
    config = odoo_server.write_config(
        str(run_dir / "odoo.conf"),
        database=database,
        http_port=port,
        gevent_port=_free_port(),
        pg=pg,
        data_dir=str(run_dir / "data"),
        addons=odoo_server.addons_path(python),
        kubernetes_jobs=2,
    )
    log_path = str(run_dir / "odoo.log")
    try:
        odoo_server.prepare_database(
            python, config, database, pg, str(run_dir / "setup.log")
        )
        proc = subprocess.Popen(
            odoo_server.server_command(python, config, "--logfile", log_path),
            cwd=odoo_server.ROOT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_healthy(f"{url}/web/health", proc, timeout=300), (
                f"Odoo did not answer /web/health; its log: {log_path}"
            )
            yield Served(url, database, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        if not os.environ.get("MINTCLOUD_KEEP_DB"):
            odoo_server.drop_database(pg, database)


@pytest.fixture(scope="session")
def fake_cluster():
    kube = FakeKubeServer().start()
    yield kube
    kube.stop()
