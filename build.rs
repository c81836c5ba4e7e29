//! Generates the protobuf message types from `proto/` with prost.
//!
//! protox is a pure-Rust protobuf compiler, so neither `spin build` nor CI needs a
//! system `protoc`. The build script runs on the host; the generated code only needs
//! the `prost` runtime, which also builds for wasm32-wasip2.

use std::io::Result;

const PROTOS: &[&str] = &[
    "proto/io/prometheus/client/metrics.proto",
    "proto/remote.proto",
    "proto/io/prometheus/write/v2/types.proto",
];

fn main() -> Result<()> {
    for path in PROTOS {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=proto/types.proto");

    let fds = protox::compile(PROTOS, ["proto"]).map_err(std::io::Error::other)?;
    let mut config = prost_build::Config::new();
    // Generate google.protobuf.Timestamp ourselves rather than depending on prost-types.
    config.compile_well_known_types();
    config.compile_fds(fds)
}
