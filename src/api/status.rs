//! `GET /`: the status page. Plain HTML with inline CSS, readable without JavaScript; every
//! value from the store or the configuration is HTML-escaped.

use std::collections::BTreeMap;

use crate::aggregate::type_of;
use crate::model::MetricType;

use super::html::Page;
use super::overview::{Group, Overview};
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
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:12px;margin-bottom:8px}
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
td.type{white-space:nowrap}
td.type span{font-size:12px;padding:1px 8px;border-radius:4px;background:#eef2f6;color:#344054}
td.type .counter{background:#e0f2fe;color:#075985}td.type .gauge{background:#ecfdf3;color:#05603a}
td.type .histogram{background:#f4ebff;color:#6941c6}td.type .summary{background:#fef0c7;color:#93370d}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:0 18px}
.kv div{display:flex;justify-content:space-between;gap:12px;border-bottom:1px solid var(--line);padding:5px 2px;font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:13px}
.kv .k{color:var(--muted)}.kv .v{text-align:right;word-break:break-all}
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

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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
        p.el("span", "count", &thousands(n as u64));
    }
    p.raw("</h2>");
}

fn cards(p: &mut Page, o: &Overview, cfg: &ApiConfig, now_ms: i64, families: usize, groups: usize) {
    let m = &o.meta;
    let limits = &cfg.engine.limits;
    let rejected: u64 = o.rejections.iter().map(|(_, n)| n).sum();
    let fold = if m.last_fold_ms > 0 {
        ago(now_ms, m.last_fold_ms)
    } else {
        "never".into()
    };
    p.raw("<div class=\"cards\">");
    for (key, value, detail) in [
        (
            "Series",
            thousands(o.state.series_count() as u64),
            format!("limit {}", thousands(limits.max_total_series as u64)),
        ),
        (
            "Families",
            thousands(families as u64),
            format!("limit {}", thousands(limits.max_families as u64)),
        ),
        (
            "Groups",
            thousands(groups as u64),
            "Pushgateway groups".into(),
        ),
        (
            "Pending writes",
            thousands(o.pending as u64),
            "not yet folded".into(),
        ),
        (
            "Pushes",
            thousands(o.pushes_total()),
            "accepted in total".into(),
        ),
        ("Rejected", thousands(rejected), "refused (4xx)".into()),
        (
            "Last fold",
            fold,
            format!("{} conflicts dropped", thousands(m.fold_conflicts)),
        ),
    ] {
        card(p, key, &value, &detail);
    }
    p.raw("</div>");
}

fn remote_write(p: &mut Page, o: &Overview, now_ms: i64) {
    let m = &o.meta;
    p.raw("<section>");
    heading(p, "Remote write", None);
    let (class, state) = match (m.rw_last_success_ms, m.rw_last_error_ms) {
        (0, 0) => ("idle", "no run recorded (is prom_endpoint set?)"),
        (ok, err) if ok >= err => ("ok", "healthy"),
        _ => ("bad", "failing"),
    };
    p.raw("<dl><dt>State</dt><dd>")
        .el("span", &format!("badge {class}"), state)
        .raw("</dd>");
    let failures = if m.rw_failures.is_empty() {
        "none".to_string()
    } else {
        m.rw_failures
            .iter()
            .map(|f| format!("{} \u{d7} {}", f.reason, thousands(f.count)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (k, v) in [
        ("Last success", when(now_ms, m.rw_last_success_ms)),
        ("Last error", when(now_ms, m.rw_last_error_ms)),
        ("Samples sent", thousands(m.rw_samples_total)),
        (
            "Last run took",
            if m.rw_last_success_ms == 0 && m.rw_last_error_ms == 0 {
                "\u{2013}".to_string()
            } else {
                format!("{:.3} s", m.rw_last_duration_s)
            },
        ),
        ("Failures", failures),
    ] {
        p.el("dt", "", k).el("dd", "", &v);
    }
    p.raw("</dl>");
    if !m.rw_last_error.is_empty() && m.rw_last_error_ms > m.rw_last_success_ms {
        p.raw("<p>").el("div", "err", &m.rw_last_error).raw("</p>");
    }
    p.raw("</section>");
}

fn rejections(p: &mut Page, o: &Overview) {
    let rejected: u64 = o.rejections.iter().map(|(_, n)| n).sum();
    p.raw("<section>");
    heading(p, "Rejected requests", Some(rejected as usize));
    if o.rejections.is_empty() {
        p.el("p", "muted", "None recorded.");
    } else {
        let rows: Vec<Vec<(&str, String)>> = o
            .rejections
            .iter()
            .map(|(r, n)| vec![("mono", r.clone()), ("num", thousands(*n))])
            .collect();
        p.table("rejections", &["Reason", "Count"], &rows);
    }
    p.raw("</section>");
}

fn families(p: &mut Page, o: &Overview, counts: &BTreeMap<&str, (usize, MetricType)>) {
    p.raw("<section>");
    heading(p, "Metric families", Some(counts.len()));
    if counts.is_empty() {
        p.el(
            "p",
            "muted",
            "Nothing stored yet. Push with POST /metrics or the Pushgateway API.",
        );
        p.raw("</section>");
        return;
    }
    p.raw("<table class=\"families\"><thead><tr><th>Name</th><th>Type</th><th>Series</th><th>Help</th></tr></thead><tbody>");
    for (name, (n, kind)) in counts {
        let meta = o.state.families.get(*name);
        let kind = meta.map_or(*kind, |m| m.kind).as_text();
        let help = meta.and_then(|m| m.help.as_deref()).unwrap_or("");
        p.raw("<tr>")
            .el("td", "name", name)
            .raw("<td class=\"type\">")
            .el("span", kind, kind)
            .raw("</td>")
            .el("td", "num", &thousands(*n as u64))
            .el("td", "help", help)
            .raw("</tr>");
    }
    p.raw("</tbody></table></section>");
}

fn groups(p: &mut Page, groups: &[Group], now_ms: i64) {
    p.raw("<section>");
    heading(p, "Groups", Some(groups.len()));
    if groups.is_empty() {
        p.el(
            "p",
            "muted",
            "No Pushgateway group (PUT/POST /metrics/job/<job>/...) has pushed.",
        );
        p.raw("</section>");
        return;
    }
    p.raw("<table class=\"groups\"><thead><tr><th>Grouping labels</th><th>Last push</th><th>Status</th></tr></thead><tbody>");
    for g in groups {
        let mut key = String::new();
        g.labels.write_canonical(&mut key);
        let (class, status) = if g.last_push_successful() {
            ("badge ok", "ok")
        } else {
            ("badge bad", "last push failed")
        };
        p.raw("<tr>")
            .el("td", "mono", &key)
            .el("td", "", &when(now_ms, (g.last_push_s * 1000.0) as i64))
            .raw("<td>")
            .el("span", class, status)
            .raw("</td></tr>");
    }
    p.raw("</tbody></table></section>");
}

fn configuration(p: &mut Page, cfg: &ApiConfig) {
    p.raw("<section>");
    heading(p, "Configuration", None);
    let auth_class = if cfg.auth.is_open() {
        "badge bad"
    } else {
        "badge ok"
    };
    p.raw("<p>Auth: ")
        .el("span", auth_class, cfg.auth.mode())
        .raw("</p><div class=\"kv\">");
    for (k, v) in settings(cfg).into_iter().filter(|(k, _)| *k != "auth") {
        p.raw("<div>")
            .el("span", "k", k)
            .el("span", "v", &v)
            .raw("</div>");
    }
    p.raw("</div></section>");
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
    let group_list = o.groups();

    let mut p = Page::default();
    p.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
        // An inline icon: browsers would otherwise request /favicon.ico (a counted 404).
        .raw("<link rel=\"icon\" href=\"data:,\">")
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
    cards(&mut p, o, cfg, now_ms, counts.len(), group_list.len());
    p.raw("<div class=\"two\">");
    remote_write(&mut p, o, now_ms);
    rejections(&mut p, o);
    p.raw("</div>");
    families(&mut p, o, &counts);
    groups(&mut p, &group_list, now_ms);
    configuration(&mut p, cfg);
    p.raw("<footer>")
        .text("Self-metrics (promagg_*) are on /metrics. This page reads the store once and needs no JavaScript.")
        .raw("</footer></main></body></html>\n");
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
