//! promagg's ingest component: exports `promagg:gateway/ingest` (`wit/promagg-gateway`), so
//! another WebAssembly component records metrics by a function call instead of an HTTP push.
//! Calls become metric families (`families`), go through the gateway's engine into the same
//! key-value store, and fail with the WIT error kind of the engine's refusal (`refusal`).
//!
//! The export itself only exists on wasm32; the conversions are plain Rust, tested natively.

pub mod families;
pub mod refusal;

#[cfg(target_arch = "wasm32")]
mod export;

#[cfg(target_arch = "wasm32")]
wit_bindgen::generate!({
    path: "../../wit/promagg-gateway",
    world: "ingester",
});

#[cfg(target_arch = "wasm32")]
use export::Ingest;
#[cfg(target_arch = "wasm32")]
export!(Ingest);
