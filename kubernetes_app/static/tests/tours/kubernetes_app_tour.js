/** @odoo-module **/
/* License AGPL-3.0 or later (https://www.gnu.org/licenses/agpl). */
/*
 * The operator's workflow in the backend, as four short tours.
 *
 * Deployments run as queue jobs, which do not run inside a test; the
 * Python test (tests/test_operator_tour.py) performs them between the
 * tours and plays the cluster's controllers on the fake API server.
 *
 * 1. kubernetes_app_tour_record: Kubernetes > Manifests: record a manifest
 *    (title and URL) and see its preview; Kubernetes > Apps: create an app;
 *    its first deployment is queued.
 * 2. kubernetes_app_tour_apply: open the app, click Apply: queued.
 * 3. kubernetes_app_tour_update: see the app running with its Ingress
 *    status, click Update: queued.
 * 4. kubernetes_app_tour_status: see the state and Ingress status after
 *    the update, and Action > Export to YAML.
 *
 * The manifest URL comes from the start URL's query string
 * (?mintcloud_manifest_url=...), so the test can serve the file from a
 * local server; without it the module's own Ingress template is used.
 */

import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const MANIFEST_TITLE = "Tour stack: Ingress";
const APP_NAME = "tourapp";
const CLUSTER_NAME = "Tour cluster";
const CUSTOMER_NAME = "Tour Customer";
// Recorded by the Python test; the tour adds the Ingress it records itself.
const STACK_MANIFESTS = [
    "Tour stack: Secret",
    "Tour stack: Filestore",
    "Tour stack: PostgreSQL",
    "Tour stack: Odoo",
    MANIFEST_TITLE,
];
const INGRESS_ADDRESS = "203.0.113.10";

function manifestUrl() {
    const params = new URLSearchParams(browser.location.search);
    return (
        params.get("mintcloud_manifest_url") ||
        "/kubernetes_manifest/static/manifests/ingress.yaml"
    );
}

/** Steps that pick ``label`` in the autocomplete of a many2one input. */
function selectMany2one(inputSelector, label) {
    return [
        {
            content: `Type ${label}`,
            trigger: inputSelector,
            run: `text ${label}`,
        },
        {
            content: `Pick ${label}`,
            trigger: `.o-autocomplete--dropdown-menu li:not(.o_m2o_dropdown_option) a:contains("${label}")`,
        },
    ];
}

function addManifestLine(title) {
    const field = ".o_field_widget[name=manifest_line_ids]";
    return [
        {
            content: "Add a manifest line",
            trigger: `${field} .o_field_x2many_list_row_add a`,
        },
        ...selectMany2one(
            `${field} .o_selected_row .o_field_widget[name=manifest_id] input`,
            title
        ),
        {
            // The line shows the manifest's URL once the choice is taken.
            content: `${title} is on the line`,
            trigger: `${field} .o_selected_row td[name=url]:contains(manifests)`,
            isCheck: true,
        },
    ];
}

/** The list view of ``title`` is loaded (the last breadcrumb names it). */
function listLoaded(title) {
    return {
        content: `The ${title} list is shown`,
        trigger: `.o_last_breadcrumb_item:contains("${title}")`,
        extra_trigger: ".o_list_view",
        isCheck: true,
    };
}

/** Kubernetes > ``title`` from the main menu (the app opens on Apps). */
function openKubernetesMenu(xmlid, title) {
    const steps = [
        ...stepUtils.goToAppSteps("kubernetes_manifest.menu_kubernetes_root", "Open Kubernetes"),
        listLoaded("Apps"),
    ];
    if (title !== "Apps") {
        steps.push(
            {
                content: `Open Kubernetes > ${title}`,
                trigger: `.o_main_navbar [data-menu-xmlid="${xmlid}"]`,
            },
            listLoaded(title)
        );
    }
    return steps;
}

/** Kubernetes > Apps, then open the tour's app from the list. */
function openApp() {
    return [
        ...openKubernetesMenu("kubernetes_app.menu_kubernetes_app", "Apps"),
        {
            content: `Open ${APP_NAME}`,
            trigger: `.o_list_view .o_data_row td[name=name]:contains("${APP_NAME}")`,
        },
        {
            content: "The app's form is open",
            trigger: `.o_form_view .o_field_widget[name=name]:contains("${APP_NAME}")`,
            isCheck: true,
        },
    ];
}

function stateIs(value) {
    return {
        content: `The app is ${value}`,
        trigger: `.o_form_view .o_statusbar_status button[data-value="${value}"][aria-checked="true"]`,
        isCheck: true,
    };
}

/** Click a header button; the job is queued and the form shows it. */
function clickAndQueue(name, notification) {
    return [
        {
            content: `Click ${name}`,
            trigger: `.o_form_view .o_form_statusbar button[name=${name}]`,
        },
        {
            content: `"${notification}" is notified`,
            trigger: `.o_notification:contains("${notification}")`,
            isCheck: true,
        },
        stateIs("queued"),
        {
            content: "Apply and Update wait until the deployment has run",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name=action_apply]))",
            isCheck: true,
        },
    ];
}

/** The Status tab shows the Ingress hosts, address and TLS. */
function ingressStatusSteps() {
    return [
        {
            content: "Open the Status tab",
            trigger: ".o_notebook_headers a.nav-link[name=status]",
        },
        {
            content: "The Ingress serves the app's hostname",
            trigger: `.o_field_widget[name=ingress_hosts]:contains("${APP_NAME}.")`,
            isCheck: true,
        },
        {
            content: "The Ingress has the load balancer's address",
            trigger: `.o_field_widget[name=ingress_address]:contains("${INGRESS_ADDRESS}")`,
            isCheck: true,
        },
        {
            content: "TLS is ready",
            trigger: ".o_field_widget[name=tls_ready] input:checked",
            isCheck: true,
        },
    ];
}

registry.category("web_tour.tours").add("kubernetes_app_tour_record", {
    test: true,
    // No url: a tour's url replaces the start URL, and with it the query
    // string naming the manifest URL.
    steps: () => [
        // Kubernetes > Manifests: a title and the URL of the YAML file.
        ...openKubernetesMenu("kubernetes_manifest.menu_kubernetes_manifest", "Manifests"),
        {
            content: "Record a manifest",
            trigger: ".o_list_button_add",
        },
        {
            content: "Title",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: `text ${MANIFEST_TITLE}`,
        },
        {
            content: "URL of the YAML file",
            trigger: ".o_form_view .o_field_widget[name=url] input",
            run: `text ${manifestUrl()}`,
        },
        ...stepUtils.saveForm(),
        {
            content: "The preview lists the Ingress of the file",
            trigger: ".o_field_widget[name=document_preview] table.o_kubernetes_manifest_preview td:contains(Ingress)",
            isCheck: true,
        },
        {
            content: "One document",
            trigger: ".o_form_view .o_field_widget[name=document_count]:contains(1)",
            extra_trigger: ".o_form_view:not(:has(.alert-danger:visible))",
            isCheck: true,
        },
        // Kubernetes > Apps: a new app.
        {
            content: "Open Kubernetes > Apps",
            trigger: '.o_main_navbar [data-menu-xmlid="kubernetes_app.menu_kubernetes_app"]',
        },
        listLoaded("Apps"),
        {
            content: "Create an app",
            trigger: ".o_list_button_add",
        },
        {
            content: "App name",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: `text ${APP_NAME}`,
        },
        ...selectMany2one(".o_form_view .o_field_widget[name=partner_id] input", CUSTOMER_NAME),
        ...selectMany2one(".o_form_view .o_field_widget[name=cluster_id] input", CLUSTER_NAME),
        {
            content: "Open the Manifests tab",
            trigger: ".o_notebook_headers a.nav-link[name=manifests]",
        },
        ...STACK_MANIFESTS.flatMap(addManifestLine),
        ...stepUtils.saveForm(),
        // Creating the app queues its first deployment.
        stateIs("queued"),
        ...STACK_MANIFESTS.map((title) => ({
            content: `${title} is a manifest of the app`,
            trigger: `.o_field_widget[name=manifest_line_ids] .o_data_row td[name=manifest_id]:contains("${title}")`,
            isCheck: true,
        })),
        {
            content: "The hostname is the app name under the cluster's domain",
            trigger: `.o_field_widget[name=hostname]:contains("${APP_NAME}.tour.example.com")`,
            isCheck: true,
        },
        {
            content: "One deployment",
            trigger: ".o_form_view .oe_stat_button[name=action_view_deployments]:contains(1)",
            isCheck: true,
        },
    ],
});

registry.category("web_tour.tours").add("kubernetes_app_tour_apply", {
    test: true,
    url: "/web",
    steps: () => [
        ...openApp(),
        // The first deployment ran; the cluster has not reported yet.
        stateIs("deploying"),
        ...clickAndQueue("action_apply", "Apply queued"),
    ],
});

registry.category("web_tour.tours").add("kubernetes_app_tour_update", {
    test: true,
    url: "/web",
    steps: () => [
        ...openApp(),
        stateIs("running"),
        ...ingressStatusSteps(),
        ...clickAndQueue("action_update", "Update queued"),
    ],
});

registry.category("web_tour.tours").add("kubernetes_app_tour_status", {
    test: true,
    url: "/web",
    steps: () => [
        ...openApp(),
        stateIs("running"),
        {
            content: "The last deployment is the update",
            trigger: ".o_form_view .o_field_widget[name=last_deployment_id]:contains(Update)",
            isCheck: true,
        },
        ...ingressStatusSteps(),
        {
            content: "Open the Action menu",
            trigger: ".o_cp_action_menus .dropdown-toggle",
        },
        {
            content: "Action > Export to YAML is offered",
            trigger: '.o-dropdown--menu .o_menu_item:contains("Export to YAML")',
            isCheck: true,
        },
    ],
});
