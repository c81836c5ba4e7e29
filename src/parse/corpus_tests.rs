//! Runs the committed fuzz seeds (`fuzz/corpus/<target>/`) through the parsers on stable, with
//! the fuzz targets' checks: no panic, model invariants on success, render + re-parse keeps
//! the families. Seeds named `bad_*` must be refused, all others accepted. The `parse_body`
//! seed layout is `fuzz/src/lib.rs`'s `body_case`; keep the two in step.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::limits::Limits;
use crate::model::MetricFamily;
use crate::parse::test_util::assert_model_invariants;
use crate::parse::{openmetrics, parse_body, text};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5, "{target}: too few seeds");
    out
}

fn expect_outcome<T, E: std::fmt::Display>(name: &str, r: &Result<T, E>) {
    match (name.starts_with("bad_"), r) {
        (true, Ok(_)) => panic!("seed {name} was accepted"),
        (false, Err(e)) => panic!("seed {name} was refused: {e}"),
        _ => {}
    }
}

/// Families compared in any order, NaN equal to NaN, `created` ignored.
fn shape(fs: &[MetricFamily]) -> String {
    let mut fs = fs.to_vec();
    fs.sort_by(|a, b| a.name.cmp(&b.name));
    for f in &mut fs {
        f.series.sort_by(|a, b| a.labels.cmp(&b.labels));
        for s in &mut f.series {
            s.created = None;
        }
    }
    format!("{fs:?}")
}

#[test]
fn text_seeds() {
    for (name, data) in seeds("parse_text") {
        let Ok(input) = std::str::from_utf8(&data) else {
            continue;
        };
        let r = text::parse(input);
        expect_outcome(&name, &r);
        if let Ok(families) = r {
            assert_model_invariants(&families);
            let mut out = String::new();
            crate::render::text::render(&families, &mut out);
            let again = text::parse(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{out}"));
            assert_eq!(shape(&families), shape(&again), "{name}");
        }
    }
}

#[test]
fn openmetrics_seeds() {
    for (name, data) in seeds("parse_openmetrics") {
        let Ok(input) = std::str::from_utf8(&data) else {
            continue;
        };
        let r = openmetrics::parse(input);
        expect_outcome(&name, &r);
        if let Ok(families) = r {
            assert_model_invariants(&families);
            let mut out = String::new();
            crate::render::openmetrics::render(&families, &mut out);
            let again = openmetrics::parse(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{out}"));
            assert_eq!(shape(&families), shape(&again), "{name}");
        }
    }
}

/// `fuzz/src/lib.rs`'s `body_case`.
fn body_case(data: &[u8]) -> Option<(Option<&'static str>, Option<&'static str>, Vec<u8>)> {
    let (&sel, rest) = data.split_first()?;
    let content_type = match sel & 3 {
        0 => None,
        1 => Some("application/openmetrics-text; version=1.0.0"),
        2 => Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"),
        _ => Some("application/json"),
    };
    let encoding = match (sel >> 2) & 3 {
        1 => Some("gzip"),
        2 => Some("snappy"),
        _ => None,
    };
    let body = match (encoding, sel & 16 != 0) {
        (Some("gzip"), true) => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(rest).ok()?;
            e.finish().ok()?
        }
        (Some("snappy"), true) => {
            let mut e = snap::write::FrameEncoder::new(Vec::new());
            e.write_all(rest).ok()?;
            e.into_inner().ok()?
        }
        _ => rest.to_vec(),
    };
    Some((content_type, encoding, body))
}

#[test]
fn body_seeds() {
    let limits = Limits {
        max_body_bytes: 1 << 20,
        ..Limits::default()
    };
    for (name, data) in seeds("parse_body") {
        let (ct, ce, body) = body_case(&data).unwrap();
        let r = parse_body(ct, ce, &body, &limits);
        expect_outcome(&name, &r);
        match r {
            Ok(families) => assert_model_invariants(&families),
            Err(e) => assert!(matches!(e.status(), 400 | 413 | 415), "{name}: {e}"),
        }
    }
}

#[test]
fn pushgateway_path_seeds() {
    for (name, data) in seeds("pushgateway_path") {
        let path = std::str::from_utf8(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        expect_outcome(&name, &crate::pushgateway::parse_grouping_path(path));
    }
}

#[test]
fn remote_write_decode_seeds() {
    use crate::remote_write::{decode_v1, decode_v2};
    for (name, data) in seeds("remote_write_decode") {
        let (&sel, rest) = data
            .split_first()
            .unwrap_or_else(|| panic!("{name}: empty"));
        let body = if sel & 2 != 0 {
            snap::raw::Encoder::new().compress_vec(rest).unwrap()
        } else {
            rest.to_vec()
        };
        if sel & 1 == 0 {
            expect_outcome(&name, &decode_v1(&body));
        } else {
            expect_outcome(&name, &decode_v2(&body));
        }
    }
}
