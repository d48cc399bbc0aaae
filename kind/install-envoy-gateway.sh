#!/usr/bin/env bash
# Installs Envoy Gateway and a GatewayClass `eg` for it: an example GATEWAY_INSTALL script for
# kind/run.sh. KUBECONFIG must point at the cluster (kind/run.sh all sets it).
#
#   ENVOY_GATEWAY_VERSION  the Envoy Gateway release [v1.9.0]
#   GATEWAY_CLASS          the GatewayClass to create [eg]
#   WAIT_TIMEOUT           kubectl wait timeout [300s]
#
# The chart installs the Gateway API CRDs its release is tested with, so run kind/run.sh with
# GATEWAY_API_CRDS=skip. Envoy Gateway gives every Gateway a LoadBalancer Service: run
# cloud-provider-kind on the host so that they get addresses (see kind/README.md).
set -euo pipefail

ENVOY_GATEWAY_VERSION="${ENVOY_GATEWAY_VERSION:-v1.9.0}"
GATEWAY_CLASS="${GATEWAY_CLASS:-eg}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-300s}"

for tool in helm kubectl; do
    command -v "${tool}" >/dev/null 2>&1 || {
        echo "install-envoy-gateway.sh: ${tool} is required but not on PATH" >&2
        exit 1
    }
done
[[ -n "${KUBECONFIG:-}" ]] || {
    echo "install-envoy-gateway.sh: set KUBECONFIG to the cluster's kubeconfig" >&2
    exit 1
}

helm upgrade --install eg oci://docker.io/envoyproxy/gateway-helm \
    --version "${ENVOY_GATEWAY_VERSION}" \
    --namespace envoy-gateway-system --create-namespace
kubectl wait --for=condition=Available --timeout="${WAIT_TIMEOUT}" -n envoy-gateway-system deployment/envoy-gateway

kubectl apply --server-side --field-manager=portcullis-kind -f - <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ${GATEWAY_CLASS}
spec:
  controllerName: gateway.envoyproxy.io/gatewayclass-controller
EOF
kubectl wait --for=condition=Accepted --timeout="${WAIT_TIMEOUT}" "gatewayclass/${GATEWAY_CLASS}"
