//! atproto TIDs: 64-bit record keys (53 bits of microseconds, 10 bits of clock id) written
//! as 13 base32-sortable characters. A client may choose a post's key as a TID, which is
//! what makes a repeated create of the same post collide instead of doubling it.

const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
const LENGTH: usize = 13;

/// The TID of `micros` (since the Unix epoch) and `clock_id` (its low 10 bits).
pub fn tid(micros: u64, clock_id: u16) -> String {
    let value = ((micros & ((1 << 53) - 1)) << 10) | u64::from(clock_id & 0x3ff);
    (0..LENGTH)
        .map(|i| {
            let shift = 5 * (LENGTH - 1 - i);
            char::from(ALPHABET[((value >> shift) & 31) as usize])
        })
        .collect()
}

/// Whether `key` is written as a TID (the top bit, which must be 0, limits the first
/// character to the first 16 of the alphabet).
pub fn is_tid(key: &str) -> bool {
    key.len() == LENGTH
        && key.bytes().all(|b| ALPHABET.contains(&b))
        && key
            .bytes()
            .next()
            .is_some_and(|b| ALPHABET[..16].contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tids_are_sortable_and_checked() {
        // The atproto specification's example TID.
        assert!(is_tid("3jzfcijpj2z2a"));
        assert!(!is_tid("3jzfcijpj2z2"), "too short");
        assert!(!is_tid("zjzfcijpj2z2a"), "top bit set");
        assert!(!is_tid("3jzfcijpj2z2A"), "upper case");
        let earlier = tid(1_700_000_000_000_000, 5);
        let later = tid(1_700_000_000_000_001, 0);
        assert!(is_tid(&earlier) && is_tid(&later));
        assert!(earlier < later, "string order is time order");
        assert_eq!(tid(0, 0), "2222222222222");
    }
}
