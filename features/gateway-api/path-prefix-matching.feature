@profile:GATEWAY-HTTP
Feature: Path prefix matching works on whole segments
  A PathPrefix match compares complete path segments: /foo matches /foo, /foo/ and /foo/bar
  but not /foobar. A trailing slash on the prefix changes nothing, and the longest matching
  prefix wins whatever the order rules are written in.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteMatching
  Scenario: A prefix matches its own segment and what lies below it, not a longer word
    Given the manifests "path-prefix-segments.yaml" are applied
    When I send a "GET" request for "/foo" to host "prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/foo/" to host "prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw path "/foo/"
    When I send a "GET" request for "/foo/bar/baz?x=1" to host "prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    And the backend saw path "/foo/bar/baz?x=1"
    When I send a "GET" request for "/foobar" to host "prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/fo" to host "prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "prefix.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteMatching
  Scenario: A prefix written with a trailing slash still matches the bare segment
    Given the manifests "path-prefix-trailing-slash.yaml" are applied
    When I send a "GET" request for "/bar" to host "prefix-slash.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/bar/" to host "prefix-slash.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/bar/baz" to host "prefix-slash.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/barn" to host "prefix-slash.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/ba" to host "prefix-slash.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRoutePathMatchOrder
  Scenario: The longest matching prefix wins, whatever the rule order
    Given the manifests "path-prefix-longest.yaml" are applied
    When I send a "GET" request for "/" to host "prefix-longest.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/api" to host "prefix-longest.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/api/users" to host "prefix-longest.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/api/v2/users" to host "prefix-longest.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/api/v20" to host "prefix-longest.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/apis" to host "prefix-longest.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/api/v2/users" to host "prefix-longest-other.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
