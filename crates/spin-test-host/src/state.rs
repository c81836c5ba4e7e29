//! The per-instance store data: WASI, wasi:http, key-value access, variables, and the
//! instances of the component's dependencies.

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;
use crate::app::AppInner;
use crate::dependencies::Instances;
use crate::host::kv::KvAccess;
use crate::kv::Stores;
use crate::outbound::OutboundHooks;
use crate::variables::Resolver;

/// What an instance may reach: a component's own manifest configuration, or what one of its
/// dependencies gets from it.
#[derive(Clone)]
pub struct Grants {
    /// Environment variables of the guest.
    pub environment: Arc<[(String, String)]>,
    /// Outbound HTTP policy.
    pub allowed_hosts: Arc<AllowedHosts>,
    /// Key-value store labels it may open.
    pub key_value_stores: Arc<HashSet<String>>,
    /// A dependency that does not inherit its parent's configuration: the interfaces Spin's
    /// deny adapter covers answer as that adapter does.
    pub isolated: bool,
}

impl Grants {
    /// What a dependency of a component granted `parent` gets: the same when the component
    /// sets `dependencies_inherit_configuration = true`, nothing otherwise (Spin's default).
    pub fn for_dependency(parent: &Grants, inherit: bool) -> Grants {
        if inherit {
            return parent.clone();
        }
        Grants {
            environment: Arc::from(Vec::new()),
            allowed_hosts: Arc::new(AllowedHosts::default()),
            key_value_stores: Arc::new(HashSet::new()),
            isolated: true,
        }
    }
}

/// Everything one component instance can reach; a fresh one per request or cron event.
pub struct HostState {
    /// WASI context (environment, stdio).
    pub wasi: WasiCtx,
    /// wasi:http context.
    pub http: WasiHttpCtx,
    /// Resources of the instance.
    pub table: ResourceTable,
    /// Outbound HTTP policy and in-process dispatch.
    pub hooks: OutboundHooks,
    /// Key-value stores the component may open.
    pub kv: KvAccess,
    /// The component's id (for variables and logs); a dependency carries its parent's.
    pub component_id: Arc<str>,
    /// Resolved variables.
    pub vars: Arc<Resolver>,
    /// Set for a dependency that does not inherit configuration (see [`Grants::isolated`]).
    pub isolated: bool,
    /// Instances of the component's dependencies, each created on its first call.
    pub dependencies: Instances,
}

impl HostState {
    /// The data of a fresh instance of `component_id` with `grants`, using `stores`.
    pub fn new(
        app: Arc<AppInner>,
        component_id: Arc<str>,
        grants: &Grants,
        stores: Stores,
        vars: Arc<Resolver>,
    ) -> HostState {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        for (k, v) in grants.environment.iter() {
            wasi.env(k, v);
        }
        HostState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks::new(
                app,
                component_id.clone(),
                grants.allowed_hosts.clone(),
                grants.isolated,
            ),
            kv: KvAccess {
                allowed: grants.key_value_stores.clone(),
                stores,
            },
            component_id,
            vars,
            isolated: grants.isolated,
            dependencies: Instances::default(),
        }
    }

    /// The data of a dependency instance created by this instance: same app, stores
    /// (so HTTP and cron keep their own connections) and variables, with `grants`.
    pub fn for_dependency(&self, grants: &Grants) -> HostState {
        HostState::new(
            self.hooks.app().clone(),
            self.component_id.clone(),
            grants,
            self.kv.stores.clone(),
            self.vars.clone(),
        )
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_get_everything_or_nothing() {
        let parent = Grants {
            environment: Arc::from(vec![("A".to_string(), "1".to_string())]),
            allowed_hosts: Arc::new(AllowedHosts::parse_literal(&["https://example.com"]).unwrap()),
            key_value_stores: Arc::new(["default".to_string()].into()),
            isolated: false,
        };
        let inherited = Grants::for_dependency(&parent, true);
        assert_eq!(&*inherited.environment, &*parent.environment);
        assert_eq!(inherited.allowed_hosts, parent.allowed_hosts);
        assert_eq!(inherited.key_value_stores, parent.key_value_stores);
        assert!(!inherited.isolated);

        let denied = Grants::for_dependency(&parent, false);
        assert!(denied.environment.is_empty());
        assert_eq!(*denied.allowed_hosts, AllowedHosts::default());
        assert!(denied.key_value_stores.is_empty());
        assert!(denied.isolated);
    }
}
