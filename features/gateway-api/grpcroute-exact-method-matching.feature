@profile:GATEWAY-GRPC
Feature: GRPCRoute method matching
  A gRPC call is routed by its service and method. A service and method together match that
  method exactly; a service alone matches each of its methods; a method alone matches it in any
  service; regular expressions match the service and method they name. The match naming the
  longest service wins, then the longest method. A call no rule matches is UNIMPLEMENTED.

  Background:
    Given the base manifests are applied
    And the manifests "grpcroute-backends.yaml" are applied

  @SupportGateway @SupportGRPCRoute @upstream:GRPCExactMethodMatching
  Scenario: Each method of the echo service reaches its own backend
    Given the manifests "grpcroute-exact-method-matching.yaml" are applied
    Then the GRPCRoute "gateway-conformance-infra/exact-matching" has condition "Accepted" "True" with reason "Accepted" for gateway "gateway-conformance-infra/same-namespace"
    And the GRPCRoute "gateway-conformance-infra/exact-matching" has condition "ResolvedRefs" "True" with reason "ResolvedRefs" for gateway "gateway-conformance-infra/same-namespace"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v1" in namespace "gateway-conformance-infra"
    And the gRPC backend saw method "/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo"
    And the gRPC backend saw authority "grpc-exact.portcullis.example"
    When I call gRPC method "EchoTwo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    And the gRPC backend saw method "/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/EchoTwo"
    When I call gRPC method "EchoThree" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-exact.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "UNIMPLEMENTED"
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-elsewhere.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "UNIMPLEMENTED"

  @SupportGateway @SupportGRPCRoute @upstream:none
  Scenario: Service-only, method-only and regular-expression matches, the most specific first
    Given the manifests "grpcroute-method-kinds.yaml" are applied
    When I call gRPC method "Echo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-methods.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v1" in namespace "gateway-conformance-infra"
    When I call gRPC method "EchoTwo" of service "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho" on host "grpc-methods.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I call gRPC method "Echo" of service "portcullis.Other" on host "grpc-methods.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v3" in namespace "gateway-conformance-infra"
    And the gRPC backend saw method "/portcullis.Other/Echo"
    When I call gRPC method "EchoTwo" of service "portcullis.v2.Svc" on host "grpc-methods.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "OK"
    And the gRPC call reached backend "grpc-infra-backend-v2" in namespace "gateway-conformance-infra"
    When I call gRPC method "EchoTwo" of service "portcullis.vX.Svc" on host "grpc-methods.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "UNIMPLEMENTED"
    When I call gRPC method "EchoTwo" of service "portcullis.Other" on host "grpc-methods.portcullis.example" through gateway "gateway-conformance-infra/same-namespace"
    Then the gRPC status is "UNIMPLEMENTED"
