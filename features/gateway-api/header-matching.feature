@profile:GATEWAY-HTTP
Feature: Header matching
  Header names are compared without regard to case, header values exactly. All conditions of
  one match must hold together; any one match of a rule is enough. A match with more header
  conditions outranks one with fewer.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteHeaderMatching
  Scenario: Exact header values pick the backend and anything else finds nothing
    Given the manifests "header-matching-exact.yaml" are applied
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | flavour | lemon |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | FLAVOUR | mint  |
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value     |
      | flavour | mint      |
      | Topping | sprinkles |
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value     |
      | flavour | lemon     |
      | topping | sprinkles |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value  |
      | flavour | cherry |
    Then the response status is 404
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | flavour | LEMON |
    Then the response status is 404
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value     |
      | topping | sprinkles |
    Then the response status is 404
    When I send a "GET" request for "/" to host "headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteMatching
  Scenario: Path and header in one match must both hold, and a rule's matches are alternatives
    Given the manifests "header-matching-path-and-header.yaml" are applied
    When I send a "GET" request for "/beta/feature" to host "combo.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value   |
      | channel | preview |
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/beta/feature" to host "combo.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/stable" to host "combo.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value   |
      | channel | preview |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/always-beta" to host "combo.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/always-beta/more" to host "combo.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/beta/feature" to host "combo-elsewhere.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value   |
      | channel | preview |
    Then the response status is 404
