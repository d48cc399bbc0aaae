@profile:APK
Feature: Deploy an API with the Deployer and call it through the gateway
  The path an APK user takes: a token from the IdP, an apk-conf and an OpenAPI definition to
  the Deployer, then calls to each operation, checks of authentication and scopes, and an
  undeploy. Values captured from one response are used in the next.

  Background:
    Given the base manifests are applied
    And I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |

  @SupportAPKDeployer
  Scenario: Deploy, call every operation, undeploy, and the API is gone
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    And the response body should contain "employees-scenario"
    And I store the response body field "id" as "apiId"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 200
    And the request reached backend "backend" in namespace "default"
    And the backend saw path "/anything/employee"
    When I send a "PUT" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee/42"
    Then the response status is 200
    And the backend saw path "/anything/employee/42"
    When I undeploy the API whose ID is "${apiId}"
    Then the response status code should be 202
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 404

  @SupportAPKDeployer
  Scenario: A deployed API refuses calls without a token and lets its open operation through
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    Given I clear the headers
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 401
    And the response body field "code" is "900902"
    When I send a "DELETE" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee/7"
    Then the response status is 200
    And the backend saw path "/anything/employee/7"

  @SupportAPKDeployer
  Scenario: Scopes from the apk-conf are enforced per operation
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    Given I get a token for client "scenario-client" with secret "scenario-secret" and scope "employees:read" as "reader"
    And I set headers:
      | Authorization | Bearer ${reader} |
    When I send a "POST" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 403
    And the response body field "code" is "900910"
    Given I get a token for client "scenario-client" with secret "scenario-secret" and scope "employees:write" as "writer"
    And I set headers:
      | Authorization | Bearer ${writer} |
    When I send a "POST" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 200

  @SupportAPKDeployer
  Scenario: API keys from the IdP open an API whose apk-conf accepts them
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    Given I get an API key for client "scenario-client" with secret "scenario-secret" for API "EmployeeAPI:3.14" as "key"
    And I clear the headers
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee?apikey=${key}"
    Then the response status is 200
    Given I set headers:
      | apikey | ${key} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 200

  @SupportAPKDeployer
  Scenario: Production and sandbox endpoints from the apk-conf
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    When I send a "GET" request to "https://default.sandbox.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 200
    And the request reached backend "sandbox-backend" in namespace "default"
    And the backend saw path "/sandbox/employee"

  @SupportAPKDeployer
  Scenario: A new version is deployed next to the old one and becomes the default
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    Given I use the APK Conf file "employees-v4.apk-conf"
    When make the API deployment request
    Then the response status code should be 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 200
    And the backend saw path "/anything/employee"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/4.0/employee"
    Then the response status is 200
    And the backend saw path "/v4/employee"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/employee"
    Then the response status is 200
    And the backend saw path "/v4/employee"
    When I undeploy the API whose ID is "employees-scenario-v4"
    Then the response status code should be 202
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/employee"
    Then the response status is 404

  @SupportAPKDeployer
  Scenario: A redeploy replaces the API in place
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    When make the API deployment request
    Then the response status code should be 200
    And the response body should contain "employees-scenario"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-scenario/3.14/employee"
    Then the response status is 200

  @SupportAPKDeployer @SupportAPKRateLimit
  Scenario: An API-level rate limit from the apk-conf throttles the second call in a minute
    Given the current rate-limit window has at least 15 seconds left
    And I use the APK Conf file "employees-limited.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-limited/1.0/employee"
    Then the response status is 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-limited/1.0/employee"
    Then the response status is 429
    And the response body field "code" is "900800"

  @SupportAPKDeployer @SupportAPKBackendJWT @SupportAPKCORS
  Scenario: Policies from the apk-conf — a header, a backend JWT and CORS
    Given I use the APK Conf file "employees-policies.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 200
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees-policies/1.0/employee"
    Then the response status is 200
    And the backend saw header "x-scenario" with value "added-by-apk-conf"
    And the backend JWT in header "X-JWT-Assertion" verifies against the gateway's JWKS with claims:
      | http://wso2.org/claims/apiname | PolicyEmployeeAPI |
      | team                           | people-ops        |
    Given I set headers:
      | Origin                        | abc.com |
      | Access-Control-Request-Method | GET     |
    When I send a "OPTIONS" request to "https://default.gw.wso2.com:9095/employees-policies/1.0/employee"
    Then the response status is 200
    And the response header "access-control-allow-origin" is "abc.com"
