# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Clusters that publish their apps' Mailgun DNS records through external-dns."""

from odoo import api, fields, models

from mintcloud.errors import MintCloudError
from mintcloud.maildns import DNSENDPOINT_ENTRY
from mintcloud.tenancy import parse_kinds


class KubernetesCluster(models.Model):
    _inherit = "kubernetes.cluster"

    mailgun_publish_dns = fields.Boolean(
        string="Publish Mailgun DNS Records",
        help="The apps of this cluster get their Mailgun domain's DNS records as "
        "the built-in variable mailgun_dns_records; a manifest such as "
        "'Mailgun: DNS records (external-dns)' renders them into DNSEndpoint "
        "objects that external-dns (--source=crd) publishes. Mailgun is asked "
        "to verify the domain after each deployment. Switching it on allows "
        "the kind externaldns.k8s.io/DNSEndpoint. Off: the records are shown "
        "on the app for the operator to publish.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("mailgun_publish_dns"):
                vals["allowed_kinds"] = self._with_dnsendpoint(
                    vals.get("allowed_kinds")
                    or self._fields["allowed_kinds"].default(self)
                )
        return super().create(vals_list)

    def write(self, vals):
        result = super().write(vals)
        if vals.get("mailgun_publish_dns"):
            for cluster in self:
                kinds = self._with_dnsendpoint(cluster.allowed_kinds)
                if kinds != cluster.allowed_kinds:
                    super(KubernetesCluster, cluster).write({"allowed_kinds": kinds})
        return result

    @api.model
    def _with_dnsendpoint(self, allowed_kinds):
        """``allowed_kinds`` with the DNSEndpoint kind added when missing.

        An unreadable list is returned as it is: the cluster's constraint
        names its problem.
        """
        try:
            if DNSENDPOINT_ENTRY in parse_kinds(allowed_kinds or ""):
                return allowed_kinds
        except MintCloudError:
            return allowed_kinds
        return (allowed_kinds or "").rstrip("\n") + "\n" + DNSENDPOINT_ENTRY
