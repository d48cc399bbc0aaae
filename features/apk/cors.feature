@profile:APK
Feature: CORS from an APIPolicy
  Envoy's CORS filter answers preflights from allowed origins before any credential is asked
  for, and marks simple requests from them; other origins get no Access-Control headers.

  Background:
    Given the base manifests are applied
    And the manifests "catalog-api.yaml" are applied

  @SupportAPKCORS
  Scenario: A preflight from an allowed origin is answered with the policy
    Given I set headers:
      | Origin                        | abc.com |
      | Access-Control-Request-Method | GET     |
    When I send a "OPTIONS" request to "https://default.gw.wso2.com:9095/catalog/1.0/items"
    Then the response status is 200
    And the response header "access-control-allow-origin" is "abc.com"
    And the response header "access-control-allow-credentials" is "true"
    And the response header "access-control-allow-methods" is "GET, POST, PUT, DELETE"
    And the response header "access-control-allow-headers" is "Content-Type, Authorization"
    And the response header "access-control-max-age" is "3600"

  @SupportAPKCORS
  Scenario: A preflight from another origin gets no CORS headers
    Given I set headers:
      | Origin                        | evil.example |
      | Access-Control-Request-Method | GET          |
    When I send a "OPTIONS" request to "https://default.gw.wso2.com:9095/catalog/1.0/items"
    Then the response does not have header "access-control-allow-origin"

  @SupportAPKCORS
  Scenario: OPTIONS without an Origin reaches the backend without credentials or CORS headers
    When I send a "OPTIONS" request to "https://default.gw.wso2.com:9095/catalog/1.0/items"
    Then the response status is 200
    And the response does not have header "access-control-allow-origin"
    And the request reached backend "api-backend" in namespace "apk-suite"

  @SupportAPKCORS
  Scenario: A simple request from an allowed origin is marked, and still needs a token
    Given I set headers:
      | Origin | abc.com |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/catalog/1.0/items"
    Then the response status is 401
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/catalog/1.0/items"
    Then the response status is 200
    And the response header "access-control-allow-origin" is "abc.com"
    And the response header "access-control-expose-headers" is "X-Catalog-Version"
