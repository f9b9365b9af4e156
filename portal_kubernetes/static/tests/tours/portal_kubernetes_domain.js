/** @odoo-module **/
/* Copyright 2026 Mint Cloud
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */

import { registry } from "@web/core/registry";

/**
 * A customer logs in, opens the production app, adds their own domain and
 * sees the DNS records to create: a CNAME to the app's host name and the
 * verification TXT record.  The test starts the tour on the login page.
 */
registry.category("web_tour.tours").add("portal_kubernetes_domain", {
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
            content: "Open the production app",
            trigger: ".o_kubernetes_app_row[data-app-name='alpha'] a.o_kubernetes_app_link",
        },
        {
            content: "Type the domain",
            extra_trigger: ".o_kubernetes_app_domains:contains('Your own domains')",
            trigger: ".o_kubernetes_app_domain_add input[name=name]",
            run: "text erp.alpha-example.com",
        },
        {
            content: "Add it",
            trigger: ".o_kubernetes_app_domain_add_submit",
        },
        {
            content: "The domain waits for DNS and shows the CNAME to create",
            extra_trigger: ".o_kubernetes_app_domain_added",
            trigger:
                ".o_kubernetes_app_domain[data-domain='erp.alpha-example.com'][data-state='pending']" +
                " .o_kubernetes_app_domain_record[data-type='CNAME']:contains('alpha.mint-cloud.ch')",
            isCheck: true,
        },
        {
            content: "and the verification TXT record",
            trigger:
                ".o_kubernetes_app_domain_record[data-type='TXT']" +
                ":contains('_mint-cloud-challenge.erp.alpha-example.com')" +
                ":contains('mint-cloud-verification=')",
            isCheck: true,
        },
        {
            content: "Check now is offered",
            trigger: "button.o_kubernetes_app_domain_check:not([disabled])",
            isCheck: true,
        },
    ],
});
