//! Component dependencies: the host links a component's imports to its dependencies'
//! exports and grants each dependency what Spin does, with the fixture pair in
//! `tests/fixtures/deps` (`consumer` imports `test:deps/counter`, `provider` exports it).
//!
//! Build the fixtures first:
//! `cargo build --target wasm32-wasip2 --profile component -p deps-provider -p deps-consumer`

use std::path::{Path, PathBuf};

use crate::support::get;
use spin_test_host::{App, HostProfile, KvBackend, Options, Semantics};

fn wasm(package: &str) -> PathBuf {
    let file = format!("{}.wasm", package.replace('-', "_"));
    let wasm = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/wasm32-wasip2/component")
        .join(&file);
    assert!(
        wasm.exists(),
        "{} is missing: build the fixtures first with \
         `cargo build --target wasm32-wasip2 --profile component -p deps-provider -p deps-consumer`",
        wasm.display()
    );
    std::fs::canonicalize(wasm).unwrap()
}

/// The consumer as in the fixture's `spin.toml`, with `settings` added to its table and
/// `dependencies` as its dependencies table. `{consumer}` and `{provider}` are replaced with
/// the paths of the built fixtures.
fn manifest(settings: &str, dependencies: &str) -> String {
    format!(
        r#"
spin_manifest_version = 2
[application]
name = "deps"
[variables]
secret = {{ default = "s3cret" }}

[[trigger.http]]
route = "/..."
component = "consumer"

[component.consumer]
source = "{{consumer}}"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:1"]
environment = {{ GREETING = "hello" }}
{settings}
[component.consumer.variables]
secret = "{{{{ secret }}}}"

[component.consumer.dependencies]
{dependencies}
"#
    )
    .replace("{consumer}", &wasm("deps-consumer").display().to_string())
    .replace("{provider}", &wasm("deps-provider").display().to_string())
}

const PROVIDER: &str = r#""test:deps/counter" = { path = "{provider}" }"#;

/// Writes `text` as `spin.toml` into a fresh directory.
fn app_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    dir
}

fn options() -> Options {
    Options {
        kv: KvBackend::Memory(Semantics::Sqlite),
        env_variables: false,
        ..Options::default()
    }
}

async fn load(text: &str, options: Options) -> anyhow::Result<App> {
    let dir = app_dir(text);
    App::load(dir.path().join("spin.toml"), options).await
}

async fn load_err(text: &str, options: Options) -> String {
    format!("{:#}", load(text, options).await.unwrap_err())
}

fn stored(app: &App, key: &str) -> Option<String> {
    let store = app.memory_store("default").unwrap();
    promagg::store::Store::get(&*store, key)
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap())
}

#[tokio::test]
async fn calls_reach_one_dependency_instance_per_parent_instance() {
    let app = load(&manifest("", PROVIDER), options()).await.unwrap();
    // Two calls in one request meet the same instance; the next request gets a fresh one.
    assert_eq!(get(&app, "/calls").await, (200, "1 2".into()));
    assert_eq!(get(&app, "/calls").await, (200, "1 2".into()));
    let concurrent: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { get(&app, "/calls").await })
        })
        .collect();
    for request in concurrent {
        assert_eq!(request.await.unwrap(), (200, "1 2".into()));
    }
}

#[tokio::test]
async fn without_inheritance_the_dependency_reaches_none_of_the_parents_configuration() {
    let app = load(&manifest("", PROVIDER), options()).await.unwrap();
    // The answers of Spin's deny adapter.
    assert_eq!(get(&app, "/bump?by=1").await, (500, "no-such-store".into()));
    assert_eq!(
        get(&app, "/bump-atomic?by=1").await,
        (500, "access-denied".into())
    );
    assert_eq!(
        get(&app, "/variable?name=secret").await,
        (500, "undefined: secret".into())
    );
    assert_eq!(get(&app, "/env?name=GREETING").await, (200, "none".into()));
    let (status, body) = get(&app, "/fetch?url=http://127.0.0.1:1/").await;
    assert_eq!(status, 500);
    assert!(
        body.contains("InternalError(Some(\"Access denied\"))"),
        "{body}"
    );
    assert_eq!(stored(&app, "counter"), None);
    assert_eq!(stored(&app, "atomic"), None);
    // The parent keeps its own access.
    assert_eq!(get(&app, "/own").await, (200, "1".into()));
    assert_eq!(stored(&app, "own").as_deref(), Some("1"));
}

#[tokio::test]
async fn with_inheritance_the_dependency_gets_the_parents_configuration() {
    let app = load(
        &manifest("dependencies_inherit_configuration = true", PROVIDER),
        options(),
    )
    .await
    .unwrap();
    assert_eq!(get(&app, "/bump?by=2").await, (200, "2".into()));
    assert_eq!(get(&app, "/bump?by=3").await, (200, "5".into()));
    // The parent's store: the same data the parent sees.
    assert_eq!(stored(&app, "counter").as_deref(), Some("5"));
    assert_eq!(get(&app, "/bump-atomic?by=4").await, (200, "4".into()));
    assert_eq!(
        get(&app, "/variable?name=secret").await,
        (200, "s3cret".into())
    );
    assert_eq!(
        get(&app, "/variable?name=other").await,
        (
            500,
            "undefined: no variable for \"consumer\".\"other\"".into()
        )
    );
    assert_eq!(
        get(&app, "/env?name=GREETING").await,
        (200, "some:hello".into())
    );
    // An allowed host is tried (nothing listens on port 1); another one is refused.
    let (status, body) = get(&app, "/fetch?url=http://127.0.0.1:1/").await;
    assert_eq!(status, 500);
    assert!(body.contains("ConnectionRefused"), "{body}");
    let (status, body) = get(&app, "/fetch?url=http://127.0.0.1:2/").await;
    assert_eq!(status, 500);
    assert!(body.contains("HttpRequestDenied"), "{body}");
}

#[tokio::test]
async fn the_fixture_manifest_loads_as_written() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deps/spin.toml");
    wasm("deps-consumer");
    wasm("deps-provider");
    let app = App::load(&manifest, options()).await.unwrap();
    assert_eq!(get(&app, "/own").await, (200, "1".into()));
    assert_eq!(get(&app, "/bump?by=1").await, (500, "no-such-store".into()));
    assert_eq!(get(&app, "/calls").await, (200, "1 2".into()));
}

#[tokio::test]
async fn package_names_and_explicit_exports_satisfy_imports() {
    let app = load(
        &manifest(
            "dependencies_inherit_configuration = true",
            r#""test:deps" = { path = "{provider}" }"#,
        ),
        options(),
    )
    .await
    .unwrap();
    assert_eq!(get(&app, "/bump?by=7").await, (200, "7".into()));

    let app = load(
        &manifest(
            "dependencies_inherit_configuration = true",
            r#""test:deps/counter" = { path = "{provider}", export = "test:deps/counter" }"#,
        ),
        options(),
    )
    .await
    .unwrap();
    assert_eq!(get(&app, "/bump?by=8").await, (200, "8".into()));
}

#[tokio::test]
async fn mismatched_dependencies_fail_the_load_with_spins_reasons() {
    let e = load_err(
        &manifest("", r#""test:other" = { path = "{provider}" }"#),
        options(),
    )
    .await;
    assert!(
        e.contains("failed to resolve dependencies for component \"consumer\"")
            && e.contains(
                "dependency \"test:other\" doesn't match any imports of component \"consumer\""
            ),
        "{e}"
    );

    let e = load_err(
        &manifest("", r#""test:deps/counter" = { path = "{consumer}" }"#),
        options(),
    )
    .await;
    assert!(
        e.contains("dependency \"test:deps/counter\" doesn't export \"test:deps/counter\" to satisfy import \"test:deps/counter\""),
        "{e}"
    );

    let e = load_err(
        &manifest(
            "",
            r#""test:deps/counter" = { path = "{consumer}", export = "wasi:http/incoming-handler@0.2.0" }"#,
        ),
        options(),
    )
    .await;
    assert!(
        e.contains("exports \"wasi:http/incoming-handler@0.2.0\" which is not compatible with import \"test:deps/counter\": it has no function `bump`"),
        "{e}"
    );

    let e = load_err(
        &manifest(
            "",
            r#""test:deps/counter" = { path = "{provider}", export = "test:deps/missing" }"#,
        ),
        options(),
    )
    .await;
    assert!(e.contains("doesn't export \"test:deps/missing\""), "{e}");

    let e = load_err(
        &manifest("", r#""test:deps/counter" = { path = "missing.wasm" }"#),
        options(),
    )
    .await;
    assert!(
        e.contains("dependency \"test:deps/counter\" of component \"consumer\"")
            && e.contains("cannot read component source"),
        "{e}"
    );

    let e = load_err(
        &manifest(
            "",
            &format!("{PROVIDER}\n\"test:deps\" = {{ path = \"{{provider}}\" }}"),
        ),
        options(),
    )
    .await;
    assert!(
        e.contains("dependency \"test:deps/counter\" conflicts with \"test:deps\""),
        "{e}"
    );

    let e = load_err(
        &manifest("", r#""test:deps/counter" = { version = "1.0.0" }"#),
        options(),
    )
    .await;
    assert!(e.contains("registry dependencies"), "{e}");
}

#[tokio::test]
async fn a_dependency_importing_what_the_profile_lacks_is_refused() {
    let e = load_err(
        &manifest("", PROVIDER),
        Options {
            profile: HostProfile::Cloud,
            ..options()
        },
    )
    .await;
    assert!(
        e.contains("test:deps/counter (dependency of consumer)")
            && e.contains("wasi:keyvalue/atomics"),
        "{e}"
    );
}
