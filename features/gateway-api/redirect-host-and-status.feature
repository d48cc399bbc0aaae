@profile:GATEWAY-HTTP
Feature: Redirecting to another host
  A RequestRedirect filter that names only a hostname sends the client to the same path on
  that host, with 302 unless another status code is given.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteRedirectHostAndStatus
  Scenario: Hostname redirects with the default and explicit status codes
    Given the manifests "redirect-host-and-status.yaml" are applied
    Then the route "gateway-conformance-infra/redirect-host" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/hop" to host "redirect.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 302
    And the response header "location" is "http://example.org/hop"
    When I send a "GET" request for "/moved/here" to host "redirect.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 301
    And the response header "location" is "http://example.org/moved/here"
    When I send a "GET" request for "/found" to host "redirect.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 302
    And the response header "location" is "http://example.org/found"
    When I send a "GET" request for "/stay" to host "redirect.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/hopscotch" to host "redirect.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
