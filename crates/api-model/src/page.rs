//! Pagination: `maxResults` and opaque `nextToken`s.
//!
//! A token wraps a cursor chosen by whoever lists (an offset, a last key) in URL-safe base64
//! with a version tag, so a client cannot mistake it for anything meaningful and a token that
//! was not ours is `InvalidToken`, as on AWS.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

const TAG: &str = "baton1:";

/// The longest `nextToken` AWS accepts.
pub const MAX_TOKEN_CHARS: usize = 1024;

/// Wraps a cursor into a `nextToken`.
pub fn encode_token(cursor: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TAG}{cursor}"))
}

/// Unwraps a `nextToken` into its cursor.
pub fn decode_token(token: &str) -> Result<String, ApiError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(ApiError::too_long("nextToken", MAX_TOKEN_CHARS));
    }
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(TAG).map(str::to_string))
        .ok_or_else(|| ApiError::invalid_token(format!("Invalid pagination token: {token}")))
}

/// One page of `items` (already in listing order) from an offset cursor: the items and the
/// `nextToken` for the rest, if any.
pub fn paginate<T>(
    items: Vec<T>,
    size: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None => 0,
        Some(token) => {
            let cursor = decode_token(token)?;
            cursor.parse::<usize>().map_err(|_| {
                ApiError::invalid_token(format!("Invalid pagination token: {token}"))
            })?
        }
    };
    let total = items.len();
    let end = start.saturating_add(size).min(total);
    let page: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next = (end < total).then(|| encode_token(&end.to_string()));
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn tokens_round_trip() {
        for cursor in ["0", "42", "arn:aws:states:x:y", ""] {
            assert_eq!(decode_token(&encode_token(cursor)).unwrap(), cursor);
        }
        for bad in ["", "!!!", "AAAA", &"A".repeat(2000)] {
            assert!(decode_token(bad).is_err(), "{bad}");
        }
        assert_eq!(
            decode_token("zzzz").unwrap_err().code,
            ErrorCode::InvalidToken
        );
    }

    #[test]
    fn pages_walk_everything_once() {
        let items: Vec<u32> = (0..25).collect();
        for size in [1, 7, 25, 100] {
            let mut seen = Vec::new();
            let mut token = None;
            loop {
                let (page, next) = paginate(items.clone(), size, token.as_deref()).unwrap();
                assert!(page.len() <= size);
                seen.extend(page);
                match next {
                    Some(next) => token = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, items);
        }
        let (page, next) = paginate(Vec::<u32>::new(), 10, None).unwrap();
        assert!(page.is_empty() && next.is_none());
    }
}
