//! `fermyon:spin/variables@2.0.0` and `wasi:config/store@0.2.0-draft-2024-09-27`, with
//! Spin's error mapping (`factor-variables/src/host.rs`).
//!
//! A dependency that does not inherit its parent's configuration reads no variable, with
//! the answers of Spin's deny adapter: `undefined(name)` from `fermyon:spin/variables`, an
//! `io` error from `wasi:config/store`.

use crate::bindings::fermyon::spin::variables;
use crate::bindings::wasi::config::store as config;
use crate::state::HostState;
use crate::variables::VariableError;

fn to_spin(e: VariableError) -> variables::Error {
    match e {
        VariableError::InvalidName(m) => variables::Error::InvalidName(m),
        VariableError::Undefined(m) => variables::Error::Undefined(m),
        VariableError::Provider(m) => variables::Error::Provider(m),
    }
}

/// The deny adapter's `wasi:config/store` error.
fn config_denied() -> config::Error {
    config::Error::Io("\"wasi:config/store\" is not permitted".to_string())
}

impl variables::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if self.isolated {
            return Ok(Err(variables::Error::Undefined(name)));
        }
        Ok(self.vars.get(&self.component_id, &name).map_err(to_spin))
    }
}

impl config::Host for HostState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        if self.isolated {
            return Ok(Err(config_denied()));
        }
        Ok(match self.vars.get(&self.component_id, &key) {
            Ok(v) => Ok(Some(v)),
            Err(VariableError::Undefined(_) | VariableError::InvalidName(_)) => Ok(None),
            Err(VariableError::Provider(m)) => Err(config::Error::Upstream(m)),
        })
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        if self.isolated {
            return Ok(Err(config_denied()));
        }
        Ok(self.vars.get_all(&self.component_id).map_err(|e| match e {
            VariableError::Provider(m) => config::Error::Upstream(m),
            other => config::Error::Io(other.to_string()),
        }))
    }
}
