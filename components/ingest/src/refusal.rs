//! Which WIT error kind a refusal is, from the HTTP status the gateway would have answered.

/// The `error` variant cases of `promagg:gateway/ingest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 400: bad input.
    Invalid,
    /// 409: conflicts with stored state.
    Conflict,
    /// 413: over a limit.
    TooLarge,
    /// 5xx, 429 and anything else: retry later.
    Unavailable,
}

/// Classifies an engine or parser refusal by its HTTP status, so both APIs agree.
pub fn kind(status: u16) -> Kind {
    match status {
        400 | 415 | 422 => Kind::Invalid,
        409 => Kind::Conflict,
        413 => Kind::TooLarge,
        _ => Kind::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind(400), Kind::Invalid);
        assert_eq!(kind(415), Kind::Invalid);
        assert_eq!(kind(409), Kind::Conflict);
        assert_eq!(kind(413), Kind::TooLarge);
        assert_eq!(kind(503), Kind::Unavailable);
        assert_eq!(kind(429), Kind::Unavailable);
        assert_eq!(kind(500), Kind::Unavailable);
    }
}
