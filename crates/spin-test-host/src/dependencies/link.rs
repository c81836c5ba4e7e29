//! Load time: which dependency satisfies which import of a component, checked as
//! `spin-compose` checks it, and a linker whose definitions of those imports call into the
//! dependency.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::{Component, ComponentExportIndex, Linker};
use wasmtime::Engine;

use super::instances::{call, Dependency};
use super::name::DependencyName;
use crate::engine;
use crate::manifest;
use crate::profile::HostProfile;
use crate::state::{Grants, HostState};

/// What linking needs from the app being loaded.
pub struct LinkContext<'a> {
    /// The engine.
    pub engine: &'a Engine,
    /// The host's linker (every interface of the profile); dependencies link against it.
    pub linker: &'a Linker<HostState>,
    /// The host profile (a dependency's imports are checked against it too).
    pub profile: HostProfile,
    /// Where compiled components are cached on disk.
    pub compile_cache: Option<&'a Path>,
}

/// The linker for component `id` (compiled as `parent`): the host's, plus each import a
/// dependency of `spec` satisfies, defined as calls into that dependency. `grants` are the
/// component's own, from which each dependency's are derived.
pub async fn link(
    cx: &LinkContext<'_>,
    id: &str,
    parent: &Component,
    spec: &manifest::Component,
    grants: &Grants,
) -> Result<Linker<HostState>> {
    let imports: BTreeMap<String, ComponentItem> = parent
        .component_type()
        .imports(cx.engine)
        .map(|(name, item)| (name.to_string(), item.ty))
        .collect();

    // Import name -> indices (in `keys`) of the dependencies matching it.
    let keys: Vec<&String> = spec.dependencies.keys().collect();
    let mut satisfied: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, key) in keys.iter().enumerate() {
        let name: DependencyName = key
            .parse()
            .map_err(|e| anyhow!("dependency {key:?}: invalid dependency name: {e}"))?;
        let mut matched = false;
        for import in imports.keys().filter(|i| name.matches_import(i)) {
            satisfied.entry(import).or_default().push(index);
            matched = true;
        }
        if !matched {
            bail!("dependency {key:?} doesn't match any imports of component {id:?}");
        }
    }
    let conflicts: Vec<String> = satisfied
        .iter()
        .filter(|(_, deps)| deps.len() > 1)
        .map(|(import, deps)| {
            let by: Vec<&String> = deps.iter().map(|&i| keys[i]).collect();
            format!("import {import:?} satisfied by dependencies {by:?}")
        })
        .collect();
    if !conflicts.is_empty() {
        bail!(
            "component {id:?} has dependency conflicts: {}",
            conflicts.join("; ")
        );
    }

    // Every export is checked before any dependency is linked to the host, as Spin checks
    // the composition before the host instantiates it.
    let mut compiled = Vec::new();
    for (key, dep) in &spec.dependencies {
        let component = compile(cx, &dep.path)
            .await
            .with_context(|| format!("dependency {key:?} of component {id:?}"))?;
        compiled.push(component);
    }
    let mut forwards = Vec::new();
    for (import, deps) in &satisfied {
        let index = deps[0];
        let plug = Plug {
            engine: cx.engine,
            dependency: keys[index],
            component: &compiled[index],
            import,
            export_name: spec.dependencies[keys[index]]
                .export
                .as_deref()
                .unwrap_or(import),
        };
        forwards.extend(
            plug.functions(&imports[*import])?
                .into_iter()
                .map(|f| (index, f)),
        );
    }

    let grants = Grants::for_dependency(grants, spec.dependencies_inherit_configuration);
    let mut dependencies = Vec::new();
    for (index, (key, component)) in keys.iter().zip(&compiled).enumerate() {
        cx.profile
            .check(&format!("{key} (dependency of {id})"), component, cx.engine)?;
        let pre = cx
            .linker
            .instantiate_pre(component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "dependency {key:?} of component {id:?} cannot be instantiated by this host"
                )
            })?;
        dependencies.push(Arc::new(Dependency {
            index,
            name: key.to_string(),
            pre,
            grants: grants.clone(),
        }));
    }

    let mut linker = cx.linker.clone();
    // A dependency may stand in for an interface the host offers too; it wins, as in Spin's
    // composition where the import no longer reaches the host.
    linker.allow_shadowing(true);
    for (index, f) in forwards {
        f.define(&mut linker, &dependencies[index])?;
    }
    Ok(linker)
}

async fn compile(cx: &LinkContext<'_>, path: &Path) -> Result<Component> {
    let (engine, path, cache) = (
        cx.engine.clone(),
        path.to_path_buf(),
        cx.compile_cache.map(Path::to_path_buf),
    );
    tokio::task::spawn_blocking(move || engine::compile(&engine, &path, cache.as_deref()))
        .await
        .context("compiler task failed")?
}

/// One import of the parent and the dependency export plugged into it.
struct Plug<'a> {
    engine: &'a Engine,
    dependency: &'a str,
    component: &'a Component,
    import: &'a str,
    export_name: &'a str,
}

/// One function of the parent's imports, answered by a dependency's export.
struct Forward {
    /// The imported instance holding the function (`None`: a top-level function import).
    instance: Option<String>,
    /// The function's name.
    name: String,
    /// The dependency's export answering it.
    export: ComponentExportIndex,
}

impl Plug<'_> {
    fn incompatible(&self, why: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "dependency {:?} exports {:?} which is not compatible with import {:?}: {why}",
            self.dependency,
            self.export_name,
            self.import
        )
    }

    fn not_forwardable(&self, what: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "import {:?} satisfied by dependency {:?} {what}: this test host passes only plain values between a component and its dependencies",
            self.import,
            self.dependency
        )
    }

    /// The functions of the import, each with the dependency export answering it; an
    /// error when the export is missing or its type differs.
    fn functions(&self, import_ty: &ComponentItem) -> Result<Vec<Forward>> {
        let (export_ty, export) = self
            .component
            .get_export(None, self.export_name)
            .ok_or_else(|| {
                anyhow!(
                    "dependency {:?} doesn't export {:?} to satisfy import {:?}",
                    self.dependency,
                    self.export_name,
                    self.import
                )
            })?;
        match (import_ty, &export_ty) {
            (ComponentItem::ComponentFunc(want), ComponentItem::ComponentFunc(have)) => {
                self.check_func(self.import, want, have)?;
                Ok(vec![Forward {
                    instance: None,
                    name: self.import.to_string(),
                    export,
                }])
            }
            (ComponentItem::ComponentInstance(want), ComponentItem::ComponentInstance(have)) => {
                let mut functions = Vec::new();
                for (name, item) in want.exports(self.engine) {
                    match item.ty {
                        ComponentItem::ComponentFunc(want_fn) => {
                            let have_fn = match have.get_export(self.engine, name).map(|e| e.ty) {
                                Some(ComponentItem::ComponentFunc(f)) => f,
                                _ => {
                                    return Err(
                                        self.incompatible(format!("it has no function `{name}`"))
                                    )
                                }
                            };
                            self.check_func(name, &want_fn, &have_fn)?;
                            let index = self
                                .component
                                .get_export_index(Some(&export), name)
                                .ok_or_else(|| {
                                    self.incompatible(format!("it has no function `{name}`"))
                                })?;
                            functions.push(Forward {
                                instance: Some(self.import.to_string()),
                                name: name.to_string(),
                                export: index,
                            });
                        }
                        // Plain types travel inside the functions' values; those are checked.
                        ComponentItem::Type(_) => {}
                        ComponentItem::Resource(_) => {
                            return Err(self.not_forwardable(format!("defines resource `{name}`")))
                        }
                        other => {
                            return Err(self.not_forwardable(format!(
                                "contains `{name}` ({})",
                                item_kind(&other)
                            )))
                        }
                    }
                }
                Ok(functions)
            }
            (want, have) => Err(self.incompatible(format!(
                "the import is {} and the export {}",
                item_kind(want),
                item_kind(have)
            ))),
        }
    }

    /// Refuses a function whose signature differs, or that would pass resources or async
    /// values.
    fn check_func(&self, name: &str, want: &ComponentFunc, have: &ComponentFunc) -> Result<()> {
        let want_params: Vec<Type> = want.params().map(|(_, t)| t).collect();
        let have_params: Vec<Type> = have.params().map(|(_, t)| t).collect();
        let want_results: Vec<Type> = want.results().collect();
        if want_params != have_params
            || !want_results
                .iter()
                .eq(have.results().collect::<Vec<_>>().iter())
            || want.async_() != have.async_()
        {
            return Err(self.incompatible(format!("function `{name}` has a different signature")));
        }
        if want.async_() {
            return Err(self.not_forwardable(format!("has async function `{name}`")));
        }
        if let Some(what) = want_params.iter().chain(&want_results).find_map(unportable) {
            return Err(self.not_forwardable(format!("has function `{name}` passing {what}")));
        }
        Ok(())
    }
}

impl Forward {
    /// Defines the function in `linker` as a call into `dependency`.
    fn define(self, linker: &mut Linker<HostState>, dependency: &Arc<Dependency>) -> Result<()> {
        let mut at = match &self.instance {
            Some(instance) => linker.instance(instance)?,
            None => linker.root(),
        };
        let (dependency, export) = (dependency.clone(), self.export);
        at.func_new_async(&self.name, move |store, _ty, params, results| {
            let dependency = dependency.clone();
            Box::new(async move {
                call(store, &dependency, &export, params, results)
                    .await
                    .map_err(wasmtime::Error::from_anyhow)
            })
        })
        .map_err(anyhow::Error::from)
        .with_context(|| format!("defining `{}`", self.name))
    }
}

fn item_kind(item: &ComponentItem) -> &'static str {
    match item {
        ComponentItem::ComponentFunc(_) => "a function",
        ComponentItem::CoreFunc(_) => "a core function",
        ComponentItem::Module(_) => "a core module",
        ComponentItem::Component(_) => "a component",
        ComponentItem::ComponentInstance(_) => "an instance",
        ComponentItem::Type(_) => "a type",
        ComponentItem::Resource(_) => "a resource",
    }
}

/// What in `ty` cannot be copied from one store to another, if anything.
fn unportable(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Own(_) | Type::Borrow(_) => Some("a resource handle"),
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => Some("an async value"),
        Type::List(l) => unportable(&l.ty()),
        Type::FixedLengthList(l) => unportable(&l.ty()),
        Type::Map(m) => unportable(&m.key()).or_else(|| unportable(&m.value())),
        Type::Record(r) => r.fields().find_map(|f| unportable(&f.ty)),
        Type::Tuple(t) => t.types().find_map(|t| unportable(&t)),
        Type::Variant(v) => v.cases().find_map(|c| c.ty.as_ref().and_then(unportable)),
        Type::Option(o) => unportable(&o.ty()),
        Type::Result(r) => r
            .ok()
            .as_ref()
            .and_then(unportable)
            .or_else(|| r.err().as_ref().and_then(unportable)),
        Type::Bool
        | Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::S64
        | Type::U64
        | Type::Float32
        | Type::Float64
        | Type::Char
        | Type::String
        | Type::Enum(_)
        | Type::Flags(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::allowed_hosts::AllowedHosts;

    /// A component exporting `answer: func() -> u32` at the top level and, as instance
    /// `test:dep/api`, `answer` plus `name: func(s: string) -> string`.
    const DEPENDENCY: &str = r#"
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "answer") (result i32) i32.const 42)
    (func (export "name") (param i32 i32) (result i32) i32.const 0)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $answer (result u32) (canon lift (core func $i "answer")))
  (func $name (param "s" string) (result string)
    (canon lift (core func $i "name") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc"))))
  (instance $api (export "answer" (func $answer)) (export "name" (func $name)))
  (export "answer" (func $answer))
  (export "test:dep/api" (instance $api))
)"#;

    struct Fixture {
        dir: tempfile::TempDir,
        engine: Engine,
        linker: Linker<HostState>,
    }

    impl Fixture {
        fn new() -> Fixture {
            let engine = engine::engine().unwrap();
            let linker = engine::linker(&engine, HostProfile::SpinUp).unwrap();
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("dep.wasm"), DEPENDENCY).unwrap();
            Fixture {
                dir,
                engine,
                linker,
            }
        }

        /// Links a parent written in WAT to `dep.wasm` under the dependency `name`.
        async fn link(&self, parent: &str, name: &str, export: Option<&str>) -> Result<()> {
            let parent = Component::new(&self.engine, parent).unwrap();
            let spec = manifest::Component {
                id: "parent".into(),
                source: self.dir.path().join("parent.wasm"),
                variables: BTreeMap::new(),
                environment: BTreeMap::new(),
                allowed_outbound_hosts: Vec::new(),
                key_value_stores: Vec::new(),
                dependencies: [(
                    name.to_string(),
                    manifest::Dependency {
                        path: self.dir.path().join("dep.wasm"),
                        export: export.map(str::to_string),
                    },
                )]
                .into(),
                dependencies_inherit_configuration: false,
            };
            let grants = Grants {
                environment: Arc::from(Vec::new()),
                allowed_hosts: Arc::new(AllowedHosts::default()),
                key_value_stores: Arc::new(HashSet::new()),
                isolated: false,
            };
            let cx = LinkContext {
                engine: &self.engine,
                linker: &self.linker,
                profile: HostProfile::SpinUp,
                compile_cache: None,
            };
            let linker = link(&cx, "parent", &parent, &spec, &grants).await?;
            linker
                .instantiate_pre(&parent)
                .map(|_| ())
                .map_err(anyhow::Error::from)
        }

        async fn error(&self, parent: &str, name: &str, export: Option<&str>) -> String {
            format!("{:#}", self.link(parent, name, export).await.unwrap_err())
        }
    }

    #[tokio::test]
    async fn plain_and_interface_imports_are_satisfied() {
        let f = Fixture::new();
        f.link(
            r#"(component (import "answer" (func (result u32))))"#,
            "answer",
            None,
        )
        .await
        .unwrap();
        f.link(
            r#"(component (import "test:dep/api" (instance
                 (export "answer" (func (result u32)))
                 (export "name" (func (param "s" string) (result string))))))"#,
            "test:dep/api",
            None,
        )
        .await
        .unwrap();
        // Importing fewer functions than the dependency exports is fine; another import
        // name reaches the export through `export`.
        f.link(
            r#"(component (import "test:other/api" (instance
                 (export "answer" (func (result u32))))))"#,
            "test:other/api",
            Some("test:dep/api"),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn type_mismatches_are_refused() {
        let f = Fixture::new();
        let e = f
            .error(
                r#"(component (import "answer" (func (result string))))"#,
                "answer",
                None,
            )
            .await;
        assert_eq!(
            e,
            "dependency \"answer\" exports \"answer\" which is not compatible with import \"answer\": function `answer` has a different signature"
        );
        let e = f
            .error(
                r#"(component (import "test:dep/api" (instance
                     (export "missing" (func)))))"#,
                "test:dep",
                None,
            )
            .await;
        assert_eq!(
            e,
            "dependency \"test:dep\" exports \"test:dep/api\" which is not compatible with import \"test:dep/api\": it has no function `missing`"
        );
        let e = f
            .error(
                r#"(component (import "answer" (instance)))"#,
                "answer",
                None,
            )
            .await;
        assert!(
            e.ends_with("the import is an instance and the export a function"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn resources_and_conflicts_are_refused() {
        let f = Fixture::new();
        let e = f
            .error(
                r#"(component (import "test:dep/api" (instance
                     (export "thing" (type (sub resource))))))"#,
                "test:dep/api",
                None,
            )
            .await;
        assert_eq!(
            e,
            "import \"test:dep/api\" satisfied by dependency \"test:dep/api\" defines resource `thing`: this test host passes only plain values between a component and its dependencies"
        );
        let e = f
            .error(
                r#"(component (import "test:nope/api" (instance)))"#,
                "test:dep",
                None,
            )
            .await;
        assert_eq!(
            e,
            "dependency \"test:dep\" doesn't match any imports of component \"parent\""
        );
    }

    #[test]
    fn only_plain_values_are_portable() {
        let engine = engine::engine().unwrap();
        let component = Component::new(
            &engine,
            r#"(component
                 (import "r" (type $r (sub resource)))
                 (type $rec' (record (field "x" u32) (field "y" (list string))))
                 (import "rec" (type $rec (eq $rec')))
                 (type $var' (variant (case "p" u64) (case "q")))
                 (import "var" (type $var (eq $var')))
                 (type $en' (enum "a" "b"))
                 (import "en" (type $en (eq $en')))
                 (type $fl' (flags "m" "n"))
                 (import "fl" (type $fl (eq $fl')))
                 (import "f" (func (param "a" (list (tuple u8 (option (own $r)))))
                                   (param "b" (result string (error (borrow $r))))
                                   (param "c" $rec) (param "d" $var) (param "e" $en)
                                   (param "g" $fl))))"#,
        )
        .unwrap();
        let ty = component.component_type();
        let (_, f) = ty.imports(&engine).find(|(n, _)| *n == "f").unwrap();
        let ComponentItem::ComponentFunc(f) = f.ty else {
            panic!("f is a function")
        };
        let found: Vec<Option<&str>> = f.params().map(|(_, t)| unportable(&t)).collect();
        assert_eq!(
            found,
            vec![
                Some("a resource handle"),
                Some("a resource handle"),
                None,
                None,
                None,
                None
            ]
        );
    }
}
