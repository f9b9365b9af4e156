/** @odoo-module **/
/* Copyright 2026 Mint Cloud
 * License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */

import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * While a deployment of the app is queued or running, reload its portal
 * page now and then, so the customer sees the progress and then the result.
 */
publicWidget.registry.KubernetesAppRefresh = publicWidget.Widget.extend({
    selector: ".o_kubernetes_app_busy[data-refresh-url]",
    refreshSeconds: 15,

    start() {
        this.refreshTimer = setTimeout(
            () => window.location.assign(this.el.dataset.refreshUrl),
            this.refreshSeconds * 1000
        );
        return this._super(...arguments);
    },

    destroy() {
        clearTimeout(this.refreshTimer);
        this._super(...arguments);
    },
});
