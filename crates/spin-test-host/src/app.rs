//! A loaded Spin application: what `spin up` builds before serving.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use promagg::store::memory::MemoryStore;
use wasmtime::component::InstancePre;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::allowed_hosts::AllowedHosts;
use crate::bindings::cron::SpinCronPre;
use crate::kv::faults::Faults;
use crate::kv::{KvBackend, Stores};
use crate::manifest::Manifest;
use crate::profile::HostProfile;
use crate::routes::Router;
use crate::runtime_config::RuntimeConfig;
use crate::serve::ServeHandle;
use crate::state::{Grants, HostState};
use crate::variables::{Providers, Resolver};
use crate::{cron, dependencies, engine, http_trigger};

/// How to load an app.
#[derive(Debug, Clone)]
pub struct Options {
    /// Key-value backend (default: as `spin up`, SQLite under the state dir).
    pub kv: KvBackend,
    /// Which Spin host to behave as.
    pub profile: HostProfile,
    /// Application variable values; they win over the environment and defaults.
    pub variables: BTreeMap<String, String>,
    /// Also read `SPIN_VARIABLE_<NAME>` from the process environment (Spin's env provider).
    pub env_variables: bool,
    /// `--runtime-config-file`.
    pub runtime_config: Option<PathBuf>,
    /// `--state-dir` (default `<app dir>/.spin`); holds the default `sqlite_key_value.db`.
    pub state_dir: Option<PathBuf>,
    /// Where compiled components are cached on disk (`None` = memory only).
    pub compile_cache: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kv: KvBackend::default(),
            profile: HostProfile::default(),
            variables: BTreeMap::new(),
            env_variables: true,
            runtime_config: None,
            state_dir: None,
            compile_cache: Some(engine::default_cache_dir()),
        }
    }
}

/// One component, compiled and pre-linked.
struct LoadedComponent {
    proxy: Option<ProxyPre<HostState>>,
    cron: Option<SpinCronPre<HostState>>,
    grants: Grants,
}

/// Shared state of a loaded app (what instances and the server reach).
pub struct AppInner {
    /// The manifest.
    pub manifest: Manifest,
    /// HTTP routes.
    pub router: Router,
    components: HashMap<String, LoadedComponent>,
    stores_http: Stores,
    stores_cron: Stores,
    vars: Arc<Resolver>,
    faults: Arc<Faults>,
    profile: HostProfile,
    self_addr: OnceLock<SocketAddr>,
}

impl AppInner {
    /// Whether `id` has an HTTP trigger (private ones included).
    pub fn is_http_component(&self, id: &str) -> bool {
        self.components.get(id).is_some_and(|c| c.proxy.is_some())
    }

    /// The pre-linked HTTP handler of `id`.
    pub fn proxy_pre(&self, id: &str) -> Option<&ProxyPre<HostState>> {
        self.components.get(id).and_then(|c| c.proxy.as_ref())
    }

    /// The pre-linked cron handler of `id`.
    pub fn cron_pre(&self, id: &str) -> Result<&SpinCronPre<HostState>> {
        if !self.profile.has_cron() {
            bail!("the {:?} host profile has no cron trigger", self.profile);
        }
        self.components
            .get(id)
            .and_then(|c| c.cron.as_ref())
            .ok_or_else(|| anyhow!("component {id:?} has no [[trigger.cron]]"))
    }

    /// Whether cron schedules run under this profile.
    pub fn runs_cron(&self) -> bool {
        self.profile.has_cron()
    }

    /// Authority of requests to the app itself: the listen address once serving.
    pub fn self_authority(&self) -> String {
        self.self_addr
            .get()
            .map_or_else(|| "localhost:3000".to_string(), |a| a.to_string())
    }

    /// Records the address the server listens on.
    pub fn set_self_addr(&self, addr: SocketAddr) {
        let _ = self.self_addr.set(addr);
    }

    /// A fresh store for one instance of `id`; `cron` picks the cron "process" connections.
    pub fn new_store(self: &Arc<Self>, id: &str, cron: bool) -> Result<Store<HostState>> {
        let c = self
            .components
            .get(id)
            .ok_or_else(|| anyhow!("unknown component ID {id:?}"))?;
        let stores = if cron {
            self.stores_cron.clone()
        } else {
            self.stores_http.clone()
        };
        let state = HostState::new(
            self.clone(),
            Arc::from(id),
            &c.grants,
            stores,
            self.vars.clone(),
        );
        Ok(Store::new(&engine::engine()?, state))
    }
}

/// A loaded app: handle requests, fire cron events, serve, inject faults.
#[derive(Clone)]
pub struct App {
    inner: Arc<AppInner>,
    manifest_path: PathBuf,
    options: Options,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("manifest", &self.manifest_path)
            .field("options", &self.options)
            .finish()
    }
}

fn labels(manifest: &Manifest) -> Vec<String> {
    manifest
        .components
        .values()
        .flat_map(|c| c.key_value_stores.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

impl App {
    /// Loads `manifest` as `spin up` would: validates it, resolves variables, opens the
    /// stores, compiles and pre-links every triggered component with its dependencies.
    pub async fn load(manifest: impl AsRef<Path>, options: Options) -> Result<App> {
        let manifest_path = manifest.as_ref().to_path_buf();
        let manifest = Manifest::load(&manifest_path)?;
        let runtime_config = match &options.runtime_config {
            Some(p) => RuntimeConfig::load(p)?,
            None => RuntimeConfig::default(),
        };
        let providers = Providers {
            explicit: options.variables.clone(),
            environment: options.env_variables,
        };
        let vars = Arc::new(Resolver::new(&manifest, &providers)?);
        let state_dir = options
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.dir.join(".spin"));
        let labels = labels(&manifest);
        let memory: HashMap<String, Arc<MemoryStore>> = match &options.kv {
            KvBackend::Memory(semantics) => labels
                .iter()
                .map(|l| (l.clone(), Arc::new(MemoryStore::new(*semantics))))
                .collect(),
            _ => HashMap::new(),
        };
        let faults = Arc::new(Faults::default());
        let build = || {
            Stores::build(
                &options.kv,
                &runtime_config,
                &state_dir,
                &labels,
                &faults,
                &memory,
            )
        };
        let stores_http = build()?;
        let stores_cron = build()?;

        let (router, duplicates) = Router::build(
            "/",
            manifest
                .http_triggers
                .iter()
                .map(|t| (t.component.as_str(), &t.route)),
        )?;
        for d in duplicates {
            eprintln!(
                "The component route {} of {:?} is a duplicate of {:?}'s and will never be used",
                d.route, d.replaced_id, d.effective_id
            );
        }

        let engine = engine::engine()?;
        let linker = engine::linker(&engine, options.profile)?;
        let http_ids: HashSet<&str> = manifest
            .http_triggers
            .iter()
            .map(|t| t.component.as_str())
            .collect();
        let cron_ids: HashSet<&str> = if options.profile.has_cron() {
            manifest
                .cron_triggers
                .iter()
                .map(|t| t.component.as_str())
                .collect()
        } else {
            HashSet::new()
        };
        let mut components = HashMap::new();
        for (id, c) in &manifest.components {
            let is_http = http_ids.contains(id.as_str());
            let is_cron = cron_ids.contains(id.as_str());
            if !is_http && !is_cron {
                continue;
            }
            let (engine2, source, cache) = (
                engine.clone(),
                c.source.clone(),
                options.compile_cache.clone(),
            );
            let compiled = tokio::task::spawn_blocking(move || {
                engine::compile(&engine2, &source, cache.as_deref())
            })
            .await
            .context("compiler task failed")?
            .with_context(|| format!("component {id:?}"))?;
            options.profile.check(id, &compiled, &engine)?;
            let allowed_hosts = AllowedHosts::resolve(&c.allowed_outbound_hosts, &vars)
                .with_context(|| format!("component {id:?}"))?;
            let grants = Grants {
                environment: c.environment.clone().into_iter().collect(),
                allowed_hosts: Arc::new(allowed_hosts),
                key_value_stores: Arc::new(c.key_value_stores.iter().cloned().collect()),
                isolated: false,
            };
            let composed;
            let component_linker = if c.dependencies.is_empty() {
                &linker
            } else {
                let cx = dependencies::LinkContext {
                    engine: &engine,
                    linker: &linker,
                    profile: options.profile,
                    compile_cache: options.compile_cache.as_deref(),
                };
                composed = dependencies::link(&cx, id, &compiled, c, &grants)
                    .await
                    .with_context(|| {
                        format!("failed to resolve dependencies for component {id:?}")
                    })?;
                &composed
            };
            let pre: InstancePre<HostState> = component_linker
                .instantiate_pre(&compiled)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component {id:?} cannot be instantiated by this host"))?;
            let proxy = if is_http {
                Some(
                    ProxyPre::new(pre.clone())
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
                            format!("component {id:?} does not export wasi:http/incoming-handler")
                        })?,
                )
            } else {
                None
            };
            let cron = if is_cron {
                Some(
                    SpinCronPre::new(pre.clone())
                        .map_err(anyhow::Error::from)
                        .with_context(|| {
                            format!("component {id:?} does not export handle-cron-event (fermyon:spin-cron@2.0.0)")
                        })?,
                )
            } else {
                None
            };
            components.insert(
                id.clone(),
                LoadedComponent {
                    proxy,
                    cron,
                    grants,
                },
            );
        }

        Ok(App {
            inner: Arc::new(AppInner {
                manifest,
                router,
                components,
                stores_http,
                stores_cron,
                vars,
                faults,
                profile: options.profile,
                self_addr: OnceLock::new(),
            }),
            manifest_path,
            options,
        })
    }

    /// Loads the same manifest with the same options again: a restart of the host over the
    /// same files (new store connections, same data on disk).
    pub async fn reload(&self) -> Result<App> {
        App::load(&self.manifest_path, self.options.clone()).await
    }

    /// Handles one request through the router, as the server does. Like an HTTP client, it
    /// sends a `Host` header when the request has none: the URI's authority, or the server's
    /// address (`localhost:3000` when not serving). The client address is `127.0.0.1:0`.
    pub async fn handle(&self, req: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        let (mut parts, body) = req.into_parts();
        if !parts.headers.contains_key(http::header::HOST) {
            let authority = match parts.uri.authority() {
                Some(a) => a.to_string(),
                None => self.inner.self_authority(),
            };
            parts
                .headers
                .insert(http::header::HOST, http::HeaderValue::from_str(&authority)?);
        }
        let req = http::Request::from_parts(parts, http_trigger::full(Bytes::from(body)));
        let client: SocketAddr = "127.0.0.1:0".parse()?;
        let resp =
            http_trigger::handle(self.inner.clone(), req, http::uri::Scheme::HTTP, client).await?;
        let (parts, body) = resp.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| anyhow!("reading response body: {e}"))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, bytes.to_vec()))
    }

    /// Runs `component`'s cron handler once, now (as its schedule would).
    pub async fn fire_cron(&self, component: &str) -> Result<()> {
        cron::fire(&self.inner, component).await
    }

    /// Serves HTTP on `addr` (port 0 picks one) and runs the cron schedules until the
    /// handle is stopped or dropped.
    pub async fn serve(&self, addr: SocketAddr) -> Result<ServeHandle> {
        crate::serve::serve(self.inner.clone(), addr).await
    }

    /// The fault switches shared by every store of the app.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The in-memory store behind `label` (only with `KvBackend::Memory`).
    pub fn memory_store(&self, label: &str) -> Option<Arc<MemoryStore>> {
        self.inner.stores_http.memory(label)
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// What each store label is backed by.
    pub fn store_summaries(&self) -> &BTreeMap<String, String> {
        self.inner.stores_http.summaries()
    }

    /// Routable `(route, component)` pairs, for the startup banner.
    pub fn routes(&self) -> Vec<(String, String)> {
        self.inner
            .router
            .routes()
            .map(|(r, c)| (r.to_string(), c.to_string()))
            .collect()
    }

    /// The options the app was loaded with.
    pub fn options(&self) -> &Options {
        &self.options
    }
}
