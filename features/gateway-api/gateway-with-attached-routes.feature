@profile:GATEWAY-HTTP
Feature: Listeners count their attached routes
  Each listener reports how many routes attached to it: routes pinned to it by sectionName,
  routes whose hostnames fit it, routes with unresolved backends alike. Routes that do not
  fit the listener, or come from a namespace it does not admit, are not counted.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:GatewayWithAttachedRoutes
  Scenario: The count follows routes as they come and go
    Given the manifests "attached-routes-gateway.yaml" are applied
    Then the gateway "gateway-conformance-infra/attach-counter" has condition "Accepted" "True" with reason "Accepted"
    And the gateway "gateway-conformance-infra/attach-counter" has condition "Programmed" "True" with reason "Programmed"
    And the listener "http" of gateway "gateway-conformance-infra/attach-counter" supports kinds "HTTPRoute"
    And the listener "http" of gateway "gateway-conformance-infra/attach-counter" has 0 attached routes
    When I send a "GET" request for "/" to host "one.attach.example" through gateway "gateway-conformance-infra/attach-counter"
    Then the response status is 404
    When the manifests "attached-routes-routes.yaml" are applied
    Then the listener "http" of gateway "gateway-conformance-infra/attach-counter" has 2 attached routes
    When I send a "GET" request for "/" to host "one.attach.example" through gateway "gateway-conformance-infra/attach-counter"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "two.attach.example" through gateway "gateway-conformance-infra/attach-counter"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When the manifest file "attached-routes-routes.yaml" is deleted
    Then the listener "http" of gateway "gateway-conformance-infra/attach-counter" has 0 attached routes
    When I send a "GET" request for "/" to host "two.attach.example" through gateway "gateway-conformance-infra/attach-counter"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:GatewayWithAttachedRoutes
  Scenario: Routes are counted on the listeners they fit, by sectionName or by hostname
    Given the manifests "attached-routes-sections.yaml" are applied
    Then the listener "left" of gateway "gateway-conformance-infra/attach-sections" has 2 attached routes
    And the listener "right" of gateway "gateway-conformance-infra/attach-sections" has 2 attached routes
    And the route "gateway-conformance-infra/attach-sections-misfit" has condition "Accepted" "False" with reason "NoMatchingListenerHostname" for gateway "gateway-conformance-infra/attach-sections"
    And the route "gateway-conformance-infra/attach-sections-by-host" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/attach-sections"
    When I send a "GET" request for "/pinned" to host "left.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/pinned" to host "right.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 404
    When I send a "GET" request for "/by-host" to host "right.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/by-host" to host "left.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 404
    When I send a "GET" request for "/both" to host "left.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/both" to host "right.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "nowhere.attach.example" through gateway "gateway-conformance-infra/attach-sections"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:GatewayWithAttachedRoutes
  Scenario: A route with a broken backend counts, a route from outside does not
    Given the manifests "attached-routes-unresolved.yaml" are applied
    Then the listener "http" of gateway "gateway-conformance-infra/attach-unresolved" has 1 attached routes
    And the route "gateway-conformance-infra/attach-unresolved-broken" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/attach-unresolved"
    And the route "gateway-conformance-infra/attach-unresolved-broken" has condition "ResolvedRefs" "False" with reason "BackendNotFound" for gateway "gateway-conformance-infra/attach-unresolved"
    And the route "gateway-conformance-app-backend/attach-unresolved-outsider" has condition "Accepted" "False" with reason "NotAllowedByListeners" for gateway "gateway-conformance-infra/attach-unresolved"
    When I send a "GET" request for "/" to host "broken.attach.example" through gateway "gateway-conformance-infra/attach-unresolved"
    Then the response status is 500
    When I send a "GET" request for "/" to host "outsider.attach.example" through gateway "gateway-conformance-infra/attach-unresolved"
    Then the response status is 404
