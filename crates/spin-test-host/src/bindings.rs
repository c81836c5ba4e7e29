//! Host bindings generated from the WIT files copied into `wit/`.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "wit",
    world: "promagg:spin-test-host/host",
    imports: { default: async | trappable },
    with: {
        "wasi:keyvalue/store.bucket": crate::host::kv::Bucket,
        "wasi:keyvalue/atomics.cas": crate::host::kv::CasResource,
        "fermyon:spin/key-value.store": crate::host::kv::Bucket,
    },
});

/// The cron trigger's world: the component exports `handle-cron-event`.
pub mod cron {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}
