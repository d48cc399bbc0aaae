@profile:GATEWAY-GRPC
Feature: GRPCRoutes beside HTTPRoutes
  HTTPRoutes and GRPCRoutes share a listener when their hostnames differ. When they claim a
  common hostname, only one of them may serve it: the older, then the first by
  namespace/name. The other is not accepted on that listener.

  Background:
    Given the base manifests are applied
    And the manifests "grpcroute-backends.yaml" are applied

  @SupportGateway @SupportHTTPRoute @SupportGRPCRoute @upstream:none
  Scenario: Each kind serves its own hostnames and a shared hostname goes to one route only
    Given the manifests "grpcroute-beside-httproute.yaml" are applied
    Then the route "gateway-conformance-infra/mixed-web" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/grpc-mixed"
    And the GRPCRoute "gateway-conformance-infra/mixed-grpc" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/grpc-mixed"
    And the route "gateway-conformance-infra/a-claims-shared" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/grpc-mixed"
    And the GRPCRoute "gateway-conformance-infra/b-claims-shared" has condition "Accepted" "False" with reason "HostnameConflict" for gateway "gateway-conformance-infra/grpc-mixed"
    And the listener "http" of gateway "gateway-conformance-infra/grpc-mixed" has 3 attached routes
    When I send a "GET" request for "/" to host "web.grpc-mixed.example" through gateway "gateway-conformance-infra/grpc-mixed"
    Then the response status is 200
    And the request reached backend "infra-backend-v1" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc.grpc-mixed.example" through gateway "gateway-conformance-infra/grpc-mixed"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I send a "GET" request for "/" to host "shared.grpc-mixed.example" through gateway "gateway-conformance-infra/grpc-mixed"
    Then the response status is 200
    And the request reached backend "infra-backend-v3" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "other.grpc-mixed.example" through gateway "gateway-conformance-infra/grpc-mixed"
    Then the gRPC status is "UNIMPLEMENTED"
