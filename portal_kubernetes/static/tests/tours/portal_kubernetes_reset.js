/** @odoo-module **/
/* Copyright 2026 Mint Cloud
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */

import { registry } from "@web/core/registry";

/**
 * A customer logs in, opens the Apps tile on /my, opens the integration app,
 * clicks Reset, reads the confirmation and confirms; the page then shows the
 * reset queued and the button disabled.  The test starts the tour on the
 * login page as a visitor.
 */
registry.category("web_tour.tours").add("portal_kubernetes_reset", {
    test: true,
    url: "/web/login?redirect=/my",
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
            content: "The Apps tile counts the customer's two apps",
            trigger:
                ".o_portal_index_card a[href='/my/apps']" +
                ":has([data-placeholder_count='app_count']:containsExact(2))",
            isCheck: true,
        },
        {
            content: "Open the Apps tile",
            trigger: ".o_portal_index_card a[href='/my/apps']",
        },
        {
            content: "Open the integration app",
            extra_trigger: ".o_kubernetes_app_row[data-app-name='alpha']",
            trigger: ".o_kubernetes_app_row[data-app-name='alpha-int'] a.o_kubernetes_app_link",
        },
        {
            content: "Click Reset",
            extra_trigger: ".o_kubernetes_app_environment:contains('Staging')",
            trigger: "button.o_kubernetes_app_reset:not([disabled])",
        },
        {
            content: "The confirmation explains the reset; confirm",
            extra_trigger:
                "#o_kubernetes_app_reset_modal.show .modal-body" +
                ":contains('neutralized copy'):contains('data of the staging app is lost')",
            // Inside an open modal the tour looks for the trigger in the modal.
            trigger: "button.o_kubernetes_app_reset_confirm",
        },
        {
            content: "The reset is queued and Reset is disabled",
            extra_trigger: ".o_kubernetes_app_reset_queued",
            trigger: ".o_kubernetes_app_reset_state[data-state='queued']",
            isCheck: true,
        },
        {
            content: "Reset is disabled while the reset is queued",
            trigger: "button.o_kubernetes_app_reset[disabled]",
            isCheck: true,
        },
    ],
});
