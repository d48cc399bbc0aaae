//! Steps for multi-step API scenarios (what APK keeps as Postman collections and its own
//! cucumber suite): generate an apk-conf with the Config Service, deploy and undeploy with the
//! Deployer, all through the gateway with the stored headers, phrased as APK's suite phrases
//! them. Files are read from the suite's `fixtures/` folder.

use anyhow::{Context, ensure};
use cucumber::{given, then, when};
use reqwest::multipart::{Form, Part};

use crate::apk_steps::{APK_GATEWAY, substitute};
use crate::request::{self, Exchange};
use crate::world::GatewayWorld;

type StepResult = anyhow::Result<()>;

/// The Config Service and Deployer base URL (APK 1.x paths) on the APK Gateway.
const API_HOST: &str = "api.am.wso2.com";
const CONFIGURATOR: &str = "/api/configurator/1.3.0/apis";
const DEPLOYER: &str = "/api/deployer/1.3.0/apis";

const APK_CONF: &str = "__apkConf";
const DEFINITION: &str = "__definition";

async fn fixture(world: &GatewayWorld, name: &str) -> anyhow::Result<String> {
    let path = world.features_dir()?.join("fixtures").join(name);
    tokio::fs::read_to_string(&path)
        .await
        .with_context(|| format!("reading {}", path.display()))
}

/// Posts a multipart form to `path` on `api.am.wso2.com` with the scenario's headers.
async fn post(world: &GatewayWorld, path: &str, form: Option<Form>) -> anyhow::Result<Exchange> {
    let address = world.driver()?.gateway_address(APK_GATEWAY, 9095).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve(API_HOST, address)
        .tls_danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let mut request = client.post(format!("https://{API_HOST}:{}{path}", address.port()));
    for (name, value) in &world.headers {
        // The form sets its own content type.
        if !name.eq_ignore_ascii_case("content-type") {
            request = request.header(name, substitute(world, value));
        }
    }
    if let Some(form) = form {
        request = request.multipart(form);
    }
    let response = request.send().await.with_context(|| format!("POST {path}"))?;
    request::exchange(response).await
}

fn file_part(name: &str, text: String) -> Part {
    Part::bytes(text.into_bytes()).file_name(name.to_string())
}

#[given(expr = "I use the APK Conf file {string}")]
async fn use_apk_conf(world: &mut GatewayWorld, name: String) -> StepResult {
    let text = fixture(world, &name).await?;
    world.vars.insert(APK_CONF.to_string(), text);
    Ok(())
}

#[given(expr = "the definition file {string}")]
async fn use_definition(world: &mut GatewayWorld, name: String) -> StepResult {
    let text = fixture(world, &name).await?;
    world.vars.insert(DEFINITION.to_string(), text);
    Ok(())
}

/// Uses the last response (an apk-conf the Config Service generated) as the apk-conf.
#[given(expr = "I use the generated APK Conf")]
#[when(expr = "I use the generated APK Conf")]
async fn use_generated(world: &mut GatewayWorld) -> StepResult {
    let text = world.last()?.text.clone();
    world.vars.insert(APK_CONF.to_string(), text);
    Ok(())
}

fn part(world: &GatewayWorld, key: &str, what: &str) -> anyhow::Result<String> {
    world
        .vars
        .get(key)
        .cloned()
        .with_context(|| format!("no {what} chosen in this scenario"))
}

#[when(expr = "make the API deployment request")]
async fn deploy(world: &mut GatewayWorld) -> StepResult {
    let form = Form::new()
        .part(
            "apkConfiguration",
            file_part("api.apk-conf", part(world, APK_CONF, "APK Conf file")?),
        )
        .part(
            "definitionFile",
            file_part("api.yaml", part(world, DEFINITION, "definition file")?),
        );
    world.last = Some(post(world, &format!("{DEPLOYER}/deploy"), Some(form)).await?);
    Ok(())
}

#[when(expr = "I undeploy the API whose ID is {string}")]
async fn undeploy(world: &mut GatewayWorld, id: String) -> StepResult {
    let id = substitute(world, &id);
    world.last = Some(post(world, &format!("{DEPLOYER}/undeploy?apiId={id}"), None).await?);
    Ok(())
}

#[when(expr = "generate the APK conf file for a {string} API")]
async fn generate_conf(world: &mut GatewayWorld, api_type: String) -> StepResult {
    let form = Form::new().text("apiType", api_type).part(
        "definition",
        file_part("api.yaml", part(world, DEFINITION, "definition file")?),
    );
    world.last = Some(
        post(
            world,
            &format!("{CONFIGURATOR}/generate-configuration"),
            Some(form),
        )
        .await?,
    );
    Ok(())
}

#[when(expr = "I generate the Kubernetes resources of the APK Conf for organization {string}")]
async fn generate_resources(world: &mut GatewayWorld, organization: String) -> StepResult {
    let form = Form::new()
        .part(
            "apkConfiguration",
            file_part("api.apk-conf", part(world, APK_CONF, "APK Conf file")?),
        )
        .part(
            "definitionFile",
            file_part("api.yaml", part(world, DEFINITION, "definition file")?),
        );
    let path = format!("{CONFIGURATOR}/generate-k8s-resources?organization={organization}");
    world.last = Some(post(world, &path, Some(form)).await?);
    Ok(())
}

/// The stored headers stay; this removes every one (APK's suite starts requests afresh).
#[given(expr = "I clear the headers")]
#[when(expr = "I clear the headers")]
async fn clear_headers(world: &mut GatewayWorld) -> StepResult {
    world.headers.clear();
    Ok(())
}

#[then(expr = "the response is a zip archive")]
async fn is_zip(world: &mut GatewayWorld) -> StepResult {
    let last = world.last()?;
    let kind = last.headers.get("content-type").cloned().unwrap_or_default();
    ensure!(
        kind == "application/zip",
        "content-type is {kind:?}, not application/zip"
    );
    Ok(())
}
