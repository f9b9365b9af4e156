# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Shared set-up: a dry-run cluster on mint-cloud.ch, the demo manifest
templates (read from kubernetes_manifest's static folder, no network), a
subscribable hosting product and a customer with a complete address."""

import codecs
import pathlib

from odoo import Command
from odoo.modules.module import get_module_path

MANIFEST_FILES = ("secret", "filestore-pvc", "postgres", "odoo", "ingress")
DOMAIN = "mint-cloud.ch"


def manifest_url(file):
    return f"/kubernetes_manifest/static/manifests/{file}.yaml"


def load_hostile_names():
    """``[(name, expected code)]`` from the core suite's hostile-name corpus
    (format in the header of tests/data/hostile_names.txt)."""
    repo = pathlib.Path(get_module_path("website_sale_kubernetes")).parent
    corpus = repo / "tests" / "data" / "hostile_names.txt"
    cases = []
    for line in corpus.read_text(encoding="ascii").splitlines():
        if not line or line.startswith("#"):
            continue
        raw, code = line.rsplit("\t", 1)
        cases.append((codecs.decode(raw, "unicode_escape"), code))
    return cases


def create_hosting_fixture(env, name="Hosting Test", cluster=None):
    """Cluster, manifests, subscription template and hosting product.

    Returns a dict with ``cluster``, ``manifests`` (deploy), ``reset``,
    ``template`` (product.template) and ``product`` (product.product).
    """
    cluster = cluster or env["kubernetes.cluster"].create(
        {"name": f"{name} cluster", "domain": DOMAIN, "connection": "dry_run"}
    )
    Manifest = env["kubernetes.manifest"]
    manifests = Manifest.browse()
    for index, file in enumerate(MANIFEST_FILES, start=1):
        manifests |= Manifest.create(
            {"name": f"{name} {file}", "url": manifest_url(file), "sequence": index}
        )
    reset = Manifest.create(
        {"name": f"{name} reset", "url": manifest_url("reset-job"), "kind": "reset"}
    )
    subscription_template = env["sale.subscription.template"].create(
        {"name": f"{name} monthly", "recurring_rule_type": "months"}
    )
    template = env["product.template"].create(
        {
            "name": name,
            "detailed_type": "service",
            "list_price": 49.0,
            "is_published": True,
            "subscribable": True,
            "subscription_template_id": subscription_template.id,
            "kubernetes_hosting": True,
            "kubernetes_cluster_id": cluster.id,
            "kubernetes_manifest_line_ids": [
                Command.create({"sequence": index * 10, "manifest_id": manifest.id})
                for index, manifest in enumerate(manifests | reset, start=1)
            ],
            "kubernetes_variable_ids": [
                Command.create({"name": "odoo_workers", "value": "3"}),
                Command.create(
                    {"name": "smtp_password", "value": "s3cret-smtp", "secret": True}
                ),
                Command.create({"name": "api_token", "generate": True}),
            ],
        }
    )
    return {
        "cluster": cluster,
        "manifests": manifests,
        "reset": reset,
        "template": template,
        "product": template.product_variant_id,
    }


def create_customer(env, name="Ada Customer", email="ada@example.com"):
    return env["res.partner"].create(
        {
            "name": name,
            "email": email,
            "street": "Bahnhofstrasse 1",
            "city": "Zürich",
            "zip": "8001",
            "country_id": env.ref("base.ch").id,
            "phone": "+41 44 000 00 00",
        }
    )


def create_order(env, partner, product, app_name=None, website=None):
    """A draft website order with one hosting line (optionally named)."""
    website = website or env["website"].get_current_website()
    order = env["sale.order"].create(
        {
            "partner_id": partner.id,
            "website_id": website.id,
            "order_line": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": 1,
                        "kubernetes_app_name": app_name or False,
                    }
                )
            ],
        }
    )
    return order
