@profile:GATEWAY-GRPC
Feature: Listeners and the route kinds they take
  HTTP listeners take HTTPRoutes and GRPCRoutes unless allowedRoutes.kinds narrows them. A
  GRPCRoute that only asks for a listener not taking GRPCRoutes is not accepted, and listeners
  count the GRPCRoutes attached to them.

  Background:
    Given the base manifests are applied
    And the manifests "grpcroute-backends.yaml" are applied

  @SupportGateway @SupportGRPCRoute @upstream:none
  Scenario: A GRPCRoute attaches only where GRPCRoutes are allowed
    Given the manifests "grpcroute-listener-kinds.yaml" are applied
    Then the listener "http-only" of gateway "gateway-conformance-infra/grpc-kinds" supports kinds "HTTPRoute"
    And the listener "grpc-only" of gateway "gateway-conformance-infra/grpc-kinds" supports kinds "GRPCRoute"
    And the listener "both" of gateway "gateway-conformance-infra/grpc-kinds" supports kinds "HTTPRoute, GRPCRoute"
    And the GRPCRoute "gateway-conformance-infra/wants-http-only" has condition "Accepted" "False" with reason "NotAllowedByListeners" for gateway "gateway-conformance-infra/grpc-kinds"
    And the GRPCRoute "gateway-conformance-infra/anywhere" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/grpc-kinds"
    And the listener "http-only" of gateway "gateway-conformance-infra/grpc-kinds" has 0 attached routes
    And the listener "grpc-only" of gateway "gateway-conformance-infra/grpc-kinds" has 1 attached routes
    And the listener "both" of gateway "gateway-conformance-infra/grpc-kinds" has 1 attached routes
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-only.grpc-kinds.example" through gateway "gateway-conformance-infra/grpc-kinds"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "both.grpc-kinds.example" through gateway "gateway-conformance-infra/grpc-kinds"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "http-only.grpc-kinds.example" through gateway "gateway-conformance-infra/grpc-kinds"
    Then the gRPC status is "UNIMPLEMENTED"
