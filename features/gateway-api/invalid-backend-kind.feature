@profile:GATEWAY-HTTP
Feature: A backendRef of an unknown kind
  A backend kind the gateway does not support is reported as ResolvedRefs False with
  InvalidKind, and its rule answers 500.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteInvalidBackendRefUnknownKind
  Scenario: The unknown kind answers 500 and is reported
    Given the manifests "invalid-backend-kind.yaml" are applied
    Then the route "gateway-conformance-infra/odd-backend-kind" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/odd-backend-kind" has condition "ResolvedRefs" "False" with reason "InvalidKind" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/pigeon" to host "odd-kind.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 500
    When I send a "GET" request for "/post" to host "odd-kind.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
