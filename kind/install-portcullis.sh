#!/usr/bin/env bash
# Builds the portcullis image, loads it into the kind cluster, applies the APK CRDs and
# kind/portcullis.yaml, and waits until the gateway runs and accepts the GatewayClass
# `portcullis`: a GATEWAY_INSTALL script for kind/run.sh. KUBECONFIG must point at the cluster
# (kind/run.sh all sets it).
#
#   CLUSTER_NAME      the kind cluster [portcullis]
#   PORTCULLIS_IMAGE  the image tag to build and load [portcullis:dev]
#   WAIT_TIMEOUT      kubectl wait timeout [300s]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"
CLUSTER_NAME="${CLUSTER_NAME:-portcullis}"
PORTCULLIS_IMAGE="${PORTCULLIS_IMAGE:-portcullis:dev}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-300s}"

die() {
    echo "install-portcullis.sh: $*" >&2
    exit 1
}

for tool in docker kind kubectl cargo; do
    command -v "${tool}" >/dev/null 2>&1 || die "${tool} is required but not on PATH"
done
[[ -n "${KUBECONFIG:-}" ]] || die "set KUBECONFIG to the cluster's kubeconfig"

DOCKER_BUILDKIT=1 docker build -f "${here}/Dockerfile" -t "${PORTCULLIS_IMAGE}" "${root}"
kind load docker-image "${PORTCULLIS_IMAGE}" --name "${CLUSTER_NAME}"

# The APK kinds' CRDs come from the same types the gateway parses them with.
(cd "${root}" && cargo run --quiet --release -- crds) | kubectl apply --server-side -f -
kubectl wait --for=condition=Established --timeout="${WAIT_TIMEOUT}" crd/apis.dp.wso2.com crd/ratelimitpolicies.dp.wso2.com

# The manifest names portcullis:dev; another tag replaces it.
sed "s|image: portcullis:dev|image: ${PORTCULLIS_IMAGE}|" "${here}/portcullis.yaml" | kubectl apply --server-side -f -
kubectl -n portcullis-system rollout status deployment/portcullis --timeout="${WAIT_TIMEOUT}"
kubectl wait --for=condition=Accepted --timeout="${WAIT_TIMEOUT}" gatewayclass/portcullis
echo "portcullis is serving GatewayClass portcullis"
