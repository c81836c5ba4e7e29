//! Integration tests: the built `.wasm` components run in the Spin test host.
//!
//! One test binary, so wasmtime links once and compiled components are shared. Build the
//! components first (the README's test command does): `cargo build --target wasm32-wasip2
//! --profile component -p gateway -p pusher -p trivial`.

mod support;

mod chaining;
mod composition;
mod exactness;
mod original_api;
mod portability;
mod push_route;
mod pusher;
mod receiver;
mod redis;
