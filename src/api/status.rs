//! `GET /`: the status page. Plain HTML with inline CSS, readable without JavaScript; every
//! value from the store or the configuration is HTML-escaped.

use std::collections::BTreeMap;

use crate::aggregate::type_of;
use crate::model::MetricType;

use super::html::Page;
use super::overview::Overview;
use super::settings::settings;
use super::timefmt::{ago, rfc3339};
use super::ApiConfig;

const STYLE: &str = "
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f6f7f9;--card:#fff;--accent:#e6522c;
--ok:#067647;--okbg:#dcfae6;--bad:#b42318;--badbg:#fee4e2;--idle:#475467;--idlebg:#eaecf0}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}
header{background:#1d2330;color:#fff;padding:18px 32px;display:flex;align-items:baseline;gap:16px;flex-wrap:wrap}
header h1{margin:0;font-size:22px;letter-spacing:.3px}
header h1 span{color:var(--accent)}
header .sub{color:#c0c6d4;font-size:13px}
header nav{margin-left:auto;font-size:13px}
header nav a{color:#fff;margin-left:14px;text-decoration:none;border-bottom:1px dotted #98a2b3}
main{max-width:1180px;margin:0 auto;padding:20px 32px 40px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.card .v{font-size:24px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}
.card .d{color:var(--muted);font-size:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin-top:16px}
section h2{font-size:16px;margin:0 0 10px;display:flex;align-items:center;gap:10px}
section h2 .count{color:var(--muted);font-weight:400;font-size:13px}
table{border-collapse:collapse;width:100%}
th{text-align:left;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.4px;border-bottom:2px solid var(--line);padding:6px 10px}
td{border-bottom:1px solid var(--line);padding:6px 10px;vertical-align:top}
tbody tr:nth-child(even){background:#fafbfc}
td.name,td.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:13px;word-break:break-all}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.help{color:#475467}
td.muted,p.muted{color:var(--muted)}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600}
.ok{color:var(--ok);background:var(--okbg)}.bad{color:var(--bad);background:var(--badbg)}.idle{color:var(--idle);background:var(--idlebg)}
td.type span{font-size:12px;padding:1px 7px;border-radius:4px;background:#eef2f6}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dt{color:var(--muted)}dd{margin:0}
.err{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12px;background:var(--badbg);color:var(--bad);padding:6px 8px;border-radius:4px;white-space:pre-wrap;word-break:break-all}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.two section{margin-top:16px}
@media(max-width:800px){.two{grid-template-columns:1fr}main{padding:12px}}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
";

fn when(now_ms: i64, ms: i64) -> String {
    if ms <= 0 {
        "never".into()
    } else {
        format!("{} ({})", rfc3339(ms), ago(now_ms, ms))
    }
}

fn card(p: &mut Page, key: &str, value: &str, detail: &str) {
    p.raw("<div class=\"card\">")
        .el("div", "k", key)
        .el("div", "v", value)
        .el("div", "d", detail)
        .raw("</div>");
}

fn heading(p: &mut Page, title: &str, count: Option<usize>) {
    p.raw("<h2>").text(title);
    if let Some(n) = count {
        p.el("span", "count", &n.to_string());
    }
    p.raw("</h2>");
}

fn type_label(t: MetricType) -> &'static str {
    t.as_text()
}

/// The status page for one read of the store, as of `now_ms`.
pub fn page(o: &Overview, cfg: &ApiConfig, now_ms: i64) -> String {
    let mut counts: BTreeMap<&str, (usize, MetricType)> = BTreeMap::new();
    for s in o.series() {
        counts
            .entry(s.family.as_str())
            .or_insert((0, type_of(&s.value)))
            .0 += 1;
    }
    let groups = o.groups();
    let rejected: u64 = o.rejections.iter().map(|(_, n)| n).sum();
    let m = &o.meta;

    let mut p = Page::default();
    p.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        .raw("<title>promagg status</title><style>")
        .raw(STYLE)
        .raw("</style></head><body><header><h1>prom<span>agg</span></h1>")
        .el(
            "span",
            "sub",
            &format!(
                "aggregating push gateway {} \u{b7} as of {}",
                env!("CARGO_PKG_VERSION"),
                rfc3339(now_ms)
            ),
        )
        .raw("<nav><a href=\"/metrics\">/metrics</a><a href=\"/api/v1/metrics\">/api/v1/metrics</a><a href=\"/api/v1/status\">/api/v1/status</a></nav></header><main>");

    p.raw("<div class=\"cards\">");
    card(
        &mut p,
        "Series",
        &o.state.series_count().to_string(),
        &format!("limit {}", cfg.engine.limits.max_total_series),
    );
    card(
        &mut p,
        "Families",
        &counts.len().to_string(),
        &format!("limit {}", cfg.engine.limits.max_families),
    );
    card(
        &mut p,
        "Groups",
        &groups.len().to_string(),
        "Pushgateway grouping keys",
    );
    card(
        &mut p,
        "Pending writes",
        &o.pending.to_string(),
        "waiting for the next fold",
    );
    card(
        &mut p,
        "Pushes",
        &o.pushes_total().to_string(),
        "accepted in total",
    );
    card(
        &mut p,
        "Rejected",
        &rejected.to_string(),
        "requests refused (4xx)",
    );
    let fold = if m.last_fold_ms > 0 {
        ago(now_ms, m.last_fold_ms)
    } else {
        "never".into()
    };
    card(
        &mut p,
        "Last fold",
        &fold,
        &format!("{} conflicts dropped", m.fold_conflicts),
    );
    p.raw("</div>");

    // Remote write.
    p.raw("<section>");
    heading(&mut p, "Remote write", None);
    let (class, state) = match (m.rw_last_success_ms, m.rw_last_error_ms) {
        (0, 0) => ("idle", "no run recorded"),
        (ok, err) if ok >= err => ("ok", "healthy"),
        _ => ("bad", "failing"),
    };
    p.raw("<dl><dt>State</dt><dd>")
        .el("span", &format!("badge {class}"), state)
        .raw("</dd>");
    for (k, v) in [
        ("Last success", when(now_ms, m.rw_last_success_ms)),
        ("Last error", when(now_ms, m.rw_last_error_ms)),
        ("Samples sent", m.rw_samples_total.to_string()),
        ("Last run took", format!("{:.3} s", m.rw_last_duration_s)),
    ] {
        p.el("dt", "", k).el("dd", "", &v);
    }
    let failures = if m.rw_failures.is_empty() {
        "none".to_string()
    } else {
        m.rw_failures
            .iter()
            .map(|f| format!("{} \u{d7} {}", f.reason, f.count))
            .collect::<Vec<_>>()
            .join(", ")
    };
    p.el("dt", "", "Failures")
        .el("dd", "", &failures)
        .raw("</dl>");
    if !m.rw_last_error.is_empty() && m.rw_last_error_ms > m.rw_last_success_ms {
        p.raw("<p>").el("div", "err", &m.rw_last_error).raw("</p>");
    }
    p.raw("</section>");

    // Families.
    p.raw("<section>");
    heading(&mut p, "Metric families", Some(counts.len()));
    if counts.is_empty() {
        p.el(
            "p",
            "muted",
            "Nothing stored yet. Push with POST /metrics or the Pushgateway API.",
        );
    } else {
        let rows: Vec<Vec<(&str, String)>> = counts
            .iter()
            .map(|(name, (n, kind))| {
                let meta = o.state.families.get(*name);
                let kind = meta.map_or(*kind, |m| m.kind);
                let help = meta.and_then(|m| m.help.clone()).unwrap_or_default();
                vec![
                    ("name", name.to_string()),
                    ("type", type_label(kind).to_string()),
                    ("num", n.to_string()),
                    ("help", help),
                ]
            })
            .collect();
        p.table("families", &["Name", "Type", "Series", "Help"], &rows);
    }
    p.raw("</section>");

    // Groups.
    p.raw("<section>");
    heading(&mut p, "Groups", Some(groups.len()));
    if groups.is_empty() {
        p.el(
            "p",
            "muted",
            "No Pushgateway group (PUT/POST /metrics/job/<job>/...) has pushed.",
        );
    } else {
        let rows: Vec<Vec<(&str, String)>> = groups
            .iter()
            .map(|g| {
                let mut key = String::new();
                g.labels.write_canonical(&mut key);
                let ms = (g.last_push_s * 1000.0) as i64;
                vec![
                    ("mono", key),
                    ("", when(now_ms, ms)),
                    (
                        "",
                        if g.last_push_successful() {
                            "ok"
                        } else {
                            "last push failed"
                        }
                        .to_string(),
                    ),
                ]
            })
            .collect();
        p.table("groups", &["Grouping labels", "Last push", "Status"], &rows);
    }
    p.raw("</section>");

    // Rejections and configuration, side by side.
    p.raw("<div class=\"two\"><section>");
    heading(&mut p, "Rejected requests", Some(rejected as usize));
    if o.rejections.is_empty() {
        p.el("p", "muted", "None recorded.");
    } else {
        let rows: Vec<Vec<(&str, String)>> = o
            .rejections
            .iter()
            .map(|(r, n)| vec![("mono", r.clone()), ("num", n.to_string())])
            .collect();
        p.table("rejections", &["Reason", "Count"], &rows);
    }
    p.raw("</section><section>");
    heading(&mut p, "Configuration", None);
    let auth_class = if cfg.auth.is_open() {
        "badge bad"
    } else {
        "badge ok"
    };
    p.raw("<p>Auth: ")
        .el("span", auth_class, cfg.auth.mode())
        .raw("</p>");
    let rows: Vec<Vec<(&str, String)>> = settings(cfg)
        .into_iter()
        .filter(|(k, _)| *k != "auth")
        .map(|(k, v)| vec![("mono", k.to_string()), ("mono", v)])
        .collect();
    p.table("settings", &["Setting", "Value"], &rows);
    p.raw("</section></div>");

    p.raw("<footer>")
        .text("Self-metrics (promagg_*) are on /metrics. This page reads the store once and needs no JavaScript.")
        .raw("</footer></main></body></html>\n");
    p.finish()
}
