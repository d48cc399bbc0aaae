@profile:GATEWAY-HTTP
Feature: Changes take effect without a restart
  Portcullis watches its resources: routes and grants that appear, change or vanish are
  reflected in traffic and status while the gateway keeps running. No upstream twin.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: A rewritten route serves its new path and forgets the old one
    Given the manifests "hot-reload-old.yaml" are applied
    When I send a "GET" request for "/old" to host "reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/new" to host "reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When the manifests "hot-reload-new.yaml" are applied in place of "hot-reload-old.yaml"
    When I send a "GET" request for "/new" to host "reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/old" to host "reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @upstream:none
  Scenario: Routes added and deleted one by one leave the others alone
    Given the manifests "hot-reload-alpha.yaml" are applied
    When I send a "GET" request for "/" to host "alpha.reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "beta.reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When the manifests "hot-reload-beta.yaml" are applied
    And I send a "GET" request for "/" to host "beta.reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "alpha.reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When the manifest file "hot-reload-alpha.yaml" is deleted
    Then the route "gateway-conformance-infra/reload-alpha" has no status for gateway "gateway-conformance-infra/same-namespace"
    When I send a "GET" request for "/" to host "alpha.reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 404
    When I send a "GET" request for "/" to host "beta.reload.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:none
  Scenario: A ReferenceGrant arriving and leaving opens and closes the backend
    Given the manifests "hot-reload-grant-route.yaml" are applied
    Then the route "gateway-conformance-app-backend/reload-borrower" has condition "ResolvedRefs" "False" with reason "RefNotPermitted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "borrower.reload.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 500
    When the manifests "hot-reload-grant.yaml" are applied
    Then the route "gateway-conformance-app-backend/reload-borrower" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "borrower.reload.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When the manifest file "hot-reload-grant.yaml" is deleted
    Then the route "gateway-conformance-app-backend/reload-borrower" has condition "ResolvedRefs" "False" with reason "RefNotPermitted" for gateway "gateway-conformance-infra/all-namespaces"
    When I send a "GET" request for "/" to host "borrower.reload.portcullis.example" through gateway "gateway-conformance-infra/all-namespaces"
    Then the response status is 500
