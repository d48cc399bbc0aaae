@profile:GATEWAY-HTTP
Feature: A parentRef naming a listener that does not exist
  A sectionName that matches no listener leaves that parent with Accepted False and reason
  NoMatchingParent. Each parentRef gets its own verdict.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteInvalidParentRefNotMatchingSectionName
  Scenario: The unknown section name leaves the route unattached
    Given the manifests "invalid-parentref-section-name.yaml" are applied
    Then the route "gateway-conformance-infra/bad-section" has condition "Accepted" "False" with reason "NoMatchingParent" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "bad-section.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteInvalidParentRefNotMatchingSectionName
  Scenario: A good parentRef still works beside a bad one
    Given the manifests "invalid-parentref-section-name-mixed.yaml" are applied
    Then the route "gateway-conformance-infra/mixed-section" has condition "Accepted" "False" with reason "NoMatchingParent" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/mixed-section" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "mixed-section.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "mixed-section.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
