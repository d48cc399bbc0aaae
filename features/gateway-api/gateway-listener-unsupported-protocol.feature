@profile:GATEWAY-HTTP
Feature: A listener with a protocol the gateway does not implement
  Such a listener is not accepted (UnsupportedProtocol) and the Gateway says ListenersNotValid.
  Valid listeners of the same Gateway keep working.

  Background:
    Given the base manifests are applied

  @SupportGateway @upstream:GatewayListenerUnsupportedProtocol
  Scenario: The only listener has an unknown protocol
    Given the manifests "unsupported-protocol-only.yaml" are applied
    Then the listener "pigeon" of gateway "gateway-conformance-infra/protocol-unknown-only" has condition "Accepted" "False" with reason "UnsupportedProtocol"
    And the listener "pigeon" of gateway "gateway-conformance-infra/protocol-unknown-only" supports kinds ""
    And the gateway "gateway-conformance-infra/protocol-unknown-only" has condition "Accepted" "False" with reason "ListenersNotValid"

  @SupportGateway @SupportHTTPRoute @upstream:GatewayListenerUnsupportedProtocol
  Scenario: An unknown protocol beside a good HTTP listener
    Given the manifests "unsupported-protocol-mixed.yaml" are applied
    Then the listener "pigeon" of gateway "gateway-conformance-infra/protocol-mixed" has condition "Accepted" "False" with reason "UnsupportedProtocol"
    And the listener "http" of gateway "gateway-conformance-infra/protocol-mixed" has condition "Accepted" "True" with reason "Accepted"
    And the listener "http" of gateway "gateway-conformance-infra/protocol-mixed" has condition "Programmed" "True" with reason "Programmed"
    And the gateway "gateway-conformance-infra/protocol-mixed" has condition "Accepted" "True" with reason "ListenersNotValid"
    And the gateway "gateway-conformance-infra/protocol-mixed" has condition "Programmed" "True" with reason "Programmed"
    And the listener "http" of gateway "gateway-conformance-infra/protocol-mixed" has 1 attached routes
    When I send a "GET" request for "/" to host "protocol-mixed.portcullis.example" through gateway "gateway-conformance-infra/protocol-mixed"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "protocol-other.portcullis.example" through gateway "gateway-conformance-infra/protocol-mixed"
    Then the response status is 404
