//! Host implementations of the Spin interfaces (wasi:cli/io/http come from wasmtime).

pub mod kv;
pub mod variables;
