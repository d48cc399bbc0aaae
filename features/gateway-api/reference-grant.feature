@profile:GATEWAY-HTTP
Feature: ReferenceGrant lets a route use a Service in another namespace
  A backendRef may cross namespaces only when a ReferenceGrant in the target namespace
  trusts routes from the referring namespace, either for one named Service or for all.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:HTTPRouteReferenceGrant
  Scenario: A grant naming the Service permits the reference
    Given the manifests "reference-grant-specific.yaml" are applied
    Then the route "gateway-conformance-infra/refgrant-specific" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/refgrant-specific" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/web/page" to host "refgrant.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "web-backend" in namespace "gateway-conformance-web-backend"
    When I send a "GET" request for "/local" to host "refgrant.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/webbed" to host "refgrant.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:HTTPRouteReferenceGrant
  Scenario: A grant without a name permits every Service of its namespace
    Given the manifests "reference-grant-namespace-wide.yaml" are applied
    Then the route "gateway-conformance-infra/refgrant-wide" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/first" to host "refgrant-wide.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "app-backend-v1" in namespace "gateway-conformance-app-backend"
    When I send a "GET" request for "/second" to host "refgrant-wide.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "app-backend-v2" in namespace "gateway-conformance-app-backend"
    When I send a "GET" request for "/third" to host "refgrant-wide.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
