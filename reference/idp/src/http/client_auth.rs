//! Client authentication (RFC 6749 §2.3.1): HTTP Basic or `client_id`/`client_secret` form fields.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::percent_decode_str;

use super::error::OAuthError;
use super::form::FormParams;

/// Standard base64; padding optional, since some clients drop it.
const BASIC: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The id and secret a client presented.
#[derive(PartialEq, Eq)]
pub(crate) struct ClientCredentials {
    pub(crate) id: String,
    pub(crate) secret: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The credentials of a request, from the `Authorization` header or the form.
///
/// Both may be present only if they agree; that tolerates clients that repeat their id in the body.
pub(crate) fn client_credentials(
    headers: &HeaderMap,
    form: &FormParams,
) -> Result<ClientCredentials, OAuthError> {
    let form_id = form.single("client_id")?;
    let form_secret = form.single("client_secret")?;
    let mut authorization = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = authorization.next() else {
        return match (form_id, form_secret) {
            (Some(id), Some(secret)) => Ok(ClientCredentials {
                id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            _ => Err(OAuthError::invalid_client("client authentication is required")),
        };
    };
    if authorization.next().is_some() {
        return Err(OAuthError::invalid_client("more than one Authorization header"));
    }
    let basic = parse_basic(value)?;
    if form_id.is_some_and(|id| id != basic.id) || form_secret.is_some_and(|s| s != basic.secret) {
        return Err(OAuthError::invalid_request(
            "client credentials in the Authorization header and in the body differ",
        ));
    }
    Ok(basic)
}

/// Parses `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(value: &HeaderValue) -> Result<ClientCredentials, OAuthError> {
    let malformed = || OAuthError::invalid_client("malformed Basic Authorization header");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "client authentication must use the Basic scheme",
        ));
    }
    let decoded = BASIC.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(ClientCredentials { id, secret })
}

/// `application/x-www-form-urlencoded` decoding of one value, as §2.3.1 asks for Basic credentials.
fn form_decode(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::error::ErrorCode;

    fn basic(raw: &str) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
        .unwrap()
    }

    fn creds(id: &str, secret: &str) -> ClientCredentials {
        ClientCredentials {
            id: id.into(),
            secret: secret.into(),
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(parse_basic(&basic("id:secret")).unwrap(), creds("id", "secret"));
        assert_eq!(
            parse_basic(&basic("my%3Aid:a+b%2Bc:d")).unwrap(),
            creds("my:id", "a b+c:d")
        );
        assert_eq!(parse_basic(&basic("id:")).unwrap(), creds("id", ""));
        let lower_unpadded = HeaderValue::from_static("basic aWQ6cw");
        assert_eq!(parse_basic(&lower_unpadded).unwrap(), creds("id", "s"));
    }

    #[test]
    fn garbage_basic_headers_are_invalid_client() {
        let bad = [
            HeaderValue::from_static("Basic"),
            HeaderValue::from_static("Basic !!!"),
            HeaderValue::from_static("Bearer abc"),
            HeaderValue::from_static("Basic bm9jb2xvbg=="), // "nocolon"
            HeaderValue::from_static("Basic OnNlY3JldA=="), // ":secret"
            HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(),
            basic("id:%ff"),
        ];
        for value in bad {
            let err = parse_basic(&value).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidClient, "{value:?}");
        }
    }

    #[test]
    fn header_and_form_must_agree() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, basic("id:s"));
        let same = FormParams::parse(b"client_id=id&client_secret=s");
        assert_eq!(client_credentials(&headers, &same).unwrap(), creds("id", "s"));
        let other = FormParams::parse(b"client_id=other");
        assert_eq!(
            client_credentials(&headers, &other).unwrap_err().code,
            ErrorCode::InvalidRequest
        );

        headers.append(header::AUTHORIZATION, basic("id:s"));
        let none = FormParams::default();
        assert_eq!(
            client_credentials(&headers, &none).unwrap_err().code,
            ErrorCode::InvalidClient
        );
    }

    #[test]
    fn form_credentials_need_id_and_secret() {
        let headers = HeaderMap::new();
        let form = FormParams::parse(b"client_id=id&client_secret=s");
        assert_eq!(client_credentials(&headers, &form).unwrap(), creds("id", "s"));
        let only_id = FormParams::parse(b"client_id=id");
        assert_eq!(
            client_credentials(&headers, &only_id).unwrap_err().code,
            ErrorCode::InvalidClient
        );
    }
}
