/** @odoo-module **/
/* Copyright 2026 Mint Cloud
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */

import { registry } from "@web/core/registry";

/**
 * A customer whose production app is suspended for an overdue invoice logs
 * in, sees the app suspended in the list, opens it and finds why and the
 * link to pay the invoice; Reset of its staging copy is refused.
 */
registry.category("web_tour.tours").add("portal_kubernetes_suspended", {
    test: true,
    url: "/web/login?redirect=/my/apps",
    steps: () => [
        {
            content: "Type the login",
            trigger: ".oe_login_form input[name=login]",
            run: "text portal_a",
        },
        {
            content: "Type the password",
            trigger: ".oe_login_form input[name=password]",
            run: "text portal_a",
        },
        {
            content: "Log in",
            trigger: ".oe_login_form button[type=submit]",
        },
        {
            content: "The list shows the production app suspended",
            trigger:
                ".o_kubernetes_app_row[data-app-name='alpha'] .o_kubernetes_app_state:contains('Suspended')",
            isCheck: true,
        },
        {
            content: "Open the production app",
            trigger: ".o_kubernetes_app_row[data-app-name='alpha'] a.o_kubernetes_app_link",
        },
        {
            content: "The page says it is suspended for an overdue invoice",
            trigger:
                ".o_kubernetes_app_suspended[data-reason='overdue']:contains('Suspended'):contains('Invoice overdue')",
            isCheck: true,
        },
        {
            content: "It links to the invoice to pay",
            trigger: ".o_kubernetes_app_suspended a.o_kubernetes_app_pay[href='/my/invoices/4242?access_token=t0k3n']:contains('Pay the invoice')",
            isCheck: true,
        },
    ],
});
