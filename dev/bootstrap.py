"""A Python that runs Mint Cloud with Odoo 17, installed where it is missing.

* :func:`ensure_python` returns an interpreter that imports Odoo 17: the one
  given (``make PYTHON=...``, default ``python3``) when it can, else the
  project's ``.venv``, which :func:`bootstrap` creates the first time: Odoo 17
  from a shallow git clone (``ODOO_SOURCE``, a local path or git URL; default
  the 17.0 branch of https://github.com/odoo/odoo) with its pinned
  requirements, installed editable in compat mode.
* :func:`install_deps` installs the project's requirements and the OCA addons
  with the installed distributions and Odoo's ``requirements.txt`` as pip
  constraints, so nothing Odoo pins moves (Werkzeug stays 2.0).  It is skipped
  when nothing changed since the last run (a stamp under ``.run/``).
* ``python3 dev/bootstrap.py constraints`` prints those constraints; the
  Dockerfile uses it, so image and launcher install the same way.
"""

import ast
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
RUN_DIR = os.path.join(ROOT, ".run")
ODOO_GIT = "https://github.com/odoo/odoo"
ODOO_BRANCH = "17.0"
#: Odoo's browser tests (tours) talk to Chromium over a websocket.
TEST_REQUIREMENTS = ["websocket-client"]
#: Odoo 17's setup.py needs pkg_resources, gone from setuptools 67 on 3.11.
SETUPTOOLS = "setuptools<67"


def say(message):
    """One progress line."""
    print(f"==> {message}", flush=True)


def fail(message):
    """Stop with a message that says what to do."""
    print(f"\n*** {message}\n", file=sys.stderr, flush=True)
    raise SystemExit(2)


def run(cmd, **kwargs):
    """Run ``cmd``; stop with its output's tail when it fails."""
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        fail(
            f"'{' '.join(cmd)}' failed (exit {proc.returncode}):\n    "
            + "\n    ".join(output[-15:])
        )
    return proc


#: Finds the odoo package without running its __init__ (importing odoo
#: takes seconds): prints the folder holding the package, or nothing.
_LOCATE = (
    "import importlib.util as u, os; s = u.find_spec('odoo'); "
    "print(os.path.dirname(s.origin) if s and s.origin else '')"
)


@functools.cache
def _odoo_package(python):
    probe = subprocess.run(
        [python, "-c", _LOCATE],
        capture_output=True,
        text=True,
        cwd="/",
        env=_without_pythonpath(),
    )
    return probe.stdout.strip() if probe.returncode == 0 else ""


def odoo_version(python):
    """The Odoo major version ``python`` imports, or None."""
    package = _odoo_package(python)
    try:
        with open(os.path.join(package, "release.py")) as fh:
            match = re.search(r"^version_info = \((\d+),", fh.read(), re.M)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _without_pythonpath():
    # The project root on PYTHONPATH must not make a folder named "odoo"
    # elsewhere importable by accident; the probe runs from "/" without it.
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def odoo_root(python):
    """The folder of the Odoo checkout ``python`` imports (holds ``addons/``)."""
    package = _odoo_package(python)
    if not package:
        fail(f"{python} cannot import odoo.")
    return os.path.dirname(package)


def venv_python():
    return os.path.join(VENV, "bin", "python")


def ensure_python(python):
    """An interpreter that imports Odoo 17: ``python``, ``.venv`` or a new ``.venv``."""
    version = odoo_version(python)
    if version == 17:
        return python
    if version is not None:
        fail(
            f"{python} imports Odoo {version}; Mint Cloud needs Odoo 17. "
            "Run with PYTHON=<a python without Odoo> to get Odoo 17 in .venv."
        )
    if os.path.exists(venv_python()) and odoo_version(venv_python()) == 17:
        return venv_python()
    bootstrap(python)
    return venv_python()


def bootstrap(python):
    """Create ``.venv`` with Odoo 17 and its requirements (a few minutes, once)."""
    say(f"Odoo 17 is not importable by {python}: installing it into .venv (once)")
    ok = subprocess.run(
        [python, "-c", "import sys; sys.exit(sys.version_info < (3, 10))"]
    )
    if ok.returncode:
        fail(f"{python} is older than Python 3.10; Odoo 17 needs 3.10 or later.")
    if not os.path.exists(venv_python()):
        say(f"creating the virtualenv {VENV}")
        run([python, "-m", "venv", VENV])
    source = odoo_source()
    pip = [venv_python(), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    say("installing pip tools (setuptools<67 for Odoo's pkg_resources)")
    run([*pip, "--upgrade", "pip", SETUPTOOLS, "wheel"])
    requirements = os.path.join(VENV, "odoo-requirements.txt")
    with open(os.path.join(source, "requirements.txt")) as fh:
        text = fh.read()
    with open(requirements, "w") as fh:
        fh.write(odoo_requirements(text))
    say("installing Odoo's pinned requirements (wheels; a minute or two)")
    run([*pip, "-r", requirements])
    say(f"installing Odoo 17 from {source} (editable, compat mode)")
    run(
        [
            *pip,
            "--no-deps",
            "--no-build-isolation",
            "-e",
            source,
            "--config-settings",
            "editable_mode=compat",
        ]
    )
    _odoo_package.cache_clear()
    if odoo_version(venv_python()) != 17:
        fail(f"Odoo was installed into {VENV} but does not import; see above.")
    say(f"Odoo 17 is installed in {VENV}")


def odoo_requirements(text):
    """Odoo's requirements.txt as the bootstrap installs it.

    Two lines change, so that nothing needs a C compiler or system headers:
    ``psycopg2`` becomes ``psycopg2-binary`` of the same version (same module,
    wheels with libpq inside), and ``python-ldap`` is dropped (only the
    ``auth_ldap`` addon uses it; it needs the OpenLDAP headers).
    """
    lines = []
    for line in text.splitlines():
        name = re.split(r"[=<>!~; ]", line.strip(), maxsplit=1)[0].lower()
        if name == "python-ldap":
            continue
        if name == "psycopg2":
            line = "psycopg2-binary" + line.strip()[len("psycopg2") :]
        lines.append(line)
    return "\n".join(lines) + "\n"


def odoo_source():
    """A folder with Odoo 17's sources: ``ODOO_SOURCE`` or a shallow clone."""
    spec = os.environ.get("ODOO_SOURCE", "").strip() or ODOO_GIT
    if os.path.isfile(os.path.join(spec, "odoo-bin")):
        say(f"using the Odoo checkout in {spec}")
        return _check_source(os.path.abspath(spec))
    dest = os.path.join(VENV, "src", "odoo")
    if os.path.isfile(os.path.join(dest, "odoo-bin")):
        say(f"reusing the Odoo sources in {dest}")
        return _check_source(dest)
    if shutil.which("git") is None:
        fail("git is needed to fetch Odoo 17 (or set ODOO_SOURCE to a checkout).")
    url = spec
    if os.path.isdir(spec):  # a local repository: file:// makes --depth work
        url = "file://" + os.path.abspath(spec)
    branch = os.environ.get("ODOO_BRANCH", "").strip() or ODOO_BRANCH
    say(f"cloning Odoo {branch} from {spec} into {dest} (shallow)")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    clone = ["git", "clone", "-q", "--depth", "1"]
    proc = subprocess.run(
        [*clone, "--branch", branch, url, dest], capture_output=True, text=True
    )
    if proc.returncode and "not found" in proc.stderr and spec != ODOO_GIT:
        # A mirror or fork whose default branch is its 17.0: take HEAD,
        # the version check below says whether it is Odoo 17.
        say(f"{spec} has no branch {branch}: using its default branch")
        shutil.rmtree(dest, ignore_errors=True)
        proc = subprocess.run([*clone, url, dest], capture_output=True, text=True)
    if proc.returncode:
        shutil.rmtree(dest, ignore_errors=True)
        fail(
            f"could not clone Odoo from {spec}:\n    {proc.stderr.strip()}\n"
            "Set ODOO_SOURCE to a local Odoo 17 checkout or a reachable git URL."
        )
    _check_source(dest)
    _drop_uninstallable(os.path.join(dest, "addons"))
    return dest


def _drop_uninstallable(addons_dir):
    """Remove from our own clone the addons that declare ``installable: False``.

    They can never be installed, but one that also says ``auto_install`` is
    marked "to install" in every new database, and Odoo then logs
    "Some modules have inconsistent states" and skips every cron of it (seen
    with a fork of 17.0 that carries such an addon).
    """
    dropped = []
    for name in sorted(os.listdir(addons_dir)):
        manifest = os.path.join(addons_dir, name, "__manifest__.py")
        try:
            with open(manifest) as fh:
                values = ast.literal_eval(fh.read())
        except (OSError, ValueError, SyntaxError):
            continue
        if isinstance(values, dict) and values.get("installable", True) is False:
            shutil.rmtree(os.path.join(addons_dir, name))
            dropped.append(name)
    if dropped:
        say(f"left out addons that cannot be installed: {', '.join(dropped)}")
    return dropped


def _check_source(path):
    release = os.path.join(path, "odoo", "release.py")
    try:
        with open(release) as fh:
            match = re.search(r"^version_info = \((\d+),", fh.read(), re.M)
    except OSError:
        match = None
    if not match:
        fail(f"{path} is not an Odoo checkout ({release} is missing).")
    if match.group(1) != "17":
        fail(f"{path} holds Odoo {match.group(1)}; Mint Cloud needs Odoo 17.")
    return path


# ----------------------------------------------------------------------
# Python packages of the project
# ----------------------------------------------------------------------


def constraints(odoo_requirements_txt=None):
    """Pip constraints that keep what is installed, plus Odoo's own pins."""
    pins = sorted(
        {
            f"{dist.metadata['Name']}=={dist.version}"
            for dist in metadata.distributions()
            if dist.metadata["Name"]
            # An editable or local install has no index version to pin to.
            and not dist.read_text("direct_url.json")
        },
        key=str.lower,
    )
    text = "\n".join(pins) + "\n"
    if odoo_requirements_txt and os.path.isfile(odoo_requirements_txt):
        with open(odoo_requirements_txt) as fh:
            # Only the lines this Python installs from (psycopg2 may have
            # come as psycopg2-binary, python-ldap not at all).
            text += odoo_requirements(fh.read())
    return text


def _deps_files(with_odoo):
    files = ["requirements.txt"]
    if with_odoo:
        files.append("requirements-odoo.txt")
    return [os.path.join(ROOT, name) for name in files]


def _stamp(python, with_odoo):
    digest = hashlib.sha256(f"{python}\n{with_odoo}\n".encode())
    for path in _deps_files(with_odoo):
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


def install_deps(with_odoo=None, force=False):
    """Install the project's requirements into this interpreter.

    With Odoo importable, installed distributions and Odoo's requirements.txt
    are constraints and the OCA addons come as ``odoo-addon-*`` wheels
    (``--no-deps``).  Returns pip's exit status.
    """
    python = sys.executable
    if with_odoo is None:
        with_odoo = odoo_version(python) == 17
    stamp_path = os.path.join(RUN_DIR, "deps.stamp")
    stamp = _stamp(python, with_odoo)
    if not force and _read(stamp_path) == stamp:
        say("Python packages are installed (requirements unchanged since the last run)")
        return 0
    say(f"installing the project's Python packages into {python}")
    cmd = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    cmd += ["-r", os.path.join(ROOT, "requirements.txt")]
    if with_odoo:
        os.makedirs(RUN_DIR, exist_ok=True)
        path = os.path.join(ROOT, ".odoo-constraints.txt")
        with open(path, "w") as fh:
            fh.write(constraints(os.path.join(odoo_root(python), "requirements.txt")))
        cmd += ["-c", path, *TEST_REQUIREMENTS]
    print("$ " + " ".join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=ROOT)
    if not code and with_odoo:
        oca = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        oca += ["--no-deps", "-r", os.path.join(ROOT, "requirements-odoo.txt")]
        print("$ " + " ".join(oca), flush=True)
        code = subprocess.call(oca, cwd=ROOT)
    if not code:
        os.makedirs(RUN_DIR, exist_ok=True)
        with open(stamp_path, "w") as fh:
            fh.write(stamp)
    return code


def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


if __name__ == "__main__":
    if sys.argv[1:2] == ["constraints"]:
        sys.stdout.write(constraints(*sys.argv[2:3]))
    else:
        sys.exit(f"usage: {sys.argv[0]} constraints [ODOO_REQUIREMENTS_TXT]")
