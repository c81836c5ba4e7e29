//! The test host's integration tests, in one binary so wasmtime is linked once: one module per
//! area. The components under test must be built first (`scripts/build-components.sh`).

mod app;
mod dependencies;
mod redis;
mod support;
mod trivial;
