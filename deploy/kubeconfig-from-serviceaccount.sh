#!/bin/sh
# Print a kubeconfig for the ServiceAccount of deploy/rbac.yaml on stdout.
#
#   sh deploy/kubeconfig-from-serviceaccount.sh > mint-cloud.kubeconfig
#
# The server URL and the CA come from kubectl's current context. The token
# comes from the Secret mint-cloud-token. With TOKEN_DURATION set (e.g.
# 8760h), the script asks for a token that expires instead:
# `kubectl create token`. Only stdout gets the token. Redirect stdout to a
# file and paste that file into the cluster record.
#
# Settings (environment variables): NAMESPACE (mint-cloud-system),
# SERVICE_ACCOUNT (mint-cloud), SECRET (mint-cloud-token),
# CLUSTER_NAME (the current context's cluster), TOKEN_DURATION (unset).
set -eu

namespace=${NAMESPACE:-mint-cloud-system}
account=${SERVICE_ACCOUNT:-mint-cloud}
secret=${SECRET:-mint-cloud-token}

view() {
    # --flatten turns a certificate-authority file into certificate-authority-data.
    kubectl config view --minify --flatten -o "jsonpath={$1}"
}

server=$(view '.clusters[0].cluster.server')
cluster=${CLUSTER_NAME:-$(view '.clusters[0].name')}
ca=$(view '.clusters[0].cluster.certificate-authority-data')
if [ -z "$server" ]; then
    echo "kubectl's current context has no server" >&2
    exit 1
fi

if [ -n "${TOKEN_DURATION:-}" ]; then
    token=$(kubectl -n "$namespace" create token "$account" \
        --duration="$TOKEN_DURATION")
else
    token=$(kubectl -n "$namespace" get secret "$secret" \
        -o 'go-template={{if .data.token}}{{.data.token | base64decode}}{{end}}')
fi
if [ -z "$token" ]; then
    echo "Secret $namespace/$secret has no token yet: wait a moment and run this again" >&2
    exit 1
fi

ca_line=
if [ -n "$ca" ]; then
    ca_line="    certificate-authority-data: $ca"
fi
context="$account@$cluster"
# A here-document: the token never appears in a command line.
cat <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: "$cluster"
  cluster:
    server: "$server"
$ca_line
users:
- name: "$account"
  user:
    token: "$token"
contexts:
- name: "$context"
  context:
    cluster: "$cluster"
    user: "$account"
current-context: "$context"
KUBECONFIG
