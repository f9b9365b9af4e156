"""Fleet rollouts as pure functions: which apps, in which batches, and what next.

An operator changed a manifest and brings the apps that use it to the new
revision.  The Odoo addon keeps a rollout's state in its database (one line
per app) and works in queue jobs; every decision is made here, from plain
values:

* :func:`plan` orders the apps into batches: integration apps first, as
  canaries, then the production apps, ``batch_size`` apps a batch; apps of
  a suspended or terminated subscription are skipped with a reason.
* :func:`halt_reason` is the failure threshold: a failed canary halts the
  rollout before any production app is touched; so do more than
  ``max_failures`` failed apps, or more than ``max_failure_percent`` of them.
* :func:`next_step` says what to do given the state of every line: start
  lines of the current batch (at most ``max_concurrent`` in flight), wait,
  go on to the next batch (after ``pause_seconds``), halt, or finish.
* :func:`needs_upgrade` says whether an app's database must be upgraded
  before its new pods serve: when the images of its Deployments change
  (a new Odoo image, or an image carrying the addons); :func:`code_image`
  finds the new Odoo image the upgrade runs.
"""

import dataclasses

#: Lifecycles whose apps a rollout leaves alone (see mintcloud.lifecycle).
SKIP_LIFECYCLES = {
    "suspended": "suspended: its subscription is closed or overdue, or an "
    "operator suspended it; it gets the new revision when it is resumed",
    "terminating": "being terminated",
    "terminated": "terminated",
}
#: Line states: not started yet; started and not finished; finished.
PENDING = "pending"
STARTED = ("queued", "backup", "upgrade", "deploying")
FINISHED = ("done", "failed", "skipped", "cancelled")
LINE_STATES = (PENDING, *STARTED, *FINISHED)
#: Kinds whose pod templates tell which code an app runs.
CODE_KINDS = ("Deployment",)


@dataclasses.dataclass(frozen=True)
class Strategy:
    """How a rollout proceeds.

    ``canaries``: integration apps first, in batches of their own; one
    failure among them halts the rollout before production.  The rollout
    halts when more than ``max_failures`` apps failed, or more than
    ``max_failure_percent`` of the apps it deploys (100 switches that rule
    off).  ``pause_seconds`` is the wait between two batches.
    """

    batch_size: int = 10
    max_concurrent: int = 4
    canaries: bool = True
    max_failures: int = 2
    max_failure_percent: float = 10.0
    pause_seconds: int = 0

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if self.max_failures < 0:
            raise ValueError("max_failures must not be negative")
        if not 0 <= self.max_failure_percent <= 100:
            raise ValueError("max_failure_percent must lie between 0 and 100")
        if self.pause_seconds < 0:
            raise ValueError("pause_seconds must not be negative")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """An app a rollout may deploy: ``key`` identifies it to the caller."""

    key: object
    name: str
    environment: str = "prod"  # "prod" or "int"
    lifecycle: str = "active"


@dataclasses.dataclass(frozen=True)
class Plan:
    """Batches of keys (canary batches first) and the skipped apps.

    ``canary_batches`` is how many of the first batches hold canaries;
    ``skipped`` lists ``(key, reason)``.
    """

    batches: tuple = ()
    canary_batches: int = 0
    skipped: tuple = ()

    def batch_of(self, key):
        """``(batch index, is canary)`` of ``key``; None for a skipped app."""
        for index, batch in enumerate(self.batches):
            if key in batch:
                return index, index < self.canary_batches
        return None


@dataclasses.dataclass(frozen=True)
class Line:
    """One app of a running rollout: its batch and state (:data:`LINE_STATES`)."""

    key: object
    batch: int
    state: str = PENDING
    canary: bool = False


@dataclasses.dataclass(frozen=True)
class Step:
    """What to do next.

    ``action`` is ``start`` (start the lines ``start``), ``wait`` (lines are
    in flight, or a pause runs), ``next_batch`` (batch ``batch`` comes next,
    after ``pause_seconds``), ``halt`` (start nothing more: ``reason``) or
    ``done``.
    """

    action: str
    batch: int = 0
    start: tuple = ()
    pause_seconds: int = 0
    reason: str = None


def skip_reason(candidate):
    """Why a rollout leaves ``candidate`` alone, or None."""
    return SKIP_LIFECYCLES.get(candidate.lifecycle)


def _chunks(keys, size):
    return [tuple(keys[i : i + size]) for i in range(0, len(keys), size)]


def plan(candidates, strategy):
    """The :class:`Plan` of a rollout over ``candidates``.

    Apps keep their order within a group (sort them before: by name, say).
    With canaries the integration apps come first, in batches of their own;
    a batch never mixes canaries and production apps.
    """
    skipped, deploy = [], []
    for candidate in candidates:
        reason = skip_reason(candidate)
        if reason:
            skipped.append((candidate.key, reason))
        else:
            deploy.append(candidate)
    if strategy.canaries:
        canaries = [c.key for c in deploy if c.environment == "int"]
        others = [c.key for c in deploy if c.environment != "int"]
    else:
        canaries, others = [], [c.key for c in deploy]
    first = _chunks(canaries, strategy.batch_size)
    return Plan(
        batches=tuple(first + _chunks(others, strategy.batch_size)),
        canary_batches=len(first),
        skipped=tuple(skipped),
    )


def counts(lines):
    """``{state: number}`` of ``lines`` for every state, plus ``total``
    (every line) and ``finished``."""
    result = dict.fromkeys(LINE_STATES, 0)
    for line in lines:
        result[line.state] += 1
    result["total"] = len(lines)
    result["finished"] = sum(result[state] for state in FINISHED)
    return result


def progress(lines):
    """Percent (0-100) of the lines that are finished; 100 when there are none."""
    found = counts(lines)
    if not found["total"]:
        return 100.0
    return 100.0 * found["finished"] / found["total"]


def halt_reason(lines, strategy):
    """Why the rollout must halt (plain words), or None.

    Skipped and cancelled lines do not count toward the percentage: it is
    the share of the apps the rollout deploys.
    """
    failed = [line for line in lines if line.state == "failed"]
    if strategy.canaries:
        canaries = [line for line in failed if line.canary]
        if canaries:
            return (
                f"{len(canaries)} canary app(s) failed: the production apps are "
                "not touched"
            )
    if len(failed) > strategy.max_failures:
        return f"{len(failed)} apps failed, more than {strategy.max_failures}"
    deployed = [line for line in lines if line.state not in ("skipped", "cancelled")]
    if deployed and 100 * len(failed) > strategy.max_failure_percent * len(deployed):
        share = 100 * len(failed) / len(deployed)
        return (
            f"{len(failed)} of {len(deployed)} apps failed ({share:.0f} %), more "
            f"than {strategy.max_failure_percent:g} %"
        )
    return None


def next_step(lines, batch, strategy):
    """The :class:`Step` to take, given every line and the current ``batch``.

    Lines of later batches start only once every line of the current batch
    has finished; lines in flight always finish (a halt only stops new
    starts).
    """
    reason = halt_reason(lines, strategy)
    if reason:
        return Step("halt", batch=batch, reason=reason)
    in_flight = sum(1 for line in lines if line.state in STARTED)
    current = [line for line in lines if line.batch == batch]
    pending = [line.key for line in current if line.state == PENDING]
    free = strategy.max_concurrent - in_flight
    if pending and free > 0:
        return Step("start", batch=batch, start=tuple(pending[:free]))
    if pending or in_flight:
        return Step("wait", batch=batch)
    later = sorted(
        {line.batch for line in lines if line.batch > batch and line.state == PENDING}
    )
    if later:
        return Step("next_batch", batch=later[0], pause_seconds=strategy.pause_seconds)
    return Step("done", batch=batch)


def images(docs, kinds=CODE_KINDS):
    """The container images (init containers too) of the pod templates of
    the ``kinds`` among rendered ``docs``: a set."""
    found = set()
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") not in kinds:
            continue
        spec = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or {}
        for key in ("initContainers", "containers"):
            for container in spec.get(key) or ():
                if isinstance(container, dict) and container.get("image"):
                    found.add(container["image"])
    return found


def code_image(docs, container="odoo", kinds=CODE_KINDS):
    """The image of the container named ``container`` in the first of the
    ``kinds`` among ``docs`` that has one (the Odoo image), or None."""
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") not in kinds:
            continue
        spec = (((doc.get("spec") or {}).get("template") or {}).get("spec")) or {}
        for found in spec.get("containers") or ():
            if isinstance(found, dict) and found.get("name") == container:
                return found.get("image") or None
    return None


def needs_upgrade(previous_docs, new_docs):
    """True when the app's code changes: the images of its Deployments in
    ``new_docs`` differ from those in ``previous_docs`` (its last successful
    deployment).  Without a previous deployment there is nothing to
    upgrade: the first start creates the database."""
    if not previous_docs:
        return False
    return images(new_docs) != images(previous_docs)
