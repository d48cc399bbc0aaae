@profile:APK
Feature: The built-in token endpoint
  The APK profile serves an OAuth2 client_credentials endpoint on idp.am.wso2.com through the
  gateway's own HTTPS listener, and its keys as a JWKS the default TokenIssuer trusts.

  Background:
    Given the base manifests are applied

  @SupportAPKAuthentication
  Scenario: APK's test client gets a signed token with the scope it asks for
    Given I set headers:
      | Authorization | Basic NDVmMWM1YzgtYTkyZS0xMWVkLWFmYTEtMDI0MmFjMTIwMDAyOjRmYmQ2MmVjLWE5MmUtMTFlZC1hZmExLTAyNDJhYzEyMDAwMg== |
      | Content-Type  | application/x-www-form-urlencoded |
    When I send "POST" request to "https://idp.am.wso2.com:9095/oauth2/token" with body "grant_type=client_credentials&scope=apk:api_create"
    Then the response status is 200
    And the response body field "token_type" is "Bearer"
    And the response body field "scope" is "apk:api_create"
    And the response header "cache-control" is "no-store"

  @SupportAPKAuthentication
  Scenario: A wrong client secret is refused with invalid_client
    Given I set headers:
      | Authorization | Basic NDVmMWM1YzgtYTkyZS0xMWVkLWFmYTEtMDI0MmFjMTIwMDAyOndyb25n |
      | Content-Type  | application/x-www-form-urlencoded |
    When I send "POST" request to "https://idp.am.wso2.com:9095/oauth2/token" with body "grant_type=client_credentials"
    Then the response status is 401
    And the response body field "error" is "invalid_client"

  @SupportAPKAuthentication
  Scenario: Only the client_credentials grant is offered
    Given I set headers:
      | Authorization | Basic NDVmMWM1YzgtYTkyZS0xMWVkLWFmYTEtMDI0MmFjMTIwMDAyOjRmYmQ2MmVjLWE5MmUtMTFlZC1hZmExLTAyNDJhYzEyMDAwMg== |
      | Content-Type  | application/x-www-form-urlencoded |
    When I send "POST" request to "https://idp.am.wso2.com:9095/oauth2/token" with body "grant_type=password&username=a&password=b"
    Then the response status is 400
    And the response body field "error" is "unsupported_grant_type"

  @SupportAPKAuthentication
  Scenario: The IdP's keys are published as a JWKS
    When I send a "GET" request to "https://idp.am.wso2.com:9095/oauth2/jwks"
    Then the response status is 200
    And the response header "content-type" is "application/json"
