//! The per-instance store data: WASI, wasi:http, key-value access and variables.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::host::kv::KvAccess;
use crate::outbound::OutboundHooks;
use crate::variables::Resolver;

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
    /// The component's id (for variables).
    pub component_id: Arc<str>,
    /// Resolved variables.
    pub vars: Arc<Resolver>,
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
