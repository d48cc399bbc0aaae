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
use crate::deployer::DeployTarget;

/// Path of deploy.
pub const DEPLOY_PATH: &str = "/api/deployer/1.3.0/apis/deploy";
/// Path of undeploy.
pub const UNDEPLOY_PATH: &str = "/api/deployer/1.3.0/apis/undeploy";

/// The Deployer routes over `deployer` (a folder [`crate::deployer::Deployer`] or a cluster
/// [`crate::deployer::KubeDeployer`]). Bodies over 10 MiB get 413.
pub fn deployer_router(deployer: Arc<dyn DeployTarget>) -> Router {
    Router::new()
        .route(DEPLOY_PATH, post(deploy))
        .route(UNDEPLOY_PATH, post(undeploy))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(deployer)
}

async fn deploy(
    State(deployer): State<Arc<dyn DeployTarget>>,
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
        let deployed = deployer.deploy(conf, Some(definition)).await?;
        Ok::<_, ApiError>(deployed)
    }
    .await;
    match result {
        Ok(deployed) => ([(CONTENT_TYPE, "application/yaml")], deployed.apk_conf_yaml).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn undeploy(
    State(deployer): State<Arc<dyn DeployTarget>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(id) = query.get("apiId").cloned() else {
        return ApiError::bad_request("apiId is required").into_response();
    };
    match deployer.undeploy(id).await {
        Ok(()) => (StatusCode::ACCEPTED, "API undeployed successfully").into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
