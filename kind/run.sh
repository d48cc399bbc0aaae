#!/usr/bin/env bash
# Runs the portcullis conformance harness against a gateway on a local kind cluster.
#
#   kind/run.sh up     create the cluster, install the Gateway API CRDs and the echo backends
#   kind/run.sh test   run the harness against the GatewayClass $GATEWAY_CLASS
#   kind/run.sh all    up, then the $GATEWAY_INSTALL script (if set), then test
#   kind/run.sh down   delete the cluster
#
# Settings (environment variables; defaults in brackets):
#   CLUSTER_NAME         [portcullis]
#   KUBECONFIG_FILE      where to write the cluster's kubeconfig [kind/kubeconfig]
#   GATEWAY_API_VERSION  Gateway API release whose standard-channel CRDs to install [v1.6.1]
#   GATEWAY_API_CRDS     install | skip (skip when the gateway's installer brings them) [install]
#   ECHO_IMAGE           replaces the echo image of kind/echo-backends.yaml [unset]
#   GATEWAY_INSTALL      a script that installs a gateway; run by `all` with KUBECONFIG set [unset]
#   GATEWAY_CLASS        the GatewayClass of the gateway under test [eg]
#   SUPPORTED_FEATURES   comma-separated upstream features it claims [Gateway,HTTPRoute,ReferenceGrant]
#   GATEWAY_ADDRESSES    space-separated ns/name:port=host:port overrides [unset]
#   REPORT_DIR           where the ConformanceReport and JUnit files go [reports/kind]
#   WAIT_TIMEOUT         kubectl wait timeout [300s]
#
# See kind/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/.." && pwd)"

CLUSTER_NAME="${CLUSTER_NAME:-portcullis}"
KUBECONFIG_FILE="${KUBECONFIG_FILE:-${here}/kubeconfig}"
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.6.1}"
GATEWAY_API_CRDS="${GATEWAY_API_CRDS:-install}"
ECHO_IMAGE="${ECHO_IMAGE:-}"
GATEWAY_INSTALL="${GATEWAY_INSTALL:-}"
GATEWAY_CLASS="${GATEWAY_CLASS:-eg}"
SUPPORTED_FEATURES="${SUPPORTED_FEATURES:-Gateway,HTTPRoute,ReferenceGrant}"
GATEWAY_ADDRESSES="${GATEWAY_ADDRESSES:-}"
REPORT_DIR="${REPORT_DIR:-${root}/reports/kind}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-300s}"

BACKEND_NAMESPACES=(gateway-conformance-infra gateway-conformance-app-backend gateway-conformance-web-backend)
GATEWAY_API_CRD_NAMES=(gatewayclasses gateways httproutes referencegrants)

die() {
    echo "kind/run.sh: $*" >&2
    exit 1
}

need() {
    local tool
    for tool in "$@"; do
        command -v "${tool}" >/dev/null 2>&1 || die "${tool} is required but not on PATH (see kind/README.md)"
    done
}

k() {
    kubectl --kubeconfig "${KUBECONFIG_FILE}" "$@"
}

need_kubeconfig() {
    [[ -s "${KUBECONFIG_FILE}" ]] || die "no kubeconfig at ${KUBECONFIG_FILE}: run 'kind/run.sh up' first"
}

up() {
    need docker kind kubectl
    docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer ('docker info' failed)"

    if kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
        echo "cluster ${CLUSTER_NAME} exists; reusing it"
    else
        kind create cluster --name "${CLUSTER_NAME}" --config "${here}/cluster.yaml" --wait "${WAIT_TIMEOUT}"
    fi
    (umask 077 && kind get kubeconfig --name "${CLUSTER_NAME}" >"${KUBECONFIG_FILE}")
    echo "kubeconfig: ${KUBECONFIG_FILE}"

    case "${GATEWAY_API_CRDS}" in
    install)
        local url="https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml"
        echo "installing the Gateway API ${GATEWAY_API_VERSION} standard-channel CRDs"
        k apply --server-side -f "${url}"
        local crd
        for crd in "${GATEWAY_API_CRD_NAMES[@]}"; do
            k wait --for=condition=Established --timeout="${WAIT_TIMEOUT}" "crd/${crd}.gateway.networking.k8s.io"
        done
        ;;
    skip)
        echo "not installing Gateway API CRDs (GATEWAY_API_CRDS=skip)"
        ;;
    *)
        die "GATEWAY_API_CRDS must be install or skip, not ${GATEWAY_API_CRDS}"
        ;;
    esac

    echo "installing the echo backends"
    if [[ -n "${ECHO_IMAGE}" ]]; then
        sed "s|image: registry.k8s.io/gateway-api/echo-basic:.*|image: ${ECHO_IMAGE}|" "${here}/echo-backends.yaml" |
            k apply --server-side --field-manager=portcullis-kind -f -
    else
        k apply --server-side --field-manager=portcullis-kind -f "${here}/echo-backends.yaml"
    fi
    local namespace
    for namespace in "${BACKEND_NAMESPACES[@]}"; do
        k wait --for=condition=Available --timeout="${WAIT_TIMEOUT}" deployment --all -n "${namespace}"
    done
}

run_tests() {
    need kubectl cargo
    need_kubeconfig
    if [[ "${GATEWAY_CLASS}" == portcullis ]]; then
        die "GATEWAY_CLASS=portcullis: portcullis cannot run in a cluster yet (see kind/README.md); name the class of the gateway you installed"
    fi
    k get crd gateways.gateway.networking.k8s.io >/dev/null 2>&1 ||
        die "the Gateway API CRDs are not installed: run 'kind/run.sh up' (or install your gateway's CRDs)"
    k get gatewayclass "${GATEWAY_CLASS}" >/dev/null 2>&1 ||
        die "GatewayClass ${GATEWAY_CLASS} does not exist: install a gateway first (see kind/README.md) or set GATEWAY_CLASS"
    k wait --for=condition=Accepted --timeout="${WAIT_TIMEOUT}" "gatewayclass/${GATEWAY_CLASS}"
    if [[ -z "${GATEWAY_ADDRESSES}" ]] && command -v pgrep >/dev/null 2>&1 && ! pgrep -x cloud-provider-kind >/dev/null 2>&1; then
        echo "warning: cloud-provider-kind is not running; LoadBalancer gateways will get no address (see kind/README.md)" >&2
    fi

    local args=(
        conformance
        --kubeconfig "${KUBECONFIG_FILE}"
        --gateway-class "${GATEWAY_CLASS}"
        --supported-features "${SUPPORTED_FEATURES}"
        --features "${root}/features"
        --report "${REPORT_DIR}/conformance-report.yaml"
        --junit "${REPORT_DIR}/junit.xml"
    )
    if [[ -n "${GATEWAY_ADDRESSES}" ]]; then
        local overrides address
        read -r -a overrides <<<"${GATEWAY_ADDRESSES}"
        for address in "${overrides[@]}"; do
            args+=(--gateway-address "${address}")
        done
    fi
    mkdir -p "${REPORT_DIR}"
    cd "${root}"
    cargo run --release -- "${args[@]}"
}

down() {
    need kind
    kind delete cluster --name "${CLUSTER_NAME}"
    rm -f "${KUBECONFIG_FILE}"
}

main() {
    local command="${1:-}"
    case "${command}" in
    up) up ;;
    test) run_tests ;;
    all)
        up
        if [[ -n "${GATEWAY_INSTALL}" ]]; then
            [[ -x "${GATEWAY_INSTALL}" ]] || die "GATEWAY_INSTALL=${GATEWAY_INSTALL} is not an executable script"
            echo "installing the gateway with ${GATEWAY_INSTALL}"
            KUBECONFIG="${KUBECONFIG_FILE}" "${GATEWAY_INSTALL}"
        fi
        run_tests
        ;;
    down) down ;;
    *)
        sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
    esac
}

main "$@"
