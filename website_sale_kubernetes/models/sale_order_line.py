# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The app name a customer picks for a hosting line, and its check.

:meth:`SaleOrderLine._kubernetes_app_name_problems` is the one check used by
the live check while typing, the checkout step, the payment guard, the
confirmation and the benchmark: the core rules (:mod:`mintcloud.names`),
then names taken by apps (both ``X`` and ``X-int``) and names held by other
open orders.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.nameproblems import app_name_problems, name_candidates
from mintcloud.names import DEFAULT_DOMAIN, hostnames

#: Orders in these states hold the app names of their lines.
OPEN_ORDER_STATES = ("draft", "sent")


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    kubernetes_app_name = fields.Char(
        string="App Name",
        copy=False,
        index="btree_not_null",
        help="The customer's app name: the app is served as NAME.<domain>, its "
        "staging copy as NAME-int.<domain>.",
    )
    is_kubernetes_hosting = fields.Boolean(
        related="product_id.product_tmpl_id.kubernetes_hosting",
        string="Is Hosting",
    )
    kubernetes_hostname = fields.Char(
        string="App URL Host", compute="_compute_kubernetes_hostnames"
    )
    kubernetes_int_hostname = fields.Char(
        string="Staging URL Host", compute="_compute_kubernetes_hostnames"
    )
    kubernetes_app_ids = fields.One2many(
        "kubernetes.app", "sale_line_id", string="Kubernetes Apps"
    )
    kubernetes_provisioned = fields.Boolean(
        string="Apps Created", compute="_compute_kubernetes_provisioned"
    )

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("kubernetes_app_name", "product_id")
    def _compute_kubernetes_hostnames(self):
        for line in self:
            if line.kubernetes_app_name:
                prod, staging = hostnames(
                    line.kubernetes_app_name, line._kubernetes_domain()
                )
            else:
                prod = staging = False
            line.kubernetes_hostname = prod
            line.kubernetes_int_hostname = staging

    @api.depends("kubernetes_app_ids")
    def _compute_kubernetes_provisioned(self):
        lines = (
            self.env["kubernetes.app"]
            .sudo()
            .with_context(active_test=False)
            .search([("sale_line_id", "in", self.ids)])
            .sale_line_id
        )
        for line in self:
            line.kubernetes_provisioned = line in lines

    @api.constrains("kubernetes_app_name")
    def _check_kubernetes_app_name(self):
        """The name rules (not availability: that is checked at checkout)."""
        for line in self.filtered("kubernetes_app_name"):
            problems = app_name_problems(
                line.kubernetes_app_name, domain=line._kubernetes_domain()
            )
            if problems:
                raise ValidationError(
                    _(
                        "Invalid app name %(name)s: %(problems)s",
                        name=line.kubernetes_app_name,
                        problems=" ".join(
                            self._kubernetes_problem_message(p) for p in problems
                        ),
                    )
                )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _kubernetes_domain(self):
        """Base domain of the cluster of this line's hosting product."""
        self.ensure_one()
        cluster = self.sudo().product_id.product_tmpl_id.kubernetes_cluster_id
        return cluster.domain or DEFAULT_DOMAIN

    @api.model
    def _kubernetes_app_name_problems(
        self, name, domain=DEFAULT_DOMAIN, exclude_order_ids=(), include_orders=True
    ):
        """Every reason why ``name`` cannot be used, as problem dicts.

        Each dict has ``code`` (a rule of :data:`mintcloud.names.RULES`),
        ``message`` (translated) and ``params``.  Empty: the name is free.
        The rules are checked first; only a well-formed name is looked up:
        it is taken when an app on a cluster of ``domain`` uses it or its
        ``-int`` form (archived apps included), or, with ``include_orders``,
        when a line of an open order outside ``exclude_order_ids`` holds it.
        """
        if not isinstance(name, str):
            name = "" if name is None or name is False else str(name)
        problems = app_name_problems(name, domain=domain)
        if not problems:
            taken = self._kubernetes_taken_names(
                name_candidates(name), domain, exclude_order_ids, include_orders
            )
            if taken:
                problems = app_name_problems(name, taken=taken, domain=domain)
        for problem in problems:
            problem["message"] = self._kubernetes_problem_message(problem)
        return problems

    @api.model
    def _kubernetes_taken_names(
        self, candidates, domain, exclude_order_ids=(), include_orders=True
    ):
        """The names of ``candidates`` used by apps or held by open orders."""
        if not candidates:
            return set()
        apps = (
            self.env["kubernetes.app"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch(
                [("name", "in", candidates), ("cluster_id.domain", "=", domain)],
                ["name"],
            )
        )
        taken = set(apps.mapped("name"))
        if include_orders:
            domain_lines = [
                ("kubernetes_app_name", "in", candidates),
                ("order_id.state", "in", OPEN_ORDER_STATES),
            ]
            if exclude_order_ids:
                domain_lines.append(("order_id", "not in", list(exclude_order_ids)))
            lines = self.sudo().search_fetch(domain_lines, ["kubernetes_app_name"])
            taken.update(lines.mapped("kubernetes_app_name"))
        return taken

    @api.model
    def _kubernetes_problem_message(self, problem):
        """The translated message of one problem dict."""
        code, params = problem["code"], problem.get("params") or {}
        if code == "required":
            return _("Please enter an app name.")
        if code == "charset":
            if params.get("upper"):
                return _(
                    "Use lowercase letters: %(char)s at position %(position)s is "
                    "upper case.",
                    **params,
                )
            return _(
                "Use only lowercase letters a-z, digits 0-9 and '-': %(char)s at "
                "position %(position)s is not allowed.",
                **params,
            )
        if code == "start":
            return _("The name must start with a letter.")
        if code == "end":
            return _("The name must end with a letter or a digit.")
        if code == "length":
            return _(
                "The name must be %(min)s to %(max)s characters long (it has "
                "%(length)s), so that %(int_host)s stays a valid host name.",
                **params,
            )
        if code == "double-hyphen":
            return _(
                "The name must not contain '--' (reserved for punycode such as 'xn--')."
            )
        if code == "int-suffix":
            return _(
                "The name must not end in '%(suffix)s': that suffix names the "
                "staging copy.",
                **params,
            )
        if code == "reserved":
            return _("'%(name)s' is reserved; please choose another name.", **params)
        if code == "yaml":
            kind = params.get("kind")
            if kind == "null":
                return _(
                    "YAML (the format of the app's configuration) reads '%(name)s' "
                    "as null (no value), not as text; please choose another name.",
                    **params,
                )
            if kind == "boolean":
                return _(
                    "YAML (the format of the app's configuration) reads '%(name)s' "
                    "as a boolean (true/false), not as text; please choose another "
                    "name.",
                    **params,
                )
            if kind == "number":
                return _(
                    "YAML (the format of the app's configuration) reads '%(name)s' "
                    "as a number, not as text; please choose another name.",
                    **params,
                )
            if kind == "date":
                return _(
                    "YAML (the format of the app's configuration) reads '%(name)s' "
                    "as a date, not as text; please choose another name.",
                    **params,
                )
            return _(
                "YAML (the format of the app's configuration) reads '%(name)s' "
                "as YAML syntax, not as text; please choose another name.",
                **params,
            )
        if code == "taken":
            return _(
                "The name '%(name)s' is already taken; please choose another name.",
                **params,
            )
        return problem.get("message") or code
