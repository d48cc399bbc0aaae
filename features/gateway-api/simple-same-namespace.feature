@profile:GATEWAY-HTTP
Feature: A route in the Gateway's own namespace
  An HTTPRoute that lives next to its Gateway and its backend Service is accepted and carries
  traffic for its hostname, and only for its hostname.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteSimpleSameNamespace
  Scenario: A same-namespace route is accepted and reaches its backend
    Given the manifests "simple-same-namespace.yaml" are applied
    Then the route "gateway-conformance-infra/simple-same-ns" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/simple-same-ns" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "simple.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw host "simple.portcullis.example"
    And the backend saw path "/"
    When I send a "GET" request for "/" to host "stranger.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "simple.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404
    And the route "gateway-conformance-infra/simple-same-ns" has no status for gateway "gateway-conformance-infra/all-namespaces"

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteSimpleSameNamespace
  Scenario: Path, query and method reach the backend unchanged
    Given the manifests "simple-same-namespace-passthrough.yaml" are applied
    Then the route "gateway-conformance-infra/simple-passthrough" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/deep/down/the/path?colour=teal&size=9" to host "passthrough.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw path "/deep/down/the/path?colour=teal&size=9"
    When I send a "POST" request for "/submit" to host "passthrough.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw path "/submit"
    When I send a "GET" request for "/deep/down/the/path" to host "passthrough.portcullis.example.other" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteSimpleSameNamespace
  Scenario: A parentRef without a namespace means the route's own namespace
    Given the following manifests are applied:
      """
      # Two routes that differ only in their namespace; neither names the Gateway's namespace.
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata:
        name: inline-home
        namespace: gateway-conformance-infra
      spec:
        parentRefs:
        - name: all-namespaces
        hostnames:
        - inline-home.portcullis.example
        rules:
        - backendRefs:
          - name: infra-backend-v3
            port: 8080
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata:
        name: inline-away
        namespace: gateway-conformance-web-backend
      spec:
        parentRefs:
        - name: all-namespaces
        hostnames:
        - inline-away.portcullis.example
        rules:
        - backendRefs:
          - name: web-backend
            port: 8080
      """
    Then the route "gateway-conformance-infra/inline-home" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    And the route "gateway-conformance-web-backend/inline-away" has no status for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "inline-home.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "inline-away.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404
