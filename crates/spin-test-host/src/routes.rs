//! HTTP route matching, as Spin's `crates/http/src/routes.rs` does it.
//!
//! Routes are matched with `routefinder` (the crate Spin uses): exact segments beat named
//! parameters (`/:id`), which beat wildcards; among wildcards the longest prefix wins. A
//! trailing `/...` is a wildcard that also matches the bare prefix. Private routes are not
//! routable. When two triggers use the same route, the last one wins.

use anyhow::{anyhow, Result};

use crate::manifest::RouteConfig;

#[derive(Debug, Clone)]
struct Handler {
    component_id: String,
    based_route: String,
    raw_route: String,
}

/// A route that another route with the same pattern replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRoute {
    /// The route pattern.
    pub route: String,
    /// The component that will never be reached on it.
    pub replaced_id: String,
    /// The component that serves it.
    pub effective_id: String,
}

/// The router of an app's HTTP triggers.
#[derive(Debug)]
pub struct Router {
    inner: routefinder::Router<Handler>,
}

/// The result of routing one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The component to run.
    pub component_id: String,
    /// The matched route with the base (`spin-matched-route`).
    pub based_route: String,
    /// The matched route as written in the manifest (`spin-raw-component-route`).
    pub raw_route: String,
    /// The part of the path matched by a trailing wildcard (`spin-path-info`).
    pub trailing_wildcard: String,
    /// Named wildcards (`/:name`) and what they captured.
    pub named_wildcards: Vec<(String, String)>,
}

impl RouteMatch {
    /// A match as if `path` hit the component's `/...` route (service chaining).
    pub fn synthetic(component_id: &str, path: &str) -> RouteMatch {
        RouteMatch {
            component_id: component_id.to_string(),
            based_route: "/...".into(),
            raw_route: "/...".into(),
            trailing_wildcard: path.to_string(),
            named_wildcards: Vec::new(),
        }
    }

    /// The raw route without its trailing `/...` (`spin-component-route`).
    pub fn raw_route_or_prefix(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
    }
}

fn sanitize(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

fn sanitize_with_base(base: &str, route: &str) -> String {
    let route = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    format!("{}{}", sanitize(base), sanitize(&route))
}

impl Router {
    /// Builds the router from `(component, route)` pairs in manifest order; also returns
    /// the routes that a later duplicate replaced.
    pub fn build<'a>(
        base: &str,
        routes: impl IntoIterator<Item = (&'a str, &'a RouteConfig)>,
    ) -> Result<(Router, Vec<DuplicateRoute>)> {
        let mut entries: Vec<Handler> = Vec::new();
        let mut duplicates = Vec::new();
        for (component_id, route) in routes {
            let RouteConfig::Route(raw_route) = route else {
                continue;
            };
            let handler = Handler {
                component_id: component_id.to_string(),
                based_route: sanitize_with_base(base, raw_route),
                raw_route: raw_route.clone(),
            };
            if let Some(existing) = entries.iter_mut().find(|e| e.raw_route == *raw_route) {
                duplicates.push(DuplicateRoute {
                    route: if existing.based_route.is_empty() {
                        "/".into()
                    } else {
                        existing.based_route.clone()
                    },
                    replaced_id: existing.component_id.clone(),
                    effective_id: component_id.to_string(),
                });
                *existing = handler;
            } else {
                entries.push(handler);
            }
        }
        let mut inner = routefinder::Router::new();
        for handler in entries {
            let spec = match handler.based_route.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => handler.based_route.clone(),
            };
            let component = handler.component_id.clone();
            let based = handler.based_route.clone();
            inner.add(spec.as_str(), handler).map_err(|e| {
                anyhow!("Error parsing route {based} associated with component {component}: {e}")
            })?;
        }
        Ok((Router { inner }, duplicates))
    }

    /// The best route for `path`, or `None` (a 404).
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let best = self.inner.best_match(path)?;
        let handler = best.handler();
        let captures = best.captures();
        // Spin keeps the trailing slash in the wildcard, which routefinder drops.
        let trailing_wildcard = captures
            .wildcard()
            .map(|s| match (s.is_empty(), path.ends_with('/')) {
                (true, false) => s.to_string(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{s}"),
                (false, true) => format!("/{s}/"),
            })
            .unwrap_or_default();
        Some(RouteMatch {
            component_id: handler.component_id.clone(),
            based_route: handler.based_route.clone(),
            raw_route: handler.raw_route.clone(),
            trailing_wildcard,
            named_wildcards: captures
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    /// Every routable `(route, component)`, for the startup banner.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner
            .iter()
            .map(|(_, h)| (h.based_route.as_str(), h.component_id.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        let configs: Vec<(String, RouteConfig)> = routes
            .iter()
            .map(|(c, r)| (c.to_string(), RouteConfig::Route(r.to_string())))
            .collect();
        Router::build("/", configs.iter().map(|(c, r)| (c.as_str(), r)))
            .unwrap()
            .0
    }

    fn component(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.component_id)
    }

    #[test]
    fn exact_routes() {
        let r = router(&[("foo", "/foo"), ("foobar", "/foo/bar")]);
        assert_eq!(component(&r, "/foo").as_deref(), Some("foo"));
        assert_eq!(component(&r, "/foo/bar").as_deref(), Some("foobar"));
        assert_eq!(component(&r, "/other"), None);
    }

    #[test]
    fn wildcard_matches_everything_below_and_the_prefix() {
        let r = router(&[("all", "/...")]);
        for p in ["/foo/bar", "/abc/", "/"] {
            assert_eq!(component(&r, p).as_deref(), Some("all"), "{p}");
        }
    }

    #[test]
    fn longest_wildcard_wins_regardless_of_order() {
        for order in [
            [
                ("one", "/one/..."),
                ("two", "/one/two/..."),
                ("three", "/one/two/three/..."),
            ],
            [
                ("three", "/one/two/three/..."),
                ("two", "/one/two/..."),
                ("one", "/one/..."),
            ],
        ] {
            let r = router(&order);
            assert_eq!(
                component(&r, "/one/two/three/four").as_deref(),
                Some("three")
            );
            assert_eq!(component(&r, "/one/two/x").as_deref(), Some("two"));
            assert_eq!(component(&r, "/one").as_deref(), Some("one"));
        }
    }

    #[test]
    fn exact_beats_wildcard() {
        let r = router(&[("wild", "/..."), ("exact", "/one")]);
        assert_eq!(component(&r, "/one").as_deref(), Some("exact"));
        assert_eq!(component(&r, "/one/x").as_deref(), Some("wild"));
    }

    #[test]
    fn duplicates_last_one_wins_and_are_reported() {
        let configs = [
            ("first", RouteConfig::Route("/foo".into())),
            ("second", RouteConfig::Route("/foo".into())),
            ("private", RouteConfig::Private),
        ];
        let (r, dups) = Router::build("/", configs.iter().map(|(c, r)| (*c, r))).unwrap();
        assert_eq!(component(&r, "/foo").as_deref(), Some("second"));
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].replaced_id, "first");
        assert_eq!(r.routes().count(), 1, "private routes are not routable");
    }

    #[test]
    fn trailing_wildcard_keeps_slashes_like_spin() {
        let r = router(&[("c", "/test/...")]);
        let info = |p: &str| r.route(p).unwrap().trailing_wildcard;
        assert_eq!(info("/test"), "");
        assert_eq!(info("/test/"), "/");
        assert_eq!(info("/test/hello"), "/hello");
        assert_eq!(info("/test/hello/"), "/hello/");
        let root = router(&[("c", "/...")]);
        assert_eq!(root.route("/1/2/3").unwrap().trailing_wildcard, "/1/2/3");
    }

    #[test]
    fn named_wildcards_are_captured() {
        let r = router(&[("c", "/users/:id/...")]);
        let m = r.route("/users/42/profile").unwrap();
        assert_eq!(
            m.named_wildcards,
            vec![("id".to_string(), "42".to_string())]
        );
        assert_eq!(m.trailing_wildcard, "/profile");
        assert_eq!(m.raw_route_or_prefix(), "/users/:id");
    }

    #[test]
    fn synthetic_match_for_service_chaining() {
        let m = RouteMatch::synthetic("api", "/x/y");
        assert_eq!(m.trailing_wildcard, "/x/y");
        assert_eq!(m.raw_route, "/...");
        assert_eq!(m.raw_route_or_prefix(), "");
    }
}
