# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""Fetching, caching and previewing manifests, against a local file server."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import file_open

from mintcloud.errors import PermanentFetchError, TransientFetchError
from tests.fakes.file_server import FakeFileServer

from ..models.kubernetes_manifest import local_static_path

CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app_name }}-config
  namespace: {{ namespace }}
data:
  greeting: hello
---
apiVersion: v1
kind: Service
metadata:
  name: {{ app_name }}-web
spec:
  ports:
    - port: 80
"""
CONFIG_MAP_V2 = CONFIG_MAP.replace("hello", "hello again")
STATIC_ODOO = "/kubernetes_manifest/static/manifests/odoo.yaml"


class ManifestCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.files = FakeFileServer().start()
        cls.addClassCleanup(cls.files.stop)
        cls.Manifest = cls.env["kubernetes.manifest"]

    def setUp(self):
        super().setUp()
        self.files.reset()

    def _create(self, url, name="Config"):
        return self.Manifest.create({"name": name, "url": url})

    def _set_param(self, key, value):
        self.env["ir.config_parameter"].sudo().set_param(key, value)


class TestFetch(ManifestCase):
    def test_create_fetches_and_previews(self):
        url = self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"')
        manifest = self._create(url)
        self.assertEqual(manifest.content, CONFIG_MAP)
        self.assertEqual(manifest.etag, '"v1"')
        self.assertEqual(len(manifest.sha256), 64)
        self.assertTrue(manifest.fetched_at)
        self.assertFalse(manifest.fetch_error)
        self.assertEqual(manifest.document_count, 2)
        self.assertIn("ConfigMap", manifest.document_preview)
        self.assertIn("{{ app_name }}-web", manifest.document_preview)
        sent = self.files.requests_for("/config.yaml")
        self.assertEqual(len(sent), 1)
        self.assertNotIn("If-None-Match", sent[0]["headers"])
        self.assertEqual(manifest.kind, "deploy")

    def test_second_fetch_sends_etag_and_keeps_content_on_304(self):
        url = self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"')
        manifest = self._create(url)
        sha256 = manifest.sha256
        messages = len(manifest.message_ids)
        self.assertTrue(manifest._fetch())
        last = self.files.requests_for("/config.yaml")[-1]
        self.assertEqual(last["headers"]["If-None-Match"], '"v1"')
        self.assertEqual(manifest.content, CONFIG_MAP)
        self.assertEqual(manifest.sha256, sha256)
        self.assertEqual(len(manifest.message_ids), messages, "no chatter spam")

    def test_changed_template_is_stored_and_posted_once(self):
        url = self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"')
        manifest = self._create(url)
        messages = len(manifest.message_ids)
        self.files.set("/config.yaml", CONFIG_MAP_V2, etag='"v2"')
        self.assertTrue(manifest._fetch())
        self.assertEqual(manifest.content, CONFIG_MAP_V2)
        self.assertEqual(manifest.etag, '"v2"')
        self.assertEqual(len(manifest.message_ids), messages + 1)
        self.assertIn("2 documents", manifest.message_ids[0].body)
        manifest._fetch(force=True)  # same content, no If-None-Match
        self.assertNotIn("If-None-Match", self.files.requests[-1]["headers"])
        self.assertEqual(len(manifest.message_ids), messages + 1)

    def test_changing_the_url_fetches_the_new_file(self):
        manifest = self._create(self.files.set("/a.yaml", CONFIG_MAP, etag='"a"'))
        manifest.url = self.files.set("/b.yaml", CONFIG_MAP_V2, etag='"b"')
        self.assertEqual(manifest.content, CONFIG_MAP_V2)
        self.assertEqual(manifest.etag, '"b"')
        self.assertNotIn(
            "If-None-Match", self.files.requests_for("/b.yaml")[0]["headers"]
        )

    def test_action_fetch_reports_the_documents(self):
        manifest = self._create(self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"'))
        action = manifest.action_fetch()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(action["params"]["message"], "2 documents")
        self.assertNotIn("If-None-Match", self.files.requests[-1]["headers"])
        self.files.set("/config.yaml", "gone", status=404)
        action = manifest.action_fetch()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("not found (HTTP 404)", action["params"]["message"])

    def test_action_fetch_on_several_manifests(self):
        manifests = self._create(self.files.set("/a.yaml", CONFIG_MAP)) | self._create(
            self.files.set("/b.yaml", CONFIG_MAP_V2)
        )
        action = manifests.action_fetch()
        self.assertEqual(action["params"]["message"], "2 manifests fetched")

    def test_onchange_previews_before_saving(self):
        url = self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"')
        manifest = self.Manifest.new({"name": "Draft"})
        manifest.url = url
        manifest._onchange_url()
        self.assertEqual(manifest.document_count, 2)
        self.assertFalse(manifest.fetch_error)
        manifest.url = "ftp://example.com/x.yaml"
        manifest._onchange_url()
        self.assertIn("only http and https", manifest.fetch_error)


class TestFetchErrors(ManifestCase):
    """Each failure leaves a clear message, keeps the template, raises nothing."""

    def setUp(self):
        super().setUp()
        self.url = self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"')
        self.manifest = self._create(self.url)
        self.other = self._create(self.files.set("/other.yaml", CONFIG_MAP_V2))

    def _assert_fails_with(self, reason):
        manifests = self.manifest | self.other
        self.assertFalse(manifests._fetch(force=True))
        self.assertIn(reason, self.manifest.fetch_error)
        self.assertIn(self.url, self.manifest.fetch_error)
        self.assertEqual(self.manifest.content, CONFIG_MAP, "previous template kept")
        self.assertEqual(self.manifest.document_count, 2)
        self.assertFalse(self.other.fetch_error, "a bad URL blocks nothing else")
        self.assertEqual(self.other.content, CONFIG_MAP_V2)
        # Once the file is fine again, the message goes away.
        self.files.set("/config.yaml", CONFIG_MAP, etag='"v1"')
        self.assertTrue(self.manifest._fetch())  # a 304 is a success too
        self.assertFalse(self.manifest.fetch_error)

    def test_not_found(self):
        self.files.set("/config.yaml", "no such file", status=404)
        self._assert_fails_with("not found (HTTP 404)")

    def test_timeout(self):
        self._set_param("kubernetes_manifest.fetch_timeout", "0.3")
        self.files.set("/config.yaml", CONFIG_MAP, delay=2)
        self._assert_fails_with("timed out after 0.3 s")

    def test_html_is_not_yaml(self):
        self.files.set(
            "/config.yaml",
            "<!DOCTYPE html><html><body>Sign in</body></html>",
            content_type="text/html",
        )
        self._assert_fails_with("not YAML: looks like an HTML page")

    def test_too_large(self):
        self._set_param("kubernetes_manifest.fetch_max_bytes", "1000")
        self.files.set("/config.yaml", CONFIG_MAP * 20)
        self._assert_fails_with("too large: more than 1000 bytes")

    def test_too_large_without_content_length(self):
        self._set_param("kubernetes_manifest.fetch_max_bytes", "1000")
        self.files.set("/config.yaml", CONFIG_MAP * 20, send_length=False)
        self._assert_fails_with("too large: more than 1000 bytes")

    def test_template_syntax_error_names_the_line(self):
        broken = CONFIG_MAP.replace("{{ namespace }}", "{{ namespace }")
        self.files.set("/config.yaml", broken)
        self._assert_fails_with("template syntax error (line 5")

    def test_invalid_limits_fall_back_to_the_defaults(self):
        self._set_param("kubernetes_manifest.fetch_timeout", "soon")
        self._set_param("kubernetes_manifest.fetch_max_bytes", "-5")
        self.assertEqual(self.Manifest._fetch_limits(), (10, 1_048_576))

    def test_get_template_text_raises_transient_error_without_content(self):
        self._set_param("kubernetes_manifest.fetch_timeout", "0.3")
        url = self.files.set("/slow.yaml", CONFIG_MAP, delay=2)
        manifest = self._create(url)
        self.assertFalse(manifest.content)
        self.assertIn("timed out", manifest.fetch_error)
        with self.assertRaises(TransientFetchError):
            manifest._get_template_text()

    def test_get_template_text_raises_permanent_error_without_content(self):
        manifest = self._create(self.files.url + "/missing.yaml")
        with self.assertRaises(PermanentFetchError):
            manifest._get_template_text()

    def test_get_template_text_fetches_when_nothing_is_cached(self):
        manifest = self._create(self.files.url + "/later.yaml")
        self.assertFalse(manifest.content)
        self.files.set("/later.yaml", CONFIG_MAP, etag='"v1"')
        self.assertEqual(manifest._get_template_text(), CONFIG_MAP)
        self.assertEqual(manifest.content, CONFIG_MAP)
        # Cached now: a broken server does not matter any more.
        self.files.set("/later.yaml", "gone", status=404)
        self.assertEqual(manifest._get_template_text(), CONFIG_MAP)


class TestUrls(ManifestCase):
    def test_non_http_url_is_rejected_and_nothing_is_stored(self):
        for url in (
            "ftp://example.com/odoo.yaml",
            "file:///etc/passwd",
            "odoo.yaml",
            "/etc/passwd",
            "/kubernetes_manifest/__manifest__.py",
            "/kubernetes_manifest/static/../__manifest__.py",
            "/kubernetes_manifest/static/%2e%2e/__manifest__.py",
            "//example.com/kubernetes_manifest/static/manifests/odoo.yaml",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError) as caught:
                self._create(url, name="Bad")
            self.assertIn("must start with http:// or https://", str(caught.exception))
        self.assertFalse(self.Manifest.search([("name", "=", "Bad")]))
        self.assertFalse(self.files.requests)

    def test_changing_to_a_bad_url_is_rejected(self):
        manifest = self._create(self.files.set("/config.yaml", CONFIG_MAP))
        with self.assertRaises(ValidationError):
            manifest.url = "gopher://example.com/x"

    def test_url_with_credentials_is_not_shown(self):
        manifest = self._create(
            self.files.url.replace("//", "//user:s3cret@") + "/missing.yaml?token=t0ken"
        )
        self.assertIn("not found", manifest.fetch_error)
        self.assertNotIn("s3cret", manifest.fetch_error)
        self.assertNotIn("t0ken", manifest.fetch_error)

    def test_static_url_is_read_from_the_module(self):
        manifest = self._create(STATIC_ODOO, name="Odoo")
        with file_open(local_static_path(STATIC_ODOO)) as handle:
            self.assertEqual(manifest.content, handle.read())
        self.assertEqual(manifest.etag, manifest.sha256)
        self.assertEqual(manifest.document_count, 5)  # the suspended page's too
        self.assertIn("<td>Deployment</td>", manifest.document_preview)
        self.assertFalse(manifest.fetch_error)
        self.assertTrue(manifest._fetch())  # unchanged: "not modified"
        self.assertEqual(manifest.content.count("kind: Service"), 3)

    def test_missing_static_file_is_a_clear_error(self):
        manifest = self._create("/kubernetes_manifest/static/manifests/nope.yaml")
        self.assertFalse(manifest.content)
        self.assertIn(
            "no such file in the module's static folder", manifest.fetch_error
        )
        with self.assertRaises(PermanentFetchError):
            manifest._get_template_text()

    def test_static_file_limits_apply(self):
        self._set_param("kubernetes_manifest.fetch_max_bytes", "100")
        manifest = self._create(STATIC_ODOO)
        self.assertIn("too large: more than 100 bytes", manifest.fetch_error)
        # Not a template: the module's icon is binary.
        self._set_param("kubernetes_manifest.fetch_max_bytes", "1000000")
        manifest.url = "/kubernetes_manifest/static/description/icon.png"
        self.assertIn("not UTF-8 text", manifest.fetch_error)
        # Markdown is no template: the message names the line.
        manifest.url = "/kubernetes_manifest/static/manifests/README.md"
        self.assertRegex(manifest.fetch_error, r"line \d+: template syntax error")

    def test_local_static_path(self):
        self.assertEqual(
            local_static_path("/web/static/src/x.js?v=1"), "web/static/src/x.js"
        )
        self.assertIsNone(local_static_path("https://example.com/web/static/x"))
        self.assertIsNone(local_static_path("/web/static/"))
        self.assertIsNone(local_static_path(False))


class TestAccess(ManifestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="kube_user",
            groups="kubernetes_manifest.group_kubernetes_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="kube_manager",
            groups="kubernetes_manifest.group_kubernetes_manager",
        )
        cls.manifest = cls.Manifest.create({"name": "Odoo", "url": STATIC_ODOO})

    def test_user_reads_but_does_not_write(self):
        manifest = self.manifest.with_user(self.user)
        self.assertEqual(manifest.name, "Odoo")
        self.assertTrue(manifest.content)
        with self.assertRaises(AccessError):
            manifest.write({"name": "Mine"})
        with self.assertRaises(AccessError):
            self.Manifest.with_user(self.user).create({"name": "X", "url": STATIC_ODOO})
        with self.assertRaises(AccessError):
            manifest.action_fetch()

    def test_user_onchange_fetches_nothing(self):
        url = self.files.set("/config.yaml", CONFIG_MAP)
        draft = self.Manifest.with_user(self.user).new({"name": "Draft"})
        draft.url = url
        draft._onchange_url()
        self.assertFalse(draft.content)
        self.assertFalse(self.files.requests)

    def test_user_may_have_the_template_fetched_for_a_deployment(self):
        manifest = self.manifest.sudo()
        manifest.content = False
        self.assertIn(
            "kind: Deployment", manifest.with_user(self.user)._get_template_text()
        )

    def test_manager_does_everything(self):
        manifest = self.manifest.with_user(self.manager)
        manifest.write({"name": "Odoo (edited)"})
        self.assertEqual(manifest.action_fetch()["params"]["type"], "success")
        self.Manifest.with_user(self.manager).create(
            {
                "name": "Ingress",
                "url": "/kubernetes_manifest/static/manifests/ingress.yaml",
            }
        ).unlink()

    def test_groups_and_menus(self):
        self.assertIn(
            self.env.ref("kubernetes_manifest.group_kubernetes_user"),
            self.env.ref("kubernetes_manifest.group_kubernetes_manager").implied_ids,
        )
        self.assertTrue(
            self.env.ref("base.user_admin").has_group(
                "kubernetes_manifest.group_kubernetes_manager"
            )
        )
        # The menus' groups (the rendered menu needs every addon's models
        # loaded, so it is not checked while the module is being installed).
        user_group = self.env.ref("kubernetes_manifest.group_kubernetes_user")
        manager_group = self.env.ref("kubernetes_manifest.group_kubernetes_manager")
        root = self.env.ref("kubernetes_manifest.menu_kubernetes_root")
        self.assertEqual(root.groups_id, user_group)
        self.assertTrue(root.web_icon.endswith("static/description/icon.png"))
        for xmlid, sequence in (
            ("menu_kubernetes_manifest", 30),
            ("menu_kubernetes_configuration", 90),
        ):
            menu = self.env.ref(f"kubernetes_manifest.{xmlid}")
            self.assertEqual((menu.parent_id, menu.sequence), (root, sequence))
            self.assertEqual(menu.groups_id, manager_group)
        self.assertNotIn(manager_group, self.user.groups_id)
        self.assertIn(manager_group, self.manager.groups_id)


class TestGerman(ManifestCase):
    def test_menus_and_messages_are_translated(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(
            ["kubernetes_manifest"], ["de_DE"], overwrite=True
        )
        german = self.env(context=dict(self.env.context, lang="de_DE"))
        self.assertEqual(
            german.ref("kubernetes_manifest.menu_kubernetes_manifest").name, "Manifeste"
        )
        manifest = german["kubernetes.manifest"].create(
            {"name": "Odoo", "url": STATIC_ODOO}
        )
        action = manifest.action_fetch()
        self.assertEqual(action["params"]["title"], "Jetzt abrufen")
        self.assertEqual(action["params"]["message"], "5 Dokumente")
