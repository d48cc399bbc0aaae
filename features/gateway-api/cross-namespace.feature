@profile:GATEWAY-HTTP
Feature: Routes attaching to a Gateway in another namespace
  A Gateway decides which namespaces may attach routes to it. A route from an admitted
  namespace is accepted and reaches a backend in its own namespace.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteCrossNamespace
  Scenario: A route from a labelled backend namespace joins a Gateway that selects it
    Given the manifests "cross-namespace-web.yaml" are applied
    Then the route "gateway-conformance-web-backend/cross-ns-web" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/backend-namespaces"
    And the route "gateway-conformance-web-backend/cross-ns-web" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/backend-namespaces"
    When I send a "GET" request for "/" to host "crossns-web.portcullis.example" through gateway "gateway-conformance-infra/backend-namespaces"
    Then the response status is 200
    And the request reached backend "web-backend" in namespace "gateway-conformance-web-backend"
    When I send a "GET" request for "/" to host "crossns-web-typo.portcullis.example" through gateway "gateway-conformance-infra/backend-namespaces"
    Then the response status is 404
    When I send a "GET" request for "/" to host "crossns-web.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteCrossNamespace
  Scenario: A route from another namespace joins a Gateway open to all namespaces
    Given the manifests "cross-namespace-app.yaml" are applied
    Then the route "gateway-conformance-app-backend/cross-ns-app" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/app/status" to host "crossns-app.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 200
    And the request reached backend "app-backend-v2" in namespace "gateway-conformance-app-backend"
    And the backend saw path "/app/status"
    When I send a "GET" request for "/apps" to host "crossns-app.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404
    When I send a "GET" request for "/app/status" to host "crossns-app.portcullis.example" through gateway "gateway-conformance-infra/backend-namespaces"
    Then the response status is 404
