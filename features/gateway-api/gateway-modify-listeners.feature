@profile:GATEWAY-HTTP
Feature: Adding and removing listeners on a live Gateway
  Listeners added to a Gateway start serving the routes that fit them; removed listeners stop.
  Attached-route counts follow.
  As with observed generation, the new version of the Gateway is applied over the old one.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:GatewayModifyListeners
  Scenario: A new listener picks up the route waiting for its hostname
    Given the manifests "modify-listeners-add-before.yaml" are applied
    And the manifests "modify-listeners-add-route.yaml" are applied
    Then the listener "first" of gateway "gateway-conformance-infra/grow-gateway" has 1 attached routes
    When I send a "GET" request for "/" to host "first.grow.example" through gateway "gateway-conformance-infra/grow-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "second.grow.example" through gateway "gateway-conformance-infra/grow-gateway"
    Then the response status is 404
    When the manifests "modify-listeners-add-after.yaml" are applied in place of "modify-listeners-add-before.yaml"
    Then the gateway "gateway-conformance-infra/grow-gateway" has condition "Programmed" "True" with reason "Programmed"
    And the listener "second" of gateway "gateway-conformance-infra/grow-gateway" has condition "Accepted" "True" with reason "Accepted"
    And the listener "second" of gateway "gateway-conformance-infra/grow-gateway" has 1 attached routes
    And the listener "first" of gateway "gateway-conformance-infra/grow-gateway" has 1 attached routes
    When I send a "GET" request for "/" to host "second.grow.example" through gateway "gateway-conformance-infra/grow-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "first.grow.example" through gateway "gateway-conformance-infra/grow-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"

  @SupportGateway @SupportHTTPRoute @upstream:GatewayModifyListeners
  Scenario: A removed listener stops serving its hostname
    Given the manifests "modify-listeners-remove-before.yaml" are applied
    And the manifests "modify-listeners-remove-route.yaml" are applied
    Then the listener "leaver" of gateway "gateway-conformance-infra/shrink-gateway" has 1 attached routes
    When I send a "GET" request for "/" to host "leaver.shrink.example" through gateway "gateway-conformance-infra/shrink-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When the manifests "modify-listeners-remove-after.yaml" are applied in place of "modify-listeners-remove-before.yaml"
    Then the listener "keeper" of gateway "gateway-conformance-infra/shrink-gateway" has 1 attached routes
    And the route "gateway-conformance-infra/shrink-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/shrink-gateway"
    When I send a "GET" request for "/" to host "leaver.shrink.example" through gateway "gateway-conformance-infra/shrink-gateway"
    Then the response status is 404
    When I send a "GET" request for "/" to host "keeper.shrink.example" through gateway "gateway-conformance-infra/shrink-gateway"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
