//! `Content-Encoding` of request bodies: identity, gzip and framed snappy, with a hard cap on
//! the decompressed size so a small compressed body cannot expand without bound.

use std::io::Read;

use crate::limits::LimitError;

use super::body::BodyError;

/// Decodes `body` as `content_encoding` says (absent, empty or `identity`: as is; `gzip` or
/// `x-gzip`; `snappy`: the framed snappy format), refusing to produce more than `max_bytes`.
pub fn decode(
    content_encoding: Option<&str>,
    body: &[u8],
    max_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    let encoding = content_encoding.map_or("", str::trim);
    let is = |name: &str| encoding.eq_ignore_ascii_case(name);
    if encoding.is_empty() || is("identity") {
        if body.len() > max_bytes {
            return Err(too_large(max_bytes));
        }
        Ok(body.to_vec())
    } else if is("gzip") || is("x-gzip") {
        read_capped(flate2::read::MultiGzDecoder::new(body), max_bytes)
    } else if is("snappy") {
        read_capped(snap::read::FrameDecoder::new(body), max_bytes)
    } else {
        Err(BodyError::UnsupportedEncoding(encoding.to_string()))
    }
}

fn too_large(limit: usize) -> BodyError {
    BodyError::TooLarge(LimitError::BodyTooLarge { limit })
}

/// Reads at most `max_bytes + 1` bytes: one more than allowed proves the body too large
/// without decompressing the rest.
fn read_capped(reader: impl Read, max_bytes: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let cap = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Decompress(e.to_string()))?;
    if out.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// `data` gzip-compressed.
    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// `data` in the framed snappy format.
    pub(crate) fn snappy(data: &[u8]) -> Vec<u8> {
        let mut e = snap::write::FrameEncoder::new(Vec::new());
        e.write_all(data).unwrap();
        e.into_inner().unwrap()
    }

    #[test]
    fn identity() {
        for enc in [None, Some(""), Some("identity"), Some(" IDENTITY ")] {
            assert_eq!(decode(enc, b"abc", 3).unwrap(), b"abc");
            assert_eq!(
                decode(enc, b"abcd", 3),
                Err(BodyError::TooLarge(LimitError::BodyTooLarge { limit: 3 }))
            );
        }
    }

    #[test]
    fn gzip_and_snappy_round_trip() {
        let data = b"# TYPE a counter\na 1\n".repeat(100);
        for enc in ["gzip", "x-gzip", "GZIP"] {
            assert_eq!(decode(Some(enc), &gzip(&data), data.len()).unwrap(), data);
        }
        assert_eq!(
            decode(Some("snappy"), &snappy(&data), data.len()).unwrap(),
            data
        );
        // Concatenated gzip members are one stream, as `cat a.gz b.gz` makes them.
        let mut two = gzip(b"a 1\n");
        two.extend(gzip(b"b 2\n"));
        assert_eq!(decode(Some("gzip"), &two, 100).unwrap(), b"a 1\nb 2\n");
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        // 16 MiB of zeros compress to about 16 KiB; the cap must stop far earlier.
        let bomb = gzip(&vec![0u8; 16 << 20]);
        assert!(bomb.len() < 1 << 20);
        assert_eq!(
            decode(Some("gzip"), &bomb, 1000),
            Err(BodyError::TooLarge(LimitError::BodyTooLarge {
                limit: 1000
            }))
        );
        let data = vec![b'x'; 5000];
        assert_eq!(
            decode(Some("snappy"), &snappy(&data), 4999),
            Err(BodyError::TooLarge(LimitError::BodyTooLarge {
                limit: 4999
            }))
        );
        assert_eq!(decode(Some("snappy"), &snappy(&data), 5000).unwrap(), data);
    }

    #[test]
    fn corrupt_bodies() {
        assert!(matches!(
            decode(Some("gzip"), b"not gzip at all", 100),
            Err(BodyError::Decompress(_))
        ));
        let mut cut = gzip(b"a 1\nb 2\n");
        cut.truncate(cut.len() - 4);
        assert!(matches!(
            decode(Some("gzip"), &cut, 100),
            Err(BodyError::Decompress(_))
        ));
        assert!(matches!(
            decode(Some("snappy"), b"plain text", 100),
            Err(BodyError::Decompress(_))
        ));
        // Raw (unframed) snappy, as remote write uses, is not framed snappy.
        let raw = snap::raw::Encoder::new().compress_vec(b"a 1\n").unwrap();
        assert!(matches!(
            decode(Some("snappy"), &raw, 100),
            Err(BodyError::Decompress(_))
        ));
    }

    #[test]
    fn unknown_encodings() {
        for enc in ["br", "deflate", "zstd", "gzip, br"] {
            assert_eq!(
                decode(Some(enc), b"x", 10),
                Err(BodyError::UnsupportedEncoding(enc.to_string()))
            );
        }
    }
}
