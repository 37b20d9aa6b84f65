//! How one change of the durable change feed is stored: the model's name, the record's primary
//! key, and its bytes before and after the write (each absent for an insert or a removal).
//!
//! ```text
//! kind: u8 (1 inserted, 2 updated, 3 removed)
//! model, key, then old (kinds 2, 3) and new (kinds 1, 2): each a u32 big-endian length + bytes
//! ```
//!
//! Decoding checks every length against the bytes left, so a damaged entry is an error.

use super::DecodeError;

const INSERTED: u8 = 1;
const UPDATED: u8 = 2;
const REMOVED: u8 = 3;

/// One stored change, borrowing from the entry's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeBytes<'a> {
    /// The model's schema name.
    pub model: &'a str,
    /// The encoded primary key.
    pub key: &'a [u8],
    /// The record before the write (`None`: it was inserted).
    pub old: Option<&'a [u8]>,
    /// The record after the write (`None`: it was removed).
    pub new: Option<&'a [u8]>,
}

/// Appends the encoding of `change` to `out`. A change with neither `old` nor `new` is not a
/// change and is not written.
pub fn encode_change(change: &ChangeBytes<'_>, out: &mut Vec<u8>) {
    let kind = match (change.old, change.new) {
        (None, Some(_)) => INSERTED,
        (Some(_), Some(_)) => UPDATED,
        (Some(_), None) => REMOVED,
        (None, None) => return,
    };
    out.push(kind);
    let parts = [
        Some(change.model.as_bytes()),
        Some(change.key),
        change.old,
        change.new,
    ];
    for part in parts.into_iter().flatten() {
        // Records and keys are bounded by redb's value size (< 4 GiB).
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
}

/// Decodes one stored change.
pub fn decode_change(mut bytes: &[u8]) -> Result<ChangeBytes<'_>, DecodeError> {
    let (&kind, rest) = bytes
        .split_first()
        .ok_or_else(|| DecodeError::new("an empty change feed entry"))?;
    bytes = rest;
    let (has_old, has_new) = match kind {
        INSERTED => (false, true),
        UPDATED => (true, true),
        REMOVED => (true, false),
        other => {
            return Err(DecodeError::new(format!(
                "a change feed entry of unknown kind {other}"
            )));
        }
    };
    let model = take(&mut bytes)?;
    let model = std::str::from_utf8(model)
        .map_err(|_| DecodeError::new("a change feed entry whose model name is not UTF-8"))?;
    let key = take(&mut bytes)?;
    let old = if has_old {
        Some(take(&mut bytes)?)
    } else {
        None
    };
    let new = if has_new {
        Some(take(&mut bytes)?)
    } else {
        None
    };
    if !bytes.is_empty() {
        return Err(DecodeError::new(format!(
            "a change feed entry with {} unexpected trailing bytes",
            bytes.len()
        )));
    }
    Ok(ChangeBytes {
        model,
        key,
        old,
        new,
    })
}

/// Takes one length-prefixed part off the front of `bytes`.
fn take<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    let truncated = || DecodeError::new("a truncated change feed entry");
    let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(truncated)?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return Err(truncated());
    }
    let (part, rest) = rest.split_at(len);
    *bytes = rest;
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(change: &ChangeBytes<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_change(change, &mut out);
        out
    }

    #[test]
    fn every_kind_round_trips() {
        for (old, new) in [
            (None, Some(&b"new"[..])),
            (Some(&b"old"[..]), Some(&b""[..])),
            (Some(&b""[..]), None),
        ] {
            let change = ChangeBytes {
                model: "City",
                key: b"\x00\x01",
                old,
                new,
            };
            assert_eq!(decode_change(&encoded(&change)), Ok(change));
        }
    }

    #[test]
    fn damaged_entries_are_errors() {
        let change = ChangeBytes {
            model: "City",
            key: b"k",
            old: Some(b"old"),
            new: Some(b"new"),
        };
        let bytes = encoded(&change);
        // Every truncation, a bad kind, a trailing byte, a huge length: errors, never panics.
        for end in 0..bytes.len() {
            assert!(decode_change(&bytes[..end]).is_err(), "truncated at {end}");
        }
        let mut bad_kind = bytes.clone();
        bad_kind[0] = 9;
        assert!(decode_change(&bad_kind).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_change(&trailing).is_err());
        let mut huge = bytes;
        huge[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_change(&huge).is_err());
        assert!(
            encoded(&ChangeBytes {
                model: "M",
                key: b"",
                old: None,
                new: None
            })
            .is_empty()
        );
    }
}
