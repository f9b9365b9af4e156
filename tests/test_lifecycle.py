"""The subscription lifecycle rules (mintcloud.lifecycle) as tables."""

import datetime

import pytest

from mintcloud.lifecycle import Facts, Plan, plan, refusal, transition

D = datetime.date
TODAY = D(2026, 12, 20)


def facts(**values):
    return Facts(today=TODAY, **values)


@pytest.mark.parametrize(
    "given, expected",
    [
        # running subscription, nothing unpaid
        (facts(), Plan("active")),
        # overdue, inside the grace period: no notice yet, then a notice
        (facts(overdue_since=D(2026, 12, 10)), Plan("active", None, D(2026, 12, 24))),
        (
            facts(overdue_since=D(2026, 12, 9)),
            Plan("active", None, D(2026, 12, 23), "overdue"),
        ),
        (
            facts(overdue_since=D(2026, 12, 7)),
            Plan("active", None, D(2026, 12, 21), "overdue"),
        ),
        # the grace period is over: suspended (on the day itself too)
        (facts(overdue_since=D(2026, 12, 6)), Plan("suspended", "overdue", TODAY)),
        (
            facts(overdue_since=D(2026, 11, 1)),
            Plan("suspended", "overdue", D(2026, 11, 15)),
        ),
        # grace 0: never suspended for overdue payment
        (facts(overdue_since=D(2026, 1, 1), grace_days=0), Plan("active")),
        # a custom grace period and notice
        (
            facts(overdue_since=D(2026, 12, 15), grace_days=7, notice_days=2),
            Plan("active", None, D(2026, 12, 22), "overdue"),
        ),
        (
            facts(overdue_since=D(2026, 12, 15), grace_days=7, notice_days=1),
            Plan("active", None, D(2026, 12, 22)),
        ),
        # closed: suspended at once, terminated after 30 days, notice 3 days before
        (facts(closed_on=TODAY), Plan("suspended", "closed", D(2027, 1, 19))),
        (
            facts(closed_on=D(2026, 11, 23)),
            Plan("suspended", "closed", D(2026, 12, 23), "termination"),
        ),
        (facts(closed_on=D(2026, 11, 20)), Plan("terminated", "closed", TODAY)),
        (facts(closed_on=D(2026, 1, 1)), Plan("terminated", "closed", D(2026, 1, 31))),
        # closed wins over overdue
        (
            facts(closed_on=TODAY, overdue_since=D(2026, 1, 1)),
            Plan("suspended", "closed", D(2027, 1, 19)),
        ),
        # terminate after 0 days: terminated the day it is closed
        (
            facts(closed_on=TODAY, terminate_after_days=0),
            Plan("terminated", "closed", TODAY),
        ),
    ],
)
def test_plan(given, expected):
    assert plan(given) == expected


SUSPENDED_CLOSED = Plan("suspended", "closed")
SUSPENDED_OVERDUE = Plan("suspended", "overdue")
ACTIVE = Plan("active")
TERMINATED = Plan("terminated", "closed")


@pytest.mark.parametrize(
    "lifecycle, reason, planned, step",
    [
        ("active", None, ACTIVE, None),
        ("active", None, SUSPENDED_CLOSED, "suspend"),
        ("active", None, SUSPENDED_OVERDUE, "suspend"),
        ("active", None, TERMINATED, "terminate"),
        ("suspended", "closed", SUSPENDED_CLOSED, None),
        # suspended for one reason, the other applies now: stays suspended
        ("suspended", "overdue", SUSPENDED_CLOSED, None),
        ("suspended", "closed", ACTIVE, "resume"),
        ("suspended", "overdue", ACTIVE, "resume"),
        ("suspended", "closed", TERMINATED, "terminate"),
        # an operator's suspension is the operator's to lift
        ("suspended", "manual", ACTIVE, None),
        ("suspended", "manual", TERMINATED, "terminate"),
        # nothing comes back from termination
        ("terminating", None, ACTIVE, None),
        ("terminating", None, TERMINATED, None),
        ("terminated", "closed", ACTIVE, None),
        ("terminated", "closed", SUSPENDED_CLOSED, None),
    ],
)
def test_transition(lifecycle, reason, planned, step):
    assert transition(lifecycle, reason, planned) == step


@pytest.mark.parametrize(
    "lifecycle, step, why",
    [
        ("active", "suspend", None),
        ("active", "terminate", None),
        ("active", "resume", "not-suspended"),
        ("suspended", "resume", None),
        ("suspended", "terminate", None),
        ("suspended", "suspend", "suspended"),
        ("terminating", "resume", "terminating"),
        ("terminating", "terminate", None),
        ("terminated", "resume", "terminated"),
        ("terminated", "suspend", "terminated"),
        ("terminated", "terminate", "terminated"),
    ],
)
def test_refusal(lifecycle, step, why):
    assert refusal(lifecycle, step) == why
