@profile:APK
Feature: Scopes and API keys
  An operation with a Scope needs a token carrying it (403 otherwise). API keys the gateway's
  IdP issued open the API they were issued for, in a header or in the query, and nothing else.

  Background:
    Given the base manifests are applied
    And the manifests "employees-api.yaml" are applied

  @SupportAPKAuthentication
  Scenario: A token with the operation's scope passes
    Given I get a token for client "employees-client" with secret "employees-secret" and scope "employees:write" as "writer"
    And I set headers:
      | Authorization | Bearer ${writer} |
    When I send a "POST" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200
    And the backend saw path "/anything/employee"

  @SupportAPKAuthentication
  Scenario: A token without the operation's scope is a 403 with APK's scope error
    Given I get a token for client "employees-client" with secret "employees-secret" and scope "employees:read" as "reader"
    And I set headers:
      | Authorization | Bearer ${reader} |
    When I send a "POST" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 403
    And the response body field "code" is "900910"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200

  @SupportAPKAuthentication
  Scenario: An operation naming a Scope that does not exist never runs unprotected
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/payroll"
    Then the response status is 500
    And the route "apk-suite/employees-prod" has condition "ResolvedRefs" "False" with reason "InvalidExtensionRef" for gateway "apk/wso2-apk-default"

  @SupportAPKAuthentication
  Scenario: An API key in the header opens the API it was issued for
    Given I get an API key for client "employees-client" with secret "employees-secret" for API "Employees:3.14" as "key"
    And I set headers:
      | ApiKey | ${key} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"
    And the backend did not see header "ApiKey"

  @SupportAPKAuthentication
  Scenario: An API key in the query opens the API too
    Given I get an API key for client "employees-client" with secret "employees-secret" for API "Employees:3.14" as "key"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee?apikey=${key}"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"

  @SupportAPKAuthentication
  Scenario: An API key issued for another API is refused
    Given I get an API key for client "other-client" with secret "other-secret" for API "Orders:1.0" as "otherKey"
    And I set headers:
      | ApiKey | ${otherKey} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900903"

  @SupportAPKAuthentication
  Scenario: An access token is not an API key, and an API key carries no scopes
    Given I have a valid subscription
    And I set headers:
      | ApiKey | ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 401
    Given I get an API key for client "employees-client" with secret "employees-secret" for API "Employees:3.14" as "key"
    And I set headers:
      | ApiKey | ${key} |
    When I send a "POST" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 403
    And the response body field "code" is "900910"

  @SupportAPKAuthentication
  Scenario: An empty API key counts as no credentials at all
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee?apikey="
    Then the response status is 401
    And the response body field "code" is "900902"
