"""Run every test suite of Mint Cloud and say plainly which ran.

``make test`` calls this script.  It runs

1. the plain pytest suite of the core package (``tests/``) with coverage of
   ``mintcloud`` (at least 90 % or the run fails), everywhere;
2. the Odoo suites of the five addons, wherever ``import odoo`` works: a fresh
   database is created, the addons are installed with demo data and their
   tests (TransactionCase, HttpCase and tours) run with Odoo's own runner.

It ends with one line saying what ran, e.g.
``plain: 212 passed, 0 failed, 2 skipped; odoo: 37 passed, 0 failed``.
The exit status is non-zero when any suite failed.

Environment (all optional):

``PGHOST``/``PGPORT``/``PGUSER``/``PGPASSWORD``
    PostgreSQL for the Odoo suites (default host 127.0.0.1, libpq defaults
    otherwise).
``ODOO_TEST_TAGS``
    passed to ``--test-tags`` (default: the five addons).
``MINTCLOUD_SKIP_ODOO=1``
    run the plain suite only.
``MINTCLOUD_SKIP_SERVED=1``
    skip the served check.
``MINTCLOUD_KEEP_DB=1``
    keep the Odoo test database (it is dropped otherwise).
"""

import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dev.odoo_server import (  # noqa: E402
    ADDONS,
    DEMO_MODULES,
    addons_path,
    drop_database,
    pg_settings,
)
from dev.postgres import reachable  # noqa: E402

# Installed next to the addons for their tests: the webshop tour pays with
# Odoo's demo payment provider.
TEST_ONLY_MODULES = DEMO_MODULES
COVERAGE_MIN = 90

# pytest's closing line, e.g. "=== 3 failed, 200 passed, 2 skipped in 9.1s ==="
PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")
# Odoo 17's closing line: "0 failed, 0 error(s) of 37 tests when loading database 'x'"
ODOO_SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
ODOO_BAD_LOG = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")


def _env():
    env = dict(os.environ)
    paths = [ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    # Debian's Chromium >= 128 ignores "--window-size=1366x768" as Odoo 17
    # passes it; the wrapper in tests/browser fixes the argument.
    env["PATH"] = os.path.join(ROOT, "tests", "browser") + os.pathsep + env["PATH"]
    return env


def _pytest(args, env):
    """Run pytest with ``args``; return (exit code, counts dict)."""
    cmd = [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"]
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    last = ""
    output = []
    for line in proc.stdout:
        sys.stdout.write(line)
        output.append(line)
        if re.search(r"\d+ (passed|failed|error|skipped)", line) and " in " in line:
            last = line
    code = proc.wait()
    counts = {}
    for number, what in PYTEST_COUNT.findall(last):
        what = "errors" if what.startswith("error") else what
        counts[what] = counts.get(what, 0) + int(number)
    return code, counts, output


def zero_proofs(output):
    """The proof counts (tests/conftest.py) that came out 0.

    ``make test`` installs every tool a proof needs (ansible-core, passlib):
    a count of 0 means the proofs were skipped, which must not pass quietly.
    """
    zero = []
    in_section = False
    for line in output:
        if "Mint Cloud proof counts" in line:
            in_section = True
        elif in_section:
            match = re.match(r"^(.+): (\d+)$", line.strip())
            if not match:
                break
            if match.group(2) == "0":
                zero.append(match.group(1))
    return zero


def run_plain():
    """The plain suite with coverage of the core; a proof count of 0 fails it."""
    code, counts, output = _pytest(
        [
            "tests",
            "--cov=mintcloud",
            "--cov-report=term",
            f"--cov-fail-under={COVERAGE_MIN}",
        ],
        _env(),
    )
    zero = zero_proofs(output)
    if zero:
        print("These proofs counted 0 (their tests were skipped): " + "; ".join(zero))
        code = code or 1
    return code, counts


def run_served():
    """The served check: Odoo as ``make run`` serves it, with the real job runner."""
    code, counts, _output = _pytest(
        ["tests/served", "-v"], dict(_env(), MINTCLOUD_SERVED="1")
    )
    if not counts.get("passed"):
        code = code or 1
    return code, counts


def odoo_importable():
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo, odoo.release"],
        cwd="/",
        capture_output=True,
        env=_env(),
    )
    return probe.returncode == 0


def _odoo_addons_path():
    return addons_path(sys.executable)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_args():
    pg = pg_settings()
    args = ["--db_host", pg["host"], "--db_port", str(pg["port"])]
    if pg["user"]:
        args += ["--db_user", pg["user"]]
    if pg["password"]:
        args += ["--db_password", pg["password"]]
    return pg, args


def run_odoo():
    """Install the addons into a fresh database and run their tests."""
    pg, pg_args = _pg_args()
    if not reachable(pg["host"], pg["port"]):
        print(
            f"PostgreSQL is not reachable on {pg['host']}:{pg['port']}: "
            "'make test' starts one, or set PGHOST/PGPORT/PGUSER.",
            flush=True,
        )
        return 1, {}
    db = f"mintcloud_test_{os.getpid()}"
    log_path = os.path.join(ROOT, ".odoo-test.log")
    cmd = [
        sys.executable,
        "-c",
        "import sys, odoo.cli; sys.argv[0] = 'odoo'; odoo.cli.main()",
        "--database",
        db,
        *pg_args,
        "--addons-path",
        ",".join(_odoo_addons_path()),
        "--init",
        ",".join(ADDONS + TEST_ONLY_MODULES),
        "--test-enable",
        "--test-tags",
        os.environ.get("ODOO_TEST_TAGS", ",".join(f"/{a}" for a in ADDONS)),
        "--stop-after-init",
        "--http-port",
        str(_free_port()),
        "--log-level",
        "test",
        "--max-cron-threads",
        "0",
    ]
    print("$ odoo " + " ".join(cmd[3:]), flush=True)
    started = time.time()
    summary = None
    bad_lines = []
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            match = ODOO_SUMMARY.search(line)
            if match:
                summary = tuple(int(n) for n in match.groups())
            if ODOO_BAD_LOG.match(line):
                bad_lines.append(line.rstrip())
        code = proc.wait()
    if not os.environ.get("MINTCLOUD_KEEP_DB"):
        drop_database(pg, db)
    print(f"odoo suite took {time.time() - started:.0f} s; log: {log_path}", flush=True)
    if summary is None:
        print("Odoo did not print its test summary: see the log above.")
        return code or 1, {}
    failed, errors, total = summary
    counts = {"passed": total - failed - errors, "failed": failed, "errors": errors}
    if bad_lines and not (failed or errors):
        print("Odoo logged errors outside the tests:")
        print("\n".join(bad_lines))
        counts["errors"] = len(bad_lines)
    bad = code != 0 or failed or errors or bad_lines
    return (1 if bad else 0), counts


def _fmt(counts):
    text = f"{counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed"
    if counts.get("errors"):
        text += f", {counts['errors']} errors"
    if counts.get("skipped"):
        text += f", {counts['skipped']} skipped"
    return text


def main():
    plain_code, plain = run_plain()
    parts = [f"plain: {_fmt(plain)}"]
    code = plain_code
    if os.environ.get("MINTCLOUD_SKIP_ODOO"):
        parts.append("odoo: skipped (MINTCLOUD_SKIP_ODOO is set)")
    elif not odoo_importable():
        parts.append("odoo: skipped (odoo not importable)")
    else:
        odoo_code, odoo = run_odoo()
        parts.append(f"odoo: {_fmt(odoo)}")
        code = code or odoo_code
        if os.environ.get("MINTCLOUD_SKIP_SERVED"):
            parts.append("served: skipped (MINTCLOUD_SKIP_SERVED is set)")
        else:
            served_code, served = run_served()
            parts.append(f"served: {_fmt(served)}")
            code = code or served_code
    print("; ".join(parts), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
