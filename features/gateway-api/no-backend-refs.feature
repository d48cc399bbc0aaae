@profile:GATEWAY-HTTP
Feature: A rule without backendRefs
  A rule with neither backends nor a redirect has nowhere to send the request: the route is
  accepted and the rule answers 500.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteNoBackendRefs
  Scenario: The empty rule answers 500 while its neighbour serves
    Given the manifests "no-backend-refs.yaml" are applied
    Then the route "gateway-conformance-infra/no-backends" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/void" to host "no-backends.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 500
    When I send a "GET" request for "/solid" to host "no-backends.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/voids" to host "no-backends.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
