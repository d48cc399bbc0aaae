@profile:APK
Feature: Rate limits from RateLimitPolicies
  APK limits traffic per API (one counter shared by the API's production and sandbox routes)
  and per operation (one counter per operation and environment). Over the limit the gateway
  answers 429 with APK's JSON error; under it, the RateLimit-* headers say what is left.

  Background:
    Given the base manifests are applied
    And the current rate-limit window has at least 15 seconds left

  @SupportAPKRateLimit
  Scenario: The second request in a minute to a 1-per-minute API is throttled, in every environment
    Given the manifests "rl-api-level.yaml" are applied
    When I send a single "GET" request for "/rl-api/1.0/items" to host "rl-api.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"
    When I send a single "GET" request for "/rl-api/1.0/items" to host "rl-api.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429
    And the response header "content-type" is "application/json"
    And the response body field "code" is "900800"
    And the response body field "error_message" is "Message throttled out"
    When I send a single "GET" request for "/rl-api/1.0/items" to host "sandbox.rl-api.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429
    And the RateLimitPolicy "apk-suite/rl-api-level" has condition "Accepted" "True" with reason "Accepted"

  @SupportAPKRateLimit
  Scenario: An operation limit counts only that operation, separately per environment
    Given the manifests "rl-operation-level.yaml" are applied
    When I send a single "POST" request for "/rl-ops/1.0/orders" to host "rl-ops.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "POST" request for "/rl-ops/1.0/orders" to host "rl-ops.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429
    When I send a single "GET" request for "/rl-ops/1.0/orders" to host "rl-ops.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "GET" request for "/rl-ops/1.0/orders" to host "rl-ops.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "POST" request for "/rl-ops/1.0/orders" to host "sandbox.rl-ops.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "POST" request for "/rl-ops/1.0/orders" to host "sandbox.rl-ops.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429

  @SupportAPKRateLimit
  Scenario: Allowed and throttled answers carry the RateLimit headers
    Given the manifests "rl-headers.yaml" are applied
    When I send a single "GET" request for "/rl-headers/1.0/items" to host "rl-headers.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    And the response header "ratelimit-limit" is "3"
    And the response header "ratelimit-remaining" is "2"
    And the response has header "ratelimit-reset"
    When I send a single "GET" request for "/rl-headers/1.0/items" to host "rl-headers.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response header "ratelimit-remaining" is "1"
    When I send a single "GET" request for "/rl-headers/1.0/items" to host "rl-headers.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    And the response header "ratelimit-remaining" is "0"
    When I send a single "GET" request for "/rl-headers/1.0/items" to host "rl-headers.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429
    And the response header "ratelimit-remaining" is "0"

  @SupportAPKRateLimit
  Scenario: Policies that cannot be enforced are reported and limit nothing
    Given the manifests "rl-invalid.yaml" are applied
    Then the RateLimitPolicy "apk-suite/rl-invalid-zero" has condition "Accepted" "False" with reason "Invalid"
    And the RateLimitPolicy "apk-suite/rl-invalid-unit" has condition "Accepted" "False" with reason "Invalid"
    And the RateLimitPolicy "apk-suite/rl-invalid-target" has condition "Accepted" "False" with reason "TargetNotFound"
    When I send a single "GET" request for "/rl-invalid/1.0/items" to host "rl-invalid.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    And the response does not have header "ratelimit-limit"
    When I send a single "GET" request for "/rl-invalid/1.0/items" to host "rl-invalid.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200

  @SupportAPKRateLimit
  Scenario: A changed limit applies without a restart
    Given the manifests "rl-change-strict.yaml" are applied
    When I send a single "GET" request for "/rl-change/1.0/items" to host "rl-change.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "GET" request for "/rl-change/1.0/items" to host "rl-change.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429
    When the manifests "rl-change-relaxed.yaml" are applied in place of "rl-change-strict.yaml"
    And I send a single "GET" request for "/rl-change/1.0/items" to host "rl-change.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    And the response header "ratelimit-limit" is "100"

  @SupportAPKRateLimit
  Scenario: A new window starts a new count
    Given the manifests "rl-second.yaml" are applied
    When the next one-second rate-limit window starts
    And I send a single "GET" request for "/rl-second/1.0/items" to host "rl-second.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "GET" request for "/rl-second/1.0/items" to host "rl-second.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 429
    When the next one-second rate-limit window starts
    And I send a single "GET" request for "/rl-second/1.0/items" to host "rl-second.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200

  @SupportAPKRateLimit
  Scenario: Custom limits on a Gateway count by request header
    Given the manifests "rl-custom.yaml" are applied
    Then the RateLimitPolicy "apk-suite/rl-custom-bob" has condition "Accepted" "True" with reason "Accepted"
    And the RateLimitPolicy "apk-suite/rl-custom-nowhere" has condition "Accepted" "False" with reason "TargetNotFound"
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name      | value |
      | x-user-id | bob   |
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name      | value |
      | x-user-id | bob   |
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name      | value |
      | x-user-id | bob   |
    Then the response status is 429
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name      | value |
      | x-user-id | alice |
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send 3 "GET" requests for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name     | value |
      | x-tenant | acme  |
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name     | value |
      | x-tenant | acme  |
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name     | value |
      | x-tenant | acme  |
    Then the response status is 200
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name     | value |
      | x-tenant | acme  |
    Then the response status is 429
    When I send a single "GET" request for "/" to host "rl-custom.gw.example" through gateway "apk-suite/apk-gateway" with headers:
      | name     | value  |
      | x-tenant | globex |
    Then the response status is 200

  @SupportAPKRateLimit
  Scenario: A policy in shadow mode counts but never throttles
    Given the manifests "rl-shadow.yaml" are applied
    When I send a single "GET" request for "/rl-shadow/1.0/items" to host "rl-shadow.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "GET" request for "/rl-shadow/1.0/items" to host "rl-shadow.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    When I send a single "GET" request for "/rl-shadow/1.0/items" to host "rl-shadow.gw.example" through gateway "apk-suite/apk-gateway"
    Then the response status is 200
    And the response does not have header "ratelimit-limit"
