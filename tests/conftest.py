"""Fixtures shared by the plain test suite.

The fixtures that start the fake servers (and the clients for them) are
defined next to the fakes and re-exported here so every test module can use
them by name.
"""

import os

from tests.fakes.kube_api import (  # noqa: F401
    apps,
    core,
    dyn,
    kube_api,
    kube_client,
)
from tests.fakes.mailgun_api import mailgun_api  # noqa: F401
from tests.fakes.smtp_sink import smtp_sink  # noqa: F401

# The served check starts a whole Odoo (minutes): tests/run_suites.py runs it
# as its own phase after the Odoo suites, with MINTCLOUD_SERVED=1.
collect_ignore = [] if os.environ.get("MINTCLOUD_SERVED") else ["served"]

# Counts the foundation promises, printed at the end of every run: each is the
# number of PASSED tests of one kind (a failing one is not counted).
PROOF_COUNTS = {
    "hostile app names rejected with the right message": (
        "test_names.py::test_hostile_name_is_rejected_with_expected_code["
    ),
    "templates rendered as ansible-playbook renders them": (
        "test_ansible_parity.py::test_core_renders_like_ansible["
    ),
    "injected API faults classified, then converged": (
        "test_apply.py::test_transient_fault_aborts_and_the_next_run_converges[",
        "test_apply.py::test_slow_server_times_out_and_the_next_run_converges",
    ),
}


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("MINTCLOUD_SERVED"):
        return  # the served check proves other things
    passed = [report.nodeid for report in terminalreporter.stats.get("passed", [])]
    terminalreporter.section("Mint Cloud proof counts")
    for label, patterns in PROOF_COUNTS.items():
        patterns = (patterns,) if isinstance(patterns, str) else patterns
        count = sum(1 for nodeid in passed if any(p in nodeid for p in patterns))
        terminalreporter.write_line(f"{label}: {count}")
