# License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl).
"""The app-name messages come in German from i18n/de.po."""

from odoo.tests import TransactionCase


class TestGermanMessages(TransactionCase):
    def test_problem_messages_are_translated(self):
        Line = self.env["sale.order.line"].with_context(lang="de_DE")
        self.env["res.lang"]._activate_lang("de_DE")
        messages = {
            p["code"]: p["message"]
            for name in ("Acme", "ab", "www", "")
            for p in Line._kubernetes_app_name_problems(name, "mint-cloud.ch")
        }
        self.assertEqual(
            messages["charset"],
            "Verwenden Sie Kleinbuchstaben: 'A' an Position 1 ist ein Grossbuchstabe.",
        )
        self.assertIn("3 bis 59 Zeichen", messages["length"])
        self.assertEqual(
            messages["reserved"],
            "«www» ist reserviert; bitte wählen Sie einen anderen Namen.",
        )
        self.assertEqual(messages["required"], "Bitte geben Sie einen App-Namen ein.")
