@profile:GATEWAY-HTTP
Feature: Method matching
  A rule may be limited to one HTTP method; a method-qualified match outranks an otherwise
  equal match without a method. (Extended feature.)

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportHTTPRouteMethodMatching @upstream:HTTPRouteMethodMatching
  Scenario: The method alone picks the backend
    Given the manifests "method-matching.yaml" are applied
    When I send a "POST" request for "/" to host "method.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/anything" to host "method.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "DELETE" request for "/" to host "method.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "PUT" request for "/anything" to host "method.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @SupportHTTPRouteMethodMatching @upstream:HTTPRouteMethodMatching
  Scenario: A method-qualified rule outranks the same path without a method
    Given the manifests "method-with-path.yaml" are applied
    When I send a "DELETE" request for "/orders/17" to host "method-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/orders/17" to host "method-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "POST" request for "/orders" to host "method-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "DELETE" request for "/invoices/17" to host "method-path.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
