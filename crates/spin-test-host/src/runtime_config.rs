//! `runtime-config.toml`: key-value store definitions and the state directory, as
//! `spin up --runtime-config-file` reads them.
//!
//! `[key_value_store.<label>]` takes `type = "spin"` (SQLite; `path` relative to this
//! file's directory, no `path` = in-memory) or `type = "redis"` (`url`). `state_dir`
//! (relative to this file's directory; `""` = none) holds the default store's
//! `sqlite_key_value.db`. Unknown keys are errors, as in Spin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;

/// Where one key-value store label lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// Spin's SQLite store; `None` = in-memory SQLite.
    Spin {
        /// Absolute database file path.
        path: Option<PathBuf>,
    },
    /// Spin's Redis store.
    Redis {
        /// `redis://host:port[/db]`.
        url: String,
    },
}

/// The state directory setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateDir {
    /// `state_dir = ""`: no state directory; the default store is in-memory.
    Unset,
    /// An absolute directory.
    Dir(PathBuf),
}

/// A parsed runtime config file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `state_dir`, if given.
    pub state_dir: Option<StateDir>,
    /// Store definitions by label.
    pub key_value_stores: BTreeMap<String, StoreConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    state_dir: Option<String>,
    #[serde(default)]
    key_value_store: BTreeMap<String, toml::Table>,
}

fn resolve(path: &str, base: &Path) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

impl RuntimeConfig {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<RuntimeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve directory of {}", path.display()))?;
        Self::parse(&text, &dir)
            .with_context(|| format!("invalid runtime config {}", path.display()))
    }

    /// Parses runtime config text; relative paths resolve against `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<RuntimeConfig> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            anyhow!("{e}").context(
                "only `state_dir` and `[key_value_store.<label>]` are supported by this test host",
            )
        })?;
        let state_dir = raw.state_dir.map(|s| {
            if s.is_empty() {
                StateDir::Unset
            } else {
                StateDir::Dir(resolve(&s, dir))
            }
        });
        let mut key_value_stores = BTreeMap::new();
        for (label, table) in raw.key_value_store {
            let store =
                Self::store(&table, dir).with_context(|| format!("[key_value_store.{label}]"))?;
            key_value_stores.insert(label, store);
        }
        Ok(RuntimeConfig {
            state_dir,
            key_value_stores,
        })
    }

    fn store(table: &toml::Table, dir: &Path) -> Result<StoreConfig> {
        let kind = table
            .get("type")
            .and_then(toml::Value::as_str)
            .ok_or_else(|| anyhow!("`type` is required (\"spin\" or \"redis\")"))?;
        let allowed: &[&str] = match kind {
            "spin" => &["type", "path"],
            "redis" => &["type", "url"],
            other => bail!(
                "store type {other:?} is not supported by this test host (only \"spin\" and \"redis\")"
            ),
        };
        if let Some(unknown) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
            bail!("unknown field {unknown:?} for store type {kind:?}");
        }
        let string = |key: &str| -> Result<Option<String>> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => bail!("`{key}` must be a string, found {other}"),
            }
        };
        Ok(match kind {
            "spin" => StoreConfig::Spin {
                path: string("path")?.map(|p| resolve(&p, dir)),
            },
            _ => StoreConfig::Redis {
                url: string("url")?
                    .ok_or_else(|| anyhow!("`url` is required for type \"redis\""))?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_state_dir() {
        let rc = RuntimeConfig::parse(
            r#"
state_dir = "state"
[key_value_store.default]
type = "spin"
path = "data/kv.db"
[key_value_store.mem]
type = "spin"
[key_value_store.shared]
type = "redis"
url = "redis://127.0.0.1:6379"
"#,
            Path::new("/cfg"),
        )
        .unwrap();
        assert_eq!(rc.state_dir, Some(StateDir::Dir("/cfg/state".into())));
        assert_eq!(
            rc.key_value_stores["default"],
            StoreConfig::Spin {
                path: Some("/cfg/data/kv.db".into())
            }
        );
        assert_eq!(rc.key_value_stores["mem"], StoreConfig::Spin { path: None });
        assert!(matches!(
            rc.key_value_stores["shared"],
            StoreConfig::Redis { .. }
        ));
        let unset = RuntimeConfig::parse("state_dir = \"\"", Path::new("/cfg")).unwrap();
        assert_eq!(unset.state_dir, Some(StateDir::Unset));
        let abs = RuntimeConfig::parse(
            "[key_value_store.a]\ntype = \"spin\"\npath = \"/abs/a.db\"",
            Path::new("/cfg"),
        )
        .unwrap();
        assert_eq!(
            abs.key_value_stores["a"],
            StoreConfig::Spin {
                path: Some("/abs/a.db".into())
            }
        );
    }

    #[test]
    fn errors_are_precise() {
        let e = |t: &str| {
            format!(
                "{:#}",
                RuntimeConfig::parse(t, Path::new("/c")).unwrap_err()
            )
        };
        assert!(e("[key_value_store.x]\ntype = \"azure_cosmos\"").contains("azure_cosmos"));
        assert!(e("[key_value_store.x]\ntype = \"redis\"").contains("`url` is required"));
        assert!(e("[key_value_store.x]\npath = \"a\"").contains("`type` is required"));
        assert!(e("[key_value_store.x]\ntype = \"spin\"\nurl = \"u\"")
            .contains("unknown field \"url\""));
        assert!(e("[sqlite_database.default]\ntype = \"spin\"").contains("sqlite_database"));
        assert!(e("state_dir = 3").contains("line 1"));
    }
}
