//! Remote write 1.0 and 2.0 decoders (`promagg::remote_write::{decode_v1, decode_v2}`): never
//! panic; what decodes re-encodes to a body that decodes to the same message. Byte 0 picks the
//! version (bit 0: 1.0 or 2.0) and whether the rest is snappy-compressed here first (bit 1, so
//! the protobuf decoder sees fuzz input) or handed to the decompressor as is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promagg::remote_write::{decode_v1, decode_v2, DecodeError};
use prost::Message;

/// Bodies declaring more decompressed bytes than this are not decoded (slow, not wrong).
const MAX_DECLARED_LEN: usize = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let body = if sel & 2 != 0 {
        snap::raw::Encoder::new()
            .compress_vec(rest)
            .expect("snappy compresses any input")
    } else {
        rest.to_vec()
    };
    // The decoders refuse a declared length the body cannot expand to; a body that really
    // expands past this is legal but slow to fuzz, so it is skipped.
    if snap::raw::decompress_len(&body).is_ok_and(|n| n > MAX_DECLARED_LEN) {
        return;
    }
    if sel & 1 == 0 {
        round_trip(decode_v1(&body), decode_v1);
    } else {
        round_trip(decode_v2(&body), decode_v2);
    }
});

/// Compares encodings rather than messages: NaN samples are not equal to themselves.
fn round_trip<M: Message>(
    decoded: Result<M, DecodeError>,
    decode: fn(&[u8]) -> Result<M, DecodeError>,
) {
    match decoded {
        Ok(message) => {
            let encoded = message.encode_to_vec();
            let body = snap::raw::Encoder::new()
                .compress_vec(&encoded)
                .expect("snappy compresses any input");
            let again = decode(&body).unwrap_or_else(|e| panic!("re-encoded body refused: {e}"));
            assert_eq!(again.encode_to_vec(), encoded);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
