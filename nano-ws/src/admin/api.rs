//! The JSON API's handlers (every one behind the token; see docs/OPERATIONS.md).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, Uri, header};
use nano_core::inspect::SessionInfo;
use nano_core::serde_json::{self, Value, json};
use nano_core::{GroupError, Session};

use super::Shared;
use super::window::{Rates, Sample};

/// The reason sent with a kick when the request gives none.
const DEFAULT_KICK_REASON: &str = "kicked by admin";

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

/// `{"error": message}`.
pub(super) fn error_body(message: &str) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": message }).to_string(),
    )
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, error_body(message)).into_response()
}

/// Samples the counters into the window and returns its rates.
fn sample(admin: &Shared) -> Rates {
    let sample = Sample {
        at: std::time::Instant::now(),
        sessions_total: admin.app.metrics().sessions_total,
        routes: admin.app.route_stats().iter().map(Into::into).collect(),
    };
    nano_core::__private::lock(&admin.window).update(sample)
}

fn millis(duration: Option<Duration>) -> Value {
    duration.map_or(Value::Null, |d| json!(d.as_secs_f64() * 1000.0))
}

fn unix_millis(time: SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// `GET /api/overview`.
pub(super) async fn overview(State(admin): State<Shared>) -> Response {
    let rates = sample(&admin);
    let metrics = admin.app.metrics();
    let mailboxes: Vec<Value> = admin
        .app
        .mailboxes()
        .iter()
        .map(|m| json!({ "actor": m.actor, "depth": m.depth, "capacity": m.capacity }))
        .collect();
    ok(&json!({
        "sessions": admin.app.session_count(),
        "sessions_total": metrics.sessions_total,
        "sessions_per_second": rates.sessions_per_second,
        "window_seconds": rates.window.as_secs_f64(),
        "groups": admin.app.groups().len(),
        "messages_in": metrics.messages_in,
        "messages_out": metrics.messages_out,
        "errors": metrics.errors,
        "kicks": metrics.kicks,
        "pushes_dropped": metrics.pushes_dropped,
        "mailboxes": mailboxes,
    }))
}

/// `GET /api/routes`.
pub(super) async fn routes(State(admin): State<Shared>) -> Response {
    let rates = sample(&admin);
    let routes: Vec<Value> = rates
        .routes
        .iter()
        .map(|route| {
            json!({
                "route": route.route,
                "kind": route.kind,
                "requests": route.requests,
                "rate": route.rate,
                "p50_ms": millis(route.p50),
                "p99_ms": millis(route.p99),
            })
        })
        .collect();
    ok(&json!({ "window_seconds": rates.window.as_secs_f64(), "routes": routes }))
}

/// `GET /api/groups`.
pub(super) async fn groups(State(admin): State<Shared>) -> Response {
    let groups: Vec<Value> = admin
        .app
        .groups()
        .iter()
        .map(|group| json!({ "name": group.name, "members": group.members }))
        .collect();
    ok(&json!({ "groups": groups }))
}

fn session_json(info: &SessionInfo) -> Value {
    json!({
        "id": info.id,
        "uid": info.uid,
        "remote": info.remote.map(|addr| addr.to_string()),
        "transport": info.transport.as_str(),
        "groups": info.groups,
        "connected_since_ms": unix_millis(info.connected_since),
        "connected": info.connected,
    })
}

/// The `uid` and `limit` of a sessions query.
fn session_query(uri: &Uri, max: usize) -> Result<(Option<i64>, usize), &'static str> {
    let (mut uid, mut limit) = (None, max);
    for pair in uri.query().unwrap_or_default().split('&') {
        match pair.split_once('=') {
            Some(("uid", "")) | None => {}
            Some(("uid", value)) => uid = Some(value.parse().map_err(|_| "uid: not an integer")?),
            Some(("limit", value)) => {
                limit = value
                    .parse::<usize>()
                    .map_err(|_| "limit: not a count")?
                    .min(max);
            }
            Some(_) => {}
        }
    }
    Ok((uid, limit))
}

/// `GET /api/sessions?uid=&limit=`.
pub(super) async fn sessions(State(admin): State<Shared>, uri: Uri) -> Response {
    let (uid, limit) = match session_query(&uri, admin.config.max_sessions_listed) {
        Ok(query) => query,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let keep = |session: &Session| uid.is_none_or(|uid| session.uid() == Some(uid));
    let sessions: Vec<Value> = admin
        .app
        .sessions(keep, limit)
        .iter()
        .map(session_json)
        .collect();
    ok(&json!({ "sessions": sessions }))
}

/// The request's JSON body, `{}` when it is empty; a 400 when it is not JSON.
fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|err| Box::new(error(StatusCode::BAD_REQUEST, &format!("body: {err}"))))
}

/// `POST /api/sessions/{id}/kick`, body `{"reason": "..."}` (optional).
pub(super) async fn kick(
    State(admin): State<Shared>,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let reason = match body.get("reason") {
        None | Some(Value::Null) => DEFAULT_KICK_REASON,
        Some(Value::String(reason)) => reason.as_str(),
        Some(_) => return error(StatusCode::BAD_REQUEST, "reason: not a string"),
    };
    let Some(info) = admin.app.session(id) else {
        return error(StatusCode::NOT_FOUND, "no such session");
    };
    info.session.kick(reason);
    ok(&json!({ "kicked": id, "reason": reason }))
}

/// `POST /api/groups/{name}/broadcast`, body `{"route": "...", "body": <JSON>}`.
pub(super) async fn broadcast(
    State(admin): State<Shared>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(body) => body,
        Err(response) => return *response,
    };
    let Some(route) = body.get("route").and_then(Value::as_str) else {
        return error(StatusCode::BAD_REQUEST, "route: missing or not a string");
    };
    let Some(group) = admin.app.group(&name) else {
        return error(StatusCode::NOT_FOUND, "no such group");
    };
    let payload = body.get("body").cloned().unwrap_or_else(|| json!({}));
    match group.broadcast(route.to_owned(), &payload) {
        Ok(sent) => ok(&json!({ "delivered": sent.delivered, "failed": sent.failed })),
        Err(GroupError::Closed) => error(StatusCode::NOT_FOUND, "no such group"),
        Err(err) => error(StatusCode::UNPROCESSABLE_ENTITY, &err.to_string()),
    }
}

/// `GET /api/nodes`.
pub(super) async fn nodes(State(admin): State<Shared>) -> Response {
    let Some(list) = &admin.config.nodes else {
        return ok(&json!({ "cluster": false, "nodes": [] }));
    };
    let mut nodes = list();
    nodes.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|node| json!({ "name": node.name, "routes": node.routes, "this": node.this }))
        .collect();
    ok(&json!({ "cluster": true, "nodes": nodes }))
}

/// `GET /metrics`, behind the token like the API.
pub(super) async fn metrics(State(admin): State<Shared>) -> Response {
    crate::metrics_response(&admin.app).map(Body::new)
}

/// Any other path.
pub(super) async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint")
}
