@profile:GATEWAY-HTTP
Feature: Changing request headers on the way to the backend
  The RequestHeaderModifier filter sets (overwrites), adds (appends to) and removes request
  headers before the backend sees them; header names are case-insensitive. Rules without the
  filter pass headers through untouched.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteRequestHeaderModifier
  Scenario: Set, add and remove each do their own job
    Given the manifests "request-header-modifier.yaml" are applied
    When I send a "GET" request for "/set" to host "reqhdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw header "X-Colour" with value "indigo"
    When I send a "GET" request for "/set" to host "reqhdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name     | value |
      | x-colour | red   |
    Then the response status is 200
    And the backend saw header "X-Colour" with value "indigo"
    When I send a "GET" request for "/add" to host "reqhdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the backend saw header "X-Trail" with value "gateway"
    When I send a "GET" request for "/add" to host "reqhdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value  |
      | X-Trail | client |
    Then the response status is 200
    And the backend saw header "X-Trail" with value "client,gateway"
    When I send a "GET" request for "/remove" to host "reqhdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name     | value        |
      | X-Secret | do-not-share |
      | X-Public | fine         |
    Then the response status is 200
    And the backend did not see header "X-Secret"
    And the backend saw header "X-Public" with value "fine"
    When I send a "GET" request for "/elsewhere" to host "reqhdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteRequestHeaderModifier
  Scenario: Several modifications at once, and a neighbouring rule left alone
    Given the manifests "request-header-modifier-combined.yaml" are applied
    When I send a "GET" request for "/filtered" to host "reqhdr-combined.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name             | value   |
      | X-Mode           | relaxed |
      | X-Hop            | edge    |
      | X-Debug          | 1       |
      | x-internal-token | abc123  |
      | X-Keep           | me      |
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw header "X-Mode" with value "strict"
    And the backend saw header "X-Region" with value "north"
    And the backend saw header "X-Hop" with value "edge,portcullis"
    And the backend saw header "X-Keep" with value "me"
    And the backend did not see header "X-Debug"
    And the backend did not see header "X-Internal-Token"
    When I send a "GET" request for "/untouched" to host "reqhdr-combined.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value   |
      | X-Mode  | relaxed |
      | X-Debug | 1       |
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw header "X-Mode" with value "relaxed"
    And the backend saw header "X-Debug" with value "1"
    And the backend did not see header "X-Region"
    And the backend did not see header "X-Hop"
