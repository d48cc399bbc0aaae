@profile:GATEWAY-HTTP
Feature: A backendRef to a Service that does not exist
  The route is accepted, reports ResolvedRefs False with BackendNotFound, and the rule with
  the missing backend answers 500 while the others still serve.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteInvalidNonExistentBackendRef
  Scenario: The missing backend answers 500 and is reported
    Given the manifests "invalid-nonexistent-backend.yaml" are applied
    Then the route "gateway-conformance-infra/missing-backend" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/missing-backend" has condition "ResolvedRefs" "False" with reason "BackendNotFound" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/gone" to host "missing-backend.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 500
    When I send a "GET" request for "/here" to host "missing-backend.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/nowhere" to host "missing-backend.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
