//! Component dependencies (`[component.<id>.dependencies]`), as Spin 3 composes them.
//!
//! Spin composes each dependency into its parent with `wac-graph` when the app loads: the
//! dependency's export satisfies the parent's import, and the composed component is what
//! runs. This host reaches the same result with wasmtime's linker instead: the parent's
//! linker defines each import a dependency satisfies as a call into that dependency's
//! instance, one instance per parent instance, created on first use ([`instances`]). Names are
//! matched and checked as `spin-compose` does ([`name`], [`link`]).
//!
//! Grants follow Spin: by default a dependency reaches none of its parent's configuration
//! (Spin plugs its deny adapter into it), and with `dependencies_inherit_configuration = true`
//! it reaches all of it ([`crate::state::Grants::for_dependency`]). The dependency runs in a
//! store of its own whose data carries its grants, so only plain values cross between the two;
//! an interface passing resources, streams or futures is refused at load.

pub mod instances;
pub mod link;
pub mod name;

pub use instances::{Dependency, Instances};
pub use link::{link, LinkContext};
pub use name::DependencyName;
