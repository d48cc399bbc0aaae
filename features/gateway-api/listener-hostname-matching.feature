@profile:GATEWAY-HTTP
Feature: Listener hostnames pick the listener
  Several listeners may share a port when their hostnames differ. A request goes to the
  listener with the most specific matching hostname: an exact name beats a wildcard, and a
  wildcard never matches its bare parent domain.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteListenerHostnameMatching
  Scenario: Each request lands on the route of the most specific listener
    Given the manifests "listener-hostname-matching.yaml" are applied
    Then the route "gateway-conformance-infra/castle-apex" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/castle-gateway"
    And the route "gateway-conformance-app-backend/castle-moat" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/castle-gateway"
    And the listener "apex" of gateway "gateway-conformance-infra/castle-gateway" has 1 attached routes
    And the listener "any-moat" of gateway "gateway-conformance-infra/castle-gateway" has 1 attached routes
    When I send a "GET" request for "/" to host "castle.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "keep.castle.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "tower.castle.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "top.tower.castle.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "bridge.moat.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 200
    And the request reached backend "app-backend-v1" in namespace "gateway-conformance-app-backend"
    When I send a "GET" request for "/" to host "moat.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 404
    When I send a "GET" request for "/" to host "village.example" through gateway "gateway-conformance-infra/castle-gateway"
    Then the response status is 404
