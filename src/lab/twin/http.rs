//! What every twin shares on the wire: the parameter bag, error bodies, and response headers.
//!
//! The real services are restify 4 servers: query string and JSON body are merged into one
//! parameter bag (route params win, then query, then body), errors are `{code, message}`
//! objects, and every response carries `Server`, `x-request-id` and `x-server-name`.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// An error response: a status and a JSON body (or no body at all, as some SAPI 404s).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Option<Value>,
}

impl ApiError {
    /// A restify error: `{"code": .., "message": ..}`.
    pub fn rest(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Some(json!({"code": code, "message": message.into()})),
        }
    }

    /// A plain JavaScript error rendered by restify: `{"message": ..}`, no `code`.
    pub fn plain(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Some(json!({"message": message.into()})),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::rest(StatusCode::NOT_FOUND, "ResourceNotFound", message)
    }

    /// VMAPI's 409 ValidationFailed with its `errors[]`.
    pub fn validation(message: &str, errors: Vec<Value>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            body: Some(json!({"code": "ValidationFailed", "message": message, "errors": errors})),
        }
    }
}

/// One entry of an `errors[]` array.
pub fn field_error(field: &str, code: &str, message: &str) -> Value {
    json!({"field": field, "code": code, "message": message})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.body {
            Some(b) => json_response(self.status, &b),
            None => self.status.into_response(),
        }
    }
}

/// A JSON response with restify's content type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "null".to_string());
    raw_json(status, text)
}

/// A response whose JSON text is already rendered.
pub fn raw_json(status: StatusCode, text: String) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The merged parameter bag of a request, plus what handlers need from its head.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// Query pairs as sent, in order (strict validators look at these keys).
    pub query: Vec<(String, String)>,
    /// Query (strings; a repeated key becomes an array) merged with the body (query wins).
    pub params: Map<String, Value>,
}

impl Req {
    /// A parameter as a string, if it is one.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.params.get(key).and_then(Value::as_str)
    }

    /// `true`/`"true"`.
    pub fn truthy(&self, key: &str) -> bool {
        matches!(self.params.get(key), Some(Value::Bool(true))) || self.str(key) == Some("true")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn request_id(&self) -> String {
        request_id(&self.headers)
    }
}

/// The request's `x-request-id` (or `request-id`), else a fresh UUIDv4, as restify's `req.getId()`.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .or_else(|| headers.get("request-id"))
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn invalid_content(msg: &str) -> Response {
    ApiError::rest(
        StatusCode::BAD_REQUEST,
        "InvalidContent",
        format!("Invalid JSON: {msg}"),
    )
    .into_response()
}

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Req, Response> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let headers = req.headers().clone();
        let query = req.uri().query().map(parse_query).unwrap_or_default();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // axum's own rejection is plain text; clients of the real services
        // read restify's `{code, message}` (a body over the limit is 413
        // RequestEntityTooLarge there too).
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let code = match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => "RequestEntityTooLarge",
                _ => "BadRequest",
            };
            ApiError::rest(rejection.status(), code, rejection.body_text()).into_response()
        })?;
        let mut params = Map::new();
        for (k, v) in &query {
            match params.get_mut(k) {
                None => {
                    params.insert(k.clone(), Value::from(v.clone()));
                }
                Some(Value::Array(a)) => a.push(Value::from(v.clone())),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, Value::from(v.clone())]);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if !text.trim().is_empty() {
            let body: Map<String, Value> =
                if content_type.starts_with("application/x-www-form-urlencoded") {
                    parse_query(&text)
                        .into_iter()
                        .map(|(k, v)| (k, Value::from(v)))
                        .collect()
                } else {
                    match serde_json::from_str::<Value>(&text) {
                        Ok(Value::Object(m)) => m,
                        Ok(_) => Map::new(),
                        Err(e) => return Err(invalid_content(&e.to_string())),
                    }
                };
            for (k, v) in body {
                params.entry(k).or_insert(v);
            }
        }
        Ok(Req {
            method,
            path,
            headers,
            query,
            params,
        })
    }
}

/// Response headers for one service: `Server`, `x-request-id`, `x-server-name`, and
/// (VMAPI/CNAPI) `x-response-time`. Never `x-api-version` (restify 4 has none).
#[derive(Clone, Debug)]
pub struct Stamp {
    pub server: &'static str,
    pub server_name: String,
    pub response_time: bool,
}

pub async fn stamp(stamp: Stamp, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers());
    let mut res = next.run(req).await;
    let no_content = res.status() == StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    h.insert(header::SERVER, HeaderValue::from_static(stamp.server));
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&stamp.server_name) {
        h.insert("x-server-name", v);
    }
    if stamp.response_time {
        let ms = started.elapsed().as_millis().to_string();
        if let Ok(v) = HeaderValue::from_str(&ms) {
            h.insert("x-response-time", v);
        }
    }
    if no_content {
        h.remove(header::CONTENT_TYPE);
        h.remove(header::CONTENT_LENGTH);
    }
    res
}

/// restify's answer for an unknown route.
pub async fn no_route(req: Request) -> Response {
    ApiError::not_found(format!("{} does not exist", req.uri().path())).into_response()
}

/// restify's answer for a known route with the wrong method.
pub async fn wrong_method(req: Request) -> Response {
    ApiError::rest(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{} is not allowed", req.method()),
    )
    .into_response()
}

/// True for a lowercase 8-4-4-4-12 hex UUID (the form the services' regexes accept).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_check_is_strict() {
        assert!(is_uuid("3914df2e-0ae5-46da-9f07-7e77e0455e42"));
        assert!(!is_uuid("3914DF2E-0ae5-46da-9f07-7e77e0455e42"));
        assert!(!is_uuid("moray0"));
        assert!(!is_uuid("3914df2e-0ae5-46da-9f07-7e77e0455e4"));
        assert!(!is_uuid("3914df2e00ae5-46da-9f07-7e77e0455e42"));
    }

    #[test]
    fn errors_render_rest_and_plain_shapes() {
        let e = ApiError::rest(StatusCode::NOT_FOUND, "ResourceNotFound", "VM not found");
        assert_eq!(
            e.body,
            Some(json!({"code": "ResourceNotFound", "message": "VM not found"}))
        );
        let p = ApiError::plain(StatusCode::INTERNAL_SERVER_ERROR, "boom");
        assert_eq!(p.body, Some(json!({"message": "boom"})));
    }
}
