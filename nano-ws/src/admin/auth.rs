//! The admin's bearer token check: the token is compared in constant time.

use http::HeaderMap;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

/// Whether `headers` carry `Authorization: Bearer <token>` with exactly `token`.
///
/// The comparison takes the same time wherever the first differing byte is (only the
/// length of the presented token can be learnt from timing).
pub(super) fn authorized(headers: &HeaderMap, token: &[u8]) -> bool {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    let Some(presented) = strip_bearer(value) else {
        return false;
    };
    bool::from(presented.ct_eq(token))
}

/// The credentials of a `Bearer` authorization value (the scheme is case-insensitive).
fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    let (scheme, rest) = value.split_at_checked(SCHEME.len())?;
    scheme
        .eq_ignore_ascii_case(SCHEME)
        .then(|| rest.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn only_the_exact_token_is_accepted() {
        let token = b"s3cret-token";
        assert!(authorized(&headers("Bearer s3cret-token"), token));
        assert!(authorized(&headers("bearer s3cret-token"), token));
        assert!(!authorized(&HeaderMap::new(), token));
        assert!(!authorized(&headers("Bearer s3cret-toke"), token));
        assert!(!authorized(&headers("Bearer s3cret-token2"), token));
        assert!(!authorized(&headers("Bearer S3cret-token"), token));
        assert!(!authorized(&headers("Basic s3cret-token"), token));
        assert!(!authorized(&headers("s3cret-token"), token));
        assert!(!authorized(&headers("Bearer "), token));
    }
}
