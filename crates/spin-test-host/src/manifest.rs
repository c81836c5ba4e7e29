//! The Spin application manifest (`spin.toml`, manifest version 2), read as `spin up` reads it.
//!
//! Only what a local `spin up` of this project needs is accepted: local component sources,
//! `http` and `cron` triggers, variables, key-value stores, outbound hosts, environment and
//! local component dependencies. Anything else is refused with an error naming it, rather
//! than silently ignored, so a manifest that works here works under Spin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use toml::Spanned;

use crate::allowed_hosts::AllowedHosts;
use crate::dependencies::DependencyName;
use crate::variables::{validate_name, Template};

/// A parsed and validated `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Directory holding `spin.toml`; component sources are relative to it.
    pub dir: PathBuf,
    /// The `[application]` table.
    pub application: Application,
    /// Application variables (`[variables]`).
    pub variables: BTreeMap<String, Variable>,
    /// `[[trigger.http]]` entries, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[[trigger.cron]]` entries, in manifest order.
    pub cron_triggers: Vec<CronTrigger>,
    /// `[component.<id>]` tables by id.
    pub components: BTreeMap<String, Component>,
}

/// The `[application]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Application name.
    pub name: String,
    /// Application version.
    #[serde(default)]
    pub version: String,
    /// Human-readable description.
    #[serde(default)]
    pub description: String,
    /// Authors (unused by the host).
    #[serde(default)]
    pub authors: Vec<String>,
    /// Target environments (unused by the host).
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    /// Application-level trigger settings (unused by the host).
    #[serde(default, rename = "trigger")]
    pub trigger_global_configs: BTreeMap<String, toml::Table>,
    /// Settings for tools, ignored as by Spin.
    #[serde(default)]
    pub tool: BTreeMap<String, toml::Table>,
}

/// An application variable (`[variables] name = { ... }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Description (unused by the host).
    #[serde(default)]
    pub description: Option<String>,
    /// A value must come from a provider (environment or the test's map).
    #[serde(default)]
    pub required: bool,
    /// Value used when no provider has one.
    #[serde(default)]
    pub default: Option<String>,
    /// Sensitive value (only affects logging in Spin).
    #[serde(default)]
    pub secret: bool,
}

/// What an HTTP trigger's `route` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteConfig {
    /// A route pattern such as `/metrics` or `/api/...`.
    Route(String),
    /// `route = { private = true }`: reachable only through service chaining.
    Private,
}

/// A `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    /// The component handling the route.
    pub component: String,
    /// The route.
    pub route: RouteConfig,
}

/// A `[[trigger.cron]]` entry.
#[derive(Debug, Clone)]
pub struct CronTrigger {
    /// The component to run.
    pub component: String,
    /// Six-field cron expression, seconds first.
    pub cron_expression: String,
    /// The parsed schedule.
    pub schedule: croner::Cron,
}

/// A `[component.<id>]` table.
#[derive(Debug, Clone)]
pub struct Component {
    /// Component id (kebab-case).
    pub id: String,
    /// Absolute path of the `.wasm` file.
    pub source: PathBuf,
    /// Component variables: name to template over application variables.
    pub variables: BTreeMap<String, Template>,
    /// Environment variables of the guest.
    pub environment: BTreeMap<String, String>,
    /// Raw `allowed_outbound_hosts` entries (may contain `{{ var }}` templates).
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// Local component dependencies: imported interface or package name to dependency.
    pub dependencies: BTreeMap<String, Dependency>,
    /// Whether dependencies get the parent's capabilities (Spin's default is no).
    pub dependencies_inherit_configuration: bool,
}

/// A local component dependency (`"ns:pkg/iface" = { path = "dep.wasm" }`); registry, URL
/// and app-component dependencies are refused at load.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// Absolute path of the dependency's `.wasm` file.
    pub path: PathBuf,
    /// The export of the dependency to use, when it differs from the import name.
    pub export: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: Spanned<toml::Value>,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Spanned<Variable>>,
    #[serde(default, rename = "trigger")]
    triggers: BTreeMap<String, Vec<Spanned<toml::Table>>>,
    #[serde(default, rename = "component")]
    components: BTreeMap<String, Spanned<RawComponent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    #[serde(default, rename = "description")]
    _description: String,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<toml::Value>,
    #[serde(default, rename = "exclude_files")]
    _exclude_files: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default, alias = "key-value-stores")]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default, rename = "build")]
    _build: Option<toml::Table>,
    #[serde(default, rename = "tool")]
    _tool: BTreeMap<String, toml::Table>,
    #[serde(default)]
    dependencies_inherit_configuration: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

/// `{ path = "...", export = "..." }`, the only dependency form this host loads.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocalDependency {
    path: String,
    #[serde(default)]
    export: Option<String>,
}

/// Reads one dependency's value: a local path, or an error naming the unsupported form.
fn dependency(name: &str, value: toml::Value, dir: &Path) -> Result<Dependency> {
    let table = match value {
        toml::Value::String(version) => bail!(
            "dependency {name:?}: registry dependencies (version requirement {version:?}) are not supported by this test host; use {{ path = \"...\" }}"
        ),
        toml::Value::Table(t) => t,
        other => bail!(
            "dependency {name:?}: expected a version string or a table such as {{ path = \"...\" }}, found {other}"
        ),
    };
    if table.contains_key("path") {
        let local: RawLocalDependency = table
            .try_into()
            .map_err(|e| anyhow!("dependency {name:?}: {}", e.message()))?;
        return Ok(Dependency {
            path: dir.join(local.path),
            export: local.export,
        });
    }
    if table.contains_key("version") || table.contains_key("registry") {
        bail!(
            "dependency {name:?}: registry dependencies ({{ version, registry, package }}) are not supported by this test host; use {{ path = \"...\" }}"
        );
    }
    if table.contains_key("url") {
        bail!(
            "dependency {name:?}: URL dependencies ({{ url, digest }}) are not supported by this test host; download the component and use {{ path = \"...\" }}"
        );
    }
    if table.contains_key("component") {
        bail!(
            "dependency {name:?}: dependencies on another component of the app ({{ component = \"...\" }}) are not supported by this test host; use {{ path = \"...\" }}"
        );
    }
    bail!("dependency {name:?}: expected {{ path = \"...\" }} (optionally with `export`), found {table}")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    #[serde(default, rename = "id")]
    _id: String,
    component: Option<toml::Value>,
    route: toml::Value,
    #[serde(default)]
    executor: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCronTrigger {
    #[serde(default, rename = "id")]
    _id: String,
    component: Option<toml::Value>,
    cron_expression: String,
}

/// 1-based line of a byte offset in `src`.
fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

/// Parses a six-field (seconds first) cron expression as Spin's cron trigger does.
pub fn parse_cron(expr: &str) -> Result<croner::Cron> {
    if expr.split_whitespace().count() != 6 {
        bail!(
            "cron expression {expr:?} must have six fields (second minute hour day-of-month month day-of-week)"
        );
    }
    // croner 2, the version tokio-cron-scheduler 0.13 (the plugin's scheduler) uses.
    croner::Cron::new(expr)
        .with_seconds_required()
        .parse()
        .map_err(|e| anyhow!("invalid cron expression {expr:?}: {e}"))
}

/// Spin's kebab-case component id rule.
fn validate_component_id(id: &str) -> Result<(), String> {
    let valid_chars = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if id.is_empty() {
        Err("must not be empty".into())
    } else if !valid_chars {
        Err("may contain only lower-case letters, digits and '-'".into())
    } else if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        Err("must start with a lower-case letter".into())
    } else if id.ends_with('-') || id.contains("--") {
        Err("must not end with '-' or contain '--'".into())
    } else {
        Ok(())
    }
}

fn component_reference(value: Option<&toml::Value>, what: &str) -> Result<String> {
    match value {
        Some(toml::Value::String(id)) => Ok(id.clone()),
        Some(toml::Value::Table(_)) => bail!(
            "{what}: inline component tables are not supported by this test host; use `component = \"<id>\"`"
        ),
        Some(other) => bail!("{what}: `component` must be a component id string, found {other}"),
        None => bail!("{what}: `component` is missing"),
    }
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let src = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let dir = std::fs::canonicalize(&dir)
            .with_context(|| format!("cannot resolve manifest directory {}", dir.display()))?;
        Self::parse(&src, &dir).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses manifest text; `dir` is the directory sources are relative to.
    pub fn parse(src: &str, dir: &Path) -> Result<Manifest> {
        let raw: RawManifest = toml::from_str(src).map_err(|e| anyhow!("{e}"))?;
        let version_line = line_of(src, raw.spin_manifest_version.span().start);
        match raw.spin_manifest_version.get_ref() {
            toml::Value::Integer(2) => {}
            toml::Value::Integer(1) | toml::Value::String(_) => bail!(
                "line {version_line}: manifest version 1 is not supported; use `spin_manifest_version = 2`"
            ),
            other => bail!(
                "line {version_line}: `spin_manifest_version` must be 2, found {other}"
            ),
        }

        let mut variables = BTreeMap::new();
        for (name, var) in raw.variables {
            let line = line_of(src, var.span().start);
            let var = var.into_inner();
            validate_name(&name)
                .map_err(|e| anyhow!("line {line}: invalid variable name {name:?}: {e}"))?;
            match (var.required, &var.default) {
                (true, Some(_)) => bail!(
                    "line {line}: variable {name:?} cannot be both `required = true` and have a `default`"
                ),
                (false, None) => bail!(
                    "line {line}: variable {name:?} must be `required = true` or have a `default`"
                ),
                _ => {}
            }
            variables.insert(name, var);
        }

        let mut components = BTreeMap::new();
        for (id, raw_component) in raw.components {
            let line = line_of(src, raw_component.span().start);
            validate_component_id(&id)
                .map_err(|e| anyhow!("line {line}: invalid component id {id:?}: {e}"))?;
            let component = Self::component(&id, raw_component.into_inner(), dir, &variables)
                .map_err(|e| anyhow!("line {line}: component {id:?}: {e:#}"))?;
            components.insert(id, component);
        }

        let mut http_triggers = Vec::new();
        let mut cron_triggers = Vec::new();
        for (kind, entries) in raw.triggers {
            for entry in entries {
                let line = line_of(src, entry.span().start);
                let table = entry.into_inner();
                let what = format!("line {line}: [[trigger.{kind}]]");
                match kind.as_str() {
                    "http" => {
                        let t: RawHttpTrigger = table
                            .try_into()
                            .map_err(|e| anyhow!("{what}: {}", e.message()))?;
                        http_triggers.push(Self::http_trigger(t, &what, &components)?);
                    }
                    "cron" => {
                        let t: RawCronTrigger = table
                            .try_into()
                            .map_err(|e| anyhow!("{what}: {}", e.message()))?;
                        let component = component_reference(t.component.as_ref(), &what)?;
                        if !components.contains_key(&component) {
                            bail!("{what}: unknown component {component:?}");
                        }
                        let schedule =
                            parse_cron(&t.cron_expression).map_err(|e| anyhow!("{what}: {e}"))?;
                        cron_triggers.push(CronTrigger {
                            component,
                            cron_expression: t.cron_expression,
                            schedule,
                        });
                    }
                    other => bail!(
                        "{what}: trigger type {other:?} is not supported by this test host (only http and cron)"
                    ),
                }
            }
        }
        if http_triggers.is_empty() && cron_triggers.is_empty() {
            bail!("the manifest has no [[trigger.http]] or [[trigger.cron]] entry");
        }

        Ok(Manifest {
            dir: dir.to_path_buf(),
            application: raw.application,
            variables,
            http_triggers,
            cron_triggers,
            components,
        })
    }

    fn http_trigger(
        t: RawHttpTrigger,
        what: &str,
        components: &BTreeMap<String, Component>,
    ) -> Result<HttpTrigger> {
        let component = component_reference(t.component.as_ref(), what)?;
        if !components.contains_key(&component) {
            bail!("{what}: unknown component {component:?}");
        }
        if let Some(executor) = &t.executor {
            match executor.get("type").and_then(toml::Value::as_str) {
                Some("http") | None => {}
                Some(other) => bail!(
                    "{what}: executor type {other:?} is not supported by this test host (only \"http\")"
                ),
            }
        }
        let route = match t.route {
            toml::Value::String(r) => RouteConfig::Route(r),
            toml::Value::Table(tbl) => match tbl.get("private") {
                Some(toml::Value::Boolean(true)) if tbl.len() == 1 => RouteConfig::Private,
                _ => bail!(
                    "{what}: route must be a string pattern or '{{ private = true }}': component {component:?} has {tbl}"
                ),
            },
            other => bail!("{what}: route must be a string pattern, found {other}"),
        };
        Ok(HttpTrigger { component, route })
    }

    fn component(
        id: &str,
        raw: RawComponent,
        dir: &Path,
        app_variables: &BTreeMap<String, Variable>,
    ) -> Result<Component> {
        let source = match &raw.source {
            toml::Value::String(path) => dir.join(path),
            other => bail!(
                "`source` must be a local file path; remote and registry sources ({other}) are not supported by this test host"
            ),
        };
        if !raw.files.is_empty() {
            bail!("`files` mounts are not supported by this test host");
        }
        if !raw.allowed_http_hosts.is_empty() {
            bail!("`allowed_http_hosts` is deprecated; use `allowed_outbound_hosts`");
        }
        if !raw.sqlite_databases.is_empty() || !raw.ai_models.is_empty() {
            bail!("`sqlite_databases` and `ai_models` are not supported by this test host");
        }
        let mut variables = BTreeMap::new();
        for (name, value) in raw.variables {
            validate_name(&name).map_err(|e| anyhow!("invalid variable name {name:?}: {e}"))?;
            let template =
                Template::parse(&value).map_err(|e| anyhow!("variable {name:?}: {e}"))?;
            if let Some(unknown) = template
                .variable_names()
                .find(|v| !app_variables.contains_key(*v))
            {
                bail!("variable {name:?}: unknown application variable {unknown:?}");
            }
            variables.insert(name, template);
        }
        AllowedHosts::validate(&raw.allowed_outbound_hosts, app_variables)
            .context("invalid `allowed_outbound_hosts`")?;
        let dependencies = Self::dependencies(raw.dependencies, dir)?;
        Ok(Component {
            id: id.to_string(),
            source,
            variables,
            environment: raw.environment,
            allowed_outbound_hosts: raw.allowed_outbound_hosts,
            key_value_stores: raw.key_value_stores,
            dependencies,
            dependencies_inherit_configuration: raw.dependencies_inherit_configuration,
        })
    }
}

impl Manifest {
    /// Validates a `[component.<id>.dependencies]` table as Spin does: valid names, no export
    /// for a whole package, no two names that could satisfy one import.
    fn dependencies(
        raw: BTreeMap<String, toml::Value>,
        dir: &Path,
    ) -> Result<BTreeMap<String, Dependency>> {
        let mut names: Vec<(String, DependencyName)> = Vec::new();
        let mut dependencies = BTreeMap::new();
        for (key, value) in raw {
            let name: DependencyName = key
                .parse()
                .map_err(|e| anyhow!("dependency {key:?}: invalid dependency name: {e}"))?;
            let dep = dependency(&key, value, dir)?;
            if dep.export.is_some() && !name.accepts_export() {
                bail!(
                    "dependency {key:?}: using an export to satisfy a whole package is not permitted; name an interface (`{key}/<interface>`)"
                );
            }
            if let Some((other, _)) = names.iter().find(|(_, n)| n.conflicts_with(&name)) {
                bail!("dependency {key:?} conflicts with {other:?}: both could satisfy the same import");
            }
            names.push((key.clone(), name));
            dependencies.insert(key, dep);
        }
        Ok(dependencies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Manifest> {
        Manifest::parse(src, Path::new("/app"))
    }

    const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"t\"\n";

    fn with_head(rest: &str) -> String {
        format!("{HEAD}{rest}")
    }

    #[test]
    fn reads_a_full_manifest() {
        let m = parse(&with_head(
            r#"
[variables]
token = { required = true, secret = true }
host = { default = "example.com" }

[[trigger.http]]
route = "/..."
component = "api"

[[trigger.http]]
route = { private = true }
component = "internal"

[[trigger.cron]]
component = "pusher"
cron_expression = "1/2 * * * * *"

[component.api]
source = "api.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["https://{{ host }}", "http://*.spin.internal"]
[component.api.variables]
url = "https://{{ host }}/x"

[component.internal]
source = "internal.wasm"

[component.pusher]
source = "target/pusher.wasm"
"#,
        ))
        .unwrap();
        assert_eq!(m.application.name, "t");
        assert_eq!(m.http_triggers.len(), 2);
        assert_eq!(m.http_triggers[1].route, RouteConfig::Private);
        assert_eq!(m.cron_triggers[0].component, "pusher");
        assert_eq!(
            m.components["pusher"].source,
            PathBuf::from("/app/target/pusher.wasm")
        );
        assert!(m.variables["token"].required);
        assert_eq!(m.components["api"].key_value_stores, vec!["default"]);
    }

    fn err(rest: &str) -> String {
        format!("{:#}", parse(&with_head(rest)).unwrap_err())
    }

    #[test]
    fn errors_name_the_problem_and_line() {
        let e = err("[[trigger.http]]\nroute = \"/\"\ncomponent = \"nope\"\n");
        assert!(
            e.contains("line 4") && e.contains("unknown component \"nope\""),
            "{e}"
        );

        let e = err("[component.Bad]\nsource = \"x.wasm\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"Bad\"\n");
        assert!(e.contains("invalid component id \"Bad\""), "{e}");

        let e = err("[variables]\nx = { required = true, default = \"d\" }\n");
        assert!(e.contains("line 5") && e.contains("both"), "{e}");

        let e = err("[variables]\nx = { secret = true }\n");
        assert!(
            e.contains("must be `required = true` or have a `default`"),
            "{e}"
        );

        let e = err("[component.a]\nsource = \"a.wasm\"\n[component.a.variables]\nv = \"{{ missing }}\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n");
        assert!(
            e.contains("unknown application variable \"missing\""),
            "{e}"
        );

        let e = err("[component.a]\nsource = \"a.wasm\"\n[[trigger.cron]]\ncomponent = \"a\"\ncron_expression = \"* * * * *\"\n");
        assert!(e.contains("six fields"), "{e}");

        let e = err("[component.a]\nsource = \"a.wasm\"\n[[trigger.http]]\nroute = { private = false }\ncomponent = \"a\"\n");
        assert!(e.contains("private = true"), "{e}");

        let e = err("[component.a]\nsource = \"a.wasm\"\nallowed_outbound_hosts = [\"example.com\"]\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n");
        assert!(e.contains("does not contain a scheme"), "{e}");

        let e = err("[component.a]\nsource = \"a.wasm\"\nunknown_field = 1\n");
        assert!(e.contains("unknown_field"), "{e}");

        let e = err("[[trigger.redis]]\ncomponent = \"a\"\nchannel = \"c\"\n");
        assert!(e.contains("trigger type \"redis\" is not supported"), "{e}");

        let e = format!(
            "{:#}",
            parse("spin_manifest_version = 1\n[application]\nname = \"t\"\n").unwrap_err()
        );
        assert!(e.contains("line 1") && e.contains("version 1"), "{e}");

        let e = format!(
            "{:#}",
            parse("spin_manifest_version = 2\n[application]\nname = \"t\"\n[[trigger.http]\n")
                .unwrap_err()
        );
        assert!(
            e.contains("line 4"),
            "toml syntax errors carry the line: {e}"
        );

        let e = err("");
        assert!(e.contains("no [[trigger.http]]"), "{e}");
    }

    fn with_dependencies(deps: &str) -> String {
        format!(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n[component.a]\nsource = \"a.wasm\"\n[component.a.dependencies]\n{deps}"
        )
    }

    #[test]
    fn local_dependencies_are_read() {
        let m = parse(&with_head(&format!(
            "{}\n[component.b]\nsource = \"b.wasm\"\ndependencies_inherit_configuration = true\n[component.b.dependencies]\n\"foo:bar\" = {{ path = \"bar.wasm\" }}\n",
            with_dependencies(
                "\"test:deps/counter\" = { path = \"deps/provider.wasm\" }\n\"test:deps/other@1.0.0\" = { path = \"o.wasm\", export = \"test:deps/counter\" }\nplain-name = { path = \"p.wasm\" }\n"
            )
        )))
        .unwrap();
        let a = &m.components["a"];
        assert!(!a.dependencies_inherit_configuration);
        assert_eq!(
            a.dependencies["test:deps/counter"].path,
            PathBuf::from("/app/deps/provider.wasm")
        );
        assert_eq!(a.dependencies["test:deps/counter"].export, None);
        assert_eq!(
            a.dependencies["test:deps/other@1.0.0"].export.as_deref(),
            Some("test:deps/counter")
        );
        assert!(a.dependencies.contains_key("plain-name"));
        assert!(m.components["b"].dependencies_inherit_configuration);
    }

    #[test]
    fn unsupported_and_invalid_dependencies_are_refused() {
        let e = err(&with_dependencies("\"foo:bar\" = \"1.0.0\"\n"));
        assert!(
            e.contains("line 7")
                && e.contains("registry dependencies (version requirement \"1.0.0\")"),
            "{e}"
        );
        let e = err(&with_dependencies(
            "\"foo:bar\" = { version = \"1.0.0\", registry = \"example.com\" }\n",
        ));
        assert!(
            e.contains("registry dependencies ({ version, registry, package })"),
            "{e}"
        );
        let e = err(&with_dependencies(
            "\"foo:bar\" = { url = \"https://example.com/c.wasm\", digest = \"sha256:00\" }\n",
        ));
        assert!(e.contains("URL dependencies"), "{e}");
        let e = err(&with_dependencies("\"foo:bar\" = { component = \"b\" }\n"));
        assert!(e.contains("another component of the app"), "{e}");
        let e = err(&with_dependencies(
            "\"foo:bar\" = { path = \"x.wasm\", digest = \"y\" }\n",
        ));
        assert!(
            e.contains("dependency \"foo:bar\"") && e.contains("digest"),
            "{e}"
        );
        let e = err(&with_dependencies("\"foo:bar\" = 3\n"));
        assert!(e.contains("expected a version string or a table"), "{e}");
        let e = err(&with_dependencies("\"foo:bar\" = { export = \"x\" }\n"));
        assert!(e.contains("expected { path = \"...\" }"), "{e}");
        let e = err(&with_dependencies("\"Foo:bar\" = { path = \"x.wasm\" }\n"));
        assert!(
            e.contains("invalid dependency name: namespace \"Foo\""),
            "{e}"
        );
        let e = err(&with_dependencies(
            "\"foo:bar\" = { path = \"x.wasm\", export = \"foo:bar/baz\" }\n",
        ));
        assert!(e.contains("export to satisfy a whole package"), "{e}");
        let e = err(&with_dependencies(
            "\"foo:bar\" = { path = \"x.wasm\" }\n\"foo:bar/baz@0.1.0\" = { path = \"y.wasm\" }\n",
        ));
        assert!(e.contains("conflicts with \"foo:bar\""), "{e}");
        let ok = parse(&with_head(&with_dependencies(
            "\"foo:bar/baz\" = { path = \"x.wasm\" }\n\"foo:bar/bub\" = { path = \"y.wasm\" }\n",
        )));
        assert!(ok.is_ok(), "disjoint interfaces of one package are fine");
    }

    #[test]
    fn cron_expressions_are_six_fields_seconds_first() {
        assert!(parse_cron("1/2 * * * * *").is_ok());
        assert!(parse_cron("0 0 * * * *").is_ok());
        assert!(parse_cron("*/5 * * * *").is_err());
        assert!(parse_cron("61 * * * * *").is_err());
    }
}
