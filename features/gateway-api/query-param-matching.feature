@profile:GATEWAY-HTTP
Feature: Query parameter matching
  Query parameters are matched by exact name and exact value; extra parameters do not hurt.
  A match with more parameter conditions outranks one with fewer. (Extended feature.)

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportHTTPRouteQueryParamMatching @upstream:HTTPRouteQueryParamMatching
  Scenario: Query parameter values pick the backend
    Given the manifests "query-param-matching.yaml" are applied
    When I send a "GET" request for "/?fruit=plum" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw path "/?fruit=plum"
    When I send a "GET" request for "/?fruit=fig" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/?fruit=fig&ripe=yes" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/basket?colour=red&fruit=plum" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw path "/basket?colour=red&fruit=plum"
    When I send a "GET" request for "/?fruit=pear" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/?fruit=PLUM" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/?ripe=yes" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "query.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @SupportHTTPRouteQueryParamMatching @upstream:HTTPRouteQueryParamMatching
  Scenario: A path with a query condition outranks the same path without one
    Given the manifests "query-param-with-path.yaml" are applied
    When I send a "GET" request for "/search?scope=archive" to host "query-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/search?scope=recent" to host "query-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/search" to host "query-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/searching?scope=archive" to host "query-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
