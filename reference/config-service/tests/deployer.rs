//! The Deployer over a folder, and generate-k8s-resources / deploy / undeploy over real HTTP
//! on 127.0.0.1.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use portcullis_config_service::deployer::{DeployError, Deployer};
use portcullis_config_service::http::{DEPLOY_PATH, GENERATE_K8S_RESOURCES_PATH, UNDEPLOY_PATH};
use portcullis_config_service::{deployer_router, parse_apk_conf, router};
use reqwest::multipart::{Form, Part};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const CONF: &str = "id: pets-1\nname: Pets\nbasePath: /pets\nversion: \"1.0\"\nendpointConfigurations:\n  production:\n    - endpoint: http://pets.apps:8080\noperations:\n  - target: /pets\n    verb: GET\n";

fn yaml_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn deploy_redeploy_undeploy() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let deployer = Deployer::new(dir.path(), "apps");
    let deployed = deployer.deploy(CONF, Some(&fixture("petstore-oas30.yaml")))?;
    assert_eq!(deployed.id, "pets-1");
    assert_eq!(
        parse_apk_conf(&deployed.apk_conf_yaml)?.id.as_deref(),
        Some("pets-1")
    );
    let file = dir.path().join("api-pets-1.yaml");
    assert_eq!(yaml_files(dir.path()), ["api-pets-1.yaml"]);
    let report = portcullis_model::parse_documents("f", &std::fs::read_to_string(&file)?);
    assert!(
        report.errors.is_empty() && report.skipped.is_empty(),
        "{:?}",
        report.errors
    );

    // Same id, new backend: the file is replaced, no other file appears.
    let changed = CONF.replace("pets.apps:8080", "pets2.apps:9090");
    deployer.deploy(&changed, None)?;
    assert_eq!(yaml_files(dir.path()), ["api-pets-1.yaml"]);
    let text = std::fs::read_to_string(&file)?;
    assert!(
        text.contains("pets2.apps") && !text.contains("host: pets.apps"),
        "{text}"
    );

    // An invalid conf leaves the previous state.
    assert!(matches!(
        deployer.deploy("name: [", None),
        Err(DeployError::InvalidConf(_))
    ));
    assert_eq!(std::fs::read_to_string(&file)?, text);

    deployer.undeploy("pets-1")?;
    assert!(!file.exists());
    assert!(matches!(
        deployer.undeploy("pets-1"),
        Err(DeployError::NotFound(_))
    ));
    Ok(())
}

#[test]
fn id_without_conf_id_is_apk_hash() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let deployer = Deployer::new(dir.path(), "apps");
    let conf = CONF.replace("id: pets-1\n", "");
    let deployed = deployer.deploy(&conf, None)?;
    assert_eq!(
        deployed.id,
        portcullis_config_service::resources::api_id("default", "Pets", "1.0")
    );
    assert!(dir.path().join(format!("api-{}.yaml", deployed.id)).exists());
    Ok(())
}

#[test]
fn traversal_ids_are_rejected() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let deployer = Deployer::new(dir.path().join("apis"), "apps");
    for id in ["../x", "a/b", "..", "", "a\\b", "x y"] {
        assert!(
            matches!(deployer.undeploy(id), Err(DeployError::InvalidId(_))),
            "{id}"
        );
    }
    let conf = CONF.replace("id: pets-1", "id: \"../../etc/evil\"");
    assert!(matches!(
        deployer.deploy(&conf, None),
        Err(DeployError::InvalidId(_))
    ));
    assert!(yaml_files(dir.path()).iter().all(|n| n == "apis"));
    Ok(())
}

async fn serve(router: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

fn file_part(text: String, name: &'static str) -> Part {
    Part::text(text).file_name(name)
}

#[tokio::test]
async fn generate_k8s_resources_returns_a_deterministic_zip() -> anyhow::Result<()> {
    let addr = serve(router()).await?;
    let form = || {
        Form::new()
            .part(
                "apkConfiguration",
                file_part(fixture("resources.apk-conf"), "../../x.apk-conf"),
            )
            .part(
                "definitionFile",
                file_part(fixture("petstore-oas30.yaml"), "petstore.yaml"),
            )
            .text("apiType", "REST")
    };
    let url = format!("http://{addr}{GENERATE_K8S_RESOURCES_PATH}?organization=acme");
    let client = reqwest::Client::new();
    let response = client.post(&url).multipart(form()).send().await?;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/zip"
    );
    let bytes = response.bytes().await?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))?;
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i)?;
        assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
        let name = file.name().to_owned();
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let report = portcullis_model::parse_documents(&name, &text);
        assert!(
            report.errors.is_empty() && report.skipped.is_empty(),
            "{name}: {:?}",
            report.errors
        );
        assert_eq!(report.resources.len(), 1);
        if name.starts_with("httproute-") {
            assert!(text.contains("acme.gw.wso2.com") || text.contains("acme.sandbox.gw.wso2.com"));
        }
        names.push(name);
    }
    assert!(names.iter().any(|n| n.starts_with("api-")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("configmap-")), "{names:?}");
    // Same request, same bytes.
    let again = client.post(&url).multipart(form()).send().await?.bytes().await?;
    assert_eq!(again, bytes);
    Ok(())
}

#[tokio::test]
async fn generate_k8s_resources_reports_the_bad_field() -> anyhow::Result<()> {
    let addr = serve(router()).await?;
    let conf = CONF.replace("verb: GET", "verb: 12");
    let form = Form::new()
        .part(
            "apkConfiguration",
            file_part(
                conf + "corsConfiguration:\n  corsConfigurationEnabled: maybe\n",
                "c",
            ),
        )
        .part("definitionFile", file_part(fixture("petstore-oas30.yaml"), "d"));
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{GENERATE_K8S_RESOURCES_PATH}"))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), 400);
    let json: serde_json::Value = response.json().await?;
    assert_eq!(json["code"], 909029, "{json}");
    assert!(
        json["description"]
            .as_str()
            .unwrap_or_default()
            .contains("corsConfiguration"),
        "{json}"
    );
    Ok(())
}

#[tokio::test]
async fn deploy_and_undeploy_over_http() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let deployer = Arc::new(Deployer::new(dir.path(), "apps"));
    let addr = serve(deployer_router(deployer)).await?;
    let client = reqwest::Client::new();
    let form = Form::new()
        .part(
            "apkConfiguration",
            file_part(CONF.to_owned(), "../../../tmp/evil.yaml"),
        )
        .part(
            "definitionFile",
            file_part(fixture("petstore-oas30.yaml"), "../def.yaml"),
        );
    let response = client
        .post(format!("http://{addr}{DEPLOY_PATH}"))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        "application/yaml"
    );
    let body = response.text().await?;
    assert!(body.contains("id: \"pets-1\""), "{body}");
    assert_eq!(yaml_files(dir.path()), ["api-pets-1.yaml"]);

    let undeploy = |id: &str| {
        client
            .post(format!("http://{addr}{UNDEPLOY_PATH}?apiId={id}"))
            .send()
    };
    let response = undeploy("pets-1").await?;
    assert_eq!(response.status(), 202);
    assert_eq!(response.text().await?, "API undeployed successfully");
    assert!(yaml_files(dir.path()).is_empty());

    let response = undeploy("pets-1").await?;
    assert_eq!(response.status(), 404);
    let json: serde_json::Value = response.json().await?;
    assert_eq!(json["code"], 909001, "{json}");

    let response = undeploy("..%2Fx").await?;
    assert_eq!(response.status(), 400);
    Ok(())
}

#[tokio::test]
async fn deploy_body_over_10_mib_is_413() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let addr = serve(deployer_router(Arc::new(Deployer::new(dir.path(), "apps")))).await?;
    let big = "#".repeat(11 * 1024 * 1024);
    let form = Form::new()
        .part("apkConfiguration", file_part(CONF.to_owned(), "c"))
        .part("definitionFile", file_part(big, "d"));
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{DEPLOY_PATH}"))
        .multipart(form)
        .send()
        .await?;
    assert_eq!(response.status(), 413);
    assert!(yaml_files(dir.path()).is_empty());
    Ok(())
}
