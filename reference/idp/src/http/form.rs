//! The `application/x-www-form-urlencoded` body of token requests.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};

use super::error::OAuthError;

/// Decoded form fields, in body order.
#[derive(Debug, Default)]
pub(crate) struct FormParams {
    fields: Vec<(String, String)>,
}

impl FormParams {
    /// Checks the content type and decodes the body; a body over the limit is a 413.
    pub(crate) fn from_request(
        headers: &HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<Self, OAuthError> {
        let body = body.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                OAuthError::too_large()
            } else {
                OAuthError::invalid_request("could not read the request body")
            }
        })?;
        if !is_form(headers) {
            return Err(OAuthError::invalid_request(
                "content type must be application/x-www-form-urlencoded",
            ));
        }
        Ok(Self::parse(&body))
    }

    /// Decodes a form body; decoding itself never fails (invalid UTF-8 is replaced).
    pub(crate) fn parse(body: &[u8]) -> Self {
        Self {
            fields: form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// The one value of `name`; an empty value counts as absent and a repeated one is an error
    /// (RFC 6749 §3.1).
    pub(crate) fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.all(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{name}` is repeated"
            )));
        }
        Ok(first)
    }

    /// Every non-empty value of `name`, for repeatable fields.
    pub(crate) fn all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.fields
            .iter()
            .filter(move |(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn decodes_fields_and_treats_empty_as_absent() {
        let form = FormParams::parse(b"grant_type=client_credentials&scope=a+b%3Ac&client_id=&api=x&api=y");
        assert_eq!(form.single("grant_type").unwrap(), Some("client_credentials"));
        assert_eq!(form.single("scope").unwrap(), Some("a b:c"));
        assert_eq!(form.single("client_id").unwrap(), None);
        assert_eq!(form.single("missing").unwrap(), None);
        assert_eq!(form.all("api").collect::<Vec<_>>(), vec!["x", "y"]);
        assert!(form.single("api").is_err());
    }

    #[test]
    fn garbage_never_fails_to_decode() {
        let form = FormParams::parse(b"\xff\xfe=%zz&&=&%%%=\x00");
        assert_eq!(form.single("grant_type").unwrap(), None);
    }

    #[test]
    fn requires_the_form_content_type() {
        let mut headers = HeaderMap::new();
        assert!(!is_form(&headers));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(!is_form(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        );
        assert!(is_form(&headers));
    }
}
