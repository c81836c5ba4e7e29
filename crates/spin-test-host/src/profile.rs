//! Host profiles: what a Spin host offers to components.
//!
//! `spin-up` is a local `spin up` (Spin 3.x): every key-value interface and the cron trigger.
//! `cloud` is a Spin cloud host (and SpinKube's shim): no `wasi:keyvalue/atomics`, no
//! `wasi:keyvalue/batch`, no cron trigger. Such a host refuses to instantiate a component
//! that imports what it lacks, so this host refuses too, naming the interface.

use anyhow::{bail, Result};
use wasmtime::component::Component;
use wasmtime::Engine;

/// Which Spin host to behave as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostProfile {
    /// Local `spin up`.
    #[default]
    SpinUp,
    /// Spin cloud hosts.
    Cloud,
}

/// Interface prefixes a cloud host does not offer.
const CLOUD_MISSING: &[&str] = &["wasi:keyvalue/atomics@", "wasi:keyvalue/batch@"];

impl std::str::FromStr for HostProfile {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "spin-up" => Ok(HostProfile::SpinUp),
            "cloud" => Ok(HostProfile::Cloud),
            other => bail!("unknown host profile {other:?}: expected spin-up or cloud"),
        }
    }
}

impl HostProfile {
    /// Whether `wasi:keyvalue/atomics` and `batch` are linked.
    pub fn has_atomics_and_batch(self) -> bool {
        self == HostProfile::SpinUp
    }

    /// Whether cron triggers run.
    pub fn has_cron(self) -> bool {
        self == HostProfile::SpinUp
    }

    /// The first import of `component` this profile lacks, if any.
    pub fn missing_import(self, import_names: impl IntoIterator<Item = String>) -> Option<String> {
        match self {
            HostProfile::SpinUp => None,
            HostProfile::Cloud => import_names
                .into_iter()
                .find(|name| CLOUD_MISSING.iter().any(|p| name.starts_with(p))),
        }
    }

    /// Refuses a component importing what this profile lacks.
    pub fn check(self, component_id: &str, component: &Component, engine: &Engine) -> Result<()> {
        let names = component
            .component_type()
            .imports(engine)
            .map(|(name, _)| name.to_string())
            .collect::<Vec<_>>();
        if let Some(missing) = self.missing_import(names) {
            bail!(
                "component {component_id:?} imports {missing}, which the {self:?} host profile does not offer; such a host refuses to instantiate it"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_lacks_atomics_and_batch() {
        let imports = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            HostProfile::Cloud.missing_import(imports(&[
                "wasi:keyvalue/store@0.2.0-draft2",
                "wasi:keyvalue/atomics@0.2.0-draft2"
            ])),
            Some("wasi:keyvalue/atomics@0.2.0-draft2".to_string())
        );
        assert_eq!(
            HostProfile::Cloud.missing_import(imports(&["wasi:keyvalue/batch@0.2.0-draft2"])),
            Some("wasi:keyvalue/batch@0.2.0-draft2".to_string())
        );
        assert_eq!(
            HostProfile::Cloud.missing_import(imports(&["fermyon:spin/key-value@2.0.0"])),
            None
        );
        assert_eq!(
            HostProfile::SpinUp.missing_import(imports(&["wasi:keyvalue/atomics@0.2.0-draft2"])),
            None
        );
        assert!(!HostProfile::Cloud.has_cron());
        assert_eq!("cloud".parse::<HostProfile>().unwrap(), HostProfile::Cloud);
        assert!("lambda".parse::<HostProfile>().is_err());
    }
}
