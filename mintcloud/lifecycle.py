"""The life of a hosting subscription's apps: run, suspend, resume, terminate.

A pure function of the subscription's facts (:class:`Facts`) says where its
apps should be (:func:`plan`); :func:`transition` turns that and where an app
is into the one step to take.  The Odoo addons gather the facts (stage,
invoices, product settings, today), enqueue the step as a job and tell the
customer; nothing here knows Odoo.

Rules:

* a subscription in a closed stage suspends its apps at once, and terminates
  them ``terminate_after_days`` after it was closed;
* an invoice unpaid ``grace_days`` after its due date suspends the apps
  (``grace_days == 0``: never for overdue payment); paying it (no invoice
  overdue any more) resumes them;
* the customer is told ``notice_days`` before an overdue suspension and
  before a termination (:attr:`Plan.notice`);
* an app an operator suspended by hand stays suspended until an operator
  resumes it; a terminated (or terminating) app never comes back.
"""

import dataclasses
import datetime

LIFECYCLES = ("active", "suspended", "terminating", "terminated")
REASONS = ("closed", "overdue", "manual")
STEPS = ("suspend", "resume", "terminate")


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the billing side knows about one subscription, on ``today``."""

    today: datetime.date
    #: Since when the subscription is in a closed stage; None while it is not.
    closed_on: datetime.date | None = None
    #: Due date of the oldest invoice still unpaid after it; None when none is.
    overdue_since: datetime.date | None = None
    grace_days: int = 14
    terminate_after_days: int = 30
    notice_days: int = 3


@dataclasses.dataclass(frozen=True)
class Plan:
    """Where the apps of a subscription should be, and what to tell the customer."""

    lifecycle: str  # "active", "suspended" or "terminated"
    reason: str | None = None  # "closed" or "overdue" when not active
    #: The day of the coming overdue suspension, or of the termination.
    due_on: datetime.date | None = None
    #: "overdue" or "termination": a notice the customer gets before ``due_on``.
    notice: str | None = None


def plan(facts):
    """The :class:`Plan` for ``facts``."""
    days = datetime.timedelta
    if facts.closed_on is not None:
        terminate_on = facts.closed_on + days(days=max(facts.terminate_after_days, 0))
        if facts.today >= terminate_on:
            return Plan("terminated", "closed", terminate_on)
        notice = (
            "termination"
            if facts.today >= terminate_on - days(days=max(facts.notice_days, 0))
            else None
        )
        return Plan("suspended", "closed", terminate_on, notice)
    if facts.overdue_since is not None and facts.grace_days > 0:
        suspend_on = facts.overdue_since + days(days=facts.grace_days)
        if facts.today >= suspend_on:
            return Plan("suspended", "overdue", suspend_on)
        if facts.today >= suspend_on - days(days=max(facts.notice_days, 0)):
            return Plan("active", None, suspend_on, "overdue")
        return Plan("active", None, suspend_on)
    return Plan("active")


def transition(lifecycle, reason, planned):
    """The step (``"suspend"``, ``"resume"``, ``"terminate"``) or None.

    ``lifecycle``/``reason`` are where the app is; ``planned`` a :class:`Plan`.
    A manual suspension is not undone by the billing side; a suspension for
    one reason is not repeated for another (the app is already suspended).
    """
    if lifecycle in ("terminating", "terminated"):
        return None
    if planned.lifecycle == "terminated":
        return "terminate"
    if planned.lifecycle == "suspended":
        return "suspend" if lifecycle == "active" else None
    if lifecycle == "suspended" and reason != "manual":
        return "resume"
    return None


def refusal(lifecycle, step):
    """Why ``step`` cannot be asked of an app in ``lifecycle``, or None."""
    if lifecycle == "terminated":
        return "terminated"
    if lifecycle == "terminating" and step != "terminate":
        return "terminating"
    if step == "resume" and lifecycle == "active":
        return "not-suspended"
    if step == "suspend" and lifecycle == "suspended":
        return "suspended"
    return None
