# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The recurring period next to the price, and the product image, as a
visitor sees them in /shop, on the product page and in the cart."""

import base64

from lxml import html

from odoo import http
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import file_open

from .common import create_hosting_fixture
from .test_checkout_http import by_class

IMAGE_PATH = "website_sale_kubernetes/static/img/odoo_hosting.png"
DEMO_PRODUCT = "website_sale_kubernetes.product_template_odoo_hosting"


def read_image():
    with file_open(IMAGE_PATH, "rb") as image:
        return base64.b64encode(image.read())


def text_of(node):
    return " ".join(node.text_content().split())


class TestPricePeriod(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.product = cls.env["product.template"].create(
            {"name": "Period Test", "detailed_type": "service", "list_price": 10.0}
        )

    def _label(self, interval, rule_type, lang=None):
        template = self.env["sale.subscription.template"].create(
            {
                "name": f"every {interval} {rule_type}",
                "recurring_interval": interval,
                "recurring_rule_type": rule_type,
            }
        )
        self.product.write(
            {"subscribable": True, "subscription_template_id": template.id}
        )
        product = self.product.with_context(lang=lang) if lang else self.product
        return product._subscription_period_label()

    def test_period_wording(self):
        cases = [
            (1, "months", "/ month"),
            (3, "months", "every 3 months"),
            (1, "years", "/ year"),
            (2, "weeks", "every 2 weeks"),
            (1, "weeks", "/ week"),
            (1, "days", "/ day"),
            (10, "days", "every 10 days"),
            (2, "years", "every 2 years"),
        ]
        for interval, rule_type, expected in cases:
            with self.subTest(interval=interval, rule_type=rule_type):
                self.assertEqual(self._label(interval, rule_type), expected)

    def test_period_wording_in_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        cases = [
            (1, "months", "/ Monat"),
            (3, "months", "alle 3 Monate"),
            (1, "years", "/ Jahr"),
            (2, "weeks", "alle 2 Wochen"),
            (1, "days", "/ Tag"),
        ]
        for interval, rule_type, expected in cases:
            with self.subTest(interval=interval, rule_type=rule_type):
                self.assertEqual(self._label(interval, rule_type, "de_DE"), expected)

    def test_no_period_without_a_subscription(self):
        self.assertEqual(self.product._subscription_period_label(), "")
        template = self.env["sale.subscription.template"].create({"name": "Monthly"})
        self.product.subscription_template_id = template
        self.assertEqual(
            self.product._subscription_period_label(),
            "",
            "a product that is not subscribable has no period",
        )

    def test_demo_product_has_an_image_and_a_monthly_period(self):
        demo = self.env.ref(DEMO_PRODUCT, raise_if_not_found=False)
        if not demo:
            self.skipTest("demo data not loaded")
        self.assertEqual(demo.image_1920, read_image())
        self.assertEqual(demo._subscription_period_label(), "/ month")


@tagged("post_install", "-at_install")
class TestShopPage(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.fixture = create_hosting_fixture(cls.env, name="Periodic Shop Hosting")
        cls.template = cls.fixture["template"]
        cls.template.image_1920 = read_image()
        cls.image_url = f"/web/image/product.template/{cls.template.id}/image_"

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)

    def _page(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return html.fromstring(response.content)

    def test_shop_grid_shows_image_and_period(self):
        page = self._page("/shop?search=Periodic+Shop+Hosting")
        [item] = [
            form
            for form in by_class(page, "oe_product_cart", "form")
            if "Periodic Shop Hosting" in form.text_content()
        ]
        [price] = by_class(item, "product_price")
        self.assertRegex(text_of(price), r"49\.00.* / month")
        [period] = by_class(item, "o_wsk_price_period")
        self.assertEqual(text_of(period), "/ month")
        sources = [img.get("src") for img in item.iter("img")]
        self.assertTrue(any(src.startswith(self.image_url) for src in sources), sources)

    def test_product_page_shows_image_and_period(self):
        page = self._page(self.template.website_url)
        [period] = by_class(page, "o_wsk_price_period")
        self.assertEqual(text_of(period), "/ month")
        self.assertEqual(period.getprevious().get("class"), "oe_price")
        # The product page shows the image of the variant, which is the
        # template's image (the variant has none of its own).
        variant_url = f"/web/image/product.product/{self.fixture['product'].id}/image_"
        sources = [img.get("src") or "" for img in page.iter("img")]
        [src] = [src for src in sources if src.startswith(variant_url)]
        response = self.url_open(src)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "image/png")

    def test_product_page_in_german(self):
        lang = self.env["res.lang"]._activate_lang("de_DE")
        website = self.env["website"].get_current_website()
        website.language_ids |= lang
        page = self._page(f"/{lang.url_code}{self.template.website_url}")
        [period] = by_class(page, "o_wsk_price_period")
        self.assertEqual(text_of(period), "/ Monat")

    def test_cart_line_shows_period(self):
        response = self.url_open(
            "/shop/cart/update",
            data={
                "product_id": self.fixture["product"].id,
                "add_qty": 1,
                "csrf_token": http.Request.csrf_token(self),
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        page = self._page("/shop/cart")
        periods = [text_of(p) for p in by_class(page, "o_wsk_price_period")]
        self.assertIn("/ month", periods)

    def test_product_without_subscription_has_no_period(self):
        plain = self.env["product.template"].create(
            {"name": "Plain Shop Thing", "list_price": 5.0, "is_published": True}
        )
        page = self._page(plain.website_url)
        self.assertFalse(by_class(page, "o_wsk_price_period"))
