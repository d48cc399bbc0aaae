@profile:GATEWAY-HTTP
Feature: Routes on HTTPS listeners
  TLS-terminating listeners on one port are told apart by SNI. Each serves the routes
  attached to it; a route without hostnames inherits the listener's hostname.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteHTTPSListener
  Scenario: Each TLS listener serves its own routes
    Given the manifests "https-listener.yaml" are applied
    Then the route "gateway-conformance-infra/https-plain" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace-with-https-listener"
    And the route "gateway-conformance-infra/https-second" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace-with-https-listener"
    And the route "gateway-conformance-infra/https-wildcard" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace-with-https-listener"
    And the listener "https" of gateway "gateway-conformance-infra/same-namespace-with-https-listener" has condition "Programmed" "True" with reason "Programmed"
    And the listener "https-with-hostname" of gateway "gateway-conformance-infra/same-namespace-with-https-listener" has condition "ResolvedRefs" "True" with reason "ResolvedRefs"
    When I send a "GET" request for "/" to host "secure.portcullis.example" through gateway "gateway-conformance-infra/same-namespace-with-https-listener" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw host "secure.portcullis.example"
    When I send a "GET" request for "/" to host "second-example.org" through gateway "gateway-conformance-infra/same-namespace-with-https-listener" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/any/path" to host "anything.wildcard.org" through gateway "gateway-conformance-infra/same-namespace-with-https-listener" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    And the backend saw path "/any/path"
    When I send a "GET" request for "/" to host "insecure.portcullis.example" through gateway "gateway-conformance-infra/same-namespace-with-https-listener" on port 443 over HTTPS
    Then the response status is 404
    When I send a "GET" request for "/" to host "wildcard.org" through gateway "gateway-conformance-infra/same-namespace-with-https-listener" on port 443 over HTTPS
    Then the response status is 404
