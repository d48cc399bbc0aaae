@profile:GATEWAY-HTTP
Feature: Route status follows the route's generation
  Every condition a route's status carries records the generation it was computed for. When
  the route changes (a new generation), the conditions move to the new generation.
  The second version is applied over the first, as an edited file would be; the folder-mode
  gateway takes the generation from metadata.generation in the file, a cluster bumps it.

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
    When the manifests "observed-generation-second.yaml" are applied in place of "observed-generation-first.yaml"
    Then the route "gateway-conformance-infra/obsgen-route" has observed generation 2 for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/obsgen-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the route "gateway-conformance-infra/obsgen-route" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "obsgen.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "obsgen-stale.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
