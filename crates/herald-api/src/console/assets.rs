//! The console's static files, compiled into the binary: htmx and Chart.js (vendored, minified,
//! licence headers kept; see assets/vendor), the console's own script and style sheet, and the
//! icon. Nothing is fetched from anywhere else.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 5] = [
    ("htmx.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/vendor/htmx.min.js")),
    ("chart.umd.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/vendor/chart.umd.min.js")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/app.js")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../assets/app.css")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../assets/favicon.svg")),
];

pub(crate) fn router() -> Router<crate::AppState> {
    Router::new().route("/assets/{name}", get(asset)).route("/favicon.ico", get(favicon))
}

fn serve(name: &str) -> Response {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        // Assets change only with the binary; an hour keeps page loads quick without pinning
        // an old script after an upgrade for long.
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
    ];
    (headers, *bytes).into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    serve(&name)
}

async fn favicon() -> Response {
    serve("favicon.svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_scripts_keep_their_licence_headers_and_name_no_other_host() {
        let text = |name: &str| String::from_utf8_lossy(ASSETS.iter().find(|a| a.0 == name).unwrap().2).to_string();
        assert!(text("htmx.min.js").starts_with("/*! htmx 2."));
        assert!(text("chart.umd.min.js").contains("Released under the MIT License"));
        assert!(!text("chart.umd.min.js").contains("sourceMappingURL"));
        for (name, _, _) in ASSETS {
            assert!(serve(name).status().is_success(), "{name}");
        }
        assert_eq!(serve("../Cargo.toml").status(), StatusCode::NOT_FOUND);
    }
}
