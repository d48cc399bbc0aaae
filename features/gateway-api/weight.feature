@profile:GATEWAY-HTTP
Feature: Weighted backends
  Traffic of a rule is split between its backends in proportion to their weights. A backend
  of weight zero gets nothing; a rule whose backends all weigh zero answers 500.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteWeight
  Scenario: Three backends weighted 3:1:0 share the traffic 75/25/0
    Given the manifests "weight-split.yaml" are applied
    When I send 2000 "GET" requests for "/" to host "weights.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the requests were split between backends in namespace "gateway-conformance-infra":
      | backend          | percent |
      | infra-backend-v1 | 75      |
      | infra-backend-v2 | 25      |
      | infra-backend-v3 | 0       |
    When I send a "GET" request for "/" to host "weights-other.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteWeight
  Scenario: The only backend with a weight gets everything
    Given the manifests "weight-single.yaml" are applied
    When I send 200 "GET" requests for "/" to host "weight-single.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the requests were split between backends in namespace "gateway-conformance-infra":
      | backend          | percent |
      | infra-backend-v1 | 0       |
      | infra-backend-v2 | 100     |
      | infra-backend-v3 | 0       |
    When I send a "GET" request for "/" to host "weight-single.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: A rule whose backends all weigh zero answers 500
    Given the manifests "weight-all-zero.yaml" are applied
    When I send a "GET" request for "/nowhere" to host "weight-zero.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 500
    When I send a "GET" request for "/somewhere" to host "weight-zero.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
