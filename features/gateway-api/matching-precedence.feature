@profile:GATEWAY-HTTP
Feature: Precedence between overlapping matches
  When several matches fit a request, the Gateway API ranks them: an exact path first, then
  the longest prefix, then the most header matches. The ranking spans every rule and every
  route attached for the same hostname; the order rules are written in does not matter.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRoutePathMatchOrder
  Scenario: Exact beats prefix, longer prefix beats shorter, more headers beat fewer
    Given the manifests "path-match-order.yaml" are applied
    When I send a "GET" request for "/shop" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/shoes" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/cart" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/cart/items" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/cartoon" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/till" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/till/receipt" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | loyalty | gold  |
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/till" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | loyalty | gold  |
      | express | true  |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shop/till" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name    | value |
      | express | true  |
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/shopping" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "order.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteMatchingAcrossRoutes
  Scenario: Rules of two routes for the same hostname are ranked together
    Given the manifests "matching-across-routes.yaml" are applied
    Then the route "gateway-conformance-infra/across-general" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/across-special" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/welcome" to host "across.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/ledger/2024" to host "across.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/reports/q3" to host "across.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name | value   |
      | team | finance |
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/reports/q3" to host "across.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/reports" to host "across.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name | value   |
      | team | finance |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/ledger/2024" to host "across-general.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/ledger/2024" to host "across-unknown.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
