//! API errors: every refusal is a status and a message naming the problem.

use http::{HeaderValue, Response};

use crate::aggregate::AggregateError;
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
    /// Why the request was refused, as the `reason` label of `promagg_rejections_total`.
    pub reason: &'static str,
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
            reason: reason_of_status(status),
        }
    }

    /// The same error with a more precise rejection reason.
    pub fn with_reason(self, reason: &'static str) -> Self {
        ApiError { reason, ..self }
    }

    /// True for a refusal of the client's request (4xx), as opposed to a failure of ours.
    pub fn is_rejection(&self) -> bool {
        (400..500).contains(&self.status)
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

/// The default rejection reason of a status.
fn reason_of_status(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "too_large",
        415 => "unsupported_media_type",
        s if (400..500).contains(&s) => "client_error",
        _ => "server_error",
    }
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        let reason = match &e {
            BodyError::TooLarge(_) | BodyError::Limit(_) => "limit",
            BodyError::Parse(_) | BodyError::Protobuf(_) | BodyError::Decompress(_) => "parse",
            BodyError::UnsupportedMediaType(_)
            | BodyError::UnsupportedCharset(_)
            | BodyError::UnsupportedEncoding(_) => "unsupported_media_type",
        };
        ApiError::new(e.status(), e.to_string()).with_reason(reason)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let retry = matches!(
            e,
            EngineError::Backlog { .. } | EngineError::Unstable | EngineError::Store(_)
        );
        let reason = match &e {
            EngineError::Limit(_) => "limit",
            EngineError::Aggregate(AggregateError::InvalidIncrement { .. }) => "invalid_value",
            EngineError::Aggregate(_) => "conflict",
            _ => reason_of_status(e.status()),
        };
        ApiError {
            retry_after_s: retry.then_some(5),
            reason,
            ..ApiError::new(e.status(), e.to_string())
        }
    }
}

impl From<GroupingError> for ApiError {
    fn from(e: GroupingError) -> Self {
        ApiError::new(400, e.to_string()).with_reason("bad_grouping_key")
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::new(400, e.to_string()).with_reason("bad_query")
    }
}
