@profile:GATEWAY-HTTP
Feature: Certificates from another namespace need a ReferenceGrant
  An HTTPS listener may use a certificate Secret from another namespace only when a
  ReferenceGrant there trusts Gateways from the listener's namespace. Without one, the listener
  reports ResolvedRefs False with RefNotPermitted and is not programmed.

  Background:
    Given the base manifests are applied

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:GatewaySecretMissingReferenceGrant
  Scenario: No grant at all
    Given the manifests "gateway-secret-missing-reference-grant.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/secret-nogrant" has condition "ResolvedRefs" "False" with reason "RefNotPermitted"
    And the listener "https" of gateway "gateway-conformance-infra/secret-nogrant" has condition "Programmed" "False" with reason "Invalid"
    And the listener "https-local" of gateway "gateway-conformance-infra/secret-nogrant" has condition "ResolvedRefs" "True" with reason "ResolvedRefs"
    And the listener "https-local" of gateway "gateway-conformance-infra/secret-nogrant" has condition "Programmed" "True" with reason "Programmed"
    And the gateway "gateway-conformance-infra/secret-nogrant" has condition "Accepted" "True" with reason "ListenersNotValid"
    When I send a "GET" request for "/" to host "local-nogrant.portcullis.example" through gateway "gateway-conformance-infra/secret-nogrant" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:GatewaySecretInvalidReferenceGrant
  Scenario: A grant that trusts the wrong namespace or the wrong kind
    Given the manifests "gateway-secret-invalid-reference-grant.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/secret-badgrant" has condition "ResolvedRefs" "False" with reason "RefNotPermitted"
    And the listener "https" of gateway "gateway-conformance-infra/secret-badgrant" has condition "Programmed" "False" with reason "Invalid"
    And the listener "https-local" of gateway "gateway-conformance-infra/secret-badgrant" has condition "Programmed" "True" with reason "Programmed"
    And the gateway "gateway-conformance-infra/secret-badgrant" has condition "Accepted" "True" with reason "ListenersNotValid"
    When I send a "GET" request for "/" to host "local-badgrant.portcullis.example" through gateway "gateway-conformance-infra/secret-badgrant" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:GatewaySecretReferenceGrantSpecific
  Scenario: A grant naming the Secret
    Given the manifests "gateway-secret-reference-grant-specific.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/secret-specific" has condition "ResolvedRefs" "True" with reason "ResolvedRefs"
    And the listener "https" of gateway "gateway-conformance-infra/secret-specific" has condition "Programmed" "True" with reason "Programmed"
    And the gateway "gateway-conformance-infra/secret-specific" has condition "Accepted" "True" with reason "Accepted"
    And the gateway "gateway-conformance-infra/secret-specific" has condition "Programmed" "True" with reason "Programmed"
    When I send a "GET" request for "/" to host "granted-one.portcullis.example" through gateway "gateway-conformance-infra/secret-specific" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "ungranted.portcullis.example" through gateway "gateway-conformance-infra/secret-specific" on port 443 over HTTPS
    Then the response status is 404

  @SupportGateway @SupportHTTPRoute @SupportReferenceGrant @upstream:GatewaySecretReferenceGrantAllInNamespace
  Scenario: A grant for every Secret of the namespace
    Given the manifests "gateway-secret-reference-grant-all-in-namespace.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/secret-wide" has condition "ResolvedRefs" "True" with reason "ResolvedRefs"
    And the listener "https" of gateway "gateway-conformance-infra/secret-wide" has condition "Programmed" "True" with reason "Programmed"
    And the listener "https" of gateway "gateway-conformance-infra/secret-wide" has 1 attached routes
    When I send a "GET" request for "/wide" to host "granted-two.portcullis.example" through gateway "gateway-conformance-infra/secret-wide" on port 443 over HTTPS
    Then the response status is 200
    And the request reached backend "infra-backend-v2" in namespace "gateway-conformance-infra"
    And the backend saw path "/wide"
    When I send a "GET" request for "/narrow" to host "granted-two.portcullis.example" through gateway "gateway-conformance-infra/secret-wide" on port 443 over HTTPS
    Then the response status is 404
