@profile:APK
Feature: The Deployer and the Config Service guard their inputs
  Deploying needs a token with the scope apk:api_create; bad apk-confs are refused with APK's
  error shape naming the field, and nothing is deployed; unknown ids are 404.

  Background:
    Given the base manifests are applied

  @SupportAPKDeployer
  Scenario: Deploying without a token is a 401
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 401
    And the response body field "code" is "900902"

  @SupportAPKDeployer
  Scenario: Deploying with a token that lacks apk:api_create is a 403
    Given I get a token for client "scenario-client" with secret "scenario-secret" and scope "employees:read" as "token"
    And I set headers:
      | Authorization | Bearer ${token} |
    And I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 403
    And the response body field "code" is "900910"

  @SupportAPKDeployer
  Scenario: An apk-conf that breaks the schema is a 400 naming the field, and nothing is deployed
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    And I use the APK Conf file "broken.apk-conf"
    And the definition file "employees.yaml"
    When make the API deployment request
    Then the response status code should be 400
    And the response body should contain "corsConfigurationEnabled"
    When I send a "GET" request to "https://default.gw.wso2.com:9095/broken/1.0/items"
    Then the response status is 404

  @SupportAPKDeployer
  Scenario: Undeploying an id that was never deployed is a 404
    Given I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When I undeploy the API whose ID is "never-deployed"
    Then the response status code should be 404

  @SupportAPKDeployer
  Scenario: The Config Service turns an OpenAPI definition into an apk-conf, which deploys
    Given the definition file "employees.yaml"
    When generate the APK conf file for a "REST" API
    Then the response status code should be 200
    And the response body should contain "EmployeeAPI"
    And I store the response body field "basePath" as "basePath"
    Given I use the generated APK Conf
    And I have a valid subscription
    And I set headers:
      | Authorization | Bearer ${accessToken} |
    When make the API deployment request
    Then the response status code should be 200
    And I store the response body field "id" as "apiId"
    When I send a "GET" request to "https://default.gw.wso2.com:9095${basePath}/3.14/employee"
    Then the response status is 200
    And the backend saw path "/anything/employee"
    When I undeploy the API whose ID is "${apiId}"
    Then the response status code should be 202

  @SupportAPKDeployer
  Scenario: A definition that is not OpenAPI is refused by the Config Service
    Given the definition file "not-openapi.yaml"
    When generate the APK conf file for a "REST" API
    Then the response status code should be 400
    And the response body field "code" is the number 90091

  @SupportAPKDeployer
  Scenario: The Config Service returns an apk-conf's resources as a zip
    Given I use the APK Conf file "employees.apk-conf"
    And the definition file "employees.yaml"
    When I generate the Kubernetes resources of the APK Conf for organization "default"
    Then the response status code should be 200
    And the response is a zip archive
