//! `fermyon:spin/variables@2.0.0` and `wasi:config/store@0.2.0-draft-2024-09-27`, with
//! Spin's error mapping (`factor-variables/src/host.rs`).

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

impl variables::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        Ok(self.vars.get(&self.component_id, &name).map_err(to_spin))
    }
}

impl config::Host for HostState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(match self.vars.get(&self.component_id, &key) {
            Ok(v) => Ok(Some(v)),
            Err(VariableError::Undefined(_) | VariableError::InvalidName(_)) => Ok(None),
            Err(VariableError::Provider(m)) => Err(config::Error::Upstream(m)),
        })
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(self.vars.get_all(&self.component_id).map_err(|e| match e {
            VariableError::Provider(m) => config::Error::Upstream(m),
            other => config::Error::Io(other.to_string()),
        }))
    }
}
