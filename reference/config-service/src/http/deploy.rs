//! The Deployer over HTTP: `POST /api/deployer/1.3.0/apis/deploy` and `…/apis/undeploy`.
//!
//! These routes do no authentication themselves: as in APK, the gateway in front protects
//! them (an HTTPRoute with a Scope `apk:api_create` enforced by the enforcer), so they must
//! only be reachable through it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::BODY_LIMIT;
use super::error_body::ApiError;
use super::form;
use crate::deployer::Deployer;

/// Path of deploy.
pub const DEPLOY_PATH: &str = "/api/deployer/1.3.0/apis/deploy";
/// Path of undeploy.
pub const UNDEPLOY_PATH: &str = "/api/deployer/1.3.0/apis/undeploy";

/// The Deployer routes over `deployer`. Bodies over 10 MiB get 413.
pub fn deployer_router(deployer: Arc<Deployer>) -> Router {
    Router::new()
        .route(DEPLOY_PATH, post(deploy))
        .route(UNDEPLOY_PATH, post(undeploy))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(deployer)
}

async fn deploy(
    State(deployer): State<Arc<Deployer>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let form = form::read(multipart).await?;
        let conf = form
            .apk_configuration
            .ok_or_else(|| ApiError::missing_part("apkConfiguration"))?;
        let definition = form
            .definition_file
            .ok_or_else(|| ApiError::missing_part("definitionFile"))?;
        // File IO off the async threads.
        let writer = deployer.clone();
        let deployed = tokio::task::spawn_blocking(move || writer.deploy(&conf, Some(&definition)))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(ApiError::from)?;
        deployer.changed().await;
        Ok::<_, ApiError>(deployed)
    }
    .await;
    match result {
        Ok(deployed) => ([(CONTENT_TYPE, "application/yaml")], deployed.apk_conf_yaml).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn undeploy(
    State(deployer): State<Arc<Deployer>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(id) = query.get("apiId").cloned() else {
        return ApiError::bad_request("apiId is required").into_response();
    };
    let writer = deployer.clone();
    let result = tokio::task::spawn_blocking(move || writer.undeploy(&id)).await;
    match result {
        Ok(Ok(())) => {
            deployer.changed().await;
            (StatusCode::ACCEPTED, "API undeployed successfully").into_response()
        }
        Ok(Err(error)) => ApiError::from(error).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}
