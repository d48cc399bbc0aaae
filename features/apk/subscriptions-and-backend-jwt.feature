@profile:APK
Feature: Subscriptions and the backend JWT
  With subscription validation on, only tokens of applications subscribed to the API (in that
  environment, with an ACTIVE subscription) pass; others get 403. Allowed requests reach the
  backend with a JWT the gateway signed, verifiable against the gateway's JWKS, carrying APK's
  claims about the API and the application.

  Background:
    Given the base manifests are applied
    And the manifests "orders-api.yaml" are applied

  @SupportAPKSubscription @SupportAPKBackendJWT
  Scenario: A subscribed application's token passes, with a backend JWT that verifies
    Given I get a token for client "orders-client" with secret "orders-secret" and scope "orders:read" as "token"
    And I set headers:
      | Authorization | Bearer ${token} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/orders/1.0/orders"
    Then the response status is 200
    And the request reached backend "api-backend" in namespace "apk-suite"
    And the backend saw path "/orders"
    And the backend JWT in header "X-JWT-Assertion" verifies against the gateway's JWKS with claims:
      | http://wso2.org/claims/apiname         | Orders     |
      | http://wso2.org/claims/version         | 1.0        |
      | http://wso2.org/claims/apicontext      | /orders/1.0 |
      | http://wso2.org/claims/keytype         | PRODUCTION |
      | http://wso2.org/claims/applicationname | OrdersApp  |
      | http://wso2.org/claims/subscriber      | alice      |
      | claim1                                 | value1     |
      | claim2                                 | value2     |

  @SupportAPKSubscription
  Scenario: An application without a subscription is a 403 with APK's forbidden code
    Given I get a token for client "stranger-client" with secret "stranger-secret" and scope "" as "token"
    And I set headers:
      | Authorization | Bearer ${token} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/orders/1.0/orders"
    Then the response status is 403
    And the response body field "code" is "900908"
    And the response header "content-type" is "application/json"

  @SupportAPKSubscription
  Scenario: A blocked subscription does not let calls through
    Given I get a token for client "blocked-client" with secret "blocked-secret" and scope "" as "token"
    And I set headers:
      | Authorization | Bearer ${token} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/orders/1.0/orders"
    Then the response status is 403
    And the response body field "code" is "900908"

  @SupportAPKSubscription
  Scenario: A production key does not open the sandbox environment
    Given I get a token for client "orders-client" with secret "orders-secret" and scope "" as "token"
    And I set headers:
      | Authorization | Bearer ${token} |
    When I send a "GET" request to "https://default.sandbox.gw.wso2.com:9095/orders/1.0/orders"
    Then the response status is 403
    When I send a "GET" request to "https://default.gw.wso2.com:9095/orders/1.0/orders"
    Then the response status is 200

  @SupportAPKSubscription
  Scenario: A token from an application nobody registered is refused
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/orders/1.0/orders"
    Then the response status is 403
    And the response body field "code" is "900908"

  @SupportAPKBackendJWT
  Scenario: An API without a backend JWT policy sends none
    Given the manifests "employees-api.yaml" are applied
    And I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I send a "GET" request to "https://default.gw.wso2.com:9095/employees/3.14/employee"
    Then the response status is 200
    And the backend did not see header "X-JWT-Assertion"
