@profile:GATEWAY-HTTP
Feature: One route, several Gateways
  A route may name several parent Gateways; each one of ours accepts it independently and
  carries its traffic. Parents that are not portcullis' (another controller's class, or no
  Gateway at all) get no status from portcullis.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteMultipleGateways
  Scenario: A route attached to two shared Gateways serves through both
    Given the manifests "multiple-gateways-shared.yaml" are applied
    Then the route "gateway-conformance-infra/two-parents" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/two-parents" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    And the route "gateway-conformance-infra/two-parents" has no status for gateway "gateway-conformance-infra/backend-namespaces"
    When I send a "GET" request for "/" to host "two-parents.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "two-parents.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "two-parents.portcullis.example" through gateway "gateway-conformance-infra/backend-namespaces"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteMultipleGateways
  Scenario: Two Gateways with different listener hostnames each serve their own hostname
    Given the manifests "multiple-gateways-twins.yaml" are applied
    Then the route "gateway-conformance-infra/twins-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/twin-east"
    And the route "gateway-conformance-infra/twins-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/twin-west"
    And the listener "http" of gateway "gateway-conformance-infra/twin-east" has 1 attached routes
    And the listener "http" of gateway "gateway-conformance-infra/twin-west" has 1 attached routes
    When I send a "GET" request for "/" to host "east.twins.example" through gateway "gateway-conformance-infra/twin-east"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "west.twins.example" through gateway "gateway-conformance-infra/twin-west"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "west.twins.example" through gateway "gateway-conformance-infra/twin-east"
    Then the response status is 404
    When I send a "GET" request for "/" to host "east.twins.example" through gateway "gateway-conformance-infra/twin-west"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: Parents that are not ours get no status, and ours still serves
    Given the manifests "multiple-gateways-foreign.yaml" are applied
    Then the route "gateway-conformance-infra/three-parents" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/three-parents" has no status for gateway "gateway-conformance-infra/foreign-gateway"
    And the route "gateway-conformance-infra/three-parents" has no status for gateway "gateway-conformance-infra/ghost-gateway"
    When I send a "GET" request for "/" to host "three-parents.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "three-parents.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404
