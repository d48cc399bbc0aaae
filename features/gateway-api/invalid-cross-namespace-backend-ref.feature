@profile:GATEWAY-HTTP
Feature: A cross-namespace backend without a ReferenceGrant
  Without a ReferenceGrant the reference is not resolved: the route is still accepted, says
  ResolvedRefs False with RefNotPermitted, and its rule answers 500.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:HTTPRouteInvalidCrossNamespaceBackendRef
  Scenario: The unpermitted backend is refused and the rule answers 500
    Given the manifests "invalid-cross-namespace-backend-ref.yaml" are applied
    Then the route "gateway-conformance-web-backend/xns-backend-denied" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    And the route "gateway-conformance-web-backend/xns-backend-denied" has condition "ResolvedRefs" "False" with reason "RefNotPermitted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "xns-denied.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 500
    When I send a "GET" request for "/" to host "xns-denied-typo.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404
