//! Dependency names as Spin reads them (`spin-serde`'s `DependencyName`) and the imports each
//! one satisfies (`spin-compose`'s `matches_import`).
//!
//! A name is a plain kebab-case import name (`my-dep`) or a package pattern:
//! `ns:pkg` (every import of the package), `ns:pkg/iface` (one interface), either with an
//! exact `@version`.

use std::fmt;
use std::str::FromStr;

use semver::Version;
use thiserror::Error;

/// Why a dependency name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// A part is not kebab-case.
    #[error("{what} {part:?} {problem}")]
    NotKebab {
        /// Which part (plain name, namespace, package, interface).
        what: &'static str,
        /// The part.
        part: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A package pattern without `ns:pkg`.
    #[error("package {0:?} must be `namespace:name`")]
    NotAPackage(String),
    /// The `@version` is not semver.
    #[error("version {version:?} is not a semantic version: {reason}")]
    BadVersion {
        /// The version text.
        version: String,
        /// The parser's reason.
        reason: String,
    },
}

/// A package pattern: `ns:pkg`, `ns:pkg/iface`, `ns:pkg@1.0.0`, `ns:pkg/iface@1.0.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePattern {
    /// `ns:pkg`.
    pub package: String,
    /// The interface, when the pattern names one.
    pub interface: Option<String>,
    /// The exact version, when the pattern names one.
    pub version: Option<Version>,
}

/// A key of `[component.<id>.dependencies]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyName {
    /// A plain import name such as `my-dep`.
    Plain(String),
    /// A package pattern.
    Package(PackagePattern),
}

/// Spin's kebab-case rule for ids and WIT labels.
fn kebab(what: &'static str, part: &str) -> Result<(), NameError> {
    let problem = if part.is_empty() {
        Some("must not be empty")
    } else if !part
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Some("may contain only lower-case letters, digits and '-'")
    } else if !part.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a lower-case letter")
    } else if part.ends_with('-') || part.contains("--") {
        Some("must not end with '-' or contain '--'")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(NameError::NotKebab {
            what,
            part: part.to_string(),
            problem,
        }),
        None => Ok(()),
    }
}

fn version(text: &str) -> Result<Version, NameError> {
    Version::parse(text).map_err(|e| NameError::BadVersion {
        version: text.to_string(),
        reason: e.to_string(),
    })
}

impl FromStr for PackagePattern {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        let (name, version) = match s.split_once('@') {
            Some((name, v)) => (name, Some(self::version(v)?)),
            None => (s, None),
        };
        let (package, interface) = match name.split_once('/') {
            Some((package, interface)) => (package, Some(interface)),
            None => (name, None),
        };
        let (namespace, pkg) = package
            .split_once(':')
            .ok_or_else(|| NameError::NotAPackage(package.to_string()))?;
        kebab("namespace", namespace)?;
        kebab("package", pkg)?;
        if let Some(interface) = interface {
            kebab("interface", interface)?;
        }
        Ok(PackagePattern {
            package: package.to_string(),
            interface: interface.map(str::to_string),
            version,
        })
    }
}

impl FromStr for DependencyName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        if s.contains([':', '/']) {
            Ok(DependencyName::Package(s.parse()?))
        } else {
            kebab("plain name", s)?;
            Ok(DependencyName::Plain(s.to_string()))
        }
    }
}

impl fmt::Display for DependencyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DependencyName::Plain(name) => f.write_str(name),
            DependencyName::Package(p) => {
                f.write_str(&p.package)?;
                if let Some(interface) = &p.interface {
                    write!(f, "/{interface}")?;
                }
                if let Some(version) = &p.version {
                    write!(f, "@{version}")?;
                }
                Ok(())
            }
        }
    }
}

/// A component import name split as Spin splits it: plain, or `ns:pkg/iface[@version]`.
enum ImportName<'a> {
    Plain(&'a str),
    Package {
        package: &'a str,
        interface: &'a str,
        version: Option<Version>,
    },
}

impl<'a> ImportName<'a> {
    /// `None` for a name Spin cannot parse (it then refuses the composition).
    fn parse(name: &'a str) -> Option<ImportName<'a>> {
        if !name.contains([':', '/']) {
            return Some(ImportName::Plain(name));
        }
        let (package, rest) = name.split_once('/')?;
        let (interface, version) = match rest.split_once('@') {
            Some((interface, v)) => (interface, Some(Version::parse(v).ok()?)),
            None => (rest, None),
        };
        Some(ImportName::Package {
            package,
            interface,
            version,
        })
    }
}

impl DependencyName {
    /// Whether this dependency satisfies the import named `import`.
    pub fn matches_import(&self, import: &str) -> bool {
        match (self, ImportName::parse(import)) {
            (DependencyName::Plain(name), Some(ImportName::Plain(import))) => name == import,
            (
                DependencyName::Package(pattern),
                Some(ImportName::Package {
                    package,
                    interface,
                    version,
                }),
            ) => {
                pattern.package == package
                    && pattern.interface.as_deref().is_none_or(|i| i == interface)
                    && pattern
                        .version
                        .as_ref()
                        .is_none_or(|v| Some(v) == version.as_ref())
            }
            _ => false,
        }
    }

    /// Whether a `{ ..., export = "..." }` may satisfy this name: Spin refuses an export for
    /// a whole package.
    pub fn accepts_export(&self) -> bool {
        !matches!(self, DependencyName::Package(p) if p.interface.is_none())
    }

    /// Whether two names of one dependencies table may satisfy the same import: same
    /// package with overlapping interfaces and semver-compatible versions (Spin refuses).
    pub fn conflicts_with(&self, other: &DependencyName) -> bool {
        let (DependencyName::Package(a), DependencyName::Package(b)) = (self, other) else {
            return false;
        };
        if a.package != b.package {
            return false;
        }
        if let (Some(va), Some(vb)) = (&a.version, &b.version) {
            if compatibility_class(va) != compatibility_class(vb) {
                return false;
            }
        }
        if let (Some(ia), Some(ib)) = (&a.interface, &b.interface) {
            if ia != ib {
                return false;
            }
        }
        true
    }
}

/// The version every semver-compatible version maps to (Spin's
/// `normalize_compatible_version`): `1.2.3` -> `1.0.0`, `0.2.3` -> `0.2.0`, `0.0.3` stays,
/// pre-releases stay.
fn compatibility_class(v: &Version) -> Version {
    let mut v = v.clone();
    v.build = semver::BuildMetadata::EMPTY;
    if !v.pre.is_empty() {
        return v;
    }
    if v.major > 0 {
        v.minor = 0;
        v.patch = 0;
    } else if v.minor > 0 {
        v.patch = 0;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> DependencyName {
        s.parse().unwrap()
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(name("my-dep"), DependencyName::Plain("my-dep".into()));
        assert_eq!(
            name("foo:bar/baz@0.1.0"),
            DependencyName::Package(PackagePattern {
                package: "foo:bar".into(),
                interface: Some("baz".into()),
                version: Some(Version::new(0, 1, 0)),
            })
        );
        assert_eq!(
            name("foo:bar"),
            DependencyName::Package(PackagePattern {
                package: "foo:bar".into(),
                interface: None,
                version: None,
            })
        );
        for s in [
            "foo:bar",
            "foo:bar@1.2.3",
            "foo:bar/baz",
            "foo:bar/baz@0.1.0-rc1",
            "x-y",
        ] {
            assert_eq!(name(s).to_string(), s);
        }
    }

    #[test]
    fn invalid_names_say_why() {
        let err = |s: &str| s.parse::<DependencyName>().unwrap_err().to_string();
        assert_eq!(
            err("Foo"),
            "plain name \"Foo\" may contain only lower-case letters, digits and '-'"
        );
        assert_eq!(err("foo/bar"), "package \"foo\" must be `namespace:name`");
        assert_eq!(
            err("foo:Bar/baz"),
            "package \"Bar\" may contain only lower-case letters, digits and '-'"
        );
        assert_eq!(
            err("foo:bar/baz-"),
            "interface \"baz-\" must not end with '-' or contain '--'"
        );
        assert_eq!(err(":bar"), "namespace \"\" must not be empty");
        assert!(err("foo:bar@1.x").starts_with("version \"1.x\" is not a semantic version"));
    }

    // The cases of spin-compose's `test_matches_import`.
    #[test]
    fn matches_imports_as_spin() {
        for (dep, imports) in [
            ("foo:bar/baz@0.1.0", vec!["foo:bar/baz@0.1.0"]),
            ("foo:bar/baz", vec!["foo:bar/baz@0.1.0", "foo:bar/baz"]),
            ("foo:bar", vec!["foo:bar/baz@0.1.0", "foo:bar/baz"]),
            ("foo:bar@0.1.0", vec!["foo:bar/baz@0.1.0"]),
            ("foo-bar", vec!["foo-bar"]),
        ] {
            for import in imports {
                assert!(
                    name(dep).matches_import(import),
                    "{dep} should match {import}"
                );
            }
        }
        for (dep, imports) in [
            ("foo:bar/baz@0.1.0", vec!["foo:bar/baz"]),
            ("foo:bar/baz", vec!["foo:bar/bub", "foo:bar/bub@0.1.0"]),
            ("foo:bar", vec!["foo:bub/bib"]),
            ("foo:bar@0.1.0", vec!["foo:bar/baz"]),
            ("foo:bar/baz", vec!["foo:bar/baz-bub", "foo-bar"]),
            ("foo-bar", vec!["foo:bar/baz", "foo-baz"]),
        ] {
            for import in imports {
                assert!(
                    !name(dep).matches_import(import),
                    "{dep} should not match {import}"
                );
            }
        }
    }

    #[test]
    fn exports_only_for_interfaces_and_plain_names() {
        assert!(name("foo:bar/baz").accepts_export());
        assert!(name("foo-bar").accepts_export());
        assert!(!name("foo:bar").accepts_export());
        assert!(!name("foo:bar@1.0.0").accepts_export());
    }

    // The cases of Spin's manifest test of `ensure_disjoint`.
    #[test]
    fn conflicts_as_spin() {
        for (a, b) in [
            ("foo:bar", "foo:bar@0.1.0"),
            ("foo:bar", "foo:bar/baz@0.1.0"),
            ("foo:bar/baz@0.1.0", "foo:bar/baz@0.1.1"),
            ("foo:bar/baz@1.0.0", "foo:bar/baz@1.9.0"),
            ("foo:bar/baz", "foo:bar/baz"),
        ] {
            assert!(name(a).conflicts_with(&name(b)), "{a} vs {b}");
            assert!(name(b).conflicts_with(&name(a)), "{b} vs {a}");
        }
        for (a, b) in [
            ("foo:bar/baz", "foo:bar/bub"),
            ("foo:bar@0.1.0", "foo:bar@0.2.0"),
            ("foo:bar@1.0.0", "foo:bar@2.0.0"),
            ("foo:bar@0.0.1", "foo:bar@0.0.2"),
            ("foo:bar", "foo:baz"),
            ("foo-bar", "foo-bar-baz"),
        ] {
            assert!(!name(a).conflicts_with(&name(b)), "{a} vs {b}");
        }
    }
}
