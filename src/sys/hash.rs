//! A stable hash for names on disk (a watched file's store, a learned fix's
//! id): FNV-1a, the same on every version and platform (std's hasher is not).

pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
