@profile:GATEWAY-HTTP
Feature: Regular-expression matching
  RegularExpression path and header matches are implementation-specific upstream, so they
  have no upstream twin. Portcullis matches a path expression against the whole path (never
  the query string), and refuses a route whose expression does not compile.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: A path expression must match the whole path
    Given the manifests "regex-path-matching.yaml" are applied
    Then the route "gateway-conformance-infra/regex-items" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/items/42" to host "regex.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/items/7?sort=desc" to host "regex.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw path "/items/7?sort=desc"
    When I send a "GET" request for "/items/abc" to host "regex.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/items/42/extra" to host "regex.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/shop/items/42" to host "regex.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: A route whose path expression does not compile is refused
    Given the manifests "regex-path-invalid.yaml" are applied
    Then the route "gateway-conformance-infra/regex-broken" has condition "Accepted" "False" with reason "UnsupportedValue" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/broken/1" to host "regex-broken.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: A header value matched by an expression
    Given the manifests "regex-header-matching.yaml" are applied
    When I send a "GET" request for "/" to host "regex-header.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | X-Build | v17   |
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "regex-header.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value  |
      | X-Build | v17rc1 |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "regex-header.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
