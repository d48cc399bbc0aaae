@profile:GATEWAY-HTTP
Feature: Route status follows the route's generation
  Every condition a route's status carries records the generation it was computed for. When
  the route changes (a new generation), the conditions move to the new generation.
  The folder-mode gateway takes the generation from metadata.generation in the file. The old
  version is deleted before the new one is applied, so the two files never define the same
  route at once.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:HTTPRouteObservedGenerationBump
  Scenario: A changed route is reported at its new generation
    Given the manifests "observed-generation-first.yaml" are applied
    Then the route "gateway-conformance-infra/obsgen-route" has observed generation 1 for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/obsgen-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "obsgen.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When the manifest file "observed-generation-first.yaml" is deleted
    And the manifests "observed-generation-second.yaml" are applied
    Then the route "gateway-conformance-infra/obsgen-route" has observed generation 2 for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/obsgen-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/obsgen-route" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "obsgen.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "obsgen-stale.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
