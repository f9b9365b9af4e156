# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Manifest templates: a title and a URL, plus the cached template.

Downloading and checking is the core package's job
(:mod:`mintcloud.fetch`); this model stores the outcome.  A URL into a
module's static folder (``/<module>/static/...``) is read from the module's
file, which is what Odoo serves at that path, so the demo manifests work
offline and while the module is being installed.
"""

import datetime
import hashlib
import logging
import posixpath
import re
from urllib.parse import unquote

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import file_open

from mintcloud.errors import MintCloudError, PermanentFetchError
from mintcloud.fetch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    FetchResult,
    check_template,
    check_url,
    check_yaml,
    fetch_manifest,
    preview_documents,
    redact_url,
)

_logger = logging.getLogger(__name__)

PARAM_TIMEOUT = "kubernetes_manifest.fetch_timeout"
PARAM_MAX_BYTES = "kubernetes_manifest.fetch_max_bytes"

# "/<module>/static/<resource>" once normalised: what Odoo serves from files.
_STATIC_PATH = re.compile(r"^/(?P<module>[A-Za-z0-9_]+)/static/[^/].*$")


def local_static_path(url):
    """``"<module>/static/<resource>"`` for a URL into a module's static folder.

    None for anything else, including paths that leave the static folder
    with ``..`` and protocol-relative URLs (``//host/...``).
    """
    if not url or not url.startswith("/") or url.startswith("//"):
        return None
    path = unquote(re.split(r"[?#]", url, maxsplit=1)[0])
    normalised = posixpath.normpath(path)
    if normalised.startswith("//") or not _STATIC_PATH.match(normalised):
        return None
    return normalised[1:]


def _positive(value, convert, default):
    """``convert(value)`` when it is a positive number, else ``default``."""
    try:
        number = convert(value)
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


class KubernetesManifest(models.Model):
    _name = "kubernetes.manifest"
    _description = "Kubernetes Manifest"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(string="Title", required=True, tracking=True)
    url = fields.Char(
        string="URL",
        required=True,
        tracking=True,
        help="Where the Jinja2/YAML template is downloaded from: an http(s) URL, "
        "or a path into a module's static folder such as "
        "/kubernetes_manifest/static/manifests/odoo.yaml.",
    )
    kind = fields.Selection(
        [
            ("deploy", "Deploy"),
            ("reset", "Reset"),
            ("backup", "Backup"),
            ("upgrade", "Upgrade"),
        ],
        required=True,
        default="deploy",
        help="Deploy manifests make up an app; reset manifests copy the "
        "production app into its integration app; backup manifests take the "
        "final backup of an app before it is terminated (and, when a rollout "
        "asks for it, a backup before an upgrade); upgrade manifests update "
        "an app's database to new code before a rollout's new pods serve.",
    )
    sequence = fields.Integer(default=10, help="Order in which manifests are applied.")
    active = fields.Boolean(default=True)
    description = fields.Text()
    content = fields.Text(
        string="Template", readonly=True, help="The template as last fetched."
    )
    etag = fields.Char(string="ETag", readonly=True)
    sha256 = fields.Char(string="SHA-256", readonly=True)
    fetched_at = fields.Datetime(
        string="Fetched on", readonly=True, help="Time of the last successful fetch."
    )
    fetch_error = fields.Text(
        readonly=True, help="Why the last fetch failed; empty when it succeeded."
    )
    document_count = fields.Integer(
        string="Documents", compute="_compute_document_preview"
    )
    document_preview = fields.Html(
        string="Preview", compute="_compute_document_preview", sanitize=False
    )

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("content")
    def _compute_document_preview(self):
        for manifest in self:
            documents = preview_documents(manifest.content or "")
            manifest.document_count = len(documents)
            manifest.document_preview = self._preview_table(documents)

    def _preview_table(self, documents):
        """An HTML table (values escaped) of the documents, or False."""
        if not documents:
            return False
        head = Markup(
            "<table class='table table-sm o_kubernetes_manifest_preview'>"
            "<thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>"
        ) % (_("Kind"), _("Name"), _("API Version"))
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td><code>%s</code></td><td>%s</td></tr>")
            % (doc["kind"] or "", doc["name"] or "", doc["apiVersion"] or "")
            for doc in documents
        )
        return head + rows + Markup("</tbody></table>")

    @api.constrains("url")
    def _check_url(self):
        for manifest in self:
            if local_static_path(manifest.url):
                continue
            try:
                check_url(manifest.url)
            except PermanentFetchError:
                raise ValidationError(
                    _(
                        "Manifest %(name)s: the URL %(url)s must start with http:// "
                        "or https://, or point into a module's static folder "
                        "(/<module>/static/...).",
                        name=manifest.name,
                        url=redact_url(manifest.url),
                    )
                ) from None

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        manifests = super().create(vals_list)
        manifests._fetch(force=True)
        return manifests

    def write(self, vals):
        if vals.get("content") and "sha256" not in vals:
            # A template written directly (not fetched) is a new revision too.
            vals = dict(
                vals, sha256=hashlib.sha256(vals["content"].encode()).hexdigest()
            )
        result = super().write(vals)
        if "url" in vals:
            self._fetch(force=True)
        return result

    @api.onchange("url")
    def _onchange_url(self):
        """Preview the template before the record is saved.

        Only for those who may change manifests: anybody who can read them
        can call an onchange, and it must not make Odoo fetch any URL for
        them.
        """
        if not self.url or not self.check_access_rights("write", False):
            return
        try:
            result = self._fetch_result(force=True)
        except MintCloudError as error:
            self.fetch_error = str(error)
            return
        self.update(self._result_values(result))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_fetch(self):
        """Fetch now (ignoring the ETag) and say how it went."""
        success = self._fetch(force=True)
        if success:
            if len(self) == 1:
                message = _("%(count)s documents", count=self.document_count)
            else:
                message = _("%(count)s manifests fetched", count=len(self))
        else:
            message = "\n".join(self.filtered("fetch_error").mapped("fetch_error"))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Fetch now"),
                "message": message,
                "type": "success" if success else "danger",
                "sticky": not success,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _fetch(self, force=False):
        """Fetch every manifest; store the template or the error, never raise.

        Without ``force`` the stored ETag is sent and a 304 keeps the
        content.  Returns True when every manifest was fetched.
        """
        success = True
        for manifest in self:
            success = manifest._fetch_one(force) is None and success
        return success

    def _fetch_one(self, force=False):
        """Fetch this manifest and store the outcome; the error or None."""
        self.ensure_one()
        try:
            result = self._fetch_result(force)
        except MintCloudError as error:
            _logger.info("Manifest %s (id %s): %s", self.name, self.id, error)
            self.write({"fetch_error": str(error)})
            return error
        changed = bool(result.sha256) and result.sha256 != self.sha256
        self.write(self._result_values(result))
        if changed:
            # A note of the system, not of the user (who may have no email).
            self._message_log(
                body=_(
                    "Template fetched: %(count)s documents (SHA-256 %(sha256)s).",
                    count=self.document_count,
                    sha256=result.sha256[:12],
                )
            )
        return None

    def _fetch_result(self, force=False):
        """Download and check the template; a FetchResult or a MintCloudError."""
        self.ensure_one()
        # Without a cached template a 304 would leave nothing to use.
        etag = None if force or not self.content else self.etag
        timeout, max_bytes = self._fetch_limits()
        if local_static_path(self.url):
            result = self._read_static_file(etag, max_bytes)
        else:
            result = fetch_manifest(
                self.url, etag=etag, timeout=timeout, max_bytes=max_bytes
            )
        if result.content is not None:
            name = redact_url(self.url)
            check_template(result.content, name=name)
            check_yaml(result.content, name=name)
        return result

    def _read_static_file(self, etag, max_bytes):
        """Read a ``/<module>/static/...`` URL from the module's file.

        The ETag is the SHA-256 of the file, so an unchanged file is "not
        modified" like a 304 answer.
        """
        path = local_static_path(self.url)
        try:
            with file_open(path, "rb") as handle:
                body = handle.read(max_bytes + 1)
        except (OSError, ValueError):
            raise PermanentFetchError(
                self.url, "not found (no such file in the module's static folder)"
            ) from None
        if len(body) > max_bytes:
            raise PermanentFetchError(
                self.url, f"too large: more than {max_bytes} bytes"
            )
        sha256 = hashlib.sha256(body).hexdigest()
        now = datetime.datetime.now(datetime.timezone.utc)
        if etag and etag == sha256:
            return FetchResult(self.url, None, etag, None, True, now)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PermanentFetchError(self.url, "not UTF-8 text") from None
        return FetchResult(self.url, text, sha256, sha256, False, now)

    def _fetch_limits(self):
        """``(timeout seconds, max bytes)`` from the system parameters."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        timeout = _positive(get_param(PARAM_TIMEOUT), float, DEFAULT_TIMEOUT)
        max_bytes = _positive(get_param(PARAM_MAX_BYTES), int, DEFAULT_MAX_BYTES)
        return timeout, max_bytes

    @staticmethod
    def _result_values(result):
        """Field values for a successful FetchResult (content kept on 304)."""
        fetched_at = result.fetched_at.astimezone(datetime.timezone.utc)
        values = {
            "fetch_error": False,
            "fetched_at": fetched_at.replace(tzinfo=None, microsecond=0),
            "etag": result.etag,
        }
        if not result.not_modified:
            values.update(content=result.content, sha256=result.sha256)
        return values

    def _get_template_text(self):
        """The template to render; fetched first when none is cached yet.

        Raises the core's FetchError (TransientFetchError or
        PermanentFetchError, so callers can retry the transient ones) or
        RenderError when there is still no template.
        """
        self.ensure_one()
        if not self.content:
            # Caching the template is the system's job, not the caller's:
            # a user who may read the manifest may have it fetched.
            error = self.sudo()._fetch_one()
            if error is not None:
                raise error
        return self.content
