@profile:GATEWAY-HTTP
Feature: Route hostnames intersect with listener hostnames
  A route serves, on each listener, only the hostnames both sides accept: exact names must be
  equal or fall under the other side's wildcard, and a wildcard on both sides narrows to the
  more specific one. A route that shares no hostname with any listener is not accepted.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteHostnameIntersection
  Scenario: Only the listed hostnames a listener accepts are served
    Given the manifests "hostname-intersection-listed.yaml" are applied
    Then the route "gateway-conformance-infra/hostx-listed-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/hostx-listed"
    When I send a "GET" request for "/" to host "only.hostx.example" through gateway "gateway-conformance-infra/hostx-listed"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw host "only.hostx.example"
    When I send a "GET" request for "/" to host "deep.wild.hostx.example" through gateway "gateway-conformance-infra/hostx-listed"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "elsewhere.hostx.example" through gateway "gateway-conformance-infra/hostx-listed"
    Then the response status is 404
    When I send a "GET" request for "/" to host "shallow.wild.hostx.example" through gateway "gateway-conformance-infra/hostx-listed"
    Then the response status is 404
    When I send a "GET" request for "/" to host "wild.hostx.example" through gateway "gateway-conformance-infra/hostx-listed"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteHostnameIntersection
  Scenario: A wildcard route hostname narrows to each listener's hostname
    Given the manifests "hostname-intersection-wildcard-route.yaml" are applied
    Then the route "gateway-conformance-infra/hostx-wildroute-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/hostx-wildroute"
    When I send a "GET" request for "/" to host "api.hostw.example" through gateway "gateway-conformance-infra/hostx-wildroute"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "basket.shop.hostw.example" through gateway "gateway-conformance-infra/hostx-wildroute"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "blog.hostw.example" through gateway "gateway-conformance-infra/hostx-wildroute"
    Then the response status is 404
    When I send a "GET" request for "/" to host "shop.hostw.example" through gateway "gateway-conformance-infra/hostx-wildroute"
    Then the response status is 404
    When I send a "GET" request for "/" to host "hostw.example" through gateway "gateway-conformance-infra/hostx-wildroute"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteHostnameIntersection
  Scenario: A route sharing no hostname with the listener is not accepted
    Given the manifests "hostname-intersection-none.yaml" are applied
    Then the route "gateway-conformance-infra/hostx-none-stranger" has condition "Accepted" "False" with reason "NoMatchingListenerHostname" for gateway "gateway-conformance-infra/hostx-none"
    And the route "gateway-conformance-infra/hostx-none-friend" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/hostx-none"
    And the listener "http" of gateway "gateway-conformance-infra/hostx-none" has 1 attached routes
    When I send a "GET" request for "/" to host "stranger.hostn.example" through gateway "gateway-conformance-infra/hostx-none"
    Then the response status is 404
    When I send a "GET" request for "/" to host "far.elsewhere.example" through gateway "gateway-conformance-infra/hostx-none"
    Then the response status is 404
    When I send a "GET" request for "/" to host "only.hostn.example" through gateway "gateway-conformance-infra/hostx-none"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
