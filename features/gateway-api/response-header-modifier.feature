@profile:GATEWAY-HTTP
Feature: Changing response headers on the way back
  The ResponseHeaderModifier filter rewrites the headers of the backend's answer. The echo
  backend sets response headers asked for in X-Echo-Set-Header, which gives the filter
  something to overwrite. (Extended feature.)

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportHTTPRouteResponseHeaderModification @upstream:HTTPRouteResponseHeaderModifier
  Scenario: The filter overwrites and adds response headers only on its own rule
    Given the manifests "response-header-modifier.yaml" are applied
    When I send a "GET" request for "/dressed" to host "resphdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name              | value             |
      | X-Echo-Set-Header | X-Flavour:vanilla |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the response header "x-flavour" is "pistachio"
    And the response header "x-served-by" is "portcullis"
    When I send a "GET" request for "/plain" to host "resphdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with headers:
      | name              | value             |
      | X-Echo-Set-Header | X-Flavour:vanilla |
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the response header "x-flavour" is "vanilla"
    When I send a "GET" request for "/elsewhere" to host "resphdr.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
