/** @odoo-module **/
/* License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
/*
 * An operator rolls a changed manifest out to the apps that run an older
 * revision of it, as two short tours (tests/test_rollout_tour.py):
 *
 * 1. kubernetes_app_tour_rollout_start: Kubernetes > Manifests: the
 *    manifest says "2 apps outdated"; Roll Out opens a rollout with both
 *    apps; Start: the rollout runs, its progress bar at 0 %.
 * 2. kubernetes_app_tour_rollout_done: after the job runner's work (done by
 *    the Python test), Kubernetes > Rollouts: the progress bar is at 100 %,
 *    the rollout is done and both apps are deployed.
 */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const MANIFEST = "Tour rollout: Odoo";
const APPS = ["tourroll", "tourroll-int"];

function listLoaded(title) {
    return {
        content: `The ${title} list is shown`,
        trigger: `.o_last_breadcrumb_item:contains("${title}")`,
        extra_trigger: ".o_list_view",
        isCheck: true,
    };
}

function openMenu(xmlid, title) {
    return [
        ...stepUtils.goToAppSteps("kubernetes_manifest.menu_kubernetes_root", "Open Kubernetes"),
        listLoaded("Apps"),
        {
            content: `Open Kubernetes > ${title}`,
            trigger: `.o_main_navbar [data-menu-xmlid="${xmlid}"]`,
        },
        listLoaded(title),
    ];
}

function progressIs(value) {
    return {
        content: `The progress bar is at ${value} %`,
        trigger: `.o_form_view .o_field_widget[name=progress] .o_progress[aria-valuenow="${value}"]`,
        isCheck: true,
    };
}

function stateIs(value) {
    return {
        content: `The rollout is ${value}`,
        trigger: `.o_form_view .o_statusbar_status button[data-value="${value}"][aria-checked="true"]`,
        isCheck: true,
    };
}

registry.category("web_tour.tours").add("kubernetes_app_tour_rollout_start", {
    test: true,
    url: "/web",
    steps: () => [
        ...openMenu("kubernetes_manifest.menu_kubernetes_manifest", "Manifests"),
        {
            content: `Open ${MANIFEST}`,
            trigger: `.o_list_view .o_data_row td[name=name]:contains("${MANIFEST}")`,
        },
        {
            content: "Two apps run an older revision of the manifest",
            trigger: ".o_form_view .oe_stat_button[name=action_view_outdated_apps]:contains(2):contains(apps outdated)",
            isCheck: true,
        },
        {
            content: "Roll the manifest out",
            trigger: ".o_form_view .o_form_statusbar button[name=action_new_rollout]",
        },
        ...APPS.map((name) => ({
            content: `${name} is proposed`,
            trigger: `.o_form_view .o_field_widget[name=app_ids] .o_data_row td[name=name]:contains("${name}")`,
            isCheck: true,
        })),
        stateIs("draft"),
        {
            content: "Start the rollout",
            trigger: ".o_form_view .o_form_statusbar button[name=action_start]",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer .btn-primary",
        },
        stateIs("running"),
        progressIs(0),
        {
            content: "Both apps are lines of the rollout",
            trigger: ".o_form_view .o_field_widget[name=line_ids] .o_data_row:eq(1)",
            isCheck: true,
        },
    ],
});

registry.category("web_tour.tours").add("kubernetes_app_tour_rollout_done", {
    test: true,
    url: "/web",
    steps: () => [
        ...openMenu("kubernetes_app.menu_kubernetes_rollout", "Rollouts"),
        {
            content: `Open the rollout of ${MANIFEST}`,
            trigger: `.o_list_view .o_data_row td[name=name]:contains("${MANIFEST}")`,
        },
        progressIs(100),
        {
            content: "The progress bar says 100 %",
            trigger: ".o_form_view .o_field_widget[name=progress] .o_progressbar_value:contains(100)",
            isCheck: true,
        },
        stateIs("done"),
        ...APPS.map((name) => ({
            content: `${name} is deployed`,
            trigger: `.o_form_view .o_field_widget[name=line_ids] .o_data_row:has(td[name=app_id]:contains("${name}")) td[name=state]:contains(Done)`,
            isCheck: true,
        })),
    ],
});
