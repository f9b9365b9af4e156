# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The last lines of a container's log, read on demand in a dialog.

In the app's namespace only, with the Cluster tab's short timeout; secret
values of the app are masked.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from mintcloud.errors import MintCloudError, TransientError
from mintcloud.observe import DEFAULT_TAIL_LINES, MAX_TAIL_LINES, read_log
from mintcloud.redact import redact_text


class KubernetesAppLog(models.TransientModel):
    _name = "kubernetes.app.log"
    _description = "Kubernetes Container Log"

    app_id = fields.Many2one(
        "kubernetes.app", string="App", required=True, ondelete="cascade"
    )
    namespace = fields.Char(related="app_id.namespace")
    pod = fields.Char(required=True, readonly=True)
    container = fields.Char(readonly=True)
    tail_lines = fields.Integer(
        string="Last Lines",
        default=DEFAULT_TAIL_LINES,
        help=f"How many lines, at most {MAX_TAIL_LINES}.",
    )
    since_seconds = fields.Integer(
        string="Since (seconds)",
        help="Only lines of the last seconds; 0 for all.",
    )
    previous = fields.Boolean(
        string="Previous Run",
        help="The log of the container's run before the current one: why a "
        "restarted container crashed.",
    )
    text = fields.Text(string="Log", readonly=True)
    error = fields.Char(readonly=True)
    read_at = fields.Datetime(string="Read On", readonly=True)

    @api.constrains("tail_lines", "since_seconds")
    def _check_options(self):
        for wizard in self:
            if not 1 <= wizard.tail_lines <= MAX_TAIL_LINES:
                raise ValidationError(
                    _(
                        "Last lines must be between 1 and %(max)s.",
                        max=MAX_TAIL_LINES,
                    )
                )
            if wizard.since_seconds < 0:
                raise ValidationError(_("Since cannot be negative."))

    def _read_log(self):
        """Read the log now; a failure is stored as the error."""
        self.ensure_one()
        app = self.app_id
        app.check_access_rights("read")
        app.check_access_rule("read")
        Observation = self.env["kubernetes.app.observation"]
        timeout = Observation._timeout()
        seconds = f"{timeout:g}"
        secrets = app._secret_values()
        values = {"read_at": fields.Datetime.now(), "text": False, "error": False}
        try:
            with app.cluster_id._api_client(timeout=timeout, retries=False) as client:
                values["text"] = read_log(
                    client,
                    app.namespace,
                    self.pod,
                    self.container or None,
                    self.tail_lines,
                    self.since_seconds or None,
                    self.previous,
                    timeout=timeout,
                    secrets=secrets,
                ) or _("(no log lines)")
        except TransientError as error:
            values["error"] = _(
                "Cluster %(cluster)s did not answer within %(seconds)s seconds: "
                "%(error)s. Try again later.",
                cluster=app.cluster_id.name,
                seconds=seconds,
                error=redact_text(str(error), secrets),
            )
        except MintCloudError as error:
            values["error"] = redact_text(str(error), secrets)
        self.write(values)

    def action_refresh(self):
        """Read again with the options of the dialog."""
        self.ensure_one()
        self._read_log()
        return self._action()

    def _action(self):
        self.ensure_one()
        title = f"{self.pod}/{self.container}" if self.container else self.pod
        return {
            "type": "ir.actions.act_window",
            "name": _("Logs of %(container)s", container=title),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
