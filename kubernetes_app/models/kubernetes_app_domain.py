# Copyright 2026 Mint Cloud
# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The customer's own domains of a production app (``erp.customer.com``).

A domain is added (by the customer in the portal, or an operator on the app
form) with a random verification token; the customer creates the records
:func:`mintcloud.domains.dns_records` lists (a CNAME to the app's host name,
or for an apex domain A/AAAA records with the cluster's ingress addresses,
and a TXT record with the token).  *Check now* queues a job, and a cron
checks the pending domains with back-off; each check resolves with
dnspython within bounded timeouts and stores what is still missing.  Once
both records are right the domain is verified (a manager may also mark it
verified by hand, noted in the app's chatter).

Verified domains are the app's built-in ``custom_domains``: the demo Ingress
serves them with one cert-manager TLS secret each.  Verifying or removing a
domain, or changing the primary one (whose address becomes the app's
``web.base.url``), applies the app again.  The status refresh reads each
domain's TLS secret.
"""

import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.queue_job.job import identity_exact

from mintcloud.domains import (
    check_dns,
    check_domain,
    dns_records,
    domain_problems,
    is_apex,
    make_resolver,
    new_token,
    read_tls_states,
    tls_secret_name,
    unicode_domain,
)
from mintcloud.errors import MintCloudError
from mintcloud.names import resource_prefix

_logger = logging.getLogger(__name__)

CHANNEL = "root.kubernetes"
MANAGER_GROUP = "kubernetes_manifest.group_kubernetes_manager"
#: System parameter: DNS servers the checks ask (comma-separated IPs);
#: empty: the system's resolver.
NAMESERVERS_PARAM = "kubernetes_app.domain_nameservers"
#: Domains a cron run checks at most (each check is bounded by the timeouts).
CRON_BATCH = 50
#: An issued certificate is read again after this long (cert-manager renews
#: it in place, weeks before it expires); one still pending, at every refresh.
TLS_RECHECK = timedelta(days=1)
#: How often a pending domain is checked again, by its age.
CHECK_BACKOFF = (
    (timedelta(days=1), timedelta(minutes=10)),
    (timedelta(days=7), timedelta(hours=1)),
    (None, timedelta(days=1)),
)
STATES = [("pending", "Waiting for DNS"), ("verified", "Verified")]
DNS_STATES = [
    ("ok", "Right"),
    ("missing", "Missing"),
    ("wrong", "Wrong"),
    ("error", "No answer"),
]
TLS_STATES = [
    ("ready", "Ready"),
    ("pending", "Waiting for the certificate"),
    ("mismatch", "Certificate for other names"),
]
VERIFY_METHODS = [("dns", "DNS check"), ("manual", "Marked by a manager")]


class KubernetesAppDomain(models.Model):
    _name = "kubernetes.app.domain"
    _description = "Custom Domain of a Kubernetes App"
    _order = "app_id, is_primary desc, name, id"
    _rec_names_search = ["name", "name_unicode"]

    name = fields.Char(
        string="Domain",
        required=True,
        index=True,
        help="The customer's domain as DNS stores it: lowercase, international "
        "names in punycode (xn--...), no trailing dot.",
    )
    name_unicode = fields.Char(
        string="Domain (readable)", compute="_compute_name_unicode", store=True
    )
    app_id = fields.Many2one(
        "kubernetes.app",
        string="App",
        required=True,
        ondelete="cascade",
        index=True,
        domain=[("environment", "=", "prod")],
    )
    partner_id = fields.Many2one(related="app_id.partner_id", string="Customer")
    cluster_id = fields.Many2one(related="app_id.cluster_id", string="Cluster")
    hostname = fields.Char(related="app_id.hostname", string="App Host Name")
    state = fields.Selection(STATES, required=True, default="pending", readonly=True)
    token = fields.Char(
        string="Verification Token",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: new_token(),
    )
    is_primary = fields.Boolean(
        string="Primary",
        readonly=True,
        help="The app's main address: its Odoo's web.base.url (links in mails, "
        "the portal) uses this domain.",
    )
    verified_at = fields.Datetime(string="Verified On", readonly=True, copy=False)
    verify_method = fields.Selection(
        VERIFY_METHODS, string="Verified By", readonly=True, copy=False
    )
    verified_by_id = fields.Many2one(
        "res.users", string="Marked Verified By", readonly=True, copy=False
    )
    # The last DNS check.
    dns_check_requested_at = fields.Datetime(
        string="DNS Check Requested On", readonly=True, copy=False
    )
    dns_checked_at = fields.Datetime(string="DNS Checked On", readonly=True, copy=False)
    dns_txt_state = fields.Selection(
        DNS_STATES, string="Verification Record", readonly=True, copy=False
    )
    dns_route_state = fields.Selection(
        DNS_STATES, string="Address Record", readonly=True, copy=False
    )
    dns_found = fields.Char(
        string="Found in DNS",
        readonly=True,
        copy=False,
        help="What the last check found instead of the expected value.",
    )
    dns_check_queued = fields.Boolean(
        string="DNS Check Queued", compute="_compute_dns_check_queued"
    )
    missing_text = fields.Char(
        string="Still Missing", compute="_compute_missing_text", store=False
    )
    # The records to create.
    route_type = fields.Char(string="Record Type", compute="_compute_records")
    route_name = fields.Char(string="Record Name", compute="_compute_records")
    route_value = fields.Char(string="Record Value", compute="_compute_records")
    txt_name = fields.Char(string="TXT Record Name", compute="_compute_records")
    txt_value = fields.Char(string="TXT Record Value", compute="_compute_records")
    # The certificate, as the status refresh last read it.
    tls_secret = fields.Char(
        string="TLS Secret", compute="_compute_tls_secret", store=False
    )
    tls_state = fields.Selection(TLS_STATES, string="TLS", readonly=True, copy=False)
    tls_message = fields.Char(string="TLS Message", readonly=True, copy=False)
    tls_checked_at = fields.Datetime(string="TLS Checked On", readonly=True, copy=False)

    _sql_constraints = [
        ("name_uniq", "unique(name)", "This domain is already used by an app."),
    ]

    # ------------------------------------------------------------------
    # Compute and constraints
    # ------------------------------------------------------------------

    @api.depends("name")
    def _compute_name_unicode(self):
        for domain in self:
            domain.name_unicode = unicode_domain(domain.name) if domain.name else False

    @api.depends("dns_check_requested_at", "dns_checked_at", "state")
    def _compute_dns_check_queued(self):
        for domain in self:
            domain.dns_check_queued = (
                domain.state == "pending"
                and bool(domain.dns_check_requested_at)
                and (
                    not domain.dns_checked_at
                    or domain.dns_checked_at < domain.dns_check_requested_at
                )
            )

    @api.depends("dns_txt_state", "dns_route_state", "dns_found", "state")
    def _compute_missing_text(self):
        for domain in self:
            domain.missing_text = domain._missing_text()

    @api.depends(
        "name", "token", "app_id.hostname", "app_id.cluster_id.ingress_addresses"
    )
    def _compute_records(self):
        for domain in self:
            values = dict.fromkeys(
                ("route_type", "route_name", "route_value", "txt_name", "txt_value"),
                False,
            )
            if domain.name and domain.app_id.hostname:
                records = domain._dns_records()
                route = [r for r in records if r["purpose"] == "route"]
                txt = next(r for r in records if r["purpose"] == "verify")
                values.update(
                    route_type=route[0]["type"],
                    route_name=route[0]["name"],
                    route_value=", ".join(r["value"] for r in route),
                    txt_name=txt["name"],
                    txt_value=txt["value"],
                )
            domain.update(values)

    @api.depends("name", "app_id.name")
    def _compute_tls_secret(self):
        for domain in self:
            domain.tls_secret = (
                tls_secret_name(resource_prefix(domain.app_id.name), domain.name)
                if domain.name and domain.app_id.name
                else False
            )

    @api.constrains("name", "app_id")
    def _check_name(self):
        for domain in self:
            problems = domain_problems(
                domain.name,
                base_domains=self._base_domains(),
                taken=lambda name, d=domain: bool(
                    self.sudo().search_count(
                        [("name", "=", name), ("id", "!=", d.id)], limit=1
                    )
                ),
            )
            if problems:
                raise ValidationError(self._problems_text(domain.name, problems))
            app = domain.app_id
            if app.environment != "prod":
                raise ValidationError(
                    _(
                        "Only production apps have custom domains: %(app)s is a "
                        "staging (integration) app.",
                        app=app.name,
                    )
                )

    @api.constrains("is_primary", "state")
    def _check_primary(self):
        for domain in self.filtered("is_primary"):
            if domain.state != "verified":
                raise ValidationError(
                    _("Only a verified domain can be the primary address.")
                )
            others = domain.app_id.custom_domain_ids.filtered("is_primary") - domain
            if others:
                raise ValidationError(_("An app has one primary domain only."))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        App = self.env["kubernetes.app"]
        for vals in vals_list:
            app = App.browse(vals.get("app_id"))
            vals["name"] = self._normalized(vals.get("name"), app)
        domains = super().create(vals_list)
        for app in domains.app_id:
            app._check_custom_domain_count()
        for domain in domains:
            domain.app_id.sudo().message_post(
                body=_(
                    "Domain %(domain)s added; it is served once its DNS records "
                    "are verified.",
                    domain=domain.name_unicode,
                )
            )
        return domains

    def write(self, vals):
        if "name" in vals and any(d.name != vals["name"] for d in self):
            raise UserError(
                _("A domain cannot be renamed: remove it and add the new one.")
            )
        if "app_id" in vals and any(d.app_id.id != vals["app_id"] for d in self):
            raise UserError(_("A domain cannot move to another app."))
        return super().write(vals)

    def unlink(self):
        """Removing a verified domain applies its app again without it."""
        changed = self.filtered(lambda d: d.state == "verified")
        notes = {
            app: _(
                "Domain %(domains)s removed: the app is applied again without it.",
                domains=", ".join(
                    changed.filtered(lambda d, a=app: d.app_id == a).mapped(
                        "name_unicode"
                    )
                ),
            )
            for app in changed.app_id
        }
        for domain in self - changed:
            domain.app_id.sudo().message_post(
                body=_("Domain %(domain)s removed.", domain=domain.name_unicode)
            )
        result = super().unlink()
        for app, note in notes.items():
            app._custom_domains_changed(note)
        return result

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_check_dns(self):
        """Queue a DNS check of each pending domain (never in the request)."""
        self._enqueue_check()
        return self._notification(
            _("DNS check queued"),
            _("The DNS records are checked in the background."),
        )

    def action_mark_verified(self):
        """Managers: verify without the DNS check (noted in the app's chatter)."""
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only Kubernetes managers mark domains verified."))
        for domain in self.filtered(lambda d: d.state != "verified"):
            domain._set_verified("manual")
        return self._notification(
            _("Domain verified"), ", ".join(self.mapped("name_unicode")), "success"
        )

    def action_make_primary(self):
        """Make this verified domain the app's main address (web.base.url)."""
        self.ensure_one()
        if self.state != "verified":
            raise UserError(_("Only a verified domain can be the primary address."))
        if self.is_primary:
            return True
        app = self.app_id
        (app.custom_domain_ids - self).filtered("is_primary").write(
            {"is_primary": False}
        )
        self.is_primary = True
        app._custom_domains_changed(
            _(
                "Domain %(domain)s is now the app's main address: the app is "
                "applied again.",
                domain=self.name_unicode,
            )
        )
        return True

    def action_unset_primary(self):
        """The app's host name becomes its main address again."""
        for domain in self.filtered("is_primary"):
            domain.is_primary = False
            domain.app_id._custom_domains_changed(
                _(
                    "%(domain)s is no longer the app's main address: the app is "
                    "applied again.",
                    domain=domain.name_unicode,
                )
            )
        return True

    def action_remove(self):
        """Remove the domain (the views ask for a confirmation first)."""
        apps = self.app_id
        self.unlink()
        if len(apps) == 1:
            return {"type": "ir.actions.client", "tag": "soft_reload"}
        return True

    @api.model
    def _notification(self, title, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------

    @api.model
    def _base_domains(self):
        """The base domains of every cluster (archived ones included)."""
        clusters = self.env["kubernetes.cluster"].sudo().with_context(active_test=False)
        return [d for d in clusters.search([]).mapped("domain") if d]

    @api.model
    def _normalized(self, text, app):
        """The stored form of ``text`` for ``app``, or a ValidationError."""
        problems = domain_problems(
            text,
            base_domains=self._base_domains(),
            taken=lambda name: bool(
                self.sudo().search_count([("name", "=", name)], limit=1)
            ),
        )
        if problems:
            raise ValidationError(self._problems_text(text, problems))
        app._check_custom_domain_allowed()
        return check_domain(text)

    @api.model
    def _problems_text(self, text, problems):
        """One translated sentence for the problems of ``text``."""
        return _(
            "%(domain)s cannot be added: %(problems)s",
            domain=(text or "").strip() or "-",
            problems="; ".join(self._problem_message(p) for p in problems),
        )

    @api.model
    def _problem_message(self, problem):
        """A problem of :func:`mintcloud.domains.domain_problems` in the user's
        language (the core's English message names the same details)."""
        params = problem.get("params") or {}
        code = problem["code"]
        messages = {
            "required": _("enter a domain, e.g. erp.example.com"),
            "ip": _(
                "this is an IP address: enter a domain name, the records to "
                "create then point it at the app"
            ),
            "wildcard": _("wildcards (*) are not possible: add each domain on its own"),
            "mixed-script": _(
                "%(label)s mixes letters of different scripts, as look-alike "
                "addresses do"
            ),
            "confusable": _(
                "%(label)s is written with letters that look like Latin ones but "
                "are not"
            ),
            "idna": _("%(label)s is not a valid international name"),
            "label-length": _(
                "each part between dots has at most %(max)s characters (one has "
                "%(length)s)"
            ),
            "label-hyphen": _(
                "a part may not start or end with '-', nor have '--' at the third "
                "and fourth place (%(label)s)"
            ),
            "length": _(
                "a domain has at most %(max)s characters (this one has %(length)s)"
            ),
            "tld": _("%(tld)s is not a top-level domain: it has two or more letters"),
            "special-use": _(
                ".%(tld)s is reserved for private use: no public certificate can "
                "be issued for it"
            ),
            "base-domain": _(
                "this domain is under %(base)s, the platform's own domain: the "
                "app has its address there already"
            ),
            "taken": _("%(name)s is already used by an app"),
        }
        if code == "format":
            if params.get("host"):
                return _(
                    "enter the domain alone, without https:// or a path (here: "
                    "%(host)s)",
                    host=params["host"],
                )
            return _(
                "enter the domain alone, without https://, a path, a port, an "
                "e-mail address or spaces"
            )
        if code == "charset":
            return _("%(char)s is not allowed in a domain", char=params.get("char"))
        if code == "labels":
            return _(
                "enter a full domain with at least one dot and no empty parts, "
                "e.g. erp.example.com"
            )
        template = messages.get(code)
        if template is None:
            return problem["message"]
        safe = {key: params.get(key, "") for key in ("label", "max", "length")}
        safe.update({key: params.get(key, "") for key in ("tld", "base", "name")})
        return template % safe

    # ------------------------------------------------------------------
    # DNS
    # ------------------------------------------------------------------

    def _ingress_addresses(self):
        """Where an apex domain points: the cluster's ingress addresses, else
        the addresses the app's Ingress reports."""
        self.ensure_one()
        app = self.app_id.sudo()
        text = app.cluster_id.ingress_addresses or app.ingress_address or ""
        return [a.strip() for a in text.replace(",", " ").split() if a.strip()]

    def _dns_records(self):
        """The records the customer creates (:func:`mintcloud.domains.dns_records`)."""
        self.ensure_one()
        return dns_records(
            self.name, self.token, self.app_id.hostname, self._ingress_addresses()
        )

    def _is_apex(self):
        self.ensure_one()
        return is_apex(self.name)

    def _missing_text(self):
        """What the last check found missing, in the user's language."""
        self.ensure_one()
        if self.state == "verified" or not self.dns_checked_at:
            return False
        found = self.dns_found or "-"
        parts = []
        txt = {
            "missing": _("the verification TXT record is not there yet"),
            "wrong": _("the verification TXT record has another value"),
            "error": _("DNS did not answer for the verification record"),
        }
        route = {
            "missing": _("the domain does not point anywhere yet"),
            "wrong": _("the domain points elsewhere (%(found)s)", found=found),
            "error": _("DNS did not answer for the domain"),
        }
        if self.dns_txt_state in txt:
            parts.append(txt[self.dns_txt_state])
        if self.dns_route_state in route:
            parts.append(route[self.dns_route_state])
        return "; ".join(parts) or False

    def _enqueue_check(self):
        """A DNS check job per pending domain (one per domain while queued)."""
        now = fields.Datetime.now()
        for domain in self.sudo().filtered(lambda d: d.state == "pending"):
            domain.dns_check_requested_at = now
            domain.with_delay(
                channel=CHANNEL,
                identity_key=identity_exact,
                max_retries=3,
                description=_(
                    "Kubernetes: check the DNS of %(domain)s", domain=domain.name
                ),
            )._job_check_dns()

    def _job_check_dns(self):
        """Check a pending domain's DNS; idempotent (nothing for a verified one)."""
        self.ensure_one()
        domain = self.sudo()
        if not domain.exists() or domain.state != "pending":
            return "Nothing to do: the domain is gone or verified."
        result = domain._check_dns()
        return f"{domain.name}: TXT {result.txt}, route {result.route}"

    @api.model
    def _dns_resolver(self):
        """The resolver of the checks (tests put a fake one here)."""
        text = self.env["ir.config_parameter"].sudo().get_param(NAMESERVERS_PARAM)
        nameservers = [n.strip() for n in (text or "").split(",") if n.strip()]
        return make_resolver(nameservers or None)

    def _check_dns(self, resolver=None):
        """Resolve the records now (bounded timeouts), store what was found,
        verify the domain when both records are right; the core's result."""
        self.ensure_one()
        result = check_dns(
            self.name,
            self.token,
            self.app_id.hostname,
            self._ingress_addresses(),
            resolver=resolver or self._dns_resolver(),
        )
        found = (
            result.found_cname or ", ".join(result.found_addresses)
            if result.route == "wrong"
            else ", ".join(result.found_txt)
            if result.txt == "wrong"
            else False
        )
        self.write(
            {
                "dns_checked_at": fields.Datetime.now(),
                "dns_txt_state": result.txt,
                "dns_route_state": result.route,
                "dns_found": (found or "")[:250] or False,
            }
        )
        if result.errors:
            _logger.info("DNS check of %s: %s", self.name, "; ".join(result.errors))
        if result.verified:
            self._set_verified("dns")
        return result

    def _set_verified(self, method):
        """Verified: served from now on; the app is applied again."""
        self.ensure_one()
        self.sudo().write(
            {
                "state": "verified",
                "verified_at": fields.Datetime.now(),
                "verify_method": method,
                "verified_by_id": self.env.user.id if method == "manual" else False,
                "tls_state": "pending",
                "tls_message": False,
            }
        )
        if method == "manual":
            note = _(
                "Domain %(domain)s marked verified by %(user)s without a DNS check: "
                "the app is applied again to serve it.",
                domain=self.name_unicode,
                user=self.env.user.name,
            )
        else:
            note = _(
                "Domain %(domain)s verified (its DNS records are right): the app "
                "is applied again to serve it.",
                domain=self.name_unicode,
            )
        self.app_id._custom_domains_changed(note)

    def _check_due(self, now):
        """Whether the cron checks this pending domain now (back-off by age)."""
        self.ensure_one()
        if not self.dns_checked_at:
            return True
        age = now - self.create_date
        for limit, every in CHECK_BACKOFF:
            if limit is None or age < limit:
                return now - self.dns_checked_at >= every
        return True

    @api.model
    def _cron_check_dns(self):
        """Check the pending domains that are due, oldest check first."""
        now = fields.Datetime.now()
        pending = self.sudo().search(
            [
                ("state", "=", "pending"),
                ("app_id.lifecycle", "not in", ("terminating", "terminated")),
            ],
            order="dns_checked_at asc nulls first, id",
        )
        due = pending.filtered(lambda d: d._check_due(now))[:CRON_BATCH]
        resolver = self._dns_resolver() if due else None
        for domain in due:
            try:
                with self.env.cr.savepoint():
                    domain._check_dns(resolver)
            except (MintCloudError, UserError, ValidationError) as error:
                _logger.warning("DNS check of %s failed: %s", domain.name, error)
        return due

    # ------------------------------------------------------------------
    # Mail (mailgun_domain: a verified domain can be the sending domain)
    # ------------------------------------------------------------------

    def _mail_sender_info(self):
        """What the portal shows about sending mail from this domain: a dict
        (``available``, ``sending``, ``state``, ``records``), or False when no
        mail service is installed."""
        return False

    def _use_for_mail(self, use=True):
        """Send the app's mail from this domain (or stop); extended."""
        raise UserError(_("No mail service is installed."))

    # ------------------------------------------------------------------
    # TLS
    # ------------------------------------------------------------------

    @api.model
    def _refresh_tls(self, apps, client, statuses):
        """Store each verified domain's certificate state: pending while the
        Ingress does not list it, else from its TLS secret (one GET each, for
        the certificates not issued yet or not read for ``TLS_RECHECK``).

        A cluster that cannot be read leaves the states as they are.
        """
        now = fields.Datetime.now()
        fresh_since = now - TLS_RECHECK
        for app in apps:
            domains = app.sudo().custom_domain_ids.filtered(
                lambda d: d.state == "verified"
            )
            if not domains:
                continue
            status = statuses.get(app.name)
            listed = set(status.tls_hosts) if status is not None else set()
            covered = domains.filtered(lambda d, h=listed: d.name in h)
            for domain in domains - covered:
                domain.write(
                    {
                        "tls_state": "pending",
                        "tls_message": _("the Ingress does not serve it yet"),
                        "tls_checked_at": now,
                    }
                )
            covered = covered.filtered(
                lambda d: (
                    d.tls_state != "ready"
                    or not d.tls_checked_at
                    or d.tls_checked_at < fresh_since
                )
            )
            if not covered:
                continue
            try:
                states = read_tls_states(
                    client,
                    app.namespace,
                    {d.name: d.tls_secret for d in covered},
                )
            except MintCloudError as error:
                _logger.warning("TLS secrets of app %s: %s", app.name, error)
                continue
            for domain in covered:
                state, message = states[domain.name]
                domain.write(
                    {
                        "tls_state": state if state in dict(TLS_STATES) else False,
                        "tls_message": message or False,
                        "tls_checked_at": now,
                    }
                )
