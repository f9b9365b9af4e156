# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Preview of an app: its rendered documents, the offline validation and,
with a connected cluster, the result of a server-side dry run.

Runs synchronously when the user clicks Preview; nothing is changed on the
cluster (``dryRun=All``).  Secret values are redacted everywhere.
"""

import yaml
from markupsafe import Markup

from odoo import _, fields, models

from mintcloud.apply import apply_app
from mintcloud.appstate import DEPLOY_PRUNE_KINDS, result_rows, summary
from mintcloud.errors import MintCloudError
from mintcloud.redact import redact_documents, redact_text
from mintcloud.render import render_sources
from mintcloud.tenancy import tenancy_problems
from mintcloud.validate import validate_documents


class KubernetesAppPreview(models.TransientModel):
    _name = "kubernetes.app.preview"
    _description = "Kubernetes App Preview"

    app_id = fields.Many2one("kubernetes.app", string="App", required=True)
    is_dry_run = fields.Boolean(related="app_id.cluster_id.is_dry_run")
    document_count = fields.Integer(string="Documents", readonly=True)
    rendered = fields.Text(string="Rendered Documents", readonly=True)
    problems = fields.Text(readonly=True)
    server_summary = fields.Char(string="Server Dry Run", readonly=True)
    server_result = fields.Html(
        string="Server Dry Run Result", readonly=True, sanitize=False
    )

    def _run(self):
        """Render, validate and, on a connected cluster, dry-run on the server."""
        self.ensure_one()
        app = self.app_id
        secrets = []
        try:
            variables = app._get_variables()
            secrets = variables.secret_values()
            templates = [
                (manifest.name, manifest._get_template_text())
                for manifest in app._get_manifests()
            ]
            sources = render_sources(templates, variables)
            docs = [doc for _name, manifest_docs in sources for doc in manifest_docs]
        except MintCloudError as error:
            self.problems = redact_text(str(error), secrets)
            return
        self.write(
            {
                "document_count": len(docs),
                "rendered": yaml.safe_dump_all(
                    redact_documents(docs, secrets),
                    sort_keys=False,
                    allow_unicode=True,
                    default_flow_style=False,
                ),
            }
        )
        problems = validate_documents(docs, app.cluster_id.kubernetes_version)
        problems += tenancy_problems(
            sources, app.cluster_id._tenant_policy(app.namespace)
        )
        if problems:
            self.problems = redact_text("\n".join(problems), secrets)
            return
        if not app.cluster_id.is_dry_run:
            self._server_dry_run(docs, secrets)

    def _server_dry_run(self, docs, secrets):
        app = self.app_id
        try:
            with app.cluster_id._api_client() as client:
                result = apply_app(
                    client,
                    app.name,
                    app.namespace,
                    docs,
                    dry_run=True,
                    prune_kinds=DEPLOY_PRUNE_KINDS,
                )
        except MintCloudError as error:
            self.problems = redact_text(str(error), secrets)
            return
        self.write(
            {
                "server_summary": summary(result),
                "server_result": self._result_table(result_rows(result, secrets)),
            }
        )

    @staticmethod
    def _result_table(rows):
        """An HTML table (values escaped) of per-object results."""
        head = Markup(
            "<table class='table table-sm o_kubernetes_preview_result'><thead><tr>"
            "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "</tr></thead><tbody>"
        ) % (_("Kind"), _("Name"), _("Namespace"), _("Action"), _("Message"))
        body = Markup("").join(
            Markup(
                "<tr><td>%s</td><td><code>%s</code></td><td>%s</td>"
                "<td>%s</td><td>%s</td></tr>"
            )
            % (
                row["kind"],
                row["name"],
                row["namespace"] or "",
                row["action"],
                row["message"] or "",
            )
            for row in rows
        )
        return head + body + Markup("</tbody></table>")
