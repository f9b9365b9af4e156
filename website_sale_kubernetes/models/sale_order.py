# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Hosting lines of an order: app names at checkout, apps on confirmation.

Confirming an order (after payment) creates, for each hosting line, the
production app ``NAME`` and its integration app ``NAME-int`` in one
savepoint: both or neither.  A line whose name is no longer free (taken
between checkout and payment) gets no apps; the operator gets an activity
on the order instead.  ``unique(sale_line_id, environment)`` on the apps
makes a second confirmation, a replayed payment notification or a
concurrent transaction unable to create more apps.
"""

import logging

from psycopg2 import IntegrityError

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from mintcloud.nameproblems import name_candidates
from mintcloud.names import int_name

_logger = logging.getLogger(__name__)

#: The constraint that makes provisioning idempotent (see kubernetes_app.py).
PROVISION_CONSTRAINT = "kubernetes_app_sale_line_environment_uniq"


class SaleOrder(models.Model):
    _inherit = "sale.order"

    kubernetes_app_ids = fields.One2many(
        "kubernetes.app", "sale_order_id", string="Kubernetes Apps"
    )
    kubernetes_app_count = fields.Integer(
        string="Apps", compute="_compute_kubernetes_app_count"
    )
    kubernetes_apps_missing = fields.Boolean(
        string="Apps Missing",
        compute="_compute_kubernetes_apps_missing",
        help="The order is confirmed but some hosting lines have no apps yet.",
    )

    # ------------------------------------------------------------------
    # Compute
    # ------------------------------------------------------------------

    def _compute_kubernetes_app_count(self):
        counts = dict(
            self.env["kubernetes.app"]
            .sudo()
            ._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.kubernetes_app_count = counts.get(order, 0)

    @api.depends("state", "order_line.product_id")
    def _compute_kubernetes_apps_missing(self):
        for order in self:
            order.kubernetes_apps_missing = order.state == "sale" and bool(
                order._kubernetes_lines_to_provision()
            )

    # ------------------------------------------------------------------
    # Cart (website_sale hooks)
    # ------------------------------------------------------------------

    def _verify_updated_quantity(self, order_line, product_id, new_qty, **kwargs):
        """A hosting line is one app: its quantity stays 1."""
        quantity, warning = super()._verify_updated_quantity(
            order_line, product_id, new_qty, **kwargs
        )
        product = self.env["product.product"].browse(product_id)
        if quantity > 1 and product.product_tmpl_id.sudo().kubernetes_hosting:
            return 1, _(
                "%(product)s is one app: to host another app, order it again "
                "after this order.",
                product=product.display_name,
            )
        return quantity, warning

    def _check_cart_is_ready_to_be_paid(self):
        """No payment without a valid, free app name on each hosting line."""
        super()._check_cart_is_ready_to_be_paid()
        if not self._kubernetes_app_names_ready():
            raise ValidationError(
                _("Please choose a valid app name for each hosting product first.")
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_confirm(self):
        result = super().action_confirm()
        self._kubernetes_create_apps()
        return result

    def action_view_kubernetes_apps(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "kubernetes_app.kubernetes_app_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_kubernetes_create_apps(self):
        """Create the missing apps (after the operator fixed an app name)."""
        self.check_access_rights("write")
        self.check_access_rule("write")
        missing = self.filtered(lambda order: order.state == "sale")
        before = missing.kubernetes_app_ids
        missing.sudo()._kubernetes_create_apps()
        created = missing.kubernetes_app_ids - before
        if created:
            hosts = ", ".join(created.mapped("hostname"))
            message, kind = _("Created: %(hosts)s", hosts=hosts), "success"
        else:
            message = _("No app created: see the activities of the order.")
            kind = "warning"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Create Apps"),
                "message": message,
                "type": kind,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _kubernetes_hosting_lines(self):
        return self.order_line.filtered(
            lambda line: line.product_id.product_tmpl_id.sudo().kubernetes_hosting
        )

    def _kubernetes_check_app_names(self, names):
        """Check the names ``{line id: name}`` picked for this cart's lines.

        Returns ``{line id: [problem, ...]}`` for the lines with a problem:
        the rules, names used by apps or held by other open orders, and the
        same name picked for two lines of this order.
        """
        self.ensure_one()
        lines = self._kubernetes_hosting_lines()
        errors = {}
        for line in lines:
            name = names.get(line.id)
            problems = line._kubernetes_app_name_problems(
                name, line._kubernetes_domain(), exclude_order_ids=self.ids
            )
            if not problems and self._kubernetes_picked_twice(line, names):
                problems = [
                    {
                        "code": "taken",
                        "params": {"name": name},
                        "message": _(
                            "You picked '%(name)s' for another hosting product "
                            "of this order; please choose another name.",
                            name=name,
                        ),
                    }
                ]
            if problems:
                errors[line.id] = problems
        return errors

    @staticmethod
    def _kubernetes_picked_twice(line, names):
        """True when another line's name clashes with ``line``'s (X or X-int)."""
        own = set(name_candidates(names.get(line.id)))
        return any(
            own & set(name_candidates(other))
            for line_id, other in names.items()
            if line_id != line.id and other
        )

    def _kubernetes_app_names_ready(self):
        """Each hosting line has a name that follows the rules and no app uses."""
        for order in self:
            names = {
                line.id: line.kubernetes_app_name
                for line in order._kubernetes_hosting_lines()
            }
            for line in order._kubernetes_hosting_lines():
                if not line.kubernetes_app_name or line._kubernetes_app_name_problems(
                    line.kubernetes_app_name,
                    line._kubernetes_domain(),
                    include_orders=False,
                ):
                    return False
                if self._kubernetes_picked_twice(line, names):
                    return False
        return True

    def _kubernetes_lines_to_provision(self):
        """The hosting lines of these orders that have no app yet (archived
        apps count)."""
        lines = self._kubernetes_hosting_lines()
        if not lines:
            return lines
        done = (
            self.env["kubernetes.app"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch([("sale_line_id", "in", lines.ids)], ["sale_line_id"])
            .sale_line_id
        )
        return lines - done

    def _kubernetes_create_apps(self):
        """Create the two apps of each hosting line of the confirmed orders."""
        for order in self.filtered(lambda o: o.state == "sale"):
            for line in order._kubernetes_lines_to_provision():
                order._kubernetes_provision_line(line)

    def _kubernetes_provision_line(self, line):
        """Create ``NAME`` and ``NAME-int`` for ``line``: both, or neither
        and an activity for the operator.  Returns the apps created."""
        self.ensure_one()
        apps = self.env["kubernetes.app"].sudo()
        # Serialise provisioning of this line: a concurrent transaction that
        # provisions it too fails here with a serialization error, and Odoo
        # retries its request, which then finds the apps.
        self.env.cr.execute(
            "UPDATE sale_order_line SET write_date = write_date WHERE id = %s",
            [line.id],
        )
        name = line.kubernetes_app_name
        if not name:
            self._kubernetes_report(line, _("the order line has no app name"))
            return apps
        problems = line._kubernetes_app_name_problems(
            name, line._kubernetes_domain(), include_orders=False
        )
        if problems:
            self._kubernetes_report(line, " ".join(p["message"] for p in problems))
            return apps
        try:
            with self.env.cr.savepoint():
                prod = apps.create(self._kubernetes_app_values(line))
                staging = apps.create(self._kubernetes_app_values(line, prod_app=prod))
        except IntegrityError as error:
            if error.diag.constraint_name == PROVISION_CONSTRAINT:
                # Another transaction created this line's apps first.
                _logger.info("Apps of order line %s already exist", line.id)
                return apps
            self._kubernetes_report(line, _("the app name was taken meanwhile"))
            return apps
        except (ValidationError, UserError) as error:
            self._kubernetes_report(line, str(error))
            return apps
        created = prod | staging
        self.sudo().message_post(
            body=_(
                "Apps created for %(product)s: %(hosts)s; their deployment is queued.",
                product=line.product_id.display_name,
                hosts=", ".join(created.mapped("hostname")),
            )
        )
        return created

    def _kubernetes_app_values(self, line, prod_app=None):
        """Values of the production app of ``line``, or of its integration
        app when ``prod_app`` is given."""
        product = line.product_id.product_tmpl_id.sudo()
        subscription = self.subscription_ids.filtered(
            lambda sub: line.product_id in sub.sale_subscription_line_ids.product_id
        )[:1]
        values = {
            "partner_id": self.partner_id.id,
            "cluster_id": product.kubernetes_cluster_id.id,
            "product_id": line.product_id.id,
            "subscription_id": subscription.id,
            "sale_line_id": line.id,
            "manifest_line_ids": [
                fields.Command.create(
                    {"sequence": m.sequence, "manifest_id": m.manifest_id.id}
                )
                for m in product._kubernetes_manifests("deploy")
            ],
            "backup_manifest_ids": [
                fields.Command.set(
                    product._kubernetes_manifests("backup").manifest_id.ids
                )
            ],
            "upgrade_manifest_ids": [
                fields.Command.set(
                    product._kubernetes_manifests("upgrade").manifest_id.ids
                )
            ],
        }
        if prod_app is None:
            values.update(name=line.kubernetes_app_name, environment="prod")
        else:
            reset = product._kubernetes_manifests("reset").manifest_id
            values.update(
                name=int_name(prod_app.name),
                environment="int",
                prod_app_id=prod_app.id,
                reset_manifest_ids=[fields.Command.set(reset.ids)],
            )
        return values

    def _kubernetes_report(self, line, reason):
        """An activity for the operator: the apps of ``line`` were not created."""
        self.ensure_one()
        _logger.info(
            "Order %s line %s: apps not created: %s", self.name, line.id, reason
        )
        self.sudo().activity_schedule(
            "mail.mail_activity_data_todo",
            summary=_(
                "Apps not created: %(name)s",
                name=line.kubernetes_app_name or line.product_id.display_name,
            ),
            note=_(
                "The apps of %(product)s (app name %(name)s) were not created: "
                "%(reason)s. Set a free app name on the order line, then click "
                "Create Apps.",
                product=line.product_id.display_name,
                name=line.kubernetes_app_name or "-",
                reason=reason,
            ),
            user_id=self._kubernetes_operator().id,
        )

    def _kubernetes_operator(self):
        """Who gets the activity: salesperson, website salesperson or admin."""
        self.ensure_one()
        return (
            self.user_id
            or self.website_id.salesperson_id
            or self.team_id.user_id
            or self.env.ref("base.user_admin")
        )
