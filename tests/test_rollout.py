"""The fleet rollout planner (mintcloud.rollout) as tables, and the demo upgrade Job."""

import pathlib

import pytest

from mintcloud.render import render_manifests
from mintcloud.rollout import (
    Candidate,
    Line,
    Plan,
    Step,
    Strategy,
    code_image,
    counts,
    halt_reason,
    images,
    needs_upgrade,
    next_step,
    plan,
    progress,
)
from mintcloud.validate import check_documents
from mintcloud.variables import load_vars_yml

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "kubernetes_manifest" / "static" / "manifests"
DATA = ROOT / "tests" / "data"


def prod(name, lifecycle="active"):
    return Candidate(name, name, "prod", lifecycle)


def int_(name, lifecycle="active"):
    return Candidate(name, name, "int", lifecycle)


# --- plan: apps, strategy -> batches ------------------------------------------

A, B, C, D, E = (prod(n) for n in "abcde")
AI, BI, CI = (int_(f"{n}-int") for n in "abc")


@pytest.mark.parametrize(
    "candidates, strategy, expected",
    [
        # nothing to do
        ([], Strategy(), Plan()),
        # canaries first, in batches of their own, then production
        (
            [A, AI, B, BI, C],
            Strategy(batch_size=2),
            Plan(
                batches=(("a-int", "b-int"), ("a", "b"), ("c",)),
                canary_batches=1,
            ),
        ),
        # a canary batch never takes production apps to fill up
        (
            [A, AI, B],
            Strategy(batch_size=5),
            Plan(batches=(("a-int",), ("a", "b")), canary_batches=1),
        ),
        # more canaries than a batch holds
        (
            [AI, BI, CI, A],
            Strategy(batch_size=2),
            Plan(batches=(("a-int", "b-int"), ("c-int",), ("a",)), canary_batches=2),
        ),
        # without canaries: one order, as given
        (
            [A, AI, B],
            Strategy(batch_size=2, canaries=False),
            Plan(batches=(("a", "a-int"), ("b",))),
        ),
        # only production apps: no canary batch
        (
            [A, B, C, D, E],
            Strategy(batch_size=2),
            Plan(batches=(("a", "b"), ("c", "d"), ("e",))),
        ),
        # suspended and terminated apps are skipped with a reason
        (
            [A, prod("s", "suspended"), int_("t-int", "terminated"), BI],
            Strategy(),
            Plan(
                batches=(("b-int",), ("a",)),
                canary_batches=1,
                skipped=(
                    ("s", "suspended"),
                    ("t-int", "terminated"),
                ),
            ),
        ),
    ],
)
def test_plan(candidates, strategy, expected):
    found = plan(candidates, strategy)
    assert found.batches == expected.batches
    assert found.canary_batches == expected.canary_batches
    assert [key for key, _reason in found.skipped] == [
        key for key, _reason in expected.skipped
    ]
    for (_key, reason), (_k, word) in zip(found.skipped, expected.skipped):
        assert reason.startswith(word), reason


def test_plan_skips_a_terminating_app_and_says_why():
    found = plan([prod("x", "terminating"), prod("y")], Strategy())
    assert found.batches == (("y",),)
    assert found.skipped == (("x", "being terminated"),)
    assert "resumed" in plan([prod("s", "suspended")], Strategy()).skipped[0][1]


def test_batch_of():
    found = plan([A, AI, B], Strategy(batch_size=1))
    assert found.batch_of("a-int") == (0, True)
    assert found.batch_of("b") == (2, False)
    assert found.batch_of("nobody") is None


@pytest.mark.parametrize(
    "values",
    [
        {"batch_size": 0},
        {"max_concurrent": 0},
        {"max_failures": -1},
        {"max_failure_percent": 101},
        {"max_failure_percent": -1},
        {"pause_seconds": -5},
    ],
)
def test_strategy_refuses_nonsense(values):
    with pytest.raises(ValueError):
        Strategy(**values)


# --- the halt rule ------------------------------------------------------------


def lines(*states, canary=()):
    """Lines ``0..n-1`` in ``states``; ``canary`` holds the canary keys."""
    return [Line(key, 0, state, key in canary) for key, state in enumerate(states)]


@pytest.mark.parametrize(
    "given, strategy, expected",
    [
        # nothing failed
        (lines("done", "done", "pending"), Strategy(), None),
        # a failed canary halts before production
        (lines("failed", "pending", canary={0}), Strategy(), "1 canary app(s)"),
        # ... unless canaries are off: then the counts decide
        (
            lines("failed", *["done"] * 19, canary={0}),
            Strategy(canaries=False),
            None,
        ),
        # more than max_failures (2) failed
        (lines(*["failed"] * 3, *["done"] * 97), Strategy(), "3 apps failed, more"),
        # exactly max_failures: goes on (2 of 100 is 2 %)
        (lines(*["failed"] * 2, *["done"] * 98), Strategy(), None),
        # more than 10 %
        (
            lines("failed", *["done"] * 8),
            Strategy(max_failures=5),
            "1 of 9 apps failed (11 %), more than 10 %",
        ),
        # exactly 10 % is not more
        (lines("failed", *["done"] * 9), Strategy(max_failures=5), None),
        # skipped and cancelled apps do not dilute the share
        (
            lines("failed", "done", *["skipped"] * 20, *["cancelled"] * 5),
            Strategy(max_failures=5),
            "1 of 2 apps failed",
        ),
        # 100 % switches the share rule off
        (
            lines("failed", "failed", "done"),
            Strategy(max_failure_percent=100),
            None,
        ),
        # max_failures 0: any failure halts
        (lines("failed", *["done"] * 99), Strategy(max_failures=0), "1 apps failed"),
    ],
)
def test_halt_reason(given, strategy, expected):
    found = halt_reason(given, strategy)
    if expected is None:
        assert found is None
    else:
        assert found is not None and found.startswith(expected), found


# --- next step, given the lines -------------------------------------------------


def batch_lines(*batches):
    """``batch_lines("dd", "pp")``: two batches, letters for states."""
    letters = {
        "p": "pending",
        "q": "queued",
        "b": "backup",
        "u": "upgrade",
        "r": "deploying",
        "d": "done",
        "f": "failed",
        "s": "skipped",
        "c": "cancelled",
    }
    found, key = [], 0
    for index, states in enumerate(batches):
        for letter in states:
            found.append(Line(key, index, letters[letter]))
            key += 1
    return found


@pytest.mark.parametrize(
    "given, batch, strategy, expected",
    [
        # start the first batch, up to max_concurrent
        (
            batch_lines("pppp", "pp"),
            0,
            Strategy(max_concurrent=2),
            Step("start", 0, (0, 1)),
        ),
        # two in flight: wait
        (batch_lines("rupp", "pp"), 0, Strategy(max_concurrent=2), Step("wait", 0)),
        # one slot free: start the next one
        (
            batch_lines("dupp", "pp"),
            0,
            Strategy(max_concurrent=2),
            Step("start", 0, (2,)),
        ),
        # the last ones of the batch in flight, nothing pending here: wait
        (batch_lines("ddqb", "pp"), 0, Strategy(max_concurrent=8), Step("wait", 0)),
        # batch finished: the next one, after the pause
        (
            batch_lines("dddd", "pp"),
            0,
            Strategy(pause_seconds=300),
            Step("next_batch", 1, pause_seconds=300),
        ),
        # a batch whose apps were all skipped is passed over
        (batch_lines("dd", "", "pp"), 0, Strategy(), Step("next_batch", 2)),
        # the second batch starts
        (batch_lines("dd", "pp"), 1, Strategy(), Step("start", 1, (2, 3))),
        # every batch finished
        (batch_lines("dd", "dd"), 1, Strategy(), Step("done", 1)),
        (batch_lines("ds", "dc"), 1, Strategy(), Step("done", 1)),
        # nothing at all
        ([], 0, Strategy(), Step("done", 0)),
    ],
)
def test_next_step(given, batch, strategy, expected):
    assert next_step(given, batch, strategy) == expected


def test_next_step_halts_and_starts_nothing_more():
    given = [
        Line("a-int", 0, "failed", canary=True),
        Line("b-int", 0, "deploying", canary=True),
        Line("a", 1, "pending"),
    ]
    step = next_step(given, 0, Strategy())
    assert step.action == "halt"
    assert "canary" in step.reason and not step.start


def test_counts_and_progress():
    given = batch_lines("dfsc", "rqp")
    found = counts(given)
    assert (found["total"], found["finished"], found["pending"]) == (7, 4, 1)
    assert (found["done"], found["failed"], found["deploying"]) == (1, 1, 1)
    assert progress(given) == pytest.approx(400 / 7)
    assert progress(batch_lines("dd")) == 100.0
    assert progress([]) == 100.0


# --- upgrade: when the code changes ------------------------------------------


def deployment(image, init_image=None, kind="Deployment"):
    spec = {"containers": [{"name": "odoo", "image": image}]}
    if init_image:
        spec["initContainers"] = [{"name": "init", "image": init_image}]
    return {"kind": kind, "spec": {"template": {"spec": spec}}}


@pytest.mark.parametrize(
    "previous, new, expected",
    [
        # the same image: nothing to upgrade
        ([deployment("odoo:17.0")], [deployment("odoo:17.0")], False),
        # a new Odoo image
        ([deployment("odoo:17.0")], [deployment("odoo:17.0-20260101")], True),
        # a new image carrying the addons (an init container)
        (
            [deployment("odoo:17.0", "addons:1")],
            [deployment("odoo:17.0", "addons:2")],
            True,
        ),
        # the database's image is not the app's code
        (
            [deployment("odoo:17.0"), deployment("postgres:15", kind="StatefulSet")],
            [deployment("odoo:17.0"), deployment("postgres:16", kind="StatefulSet")],
            False,
        ),
        # never deployed: the first start creates the database
        ([], [deployment("odoo:17.0")], False),
    ],
)
def test_needs_upgrade(previous, new, expected):
    assert needs_upgrade(previous, new) is expected


def test_code_image_is_the_odoo_containers():
    docs = [
        deployment("postgres:16", kind="StatefulSet"),
        {"kind": "Deployment", "spec": None},
        deployment("odoo:17.0-20260101", "busybox:1"),
    ]
    assert code_image(docs) == "odoo:17.0-20260101"
    assert code_image(docs, container="init") is None
    assert code_image([]) is None


def test_images_reads_pod_templates_only():
    docs = [
        deployment("odoo:17.0", "busybox:1"),
        {"kind": "Service", "spec": {"ports": []}},
        "not a document",
        {"kind": "Deployment", "spec": None},
    ]
    assert images(docs) == {"odoo:17.0", "busybox:1"}


# --- the demo upgrade Job ---------------------------------------------------------


def upgrade_docs(**extra):
    variables = load_vars_yml(
        (DATA / "demo_vars.yml").read_text(encoding="utf-8"),
        secrets=("admin_password", "db_password"),
    )
    variables["upgrade_id"] = "m1a2b3c4"
    for name, value in extra.items():
        variables[name] = value
    template = (MANIFESTS / "upgrade-job.yaml").read_text(encoding="utf-8")
    return render_manifests([("upgrade-job.yaml", template)], variables)


def test_upgrade_job_runs_the_new_image_against_the_apps_database():
    docs = upgrade_docs(odoo_image="odoo:17.0-20260101")
    check_documents(docs, "1.29")
    (job,) = docs
    assert job["kind"] == "Job"
    assert job["metadata"]["name"] == "acme-upgrade-m1a2b3c4"
    assert job["metadata"]["namespace"] == "acme"
    assert job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    steps = [c["name"] for c in pod["initContainers"] + pod["containers"]]
    assert steps == ["plan", "update", "record"]
    assert {c["image"] for c in pod["initContainers"] + pod["containers"]} == {
        "odoo:17.0-20260101"
    }
    update = pod["initContainers"][1]["args"][0]
    assert '-u "$MODULES" --stop-after-init' in update
    env = {e["name"]: e for e in pod["initContainers"][0]["env"]}
    assert env["PGHOST"]["value"] == "acme-db"
    assert env["PGDATABASE"]["value"] == "acme"
    assert env["UPGRADE_MODULES"]["value"] == ""
    plan_script = pod["initContainers"][0]["args"][0]
    # The plan step is Python run by "odoo shell": it must compile.
    python = plan_script.split("<<'PY'\n", 1)[1].rsplit("PY\n", 1)[0]
    compile(python, "plan", "exec")
    assert 'todo = "all"' in python
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == ["acme-filestore"]


def test_upgrade_job_runs_the_image_the_rollout_names():
    (job,) = upgrade_docs(odoo_image="odoo:17.0", upgrade_image="odoo:17.0-next")
    pod = job["spec"]["template"]["spec"]
    assert {c["image"] for c in pod["initContainers"] + pod["containers"]} == {
        "odoo:17.0-next"
    }


def test_upgrade_job_updates_every_module_on_request():
    (job,) = upgrade_docs(upgrade_modules="all")
    env = {
        e["name"]: e
        for e in job["spec"]["template"]["spec"]["initContainers"][0]["env"]
    }
    assert env["UPGRADE_MODULES"]["value"] == "all"


def test_upgrade_job_needs_an_upgrade_id():
    template = (MANIFESTS / "upgrade-job.yaml").read_text(encoding="utf-8")
    variables = load_vars_yml((DATA / "demo_vars.yml").read_text(encoding="utf-8"))
    with pytest.raises(Exception, match="upgrade_id"):
        render_manifests([("upgrade-job.yaml", template)], variables)
