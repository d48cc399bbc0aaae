@profile:GATEWAY-HTTP
Feature: HTTPS listeners with an unusable certificate reference
  A certificateRef to a Secret that is missing, holds no certificate, or is not a Secret at
  all makes the listener report ResolvedRefs False with InvalidCertificateRef; it is not
  programmed. Other listeners of the Gateway are unaffected.

  Background:
    Given the base manifests are applied

  @SupportGateway @upstream:GatewayInvalidTLSConfiguration
  Scenario: The certificate Secret does not exist
    Given the manifests "invalid-tls-missing-secret.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/tls-missing-secret" has condition "ResolvedRefs" "False" with reason "InvalidCertificateRef"
    And the listener "https" of gateway "gateway-conformance-infra/tls-missing-secret" has condition "Programmed" "False" with reason "Invalid"
    And the gateway "gateway-conformance-infra/tls-missing-secret" has condition "Accepted" "False" with reason "ListenersNotValid"

  @SupportGateway @SupportHTTPRoute @upstream:GatewayInvalidTLSConfiguration
  Scenario: The Secret holds no certificate, and the HTTP listener beside it still serves
    Given the manifests "invalid-tls-malformed-secret.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/tls-garbled" has condition "ResolvedRefs" "False" with reason "InvalidCertificateRef"
    And the listener "https" of gateway "gateway-conformance-infra/tls-garbled" has condition "Programmed" "False" with reason "Invalid"
    And the listener "http" of gateway "gateway-conformance-infra/tls-garbled" has condition "Programmed" "True" with reason "Programmed"
    And the gateway "gateway-conformance-infra/tls-garbled" has condition "Accepted" "True" with reason "ListenersNotValid"
    When I send a "GET" request for "/" to host "garbled.portcullis.example" through gateway "gateway-conformance-infra/tls-garbled"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "ungarbled.portcullis.example" through gateway "gateway-conformance-infra/tls-garbled"
    Then the response status is 404

  @SupportGateway @upstream:GatewayInvalidTLSConfiguration
  Scenario: The certificate reference is not a Secret
    Given the manifests "invalid-tls-wrong-kind.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/tls-wrong-kind" has condition "ResolvedRefs" "False" with reason "InvalidCertificateRef"
    And the listener "https" of gateway "gateway-conformance-infra/tls-wrong-kind" has condition "Programmed" "False" with reason "Invalid"

  @SupportGateway @upstream:GatewayInvalidTLSConfiguration
  Scenario: The certificate reference names an unknown API group
    Given the manifests "invalid-tls-wrong-group.yaml" are applied
    Then the listener "https" of gateway "gateway-conformance-infra/tls-wrong-group" has condition "ResolvedRefs" "False" with reason "InvalidCertificateRef"
    And the listener "https" of gateway "gateway-conformance-infra/tls-wrong-group" has condition "Programmed" "False" with reason "Invalid"
    And the gateway "gateway-conformance-infra/tls-wrong-group" has condition "Accepted" "False" with reason "ListenersNotValid"
