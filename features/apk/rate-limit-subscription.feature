@profile:APK
Feature: Subscription-tier rate limits
  A subscription's rate-limit tier (its `ratelimitRef`, a RateLimitPolicy with a
  `subscription.requestCount`) limits each subscription on its own, from the identity the
  enforcer found; tiers without a policy are not limited.

  Background:
    Given the base manifests are applied
    And the current rate-limit window has at least 15 seconds left

  @SupportAPKRateLimit @SupportAPKSubscription
  Scenario: A subscription over its tier's quota is throttled, another tier is not
    Given the manifests "rl-subscription.yaml" are applied
    And I get a token for client "tier-client-1" with secret "tier-secret-1" and scope "" as "first"
    And I set headers:
      | Authorization | Bearer ${first} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/tiered/1.0/items"
    Then the response status is 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/tiered/1.0/items"
    Then the response status is 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/tiered/1.0/items"
    Then the response status is 429
    And the response body field "code" is "900800"
    Given I get a token for client "tier-client-2" with secret "tier-secret-2" and scope "" as "second"
    And I set headers:
      | Authorization | Bearer ${second} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/tiered/1.0/items"
    Then the response status is 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/tiered/1.0/items"
    Then the response status is 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/tiered/1.0/items"
    Then the response status is 200
    And the RateLimitPolicy "apk-suite/tier-two" has condition "Accepted" "True" with reason "Accepted"
