//! promagg core: everything the gateway knows about Prometheus data and about storing it
//! exactly in Spin's key-value store, with no Spin dependency, so it is unit-tested natively.

pub mod aggregate;
pub mod api;
pub mod engine;
pub mod limits;
pub mod model;
pub mod parse;
pub mod proto;
pub mod pusher;
pub mod pushgateway;
pub mod remote_write;
pub mod render;
pub mod store;
