//! Expositions rendered by the fold and stored with the shards, so that a scrape between folds
//! copies text out instead of decoding and rendering every stored series.
//!
//! A Spin component keeps nothing between requests: without this, every scrape decodes every
//! shard, merges, sorts and renders (docs/benchmarks.md, scenario 4). The fold holds the folded
//! state anyway; it renders it in both formats, writes the text in chunks in the same batch as
//! the shards (`v1/r/text/000`, `v1/r/om/000`, …, each prefixed by a tag) and records the tag
//! and the layout in `v1/meta`, which it writes after them. A scrape that lists no pending
//! delta reads meta and its format's chunks in one batch and uses them only when every chunk
//! carries meta's tag: chunks of a fold that stopped before its meta write, or read across a
//! fold on a backend without consistent batch reads, are never mixed in; the scrape then takes
//! the full read path, as it does whenever a write is pending. The gateway's own families are
//! rendered per scrape and spliced in where they sort (user families cannot use their prefix).

use crate::render::negotiate::{render_open, Format};
use crate::store::Store;

use super::io::get_all;
use super::keys::{self, META};
use super::push::SELF_METRIC_PREFIX;
use super::record::{decode, PbMeta, PbRender};
use super::state::{fnv1a64, State};
use super::view::rejections;
use super::{EngineConfig, EngineError};

/// The stored formats.
pub const FORMATS: [Format; 2] = [Format::Text, Format::OpenMetrics];

/// Most payload bytes in one chunk: below the 1 MB value cap of cloud key-value stores.
pub const CHUNK_BYTES: usize = 1_000_000;

/// Bytes of the tag at the start of every chunk.
const TAG_BYTES: usize = 8;

/// The key segment of `format`.
pub fn segment(format: Format) -> &'static str {
    match format {
        Format::Text => "text",
        Format::OpenMetrics => "om",
    }
}

/// What a fold writes for the expositions: chunk entries and the layout for meta.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendering {
    /// The tag every chunk carries and meta records.
    pub tag: u64,
    /// One layout per format.
    pub renders: Vec<PbRender>,
    /// The chunks, keyed.
    pub entries: Vec<(String, Vec<u8>)>,
}

/// Renders the user families of `state` in every stored format, chunked and tagged.
///
/// The tag mixes the previous tag, the fold's time and the content, so it differs from the
/// tag of the rendering it replaces and from that of any fold that stopped before its meta.
pub fn render_state(state: &State, prev_tag: u64, now_ms: i64) -> Rendering {
    let families = state.families_view();
    let bodies: Vec<(&str, String, usize)> = FORMATS
        .iter()
        .map(|&format| {
            let (body, at) = render_open(format, &families, SELF_METRIC_PREFIX);
            (segment(format), body, at)
        })
        .collect();
    let mut seed = Vec::with_capacity(16);
    seed.extend_from_slice(&prev_tag.to_le_bytes());
    seed.extend_from_slice(&now_ms.to_le_bytes());
    let mut tag = fnv1a64(&seed);
    for (_, body, _) in &bodies {
        tag = mix(tag, body.as_bytes());
    }
    let tag = tag.max(1);
    let mut renders = Vec::with_capacity(bodies.len());
    let mut entries = Vec::new();
    for (seg, body, at) in bodies {
        let bytes = body.as_bytes();
        let mut chunks = 0;
        for (i, part) in bytes.chunks(CHUNK_BYTES).enumerate() {
            let mut value = Vec::with_capacity(TAG_BYTES + part.len());
            value.extend_from_slice(&tag.to_le_bytes());
            value.extend_from_slice(part);
            entries.push((keys::render_key(seg, i), value));
            chunks += 1;
        }
        renders.push(PbRender {
            format: seg.to_string(),
            chunks,
            len: bytes.len() as u64,
            splice_at: at as u64,
        });
    }
    Rendering {
        tag,
        renders,
        entries,
    }
}

/// Folds `bytes` into `h` eight bytes at a time (FxHash's step): fast over megabytes of
/// text, and only ever compared with tags of this store, never trusted across versions.
fn mix(mut h: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut words = bytes.chunks_exact(8);
    for w in words.by_ref() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    (h.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K)
}

/// A scrape's exposition as the last fold stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The user families, rendered open (no OpenMetrics `# EOF`).
    pub body: String,
    /// Where the gateway's own families go in `body`.
    pub splice_at: usize,
    /// Store metadata, read in the same batch.
    pub meta: PbMeta,
    /// Rejected requests by reason, sorted by reason.
    pub rejections: Vec<(String, u64)>,
}

/// What a scrape reads: the stored exposition, or the full path from this listing.
#[derive(Debug, Clone, PartialEq)]
pub enum Scrape {
    /// The stored exposition is current.
    Stored(Box<Stored>),
    /// It is not (or not enabled): read shards and deltas, starting from this listing
    /// (`None`: none was made), so the fallback costs no second listing.
    Full(Option<Vec<String>>),
}

/// Reads the stored exposition in `format` when it is current: rendering enabled, no write
/// pending, and every chunk written by the fold that wrote meta.
pub fn load<S: Store>(
    store: &S,
    cfg: &EngineConfig,
    format: Format,
) -> Result<Scrape, EngineError> {
    if !cfg.render_cache {
        return Ok(Scrape::Full(None));
    }
    let listed = store.list_keys()?;
    if listed.iter().any(|k| keys::is_delta(k)) {
        return Ok(Scrape::Full(Some(listed)));
    }
    Ok(match read(store, cfg, format, &listed)? {
        Some(stored) => Scrape::Stored(Box::new(stored)),
        None => Scrape::Full(Some(listed)),
    })
}

/// The stored exposition named in `listed`, when every chunk is meta's.
fn read<S: Store>(
    store: &S,
    cfg: &EngineConfig,
    format: Format,
    listed: &[String],
) -> Result<Option<Stored>, EngineError> {
    let seg = segment(format);
    let prefix = format!("{}{seg}/", keys::RENDER_PREFIX);
    let mut chunk_keys: Vec<&String> = listed.iter().filter(|k| k.starts_with(&prefix)).collect();
    chunk_keys.sort();
    let stat_keys: Vec<&String> = listed
        .iter()
        .filter(|k| keys::rejected_reason(k).is_some())
        .collect();
    let mut fetch = Vec::with_capacity(1 + stat_keys.len() + chunk_keys.len());
    fetch.push(META.to_string());
    fetch.extend(stat_keys.iter().map(|k| (*k).clone()));
    fetch.extend(chunk_keys.iter().map(|k| (*k).clone()));
    let mut values = get_all(store, cfg.backend, &fetch)?.into_iter();
    let Some(meta_bytes) = values.next().flatten() else {
        return Ok(None);
    };
    let rejections = rejections(cfg, &stat_keys, values.by_ref().take(stat_keys.len()));
    let meta: PbMeta = decode(META, &meta_bytes)?;
    let Some(layout) = meta.renders.iter().find(|r| r.format == seg) else {
        return Ok(None);
    };
    let n = layout.chunks as usize;
    if meta.render_tag == 0 || chunk_keys.len() < n {
        return Ok(None);
    }
    let tag = meta.render_tag.to_le_bytes();
    let mut body = Vec::with_capacity(usize::try_from(layout.len).unwrap_or(0));
    for (i, (key, value)) in chunk_keys.iter().zip(values).take(n).enumerate() {
        let Some(value) = value else {
            return Ok(None);
        };
        if **key != keys::render_key(seg, i) || value.get(..TAG_BYTES) != Some(&tag[..]) {
            return Ok(None);
        }
        body.extend_from_slice(&value[TAG_BYTES..]);
    }
    if body.len() as u64 != layout.len {
        return Ok(None);
    }
    let body = String::from_utf8(body)
        .map_err(|e| EngineError::Corrupt(format!("{prefix}: not UTF-8: {e}")))?;
    let splice_at = usize::try_from(layout.splice_at).unwrap_or(usize::MAX);
    if !body.is_char_boundary(splice_at) {
        return Err(EngineError::Corrupt(format!(
            "{prefix}: splice offset {splice_at} is not in the text"
        )));
    }
    Ok(Some(Stored {
        body,
        splice_at,
        meta,
        rejections,
    }))
}
