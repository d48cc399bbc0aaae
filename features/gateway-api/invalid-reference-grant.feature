@profile:GATEWAY-HTTP
Feature: A ReferenceGrant that does not cover the reference
  A grant only helps when its from (group, kind, namespace) and its to (kind, name) both fit
  the reference. Otherwise the reference stays unpermitted.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:HTTPRouteInvalidReferenceGrant
  Scenario: A grant for a different Service name does not help
    Given the manifests "invalid-reference-grant-wrong-name.yaml" are applied
    Then the route "gateway-conformance-app-backend/badgrant-name" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    And the route "gateway-conformance-app-backend/badgrant-name" has condition "ResolvedRefs" "False" with reason "RefNotPermitted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "badgrant-name.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 500
    When I send a "GET" request for "/" to host "badgrant-name-typo.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:HTTPRouteInvalidReferenceGrant
  Scenario: A grant trusting Gateways does not trust HTTPRoutes
    Given the manifests "invalid-reference-grant-wrong-kind.yaml" are applied
    Then the route "gateway-conformance-app-backend/badgrant-kind" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    And the route "gateway-conformance-app-backend/badgrant-kind" has condition "ResolvedRefs" "False" with reason "RefNotPermitted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "badgrant-kind.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 500
    When I send a "GET" request for "/" to host "badgrant-kind.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
