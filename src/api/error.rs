//! API errors: every refusal is a status and a message naming the problem.

use http::{HeaderValue, Response};

use crate::engine::EngineError;
use crate::parse::BodyError;
use crate::pushgateway::GroupingError;

use super::query::QueryError;
use super::text_response;

/// A refused or failed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// What went wrong, for the client.
    pub message: String,
    /// Value of the `Allow` header (405 only).
    pub allow: Option<&'static str>,
    /// Value of the `Retry-After` header, seconds (503 only).
    pub retry_after_s: Option<u32>,
    /// Value of the `WWW-Authenticate` header (401 only).
    pub www_authenticate: Option<HeaderValue>,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            allow: None,
            retry_after_s: None,
            www_authenticate: None,
        }
    }

    /// 405 with the methods the route allows.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..ApiError::new(405, format!("method not allowed here; allowed: {allow}"))
        }
    }

    /// The response to send.
    pub fn into_response(self) -> Response<Vec<u8>> {
        let mut resp = text_response(self.status, format!("{}\n", self.message));
        if let Some(allow) = self.allow {
            resp.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Some(v) = self.www_authenticate {
            resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
        if let Some(s) = self.retry_after_s {
            resp.headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        ApiError::new(e.status(), e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let retry = matches!(
            e,
            EngineError::Backlog { .. } | EngineError::Unstable | EngineError::Store(_)
        );
        ApiError {
            retry_after_s: retry.then_some(5),
            ..ApiError::new(e.status(), e.to_string())
        }
    }
}

impl From<GroupingError> for ApiError {
    fn from(e: GroupingError) -> Self {
        ApiError::new(400, e.to_string())
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::new(400, e.to_string())
    }
}
