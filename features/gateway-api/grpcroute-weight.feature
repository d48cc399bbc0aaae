@profile:GATEWAY-GRPC
Feature: GRPCRoute weighted backends
  Calls of a rule are split between its backends in proportion to their weights; a backend of
  weight zero gets none. The share of a backend that does not exist answers UNAVAILABLE.

  Background:
    Given the base manifests are applied
    And the manifests "grpcroute-backends.yaml" are applied

  @SupportGateway @SupportGRPCRoute @upstream:GRPCRouteWeight
  Scenario: Three backends weighted 3:1:0 share the calls 75/25/0
    Given the manifests "grpcroute-weight.yaml" are applied
    When I make 2000 gRPC calls to method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-weights.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC calls were split between backends in namespace "gateway-conformance-infra":
      | backend               | percent |
      | grpc-infra-backend-v1 | 75      |
      | grpc-infra-backend-v2 | 25      |
      | grpc-infra-backend-v3 | 0       |

  @SupportGateway @SupportGRPCRoute @upstream:none
  Scenario: A missing backend's share, and a rule with only a missing backend, are UNAVAILABLE
    Given the manifests "grpcroute-weight-invalid.yaml" are applied
    Then the GRPCRoute "gateway-conformance-infra/half-missing" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the GRPCRoute "gateway-conformance-infra/half-missing" has condition "ResolvedRefs" "False" with reason "BackendNotFound" for gateway "gateway-conformance-infra/same-namespace"
    When I call gRPC method "EchoTwo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-missing.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "UNAVAILABLE"
    When I make 100 gRPC calls to method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-missing.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then some of the gRPC calls ended with status "UNAVAILABLE"
    And some of the gRPC calls reached backend "grpc-infra-backend-v1" in namespace "gateway-conformance-infra"
