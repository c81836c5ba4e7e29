//! Sorted, validated label sets and their canonical byte encoding.
//!
//! The canonical encoding of a series is the text-format series identifier with labels
//! sorted by name and values escaped as in the text format (`\\`, `\"`, `\n`):
//! `name{a="1",b="x\"y"}`, or just `name` without labels. It is injective (escaping makes
//! every label set distinct), stable across versions, and documented in
//! `docs/design/exactness.md`; the store layout uses it as the series key.

use std::fmt::Write as _;

use thiserror::Error;

use super::names::{validate_label_name, NameError};

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LabelError {
    /// A label name broke the naming rules.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The same label name appeared twice.
    #[error("duplicate label {0:?}")]
    Duplicate(String),
}

/// A label set sorted by name, without duplicates, every name valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// An empty label set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Validates names, refuses duplicates and sorts the pairs.
    pub fn new(mut pairs: Vec<(String, String)>) -> Result<Self, LabelError> {
        for (name, _) in &pairs {
            validate_label_name(name)?;
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(LabelError::Duplicate(w[0].0.clone()));
        }
        Ok(Labels(pairs))
    }

    /// Builds a label set from pairs already known to be valid, sorted and unique.
    ///
    /// Used by decoders of our own stored records, which were validated when written.
    pub fn from_sorted_unchecked(pairs: Vec<(String, String)>) -> Self {
        debug_assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0));
        Labels(pairs)
    }

    /// The pairs, sorted by name.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Consumes the set into its sorted pairs.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// Sets `name` to `value`, replacing any existing value (the name must already be valid).
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.0[i].1 = value.to_string(),
            Err(i) => self.0.insert(i, (name.to_string(), value.to_string())),
        }
    }

    /// Removes label `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| self.0.remove(i).1)
    }

    /// True when every pair of `selector` is present here with the same value.
    pub fn matches(&self, selector: &Labels) -> bool {
        selector
            .0
            .iter()
            .all(|(n, v)| self.get(n) == Some(v.as_str()))
    }

    /// Appends the canonical `{a="1",b="2"}` form (nothing when empty) to `out`.
    pub fn write_canonical(&self, out: &mut String) {
        if self.0.is_empty() {
            return;
        }
        out.push('{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(name);
            out.push_str("=\"");
            escape_label_value(value, out);
            out.push('"');
        }
        out.push('}');
    }

    /// The canonical encoding of the series `name` with these labels.
    pub fn series_key(&self, name: &str) -> String {
        let mut out = String::with_capacity(name.len() + 16 * self.0.len());
        out.push_str(name);
        self.write_canonical(&mut out);
        out
    }
}

/// Escapes a label value as the text format requires: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label_value(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Escapes HELP text as the text format requires: `\` → `\\`, newline → `\n`.
pub fn escape_help(help: &str, out: &mut String) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Formats a float as the text format writes it (`NaN`, `+Inf`, `-Inf`, shortest round-trip).
pub fn format_value(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if v == v.trunc() && v.abs() < 1e15 {
        // Integral values print without a fraction, as Go's strconv 'g' does; through i64,
        // which is exact below 1e15 and much cheaper than float formatting (`-0` keeps its sign).
        if v == 0.0 && v.is_sign_negative() {
            out.push_str("-0");
        } else {
            let _ = write!(out, "{}", v as i64);
        }
    } else {
        // Debug is Rust's shortest round-trip form, with an exponent for extreme magnitudes.
        let _ = write!(out, "{v:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Result<Labels, LabelError> {
        Labels::new(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn sorts_and_refuses_duplicates() {
        let ls = l(&[("b", "2"), ("a", "1")]).unwrap();
        assert_eq!(ls.series_key("m"), "m{a=\"1\",b=\"2\"}");
        assert_eq!(
            l(&[("a", "1"), ("a", "2")]),
            Err(LabelError::Duplicate("a".into()))
        );
        assert!(matches!(l(&[("__x", "1")]), Err(LabelError::Name(_))));
    }

    #[test]
    fn canonical_key_escapes_and_is_injective() {
        let a = l(&[("a", "x\",b=\"y")]).unwrap();
        let b = l(&[("a", "x"), ("b", "y")]).unwrap();
        assert_ne!(a.series_key("m"), b.series_key("m"));
        assert_eq!(a.series_key("m"), r#"m{a="x\",b=\"y"}"#);
        let nl = l(&[("a", "1\n2\\")]).unwrap();
        assert_eq!(nl.series_key("m"), r#"m{a="1\n2\\"}"#);
        assert_eq!(Labels::empty().series_key("m"), "m");
    }

    #[test]
    fn get_set_remove_match() {
        let mut ls = l(&[("job", "a")]).unwrap();
        ls.set("instance", "");
        assert_eq!(ls.get("instance"), Some(""));
        ls.set("job", "b");
        assert_eq!(ls.series_key("m"), "m{instance=\"\",job=\"b\"}");
        assert!(ls.matches(&l(&[("job", "b")]).unwrap()));
        assert!(!ls.matches(&l(&[("job", "a")]).unwrap()));
        assert_eq!(ls.remove("job"), Some("b".into()));
        assert_eq!(ls.len(), 1);
    }

    #[test]
    fn formats_values() {
        let mut s = String::new();
        for v in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.5,
            42.0,
            1e-9,
            -0.0,
            1e300,
            0.1,
        ] {
            format_value(v, &mut s);
            s.push(' ');
        }
        assert_eq!(s, "NaN +Inf -Inf 1.5 42 1e-9 -0 1e300 0.1 ");
    }
}
