//! Routing, service chaining, private routes, store access and runtime config, with the
//! real `trivial` component under manifests written by the tests.
//!
//! Build the component first:
//! `cargo build --target wasm32-wasip2 --profile component -p trivial`

use std::path::{Path, PathBuf};

use crate::support::get;
use spin_test_host::{App, Options};

fn wasm() -> PathBuf {
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/wasm32-wasip2/component/trivial.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: build the fixture first with \
         `cargo build --target wasm32-wasip2 --profile component -p trivial`",
        wasm.display()
    );
    std::fs::canonicalize(wasm).unwrap()
}

/// Writes `spin.toml` (with `{wasm}` replaced) into a fresh directory.
fn app_dir(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest.replace("{wasm}", &wasm().display().to_string());
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    dir
}

fn options() -> Options {
    Options {
        env_variables: false,
        ..Options::default()
    }
}

const TWO_COMPONENTS: &str = r#"
spin_manifest_version = 2
[application]
name = "two"
[variables]
greeting = { default = "hi" }

[[trigger.http]]
route = "/front/..."
component = "front"

[[trigger.http]]
route = { private = true }
component = "internal"

[component.front]
source = "{wasm}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://internal.spin.internal"]
[component.front.variables]
greeting = "front says {{ greeting }}"

[component.internal]
source = "{wasm}"
[component.internal.variables]
greeting = "internal says {{ greeting }}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_private_components_and_service_chaining() {
    let dir = app_dir(TWO_COMPONENTS);
    let app = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap();
    // Unrouted paths are empty 404s; the private component has no route.
    assert_eq!(get(&app, "/other").await, (404, String::new()));
    // The component sees the route it was reached on.
    let (status, headers) = get(&app, "/front/headers").await;
    assert_eq!(status, 200);
    assert!(headers.contains("spin-path-info: /headers"), "{headers}");
    assert!(
        headers.contains("spin-component-route: /front"),
        "{headers}"
    );
    // The wildcard also matches its bare prefix (the component answers its counter).
    assert_eq!(get(&app, "/front").await, (200, "1".to_string()));

    // Chaining reaches the private component, on its `/...` route, from 0.0.0.0:0.
    let (status, body) = get(
        &app,
        "/front/outbound?url=http://internal.spin.internal/variable",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "200 internal says hi"));
    let (_, body) = get(
        &app,
        "/front/outbound?url=http://internal.spin.internal/headers",
    )
    .await;
    assert!(body.contains("spin-client-addr: 0.0.0.0:0"), "{body}");
    assert!(body.contains("spin-path-info: /headers"), "{body}");
    assert!(body.contains("spin-matched-route: /..."), "{body}");

    // The private component lists no key-value store: opening "default" is access-denied.
    let (_, body) = get(&app, "/front/outbound?url=http://internal.spin.internal/").await;
    assert!(
        body.starts_with("500 ") && body.contains("AccessDenied"),
        "{body}"
    );

    // Self requests are not in front's allow list.
    let (status, body) = get(&app, "/front/outbound?url=/front/variable").await;
    assert_eq!(status, 500);
    assert!(body.contains("HttpRequestDenied"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_store_lives_in_dot_spin_next_to_the_manifest() {
    let dir = app_dir(TWO_COMPONENTS);
    let app = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap();
    assert_eq!(get(&app, "/front").await, (200, "1".to_string()));
    assert!(dir.path().join(".spin/sqlite_key_value.db").exists());
    assert!(app.store_summaries()["default"].contains("sqlite_key_value.db"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_config_places_stores_and_unknown_labels_are_refused() {
    let manifest = r#"
spin_manifest_version = 2
[application]
name = "rc"
[variables]
greeting = { default = "hi" }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "{wasm}"
key_value_stores = ["default", "cache"]
[component.c.variables]
greeting = "{{ greeting }}"
"#;
    let dir = app_dir(manifest);
    let err = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("unknown key_value_stores label \"cache\""),
        "{err:#}"
    );
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[key_value_store.default]\ntype = \"spin\"\npath = \"data/main.db\"\n\
         [key_value_store.cache]\ntype = \"spin\"\n",
    )
    .unwrap();
    let app = App::load(
        dir.path().join("spin.toml"),
        Options {
            runtime_config: Some(dir.path().join("runtime-config.toml")),
            ..options()
        },
    )
    .await
    .unwrap();
    assert_eq!(get(&app, "/").await, (200, "1".to_string()));
    assert!(
        dir.path().join("data/main.db").exists(),
        "relative to the runtime config"
    );
    assert!(!dir.path().join(".spin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_errors_name_the_problem() {
    let missing_required = r#"
spin_manifest_version = 2
[application]
name = "e"
[variables]
token = { required = true }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "{wasm}"
"#;
    let dir = app_dir(missing_required);
    let err = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("no provider resolved required variable \"token\""));

    let missing_source =
        TWO_COMPONENTS.replace("source = \"{wasm}\"\nkey", "source = \"nope.wasm\"\nkey");
    let dir = app_dir(&missing_source);
    let err = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("nope.wasm") && msg.contains("\"front\""),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_cron_needs_a_cron_trigger() {
    let dir = app_dir(TWO_COMPONENTS);
    let app = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap();
    let err = app.fire_cron("front").await.unwrap_err();
    assert!(err.to_string().contains("has no [[trigger.cron]]"), "{err}");
}

const WITH_CRON: &str = r#"
spin_manifest_version = 2
[application]
name = "cron"
[variables]
greeting = { default = "hi" }
[[trigger.http]]
route = "/..."
component = "c"
[[trigger.cron]]
component = "c"
cron_expression = "*/1 * * * * *"
[component.c]
source = "{wasm}"
key_value_stores = ["default"]
[component.c.variables]
greeting = "{{ greeting }}"
"#;

fn cron_count(dir: &Path) -> Option<i64> {
    let db = rusqlite::Connection::open(dir.join(".spin/sqlite_key_value.db")).ok()?;
    let v: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store='default' AND key='cron'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    Some(i64::from_le_bytes(v.try_into().ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_events_on_demand_and_on_schedule() {
    let dir = app_dir(WITH_CRON);
    let app = App::load(dir.path().join("spin.toml"), options())
        .await
        .unwrap();
    app.fire_cron("c").await.unwrap();
    app.fire_cron("c").await.unwrap();
    assert_eq!(cron_count(dir.path()), Some(2));
    // The HTTP side sees what the cron "process" wrote (same file, its own connection).
    assert_eq!(get(&app, "/keys").await, (200, "cron".to_string()));

    let server = app.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    drop(server);
    // An event already running when the server stops still finishes: let it land first.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let after = cron_count(dir.path()).unwrap();
    assert!((3..=6).contains(&after), "every second for 2.5 s: {after}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        cron_count(dir.path()),
        Some(after),
        "stopping the server stops cron"
    );

    // A failing store makes the handler return its error.
    app.faults().set_unreachable(true);
    let err = app.fire_cron("c").await.unwrap_err();
    assert!(format!("{err:#}").contains("unreachable"), "{err:#}");
}
