@profile:GATEWAY-HTTP
Feature: A listener allowing route kinds the gateway does not serve
  Unknown kinds in allowedRoutes.kinds make the listener report ResolvedRefs False with
  InvalidRouteKinds, and they are left out of supportedKinds. Known kinds listed beside them
  keep working.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:GatewayInvalidRouteKind
  Scenario: Only unknown kinds: nothing is supported and no route attaches
    Given the manifests "invalid-route-kind-only.yaml" are applied
    Then the listener "http" of gateway "gateway-conformance-infra/kinds-unknown-only" has condition "ResolvedRefs" "False" with reason "InvalidRouteKinds"
    And the listener "http" of gateway "gateway-conformance-infra/kinds-unknown-only" supports kinds ""
    And the listener "http" of gateway "gateway-conformance-infra/kinds-unknown-only" has 0 attached routes
    And the route "gateway-conformance-infra/kinds-unknown-only-route" has condition "Accepted" "False" with reason "NotAllowedByListeners" for gateway "gateway-conformance-infra/kinds-unknown-only"
    When I send a "GET" request for "/" to host "kinds-only.portcullis.example" through gateway "gateway-conformance-infra/kinds-unknown-only"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:GatewayInvalidRouteKind
  Scenario: HTTPRoute beside an unknown kind: HTTPRoute is supported and served
    Given the manifests "invalid-route-kind-mixed.yaml" are applied
    Then the listener "http" of gateway "gateway-conformance-infra/kinds-mixed" has condition "ResolvedRefs" "False" with reason "InvalidRouteKinds"
    And the listener "http" of gateway "gateway-conformance-infra/kinds-mixed" supports kinds "HTTPRoute"
    And the listener "http" of gateway "gateway-conformance-infra/kinds-mixed" has 1 attached routes
    When I send a "GET" request for "/" to host "kinds-mixed.portcullis.example" through gateway "gateway-conformance-infra/kinds-mixed"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "kinds-other.portcullis.example" through gateway "gateway-conformance-infra/kinds-mixed"
    Then the response status is 404
