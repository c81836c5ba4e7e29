//! Helpers shared by the host's integration tests.

use spin_test_host::App;

/// `GET path` through the app's router; status and body.
pub async fn get(app: &App, path: &str) -> (u16, String) {
    let resp = app
        .handle(http::Request::get(path).body(Vec::new()).unwrap())
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        String::from_utf8(resp.into_body()).unwrap(),
    )
}
