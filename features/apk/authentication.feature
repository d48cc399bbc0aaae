@profile:APK
Feature: OAuth2 tokens at the gateway
  An APK API is closed unless a request brings a valid token: one the gateway's own IdP
  issued, or one from a TokenIssuer the gateway trusts. Failures answer 401 with APK's JSON
  error body; the backend never sees a request that failed.

  Background:
    Given the base manifests are applied
    And the manifests "employees-api.yaml" are applied

  @SupportAPKAuthentication
  Scenario: A token from the gateway's IdP opens the API and stays at the gateway
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"
    And the backend saw path "/anything/employee"
    And the backend saw header "Authorization" with value "Basic YWRtaW46YWRtaW4="

  @SupportAPKAuthentication
  Scenario: No token at all is a 401 with APK's missing-credentials error
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response header "content-type" is "application/json"
    And the response body field "code" is "900902"
    And the response body field "error_message" is "Missing Credentials"

  @SupportAPKAuthentication
  Scenario: A token that is not a JWT is a 401 with APK's invalid-credentials error
    Given I set headers:
      | Authorization | Bearer invalidToken |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900903"
    When I send a "POST" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401

  @SupportAPKAuthentication
  Scenario: A tampered token is refused
    Given I have a valid subscription
    And I tamper with the token "accessToken"
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900903"

  @SupportAPKAuthentication
  Scenario: Garbage in Authorization and an oversized token are refused, never passed on
    Given I set headers:
      | Authorization | Basic YWRtaW46YWRtaW4= |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    Given I store "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0." as "unsigned"
    And I set headers:
      | Authorization | Bearer ${unsigned} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900903"

  @SupportAPKAuthentication
  Scenario: A token from a trusted TokenIssuer that is not ours opens the API
    Given an identity provider "idp1" that is not ours, with key id "123-456"
    And the manifests "issuer-idp1.yaml" are applied
    And a token from "idp1" with key id "123-456" and claims as "idp1Token":
      | iss | https://idp1.example.com |
      | sub | alice                    |
      | azp | idp1-client              |
    And I set headers:
      | Authorization | Bearer ${idp1Token} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"
    And the TokenIssuer "apk-suite/idp1" has condition "Accepted" "True" with reason "Accepted"

  @SupportAPKAuthentication
  Scenario: An expired token is a 401 with APK's expired-token code
    Given an identity provider "idp1" that is not ours, with key id "exp-1"
    And the manifests "issuer-idp1.yaml" are applied
    And a token from "idp1" with key id "exp-1" and claims as "expired":
      | iss | https://idp1.example.com |
      | sub | alice                    |
      | exp | now-600                  |
    And I set headers:
      | Authorization | Bearer ${expired} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900901"

  @SupportAPKAuthentication
  Scenario: A token signed with a key its issuer does not publish is refused
    Given an identity provider "idp1" that is not ours, with key id "live-1"
    And the manifests "issuer-idp1.yaml" are applied
    And a token from "idp1" with key id "456-789" and claims as "unknownKid":
      | iss | https://idp1.example.com |
      | sub | alice                    |
    And I set headers:
      | Authorization | Bearer ${unknownKid} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900903"

  @SupportAPKAuthentication
  Scenario: A well-signed token from an issuer nobody configured is refused
    Given an identity provider "stranger" that is not ours, with key id "s-1"
    And a token from "stranger" with key id "s-1" and claims as "strangerToken":
      | iss | https://stranger.example.com |
      | sub | mallory                      |
    And I set headers:
      | Authorization | Bearer ${strangerToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900903"

  @SupportAPKAuthentication
  Scenario: An issuer whose JWKS endpoint answers junk fails closed
    Given an identity provider "junk" that is not ours, with key id "j-1"
    And the manifests "issuer-junk.yaml" are applied
    And a token from "junk" with key id "j-1" and claims as "junkToken":
      | iss | https://junk.example.com |
      | sub | alice                    |
    And I set headers:
      | Authorization | Bearer ${junkToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response header "content-type" is "application/json"

  @SupportAPKAuthentication
  Scenario: A TokenIssuer with no way to check signatures is rejected in its status
    Given the manifests "issuer-broken.yaml" are applied
    Then the TokenIssuer "apk-suite/broken-issuer" has condition "Accepted" "False" with reason "Invalid"

  @SupportAPKAuthentication
  Scenario: An operation with security disabled answers without a token, even a bad one
    Given I set headers:
      | Authorization | Bearer invalidToken |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/health"
    Then the response status is 200
    And the backend saw path "/anything/health"

  @SupportAPKAuthentication
  Scenario: A route outside any API on the same listener answers without a token
    Given the manifests "plain-route.yaml" are applied
    When I send a "GET" request to "https://plain.gw.wso2.com:9095/plain/ok"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"
    And the backend saw path "/plain/ok"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401

  @SupportAPKAuthentication
  Scenario: The default version answers without the version in the path
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/employee"
    Then the response status is 200
    And the backend saw path "/anything/employee"

  @SupportAPKAuthentication
  Scenario: Production and sandbox hosts reach their own backends
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.sandbox.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200
    And the request reached backend "sandbox-backend" in namespace "apk-suite"
    And the backend saw path "/employee"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the request reached backend "api-backend" in namespace "apk-suite"
