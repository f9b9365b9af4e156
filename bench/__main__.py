"""``python3 -m bench``: run the benchmarks, print one block each, write JSON.

Options (see ``--help``): ``--apps N`` (core render+apply, default 200),
``--ansible-apps N`` (default BENCH_ANSIBLE_APPS or 20), ``--only NAME``
(render_apply, ansible, status, names; repeat or comma-separate), ``--output
PATH`` (default ``bench/results/latest.json``).  A benchmark that fails
prints ``FAILED: …``, the others still run, and the exit status is 1.

``--only odoo_names`` runs the Odoo-side app-name check (``bench/odoo_names.py``),
which is not part of the default run: it installs a module into a throwaway
database.  It reports ``skipped`` when odoo is not importable.  Likewise
``--only odoo_rollout`` (``bench/odoo_rollout.py``): 200 apps ordered and
rolled out through queue_job's runner in a served Odoo.
"""

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import time
import traceback

from bench import (
    ansible_run,
    names_check,
    odoo_names,
    odoo_rollout,
    render_apply,
    status_collect,
)
from bench.common import RESULTS_DIR

BENCHMARKS = (
    "render_apply",
    "ansible",
    "status",
    "names",
    "odoo_names",
    "odoo_rollout",
)
#: Run when no ``--only`` is given.
DEFAULT_BENCHMARKS = ("render_apply", "ansible", "status", "names")
PACKAGES = ("kubernetes", "Jinja2", "PyYAML", "urllib3", "ansible-core", "ansible")


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _concurrency(text):
    values = tuple(_positive(part) for part in text.split(",") if part.strip())
    if not values:
        raise argparse.ArgumentTypeError("give at least one number")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m bench", description="Mint Cloud benchmarks (not tests)."
    )
    parser.add_argument(
        "--apps",
        type=_positive,
        default=200,
        help="apps rendered and applied by the core (default 200)",
    )
    parser.add_argument(
        "--ansible-apps",
        type=_positive,
        default=_positive(
            os.environ.get("BENCH_ANSIBLE_APPS") or ansible_run.DEFAULT_APPS
        ),
        help="apps deployed through ansible-playbook "
        "(default BENCH_ANSIBLE_APPS or %(default)s)",
    )
    parser.add_argument(
        "--status-apps",
        type=_positive,
        default=status_collect.DEFAULT_APPS,
        help="apps on the cluster for the status benchmark (default %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=render_apply.CONCURRENCY,
        help="threads deploying apps in the core benchmark, comma-separated "
        "(default 1,4,8)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)} "
        "(repeat or comma-separate)",
    )
    parser.add_argument(
        "--output",
        default=str(RESULTS_DIR / "latest.json"),
        help="where to write the JSON summary (default %(default)s)",
    )
    args = parser.parse_args(argv)
    selected = [n.strip() for item in args.only or [] for n in item.split(",")]
    unknown = sorted(set(selected) - set(BENCHMARKS) - {""})
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}")
    wanted = [n for n in selected if n] or DEFAULT_BENCHMARKS
    args.selected = [name for name in BENCHMARKS if name in wanted]
    return args


def environment():
    """Interpreter, machine and package versions, for the JSON summary."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": versions,
    }


def _run_one(name, args, results):
    """Run benchmark ``name``; returns its printed lines."""
    if name == "render_apply":
        results[name], lines = {}, []
        for concurrency in args.concurrency:
            result = results[name][str(concurrency)] = render_apply.run(
                args.apps, concurrency
            )
            lines += render_apply.report(result)
        return lines
    if name == "ansible":
        # Ansible one app after another (forks=1) and 8 at a time, each next
        # to the core at the same concurrency, in this run.
        results[name], lines = {}, []
        for forks in sorted({1, 8, ansible_run.default_forks()}):
            result = results[name][str(forks)] = ansible_run.run(
                args.ansible_apps, forks=forks
            )
            core = results.get("render_apply", {}).get(str(forks))
            if core is None and "skipped" not in result:
                # The ratio needs a core rate at the same concurrency.
                core = render_apply.run(args.ansible_apps, forks)
                results.setdefault("render_apply", {})[str(forks)] = core
                lines += render_apply.report(core)
            lines += ansible_run.report(result, core)
        return lines
    if name == "status":
        results[name], lines = {}, []
        for apps in sorted({args.status_apps, status_collect.LARGE_APPS}):
            # The large run is warm once: populating it is the slow part.
            warm = 1 if apps >= status_collect.LARGE_APPS else status_collect.WARM_RUNS
            result = results[name][str(apps)] = status_collect.run(apps, warm)
            lines += status_collect.report(result)
        return lines
    if name == "odoo_names":
        results[name] = odoo_names.run()
        return odoo_names.report(results[name])
    if name == "odoo_rollout":
        results[name] = odoo_rollout.run()
        return odoo_rollout.report(results[name])
    results[name] = names_check.run()
    return names_check.report(results[name])


def main(argv=None):
    args = parse_args(argv)
    env = environment()
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    print(
        f"Mint Cloud benchmarks: Python {env['python']}, {env['cpus']} CPUs; {packages}"
    )
    results, failed = {}, []
    started = time.perf_counter()
    for name in args.selected:
        try:
            lines = _run_one(name, args, results)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            failed.append(name)
            results[name] = {"failed": f"{type(exc).__name__}: {exc}"}
            lines = [f"{name}: FAILED: {type(exc).__name__}: {exc}"]
            traceback.print_exc(file=sys.stderr)
        for line in lines:
            print(line, flush=True)
    elapsed = time.perf_counter() - started
    summary = {
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "elapsed_s": elapsed,
        "environment": env,
        "options": {
            "apps": args.apps,
            "ansible_apps": args.ansible_apps,
            "ansible_forks": ansible_run.default_forks(),
            "status_apps": args.status_apps,
            "concurrency": list(args.concurrency),
            "only": args.selected,
        },
        "results": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    shown = os.path.relpath(args.output)
    if shown.startswith(os.pardir):
        shown = os.path.abspath(args.output)
    print(f"total {elapsed:.1f} s; JSON summary: {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
