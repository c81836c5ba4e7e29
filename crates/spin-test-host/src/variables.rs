//! Application and component variables, resolved as Spin's `spin-expressions` does.
//!
//! A component variable is a template over application variables (`"https://{{ host }}/x"`).
//! An application variable's value comes from the first provider that has one: the map the
//! test passes in, then the `SPIN_VARIABLE_<NAME>` environment variable (Spin's env provider),
//! then the manifest `default`. A `required` variable nothing provides fails the load, as
//! `spin up` fails at startup.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::manifest::{Manifest, Variable};

/// Why a variable could not be resolved; mirrors `fermyon:spin/variables.error`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VariableError {
    /// The name breaks Spin's naming rules.
    #[error("invalid variable name: {0}")]
    InvalidName(String),
    /// The component has no such variable.
    #[error("undefined variable: {0}")]
    Undefined(String),
    /// No provider had a value for a required variable.
    #[error("provider error: {0}")]
    Provider(String),
}

/// Spin's variable name rule: lower-case ASCII letters, digits and single underscores,
/// starting with a letter and ending with a letter or digit.
pub fn validate_name(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ));
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase ASCII letter".into());
    }
    if !key.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("must end with a lowercase ASCII letter or digit".into());
    }
    if key.contains("__") {
        return Err("must not contain multiple consecutive underscores".into());
    }
    Ok(())
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Expr(String),
}

/// A string with `{{ name }}` expressions, as in Spin manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `{{ ... }}` expressions; an unmatched `{{` is an error.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("{{") {
                let (expr, tail) = after
                    .split_once("}}")
                    .ok_or_else(|| "unmatched '{{' in template".to_string())?;
                parts.push(Part::Expr(expr.trim().to_string()));
                rest = tail;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Lit(rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
        Ok(Template { parts })
    }

    /// True when the template has no expression.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The application variables the template refers to.
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Renders with `lookup` giving each variable's value.
    pub fn render<E>(
        &self,
        mut lookup: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(l) => out.push_str(l),
                Part::Expr(e) => out.push_str(&lookup(e)?),
            }
        }
        Ok(out)
    }
}

/// Where application variable values come from, besides manifest defaults.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    /// Values the test passes in; checked first.
    pub explicit: BTreeMap<String, String>,
    /// Read `SPIN_VARIABLE_<NAME>` from the process environment.
    pub environment: bool,
}

impl Providers {
    fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.explicit.get(name) {
            return Some(v.clone());
        }
        if self.environment {
            return std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok();
        }
        None
    }
}

/// Every application variable resolved once at load, plus each component's templates.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    app: BTreeMap<String, String>,
    components: BTreeMap<String, BTreeMap<String, Template>>,
}

impl Resolver {
    /// Resolves all application variables; a required one with no value is an error.
    pub fn new(manifest: &Manifest, providers: &Providers) -> Result<Resolver, VariableError> {
        let app = resolve_app_variables(&manifest.variables, providers)?;
        let components = manifest
            .components
            .iter()
            .map(|(id, c)| (id.clone(), c.variables.clone()))
            .collect();
        Ok(Resolver { app, components })
    }

    /// The value of application variable `name`, if declared.
    pub fn app_variable(&self, name: &str) -> Option<&str> {
        self.app.get(name).map(String::as_str)
    }

    /// Renders a template over application variables (e.g. an `allowed_outbound_hosts` entry).
    pub fn render(&self, template: &Template) -> Result<String, VariableError> {
        template.render(|name| {
            self.app
                .get(name)
                .cloned()
                .ok_or_else(|| VariableError::InvalidName(name.to_string()))
        })
    }

    /// `variables::get(key)` from component `component`.
    pub fn get(&self, component: &str, key: &str) -> Result<String, VariableError> {
        validate_name(key).map_err(|e| VariableError::InvalidName(format!("{key:?}: {e}")))?;
        let configs = self.components.get(component).ok_or_else(|| {
            VariableError::Undefined(format!("no variable for component {component:?}"))
        })?;
        let template = configs.get(key).ok_or_else(|| {
            VariableError::Undefined(format!("no variable for {component:?}.{key:?}"))
        })?;
        self.render(template)
    }

    /// Every variable of `component`, resolved (for `wasi:config/store.get-all`).
    pub fn get_all(&self, component: &str) -> Result<Vec<(String, String)>, VariableError> {
        let Some(configs) = self.components.get(component) else {
            return Ok(Vec::new());
        };
        configs
            .iter()
            .map(|(k, t)| Ok((k.clone(), self.render(t)?)))
            .collect()
    }
}

fn resolve_app_variables(
    declared: &BTreeMap<String, Variable>,
    providers: &Providers,
) -> Result<BTreeMap<String, String>, VariableError> {
    declared
        .iter()
        .map(|(name, var)| {
            let value = providers
                .get(name)
                .or_else(|| var.default.clone())
                .ok_or_else(|| {
                    VariableError::Provider(format!(
                        "no provider resolved required variable {name:?}"
                    ))
                })?;
            Ok((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "vars"
[variables]
host = { default = "example.com" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "c.wasm"
[component.c.variables]
url = "https://{{ host }}/api?t={{token}}"
plain = "literal"
"#,
            Path::new("/app"),
        )
        .unwrap()
    }

    fn providers(token: Option<&str>) -> Providers {
        Providers {
            explicit: token
                .map(|t| [("token".to_string(), t.to_string())].into())
                .unwrap_or_default(),
            environment: false,
        }
    }

    #[test]
    fn names_follow_spin_rules() {
        for good in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_mix_text_and_expressions() {
        let t = Template::parse("a-{{ x }}-b{{y}}").unwrap();
        assert_eq!(t.variable_names().collect::<Vec<_>>(), vec!["x", "y"]);
        let out: Result<String, ()> = t.render(|n| Ok(n.to_uppercase()));
        assert_eq!(out.unwrap(), "a-X-bY");
        assert!(Template::parse("{{ ok }} {{ open").is_err());
        assert!(Template::parse("plain").unwrap().is_literal());
    }

    #[test]
    fn explicit_values_beat_defaults_and_required_must_be_provided() {
        let m = manifest();
        let r = Resolver::new(&m, &providers(Some("s3cret"))).unwrap();
        assert_eq!(
            r.get("c", "url").unwrap(),
            "https://example.com/api?t=s3cret"
        );
        assert_eq!(r.get("c", "plain").unwrap(), "literal");
        let mut p = providers(Some("t"));
        p.explicit.insert("host".into(), "other.org".into());
        let r = Resolver::new(&m, &p).unwrap();
        assert_eq!(r.get("c", "url").unwrap(), "https://other.org/api?t=t");
        assert!(matches!(
            Resolver::new(&m, &providers(None)),
            Err(VariableError::Provider(msg)) if msg.contains("token")
        ));
    }

    #[test]
    fn environment_provider_reads_spin_variable_prefix() {
        let m = manifest();
        // A name unique to this test, so no other test sees the variable.
        std::env::set_var("SPIN_VARIABLE_TOKEN", "from-env");
        let r = Resolver::new(
            &m,
            &Providers {
                explicit: BTreeMap::new(),
                environment: true,
            },
        );
        std::env::remove_var("SPIN_VARIABLE_TOKEN");
        assert_eq!(
            r.unwrap().get("c", "url").unwrap(),
            "https://example.com/api?t=from-env"
        );
    }

    #[test]
    fn lookup_errors_match_spin() {
        let r = Resolver::new(&manifest(), &providers(Some("t"))).unwrap();
        assert!(matches!(
            r.get("c", "Bad"),
            Err(VariableError::InvalidName(_))
        ));
        assert!(matches!(
            r.get("c", "nope"),
            Err(VariableError::Undefined(_))
        ));
        assert!(matches!(
            r.get("other", "url"),
            Err(VariableError::Undefined(_))
        ));
        assert_eq!(r.get_all("c").unwrap().len(), 2);
    }
}
