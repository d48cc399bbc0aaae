@profile:GATEWAY-HTTP
Feature: One unpermitted backend does not take the whole route down
  When one rule's backend is not permitted, that rule answers 500, the route reports
  ResolvedRefs False with RefNotPermitted, and the other rules keep working.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:HTTPRoutePartiallyInvalidViaInvalidReferenceGrant
  Scenario: The valid rule serves while the unpermitted one answers 500
    Given the manifests "partially-invalid-via-reference-grant.yaml" are applied
    Then the route "gateway-conformance-web-backend/partial-grant" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    And the route "gateway-conformance-web-backend/partial-grant" has condition "ResolvedRefs" "False" with reason "RefNotPermitted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/borrowed" to host "partial-grant.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 500
    When I send a "GET" request for "/own" to host "partial-grant.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 200
    And the request reached backend "web-backend" in namespace "gateway-conformance-web-backend"
    When I send a "GET" request for "/neither" to host "partial-grant.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404
