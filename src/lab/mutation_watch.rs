//! Notices requests that may have changed the world (anything but GET and
//! HEAD), so the lab saves after them even when the change is one the world
//! does not announce (SAPI metadata updates, for instance).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::sync::Notify;

pub fn wrap(router: Router, changed: Arc<Notify>) -> Router {
    router.layer(middleware::from_fn_with_state(changed, watch))
}

async fn watch(State(changed): State<Arc<Notify>>, request: Request, next: Next) -> Response {
    let mutating = !matches!(*request.method(), Method::GET | Method::HEAD);
    let response = next.run(request).await;
    if mutating {
        changed.notify_one();
    }
    response
}
