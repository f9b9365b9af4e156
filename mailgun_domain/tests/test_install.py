# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The Mailgun client works in Odoo's runtime against the local Mailgun fake."""

from odoo.tests import TransactionCase

from mintcloud.errors import MailgunAuthError
from mintcloud.mailgun import MailgunClient
from tests.fakes.mailgun_api import FakeMailgunServer


class TestMailgunInOdoo(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mailgun = FakeMailgunServer(api_key="key-odoo").start()
        cls.addClassCleanup(cls.mailgun.stop)

    def test_domain_created_and_wrong_key_refused(self):
        client = MailgunClient("key-odoo", base_url=self.mailgun.url)
        body, created = client.ensure_domain("acme.mint-cloud.ch", "smtp-pass-123")
        self.assertTrue(created)
        self.assertIn("acme.mint-cloud.ch", self.mailgun.domains)
        self.assertTrue(body["sending_dns_records"])
        with self.assertRaises(MailgunAuthError) as caught:
            MailgunClient("key-wrong", base_url=self.mailgun.url).check_auth()
        self.assertNotIn("key-wrong", str(caught.exception))
