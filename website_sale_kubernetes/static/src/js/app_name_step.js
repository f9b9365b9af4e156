/** @odoo-module **/
/* Copyright 2026 Mint Cloud
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */

import publicWidget from "@web/legacy/js/public/public_widget";
import { jsonrpc } from "@web/core/network/rpc_service";
import { debounce } from "@web/core/utils/timing";
import { KeepLast } from "@web/core/utils/concurrency";

/**
 * Checkout step "App name": checks each name while the customer types and
 * shows the server's messages next to the field.  The server checks again
 * when the form is submitted; this is only a convenience.
 */
publicWidget.registry.WebsiteSaleKubernetesAppName = publicWidget.Widget.extend({
    selector: ".o_wsk_app_name_form",
    events: {
        "input .o_wsk_app_name_input": "_onInput",
    },

    start() {
        this.keepLast = {};
        this._check = debounce(this._check.bind(this), 250);
        return this._super(...arguments);
    },

    _onInput(ev) {
        const field = ev.currentTarget.closest(".o_wsk_app_name_field");
        field.dataset.checked = "pending";
        this._check(field);
    },

    async _check(field) {
        const input = field.querySelector(".o_wsk_app_name_input");
        const lineId = field.dataset.lineId;
        this.keepLast[lineId] = this.keepLast[lineId] || new KeepLast();
        const result = await this.keepLast[lineId].add(
            jsonrpc("/shop/app_name/check", {
                name: input.value,
                line_id: parseInt(lineId, 10),
            })
        );
        this._show(field, input, result);
    },

    _show(field, input, result) {
        const feedback = field.querySelector(".o_wsk_app_name_feedback");
        feedback.replaceChildren(
            ...result.problems.map((problem) => {
                const div = document.createElement("div");
                div.dataset.code = problem.code;
                div.textContent = problem.message;
                return div;
            })
        );
        input.classList.toggle("is-invalid", !result.valid);
        input.classList.toggle("is-valid", result.valid);
        for (const span of field.querySelectorAll(".o_wsk_hint_name")) {
            span.textContent = result.valid ? input.value : "NAME";
        }
        field.dataset.checked = result.valid ? "valid" : "invalid";
    },
});

export default publicWidget.registry.WebsiteSaleKubernetesAppName;
