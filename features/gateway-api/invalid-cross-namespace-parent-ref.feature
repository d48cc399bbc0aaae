@profile:GATEWAY-HTTP
Feature: A route asking to join a Gateway that does not admit its namespace
  The Gateway's allowedRoutes decide. A route from a namespace it does not admit is not
  accepted (NotAllowedByListeners) and receives no traffic.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteInvalidCrossNamespaceParentRef
  Scenario: The route is refused by the listeners and serves nothing
    Given the manifests "invalid-cross-namespace-parent-ref.yaml" are applied
    Then the route "gateway-conformance-web-backend/xns-parent-denied" has condition "Accepted" "False" with reason "NotAllowedByListeners" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "xns-parent.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "xns-parent.portcullis.example" through gateway "gateway-conformance-infra/backend-namespaces"
    Then the response status is 404
