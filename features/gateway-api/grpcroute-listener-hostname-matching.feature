@profile:GATEWAY-GRPC
Feature: GRPCRoute listener hostname matching
  Listeners sharing a port are told apart by the :authority of the call: an exact listener
  hostname beats a wildcard one, and a wildcard takes any depth of subdomain but not the bare
  domain.

  Background:
    Given the base manifests are applied
    And the manifests "grpcroute-backends.yaml" are applied

  @SupportGateway @SupportGRPCRoute @upstream:GRPCRouteListenerHostnameMatching
  Scenario: Each listener's routes serve its hostnames only
    Given the manifests "grpcroute-listener-hostname-matching.yaml" are applied
    Then the GRPCRoute "gateway-conformance-infra/wildcards-route" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/grpc-hostnames"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-castle.example" through gateway "gateway-conformance-infra/grpc-hostnames"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v1" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "keep.grpc-castle.example" through gateway "gateway-conformance-infra/grpc-hostnames"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "tower.grpc-castle.example" through gateway "gateway-conformance-infra/grpc-hostnames"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v3" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "deep.bridge.grpc-moat.example" through gateway "gateway-conformance-infra/grpc-hostnames"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v3" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-moat.example" through gateway "gateway-conformance-infra/grpc-hostnames"
    Then the gRPC status is "UNIMPLEMENTED"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "nowhere.example" through gateway "gateway-conformance-infra/grpc-hostnames"
    Then the gRPC status is "UNIMPLEMENTED"
