@profile:GATEWAY-HTTP
Feature: Exact path matching
  An Exact path match accepts one path and nothing else: no trailing slash, no extra segment,
  no shorter path. The query string is not part of the path.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteExactPathMatching
  Scenario: Each exact path reaches its own backend and near misses find nothing
    Given the manifests "exact-path-matching.yaml" are applied
    When I send a "GET" request for "/one" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/two" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/two?page=3" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw path "/two?page=3"
    When I send a "GET" request for "/one/" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/one/more" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/on" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteExactPathMatching
  Scenario: An exact match outranks a prefix with the same value
    Given the manifests "exact-path-vs-prefix.yaml" are applied
    When I send a "GET" request for "/docs" to host "exact-prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/docs/" to host "exact-prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/docs/guide" to host "exact-prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/docsets" to host "exact-prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
