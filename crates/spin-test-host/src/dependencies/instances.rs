//! Dependency instances at run time.
//!
//! Each instance of a parent component gets its own instance of each dependency, created on
//! the parent's first call into it and kept for the parent instance's lifetime, as in the
//! composed component Spin builds. The dependency runs in a store of its own, whose data
//! carries the dependency's grants; values cross between the stores by copy (the linker
//! refuses interfaces that would pass resources).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, Val};
use wasmtime::{Store, StoreContextMut};

use crate::state::{Grants, HostState};

/// One dependency of one component, compiled and pre-linked against the host.
pub struct Dependency {
    /// Position in the parent's dependency list (the key of its live instance).
    pub index: usize,
    /// The manifest key, for messages.
    pub name: String,
    /// The component, linked to the host's interfaces.
    pub pre: InstancePre<HostState>,
    /// What the dependency may reach.
    pub grants: Grants,
}

/// The live dependency instances of one parent instance.
#[derive(Default)]
pub struct Instances {
    live: HashMap<usize, (Store<HostState>, Instance)>,
}

/// Calls the dependency's function `export` with `params`, creating the dependency's instance
/// on first use; the results land in `results`.
pub async fn call(
    mut parent: StoreContextMut<'_, HostState>,
    dependency: &Arc<Dependency>,
    export: &ComponentExportIndex,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    // Taken out for the call: the parent is blocked in it, so nothing else reaches the slot.
    let live = parent
        .data_mut()
        .dependencies
        .live
        .remove(&dependency.index);
    let (mut store, instance) = match live {
        Some(live) => live,
        None => {
            let data = parent.data().for_dependency(&dependency.grants);
            let mut store = Store::new(parent.engine(), data);
            let instance = dependency
                .pre
                .instantiate_async(&mut store)
                .await
                .map_err(anyhow::Error::from)
                .with_context(|| format!("instantiating dependency {:?}", dependency.name))?;
            (store, instance)
        }
    };
    let func = instance
        .get_func(&mut store, export)
        .ok_or_else(|| anyhow!("dependency {:?} lost an export", dependency.name))?;
    // A trap leaves the instance unusable; it is dropped, and the parent traps with it.
    func.call_async(&mut store, params, results)
        .await
        .map_err(anyhow::Error::from)
        .with_context(|| format!("dependency {:?} trapped", dependency.name))?;
    parent
        .data_mut()
        .dependencies
        .live
        .insert(dependency.index, (store, instance));
    Ok(())
}
