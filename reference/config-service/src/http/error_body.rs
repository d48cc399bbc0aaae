//! APK's error answers: a status and the JSON `{code, message, description, moreInfo, error}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::definition::DefinitionError;

/// An error answer of the Config Service.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body.
    pub body: ErrorBody,
}

/// APK's error object (`common-responses.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// APK's numeric error code.
    pub code: i64,
    /// Short message.
    pub message: String,
    /// Longer description.
    pub description: String,
    /// Pointer to more information (always empty here).
    pub more_info: String,
    /// One item per problem, for invalid definitions.
    pub error: Vec<ErrorItem>,
}

/// One problem in an error answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorItem {
    /// APK's error code, as a string.
    pub code: String,
    /// Short message.
    pub message: String,
    /// What exactly is wrong.
    pub description: String,
}

/// APK's code for a bad generate-configuration request.
const BAD_REQUEST_CODE: i64 = 90091;
/// APK's code and message for an OpenAPI parse problem.
const OPENAPI_PARSE: (&str, &str) = ("900754", "Error while parsing OpenAPI definition");
/// APK's code and message for a document that is not OpenAPI 3.
const INVALID_OAS3: (&str, &str) = ("900762", "Invalid OpenAPI V3 definition found");

impl ApiError {
    fn new(status: StatusCode, code: i64, message: &str, description: &str) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                message: message.to_owned(),
                description: description.to_owned(),
                more_info: String::new(),
                error: Vec::new(),
            },
        }
    }

    /// 400 with APK's code 90091 and `message`.
    pub(crate) fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, BAD_REQUEST_CODE, message, message)
    }

    /// A request body that could not be read as multipart form data.
    pub(crate) fn unreadable_body(status: StatusCode, detail: &str) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(status, 413, "Payload Too Large", detail);
        }
        Self::new(
            StatusCode::BAD_REQUEST,
            BAD_REQUEST_CODE,
            "Invalid multipart request",
            detail,
        )
    }

    /// APK's 909008: the definition part is empty.
    pub(crate) fn empty_definition() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            909008,
            "Atleast one of the fields required",
            "Atleast one of the fields required",
        )
    }

    /// APK's 909044: the definition URL is not usable.
    pub(crate) fn invalid_url(description: &str) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            909044,
            "Invalid url provided for openapi definition",
            description,
        )
    }

    /// APK's 909022: anything unexpected.
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            909022,
            "Internal server error",
            "Internal server error",
        )
    }

    /// 400 "Invalid API Definition" with one item per problem.
    pub(crate) fn invalid_definition(items: Vec<ErrorItem>) -> Self {
        let mut error = Self::bad_request("Invalid API Definition");
        error.body.error = items;
        error
    }
}

fn item((code, message): (&str, &str), description: &str) -> ErrorItem {
    ErrorItem {
        code: code.to_owned(),
        message: message.to_owned(),
        description: description.to_owned(),
    }
}

impl From<DefinitionError> for ApiError {
    fn from(error: DefinitionError) -> Self {
        match error {
            DefinitionError::UnsupportedApiType(_) => Self::new(
                StatusCode::BAD_REQUEST,
                909042,
                "Unsupported API type",
                "Unsupported API type",
            ),
            DefinitionError::NotOpenApi(reason) => Self::invalid_definition(vec![
                item(OPENAPI_PARSE, &reason),
                item(INVALID_OAS3, INVALID_OAS3.1),
            ]),
            DefinitionError::Invalid(problems) => {
                Self::invalid_definition(problems.iter().map(|p| item(OPENAPI_PARSE, p)).collect())
            }
            undeclared @ DefinitionError::UndeclaredScope { .. } => {
                Self::invalid_definition(vec![item(OPENAPI_PARSE, &undeclared.to_string())])
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl ApiError {
    /// APK's 909017: a required form part is missing.
    pub(crate) fn missing_part(part: &str) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            909017,
            "Invalid API request",
            &format!("the form part {part} is required"),
        )
    }

    /// APK's 909001: no API with this id.
    pub(crate) fn not_found(id: &str) -> Self {
        let message = format!("{id} not found");
        Self::new(StatusCode::NOT_FOUND, 909001, &message, &message)
    }
}

/// APK's code and message for an apk-conf that does not fit the schema.
const INVALID_APK_CONF: (i64, &str) = (909029, "Invalid apk-conf provided");

impl From<crate::apk_conf::ApkConfError> for ApiError {
    fn from(error: crate::apk_conf::ApkConfError) -> Self {
        let (code, message) = INVALID_APK_CONF;
        let mut api_error = Self::new(StatusCode::BAD_REQUEST, code, message, &error.to_string());
        api_error.body.error = error
            .errors()
            .iter()
            .map(|field| ErrorItem {
                code: code.to_string(),
                message: message.to_owned(),
                description: field.to_string(),
            })
            .collect();
        api_error
    }
}

impl From<crate::resources::GenerateError> for ApiError {
    fn from(error: crate::resources::GenerateError) -> Self {
        use crate::resources::GenerateError;
        let description = error.to_string();
        match error {
            GenerateError::ConflictingRateLimits => {
                Self::new(StatusCode::NOT_ACCEPTABLE, 909026, &description, &description)
            }
            GenerateError::UnsupportedApiType(_) => Self::new(
                StatusCode::BAD_REQUEST,
                909042,
                "Unsupported API type",
                &description,
            ),
            GenerateError::InvalidEndpoint { .. } | GenerateError::InvalidPolicy(_) => Self::new(
                StatusCode::NOT_ACCEPTABLE,
                909018,
                "Invalid API request",
                &description,
            ),
            GenerateError::Serialize(_) => Self::internal(),
        }
    }
}

impl From<crate::deployer::DeployError> for ApiError {
    fn from(error: crate::deployer::DeployError) -> Self {
        use crate::deployer::DeployError;
        match error {
            DeployError::InvalidConf(error) => error.into(),
            DeployError::Generate(error) => error.into(),
            DeployError::InvalidId(_) | DeployError::IdNotALabel(_) => Self::bad_request(&error.to_string()),
            DeployError::NotFound(id) => Self::not_found(&id),
            // The API server's answer names what failed; the caller needs it to fix the cluster.
            DeployError::Cluster(_) => {
                tracing::error!(%error, "deploy failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    909028,
                    "Internal error occured while deploying API",
                    &error.to_string(),
                )
            }
            DeployError::Io { .. } => {
                tracing::error!(%error, "deploy failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    909028,
                    "Internal error occured while deploying API",
                    "Internal error occured while deploying API",
                )
            }
        }
    }
}
