//! The wasmtime engine, the linker of every interface the host offers, and compiled
//! components cached per process and (optionally) on disk keyed by the wasm's hash.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::fermyon::spin::{key_value, variables};
use crate::bindings::wasi::config::store as config;
use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::profile::HostProfile;
use crate::state::HostState;

/// The process-wide engine: compiled components are only valid for the engine that made them.
pub fn engine() -> Result<Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(e) = ENGINE.get() {
        return Ok(e.clone());
    }
    let engine = Engine::new(&config()).map_err(anyhow::Error::from)?;
    Ok(ENGINE.get_or_init(|| engine).clone())
}

/// Spin's engine configuration (`spin-core`'s `Config::default`): the pooling instance
/// allocator with Spin's limits where the address space allows it, which is what makes a
/// fresh instance per request cheap; `SPIN_WASMTIME_POOLING=0|1` overrides the probe as in
/// Spin. (Epoch interruption is left out: nothing here sets per-request deadlines.)
fn config() -> Config {
    const MB: usize = 1 << 20;
    let mut config = Config::new();
    if use_pooling() {
        let max_instances = 1_000;
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(max_instances)
            .total_memories(max_instances)
            .total_tables(2 * max_instances)
            .total_stacks(max_instances)
            .total_core_instances(4 * max_instances)
            .table_elements(100_000)
            .max_component_instance_size(10 * MB)
            .max_core_instance_size(10 * MB)
            .max_core_instances_per_component(200)
            .max_tables_per_component(64)
            .max_memories_per_component(32)
            .max_tables_per_module(2)
            .max_memories_per_module(2)
            .max_memory_size(4 << 30)
            .linear_memory_keep_resident(2 * MB)
            .table_keep_resident(MB / 2);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    config
}

/// Spin's probe: pooling needs about 42 bits of address space for its reservations.
fn use_pooling() -> bool {
    match std::env::var("SPIN_WASMTIME_POOLING").as_deref() {
        Ok("1") => return true,
        Ok("0") => return false,
        _ => {}
    }
    const BITS: u32 = 42;
    let mut probe = Config::new();
    probe.wasm_memory64(true);
    probe.memory_reservation(1 << BITS);
    let Ok(engine) = Engine::new(&probe) else {
        return false;
    };
    let mut store = wasmtime::Store::new(&engine, ());
    let ty = wasmtime::MemoryType::new64(0, Some(1 << (BITS - 16)));
    wasmtime::Memory::new(&mut store, ty).is_ok()
}

/// A linker with wasi:cli/io/clocks/random/filesystem/sockets, wasi:http and the Spin
/// interfaces of `profile`.
pub fn linker(engine: &Engine, profile: HostProfile) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    store::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    if profile.has_atomics_and_batch() {
        atomics::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
        batch::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    }
    key_value::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    variables::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    config::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// Where serialized components go unless told otherwise: the workspace's `target/`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPIN_TEST_HOST_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/spin-test-host-cache")
}

fn engine_fingerprint(engine: &Engine) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    h.finish()
}

/// Compiles the component at `path` once per process (and once per wasm hash on disk when
/// `cache_dir` is given).
pub fn compile(engine: &Engine, path: &Path, cache_dir: Option<&Path>) -> Result<Component> {
    static MEMORY: OnceLock<Mutex<HashMap<[u8; 32], Component>>> = OnceLock::new();
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read component source {}", path.display()))?;
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    let memory = MEMORY.get_or_init(Default::default);
    if let Some(c) = memory
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&digest)
    {
        return Ok(c.clone());
    }
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let cached =
        cache_dir.map(|d| d.join(format!("{hex}-{:016x}.cwasm", engine_fingerprint(engine))));
    let from_disk = cached.as_ref().filter(|p| p.exists()).and_then(|p| {
        // SAFETY: the file was written by `Component::serialize` of this same engine
        // configuration (the fingerprint is in its name) into a directory only this tool
        // writes; wasmtime still checks the header and refuses a mismatch, and a refusal
        // falls back to compiling.
        unsafe { Component::deserialize_file(engine, p) }.ok()
    });
    let component = match from_disk {
        Some(c) => c,
        None => {
            let c = Component::new(engine, &bytes)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot compile component {}", path.display()))?;
            if let (Some(file), Ok(serialized)) = (&cached, c.serialize()) {
                // The disk cache only saves time; failing to write it is not an error.
                let _ = file
                    .parent()
                    .map(std::fs::create_dir_all)
                    .transpose()
                    .and_then(|_| {
                        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
                        std::fs::write(&tmp, serialized)?;
                        std::fs::rename(&tmp, file)
                    });
            }
            c
        }
    };
    memory
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(digest, component.clone());
    Ok(component)
}
