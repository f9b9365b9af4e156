# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The App Name checkout step over HTTP: live check, submit, guards."""

import json

from lxml import html

from odoo import http
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.queue_job.tests.common import trap_jobs

from mintcloud.nameproblems import first_bad_char

from .common import create_hosting_fixture, load_hostile_names

CHECK_ROUTE = "/shop/app_name/check"
STEP_ROUTE = "/shop/app_name"
#: A phrase of the English message shown for each rule code.
PHRASES = {
    "required": "Please enter an app name.",
    "charset": "lowercase letters",
    "start": "must start with a letter",
    "end": "must end with a letter or a digit",
    "length": "characters long",
    "double-hyphen": "must not contain '--'",
    "int-suffix": "must not end in '-int'",
    "reserved": "is reserved",
    "yaml": "not as text",
    "taken": "already taken",
}
#: Names that pass every other rule but that YAML reads as another type
#: when they stand unquoted in a manifest -> (kind, what the message says).
YAML_WORDS = {
    "null": ("null", "null (no value)"),
    "true": ("boolean", "a boolean (true/false)"),
    "false": ("boolean", "a boolean (true/false)"),
    "yes": ("boolean", "a boolean (true/false)"),
    "off": ("boolean", "a boolean (true/false)"),
}


def by_class(node, css_class, tag="*"):
    """Elements under ``node`` with the CSS class ``css_class``."""
    return node.xpath(
        f".//{tag}[contains(concat(' ', normalize-space(@class), ' '), $cls)]",
        cls=f" {css_class} ",
    )


def by_id(node, element_id):
    return node.xpath(".//*[@id=$id]", id=element_id)


@tagged("post_install", "-at_install")
class TestCheckoutHttp(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.fixture = create_hosting_fixture(cls.env)
        cls.product = cls.fixture["product"]
        cls.user = new_test_user(
            cls.env,
            login="wsk_portal",
            groups="base.group_portal",
            name="Portal Customer",
        )
        cls.user.partner_id.write(
            {
                "email": "portal@example.com",
                "street": "Bahnhofstrasse 1",
                "city": "Zürich",
                "zip": "8001",
                "country_id": cls.env.ref("base.ch").id,
                "phone": "+41 44 000 00 00",
            }
        )
        cls.hostile = load_hostile_names()

    def setUp(self):
        super().setUp()
        self.authenticate("wsk_portal", "wsk_portal")
        self.order = self._add_to_cart(self.product)
        self.line = self.order.order_line

    # --- helpers ----------------------------------------------------------

    def _add_to_cart(self, product):
        response = self.url_open(
            "/shop/cart/update",
            data={
                "product_id": product.id,
                "add_qty": 1,
                "csrf_token": http.Request.csrf_token(self),
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        return self.env["sale.order"].search(
            [("partner_id", "=", self.user.partner_id.id), ("state", "=", "draft")],
            order="id desc",
            limit=1,
        )

    def _check(self, name, line=None):
        return self.make_jsonrpc_request(
            CHECK_ROUTE, {"name": name, "line_id": (line or self.line).id}
        )

    def _submit(self, names):
        data = {f"app_name_{line_id}": name for line_id, name in names.items()}
        data["csrf_token"] = http.Request.csrf_token(self)
        return self.url_open(STEP_ROUTE, data=data, allow_redirects=False)

    def _stored_name(self, line=None):
        line = line or self.line
        line.invalidate_recordset(["kubernetes_app_name"])
        return line.kubernetes_app_name

    def _assert_message(self, code, name, message):
        self.assertIn(PHRASES[code], message, f"{name!r} ({code})")
        if code == "charset":
            position, _char = first_bad_char(name)
            self.assertIn(f"at position {position}", message, repr(name))

    def _redirect_path(self, response):
        self.assertIn(response.status_code, (301, 302, 303))
        return response.headers["Location"].split("?")[0].rsplit("/shop", 1)[-1]

    # --- the step -----------------------------------------------------------

    def test_confirm_order_leads_to_the_app_name_step(self):
        response = self.url_open("/shop/confirm_order", allow_redirects=False)
        self.assertEqual(self._redirect_path(response), "/app_name")

    def test_step_shows_the_subdomain_hint_and_the_wizard_step(self):
        response = self.url_open(STEP_ROUTE)
        self.assertEqual(response.status_code, 200)
        page = html.fromstring(response.content)
        [hint] = by_class(page, "o_wsk_hint")
        text = " ".join(hint.text_content().split())
        self.assertEqual(
            text,
            "your app: https://NAME.mint-cloud.ch — "
            "staging copy: https://NAME-int.mint-cloud.ch",
        )
        steps = [
            " ".join(s.text_content().split())
            for s in by_class(page, "o_wizard_steplabel")
        ]
        self.assertIn("App Name", steps)
        self.assertLess(steps.index("App Name"), steps.index("Payment"))
        active = by_class(page, "o_wizard_step_active")[0].text_content()
        self.assertIn("App Name", active)

    @mute_logger("odoo.http")
    def test_payment_is_unreachable_without_a_valid_name(self):
        for route in ("/shop/payment", "/shop/extra_info"):
            response = self.url_open(route, allow_redirects=False)
            self.assertEqual(self._redirect_path(response), "/app_name", route)
        response = self.url_open(
            f"/shop/payment/transaction/{self.order.id}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {"access_token": self.order._portal_ensure_token()},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        error = response.json()["error"]["data"]["message"]
        self.assertIn("valid app name", error)
        self.assertFalse(self.order.transaction_ids)

    def test_valid_name_is_stored_and_payment_opens(self):
        self.assertEqual(
            self._check("mynewapp"),
            {
                "valid": True,
                "problems": [],
                "hostname": "mynewapp.mint-cloud.ch",
                "int_hostname": "mynewapp-int.mint-cloud.ch",
            },
        )
        self.assertFalse(self._stored_name(), "the live check stores nothing")
        response = self._submit({self.line.id: "mynewapp"})
        self.assertEqual(self._redirect_path(response), "/payment")
        self.assertEqual(self._stored_name(), "mynewapp")
        response = self.url_open("/shop/payment", allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"https://mynewapp.mint-cloud.ch", response.content)
        # The step shows the stored name again.
        page = html.fromstring(self.url_open(STEP_ROUTE).content)
        [field] = by_class(page, "o_wsk_app_name_input", "input")
        self.assertEqual(field.get("value"), "mynewapp")

    # --- hostile names --------------------------------------------------------

    def test_hostile_names_are_rejected_by_the_live_check(self):
        self.assertGreaterEqual(len(self.hostile), 50)
        for name, code in self.hostile:
            with self.subTest(name=name):
                result = self._check(name)
                self.assertFalse(result["valid"])
                self.assertFalse(result["hostname"])
                messages = {p["code"]: p["message"] for p in result["problems"]}
                self.assertIn(code, messages)
                self._assert_message(code, name, messages[code])
        self.assertFalse(self._stored_name())

    def test_hostile_names_are_rejected_by_the_step_submit(self):
        field_id = f"app_name_{self.line.id}"
        for name, code in self.hostile:
            with self.subTest(name=name):
                response = self._submit({self.line.id: name})
                self.assertEqual(response.status_code, 200, "no redirect to payment")
                page = html.fromstring(response.content.replace(b"\x00", b""))
                [field] = by_id(page, field_id)
                self.assertIn("is-invalid", field.get("class"))
                shown = by_id(page, f"{field_id}_feedback")[0].xpath(
                    "./div[@data-code=$code]", code=code
                )
                self.assertEqual(len(shown), 1, f"{name!r}: no {code} message")
                self._assert_message(code, name, shown[0].text_content().strip())
                self.assertFalse(self._stored_name())
        response = self.url_open("/shop/payment", allow_redirects=False)
        self.assertEqual(self._redirect_path(response), "/app_name")

    # --- words YAML reads as something other than text ------------------------

    def test_yaml_words_are_refused_by_the_live_check(self):
        for name, (_kind, wording) in YAML_WORDS.items():
            with self.subTest(name=name):
                result = self._check(name)
                self.assertFalse(result["valid"])
                self.assertFalse(result["hostname"])
                self.assertEqual([p["code"] for p in result["problems"]], ["yaml"])
                self.assertEqual(
                    result["problems"][0]["message"],
                    "YAML (the format of the app's configuration) reads "
                    f"'{name}' as {wording}, not as text; please choose another name.",
                )
        self.assertFalse(self._stored_name())

    def test_yaml_words_are_refused_by_the_step_submit(self):
        field_id = f"app_name_{self.line.id}"
        for name, (_kind, wording) in YAML_WORDS.items():
            with self.subTest(name=name):
                response = self._submit({self.line.id: name})
                self.assertEqual(response.status_code, 200, "no redirect to payment")
                page = html.fromstring(response.content)
                [field] = by_id(page, field_id)
                self.assertIn("is-invalid", field.get("class"))
                self.assertEqual(field.get("value"), name)
                shown = by_id(page, f"{field_id}_feedback")[0].xpath(
                    "./div[@data-code='yaml']"
                )
                self.assertEqual(len(shown), 1, f"{name!r}: no yaml message")
                self.assertIn(
                    f"reads '{name}' as {wording}, not as text",
                    " ".join(shown[0].text_content().split()),
                )
                self.assertFalse(self._stored_name())
        response = self.url_open("/shop/payment", allow_redirects=False)
        self.assertEqual(self._redirect_path(response), "/app_name")

    def test_yaml_word_problems_and_their_german_message(self):
        Line = self.env["sale.order.line"]
        for name, (kind, _wording) in YAML_WORDS.items():
            problems = Line._kubernetes_app_name_problems(name, "mint-cloud.ch")
            self.assertEqual(
                [(p["code"], p["params"]) for p in problems],
                [("yaml", {"name": name, "kind": kind, "integration": False})],
            )
            # the line's constraint refuses it too, whatever the route
            with self.assertRaises(ValidationError), self.cr.savepoint():
                self.line.kubernetes_app_name = name
                self.line.flush_recordset()
        self.env["res.lang"]._activate_lang("de_DE")
        Line = Line.with_context(lang="de_DE")
        [problem] = Line._kubernetes_app_name_problems("null", "mint-cloud.ch")
        self.assertEqual(
            problem["message"],
            "YAML (das Format der App-Konfiguration) liest «null» als null (kein "
            "Wert), nicht als Text; bitte wählen Sie einen anderen Namen.",
        )
        [problem] = Line._kubernetes_app_name_problems("yes", "mint-cloud.ch")
        self.assertIn("«yes» als Wahrheitswert", problem["message"])

    def test_non_string_names_are_rejected(self):
        for name, code in ((None, "required"), (42, "start"), (["a"], "charset")):
            with self.subTest(name=name):
                codes = [p["code"] for p in self._check(name)["problems"]]
                self.assertIn(code, codes)

    def test_check_of_a_line_outside_the_cart(self):
        result = self.make_jsonrpc_request(CHECK_ROUTE, {"name": "fine", "line_id": 0})
        self.assertFalse(result["valid"])
        self.assertEqual(result["problems"][0]["code"], "cart")

    # --- taken names and releases -------------------------------------------

    def test_names_taken_by_apps_in_both_forms(self):
        with trap_jobs():
            prod = self.env["kubernetes.app"].create(
                {"name": "usedapp", "cluster_id": self.fixture["cluster"].id}
            )
            self.env["kubernetes.app"].create(
                {"name": "usedapp-int", "prod_app_id": prod.id}
            )
        for name in ("usedapp",):
            result = self._check(name)
            self.assertEqual([p["code"] for p in result["problems"]], ["taken"])
            self._assert_message("taken", name, result["problems"][0]["message"])
        response = self._submit({self.line.id: "usedapp"})
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"already taken", response.content)
        self.assertFalse(self._stored_name())

    def test_name_held_by_another_cart_until_it_is_emptied(self):
        other = self.env["sale.order"].create(
            {
                "partner_id": self.env.ref("base.partner_admin").id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "kubernetes_app_name": "heldapp",
                        },
                    )
                ],
            }
        )
        self.assertEqual(
            [p["code"] for p in self._check("heldapp")["problems"]], ["taken"]
        )
        self.assertEqual([p["code"] for p in self._check("heldapp-x")["problems"]], [])
        other.order_line.unlink()
        self.assertTrue(self._check("heldapp")["valid"])

    def test_emptying_the_cart_releases_the_name(self):
        self.assertEqual(
            self._redirect_path(self._submit({self.line.id: "mycartapp"})), "/payment"
        )
        Line = self.env["sale.order.line"]
        self.assertTrue(
            Line._kubernetes_app_name_problems("mycartapp", "mint-cloud.ch")
        )
        self.make_jsonrpc_request("/shop/cart/clear", {})
        self.assertFalse(self.line.exists())
        self.assertEqual(
            Line._kubernetes_app_name_problems("mycartapp", "mint-cloud.ch"), []
        )

    def test_removing_the_line_releases_the_name(self):
        self._submit({self.line.id: "mylineapp"})
        Line = self.env["sale.order.line"]
        self.assertTrue(
            Line._kubernetes_app_name_problems("mylineapp", "mint-cloud.ch")
        )
        self.make_jsonrpc_request(
            "/shop/cart/update_json",
            {"product_id": self.product.id, "line_id": self.line.id, "set_qty": 0},
        )
        self.assertEqual(
            Line._kubernetes_app_name_problems("mylineapp", "mint-cloud.ch"), []
        )

    def test_same_name_for_two_hosting_lines_is_refused(self):
        second = create_hosting_fixture(
            self.env, "Hosting Two", self.fixture["cluster"]
        )
        self._add_to_cart(second["product"])
        lines = self.order.order_line
        self.assertEqual(len(lines), 2)
        response = self._submit({lines[0].id: "twinname", lines[1].id: "twinname"})
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"another hosting product of this order", response.content)
        response = self._submit({lines[0].id: "twinname", lines[1].id: "twinname-int"})
        self.assertEqual(response.status_code, 200)
        response = self._submit({lines[0].id: "twinname", lines[1].id: "othername"})
        self.assertEqual(self._redirect_path(response), "/payment")
        self.assertEqual(
            sorted(self._stored_name(line) for line in lines),
            ["othername", "twinname"],
        )

    def test_quantity_stays_one(self):
        self._add_to_cart(self.product)
        self.line.invalidate_recordset(["product_uom_qty"])
        self.assertEqual(self.line.product_uom_qty, 1)

    # --- other checkout layouts and pages -------------------------------------

    def test_app_name_step_comes_before_extra_info(self):
        self.env["website"].get_current_website().viewref(
            "website_sale.extra_info"
        ).active = True
        response = self.url_open("/shop/extra_info", allow_redirects=False)
        self.assertEqual(self._redirect_path(response), "/app_name")
        page = html.fromstring(self.url_open(STEP_ROUTE).content)
        steps = [
            " ".join(s.text_content().split())
            for s in by_class(page, "o_wizard_steplabel")
        ]
        self.assertLess(steps.index("App Name"), steps.index("Extra Info"))
        response = self._submit({self.line.id: "extraapp"})
        self.assertEqual(self._redirect_path(response), "/extra_info")
        response = self.url_open("/shop/extra_info", allow_redirects=False)
        self.assertEqual(response.status_code, 200)

    def test_portal_order_shows_both_urls_with_their_state(self):
        self._submit({self.line.id: "portalapp"})
        with trap_jobs():
            self.order.sudo().action_confirm()
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        page = html.fromstring(response.content)
        [block] = by_class(page, "o_wsk_portal_app_name")
        items = {
            item.get("data-environment"): " ".join(item.text_content().split())
            for item in block.xpath(".//li")
        }
        self.assertEqual(
            items,
            {
                "prod": "your app: https://portalapp.mint-cloud.ch Queued",
                "int": "staging copy: https://portalapp-int.mint-cloud.ch Queued",
            },
        )

    def test_backend_order_form_shows_the_app_name(self):
        arch = self.env["sale.order"].get_view(view_type="form")["arch"]
        self.assertIn('name="kubernetes_app_name"', arch)
        self.assertIn('name="action_kubernetes_create_apps"', arch)
