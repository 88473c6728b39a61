//! The web page (`GET /`): the Vite build of `orchestrator/server/web/` (its `dist/`, committed, so a
//! build needs no Node.js), compiled into the binary and served without a token — the page asks
//! for one and sends it with every API call. `scripts/web.sh` rebuilds `dist/` and fails when the
//! committed build is not the build of the sources.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &[u8] = include_bytes!("../web/dist/index.html");
const APP_JS: &[u8] = include_bytes!("../web/dist/assets/app.js");
const APP_CSS: &[u8] = include_bytes!("../web/dist/assets/app.css");

/// Whether a path is part of the page (served to anyone, like `/livez`).
pub fn is_page(path: &str) -> bool {
    path == "/" || path.starts_with("/assets/")
}

fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The page is small and changes with the binary: always revalidate.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

pub async fn assets(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "app.js" => asset(APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => asset(APP_CSS, "text/css; charset=utf-8"),
        _ => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
