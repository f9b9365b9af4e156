"""Tests of mintcloud.appstate: app state, live fields and results from core results."""

import pytest

from mintcloud.apply import ApplyResult, ObjectResult
from mintcloud.appstate import (
    DEPLOY_PRUNE_KINDS,
    STATUS_KEEPS,
    app_state,
    failure_message,
    job_names,
    live_fields,
    new_reset_id,
    nothing_deployed,
    reset_progress,
    result_rows,
    summary,
)
from mintcloud.status import app_status


def _deployment(ready, desired=1):
    return {
        "kind": "Deployment",
        "metadata": {"name": "acme-odoo", "namespace": "acme", "generation": 1},
        "spec": {"replicas": desired},
        "status": {
            "observedGeneration": 1,
            "replicas": desired,
            "updatedReplicas": desired,
            "readyReplicas": ready,
            "availableReplicas": ready,
        },
    }


def _ingress(address=None):
    obj = {
        "kind": "Ingress",
        "metadata": {"name": "acme", "namespace": "acme"},
        "spec": {
            "rules": [{"host": "acme.mint-cloud.ch"}],
            "tls": [{"hosts": ["acme.mint-cloud.ch"]}],
        },
    }
    if address:
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": address}]}}
    return obj


def _job(name, failed=False, succeeded=False):
    conditions = []
    if failed:
        conditions = [{"type": "Failed", "status": "True", "message": "backoff"}]
    if succeeded:
        conditions = [{"type": "Complete", "status": "True"}]
    return {
        "kind": "Job",
        "metadata": {"name": name, "namespace": "acme"},
        "spec": {"completions": 1},
        "status": {"conditions": conditions},
    }


@pytest.mark.parametrize("current", sorted(STATUS_KEEPS))
def test_states_a_status_report_keeps(current):
    assert app_state("running", current) == current
    assert app_state("degraded", current, nothing_deployed=True) == current


@pytest.mark.parametrize(
    "status_state,current,nothing,expected",
    [
        ("running", "deploying", False, "running"),
        ("degraded", "running", False, "degraded"),
        ("running", "degraded", False, "running"),
        ("pending", "deploying", False, "deploying"),
        ("pending", "running", False, "deploying"),
        ("pending", "running", True, "degraded"),
        ("pending", "degraded", True, "degraded"),
        ("pending", "deploying", True, "deploying"),
    ],
)
def test_state_from_status(status_state, current, nothing, expected):
    assert app_state(status_state, current, nothing) == expected


def test_live_fields_of_a_running_app():
    status = app_status([_deployment(1), _ingress("203.0.113.10")])
    assert status.state == "running"
    assert live_fields(status) == {
        "ingress_hosts": "acme.mint-cloud.ch",
        "ingress_address": "203.0.113.10",
        "tls_ready": True,
        "replicas_ready": 1,
        "replicas_desired": 1,
        "status_message": False,
    }
    assert not nothing_deployed(status)


def test_live_fields_of_a_degraded_app_and_of_no_objects():
    status = app_status([_deployment(0, 2), _ingress()])
    fields = live_fields(status)
    assert (fields["replicas_ready"], fields["replicas_desired"]) == (0, 2)
    assert fields["tls_ready"] is False
    assert fields["ingress_address"] is False
    assert "0 of 2" in fields["status_message"]
    empty = live_fields(None)
    assert empty["replicas_desired"] == 0
    assert empty["status_message"] == "nothing deployed yet"
    assert nothing_deployed(None)
    assert nothing_deployed(app_status([_ingress()]))


def _result():
    result = ApplyResult()
    result.objects = [
        ObjectResult("Namespace", "acme", None, "v1", "unchanged"),
        ObjectResult("Secret", "acme-secrets", "acme", "v1", "created"),
        ObjectResult(
            "Deployment",
            "acme-odoo",
            "acme",
            "apps/v1",
            "failed",
            "Deployment acme/acme-odoo: invalid value 'hunter22'",
        ),
        ObjectResult("Ingress", "old", "acme", "networking.k8s.io/v1", "pruned"),
    ]
    return result


def test_result_rows_redact_messages():
    rows = result_rows(_result(), ["hunter22"])
    assert [r["action"] for r in rows] == ["unchanged", "created", "failed", "pruned"]
    assert rows[0] == {
        "sequence": 1,
        "kind": "Namespace",
        "name": "acme",
        "namespace": False,
        "api_version": "v1",
        "action": "unchanged",
        "message": False,
    }
    assert "hunter22" not in rows[2]["message"]
    assert "********" in rows[2]["message"]


def test_summary_and_failure_message():
    result = _result()
    result.prune_skipped = True
    assert (
        summary(result) == "1 created, 1 unchanged, 1 pruned, 1 failed (prune skipped)"
    )
    message = failure_message(result, ["hunter22"])
    assert message.startswith("Deployment acme/acme-odoo: invalid value")
    assert "hunter22" not in message
    ok = ApplyResult(dry_run=True)
    assert summary(ok) == "nothing to apply (dry run)"
    assert failure_message(ok) is None


def test_reset_ids_are_short_increasing_and_base36():
    assert new_reset_id(0) == "0"
    assert new_reset_id(0.035) == "z"
    assert new_reset_id(0.036) == "10"
    first, later = new_reset_id(1_800_000_000), new_reset_id(1_800_000_000.001)
    assert len(first) == 8 and first < later
    assert len(new_reset_id()) == 8
    with pytest.raises(ValueError):
        new_reset_id(-1)


def test_reset_job_progress():
    docs = [
        {"kind": "Secret", "metadata": {"name": "s"}},
        {"kind": "Job", "metadata": {"name": "acme-int-reset-abc"}},
        {"kind": "Job", "metadata": {}},
        None,
    ]
    assert job_names(docs) == ["acme-int-reset-abc"]
    status = app_status(
        [
            _job("acme-int-reset-a", failed=True),
            _job("acme-int-reset-b", succeeded=True),
        ]
    )
    assert reset_progress(status, "acme-int-reset-a") == ("failed", "backoff")
    assert reset_progress(status, "acme-int-reset-b") == ("succeeded", None)
    assert reset_progress(status, "acme-int-reset-c") == (None, None)
    assert reset_progress(None, "x") == (None, None)


def test_deploy_prune_kinds_leave_jobs_alone():
    kinds = [kind for _v, kind in DEPLOY_PRUNE_KINDS]
    assert "Job" not in kinds
    assert "Deployment" in kinds and "CronJob" in kinds
