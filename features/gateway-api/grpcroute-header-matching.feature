@profile:GATEWAY-GRPC
Feature: GRPCRoute header matching
  Metadata is matched like HTTP headers: names without regard to case, values exactly or by a
  regular expression. All conditions of a match must hold, and a match with more of them
  outranks one with fewer.

  Background:
    Given the base manifests are applied
    And the manifests "grpcroute-backends.yaml" are applied

  @SupportGateway @SupportGRPCRoute @upstream:GRPCRouteHeaderMatching
  Scenario: Metadata picks the backend and anything else is UNIMPLEMENTED
    Given the manifests "grpcroute-header-matching.yaml" are applied
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with metadata:
      | name    | value |
      | version | one   |
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v1" in namespace "gateway-conformance-infra"
    And the gRPC backend saw metadata "version" with value "one"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with metadata:
      | name    | value |
      | VERSION | two   |
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with metadata:
      | name    | value  |
      | version | two    |
      | color   | orange |
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v3" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with metadata:
      | name  | value |
      | color | green |
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v1" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with metadata:
      | name  | value |
      | color | blue  |
    Then the gRPC status is "UNIMPLEMENTED"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace" with metadata:
      | name    | value |
      | version | ONE   |
    Then the gRPC status is "UNIMPLEMENTED"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-headers.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "UNIMPLEMENTED"
