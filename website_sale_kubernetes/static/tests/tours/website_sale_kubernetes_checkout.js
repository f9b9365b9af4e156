/** @odoo-module **/
/* Copyright 2026 Mint Cloud
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */

import { registry } from "@web/core/registry";
import tourUtils from "@website_sale/js/tours/tour_utils";

/**
 * A visitor buys Odoo-Hosting: product page, cart, address, the App Name
 * step (hint, an invalid name and its message, a valid name), payment with
 * the demo provider, and the confirmation with both URLs.
 */
registry.category("web_tour.tours").add("website_sale_kubernetes_checkout", {
    test: true,
    url: "/shop?search=Odoo-Hosting",
    steps: () => [
        {
            content: "Open the hosting product",
            trigger: '.oe_product_cart a:contains("Odoo-Hosting")',
        },
        {
            content: "Add the hosting product to the cart",
            trigger: "#product_detail #add_to_cart",
        },
        tourUtils.goToCart(),
        {
            content: "The hosting line is in the cart",
            trigger: "#cart_products .o_cart_product",
            isCheck: true,
        },
        tourUtils.goToCheckout(),
        ...tourUtils.fillAdressForm({
            name: "Ada Lovelace",
            phone: "+41 44 000 00 00",
            email: "ada@example.com",
            street: "Bahnhofstrasse 1",
            city: "Zürich",
            zip: "8001",
        }),
        {
            content: "The App Name step shows the sub-domain hint",
            trigger:
                '.o_wsk_hint:contains("your app:"):contains("https://NAME.mint-cloud.ch")' +
                ':contains("staging copy:"):contains("https://NAME-int.mint-cloud.ch")',
            isCheck: true,
        },
        {
            content: "The App Name step is the current checkout step",
            trigger: '.o_wizard .o_wizard_step_active:contains("App Name")',
            isCheck: true,
        },
        {
            content: "Type an invalid name",
            trigger: "input.o_wsk_app_name_input",
            run: "text Acme",
        },
        {
            content: "The live check explains the problem",
            trigger:
                '.o_wsk_app_name_field[data-checked="invalid"] ' +
                '.o_wsk_app_name_feedback div[data-code="charset"]:contains("Use lowercase letters")',
            isCheck: true,
        },
        {
            content: "Type a valid name",
            trigger: "input.o_wsk_app_name_input",
            run: "text tourapp",
        },
        {
            content: "The live check accepts it and the hint shows the URLs",
            trigger:
                '.o_wsk_app_name_field[data-checked="valid"] ' +
                '.o_wsk_hint:contains("https://tourapp.mint-cloud.ch")' +
                ':contains("https://tourapp-int.mint-cloud.ch")',
            isCheck: true,
        },
        {
            content: "Continue to payment",
            trigger: "button.o_wsk_app_name_submit",
        },
        {
            content: "The order summary shows the app name",
            trigger: '.o_wsk_summary_app_name:contains("https://tourapp.mint-cloud.ch")',
            isCheck: true,
        },
        ...tourUtils.payWithDemo(),
        {
            content: "The confirmation lists the app URL",
            trigger:
                '.o_wsk_confirmation_apps li[data-environment="prod"] ' +
                'a.o_wsk_app_url:contains("https://tourapp.mint-cloud.ch")',
            isCheck: true,
        },
        {
            content: "The confirmation lists the staging URL",
            trigger:
                '.o_wsk_confirmation_apps li[data-environment="int"] ' +
                'a.o_wsk_app_url:contains("https://tourapp-int.mint-cloud.ch")',
            isCheck: true,
        },
        {
            content: "The confirmation shows the state of the apps at once",
            trigger:
                '.o_wsk_confirmation_apps li[data-environment="prod"] ' +
                '.o_wsk_app_state:contains("Queued")',
            isCheck: true,
        },
    ],
});
