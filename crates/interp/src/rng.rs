//! Deterministic randomness derived from caller-supplied entropy.
//!
//! Every event arrives with 32 bytes of entropy; everything random the interpreter needs
//! while handling it (task tokens, `States.UUID`, `States.MathRandom`, retry jitter) is derived
//! from those bytes, so a replay with the same entropy makes the same choices.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::Entropy;

/// A splitmix64 stream seeded from the event's entropy, plus hashed task tokens.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    entropy: Entropy,
    state: u64,
    tokens: u64,
}

impl Rng {
    pub(crate) fn new(entropy: Entropy) -> Rng {
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&entropy[..8]);
        Rng {
            entropy,
            state: u64::from_le_bytes(seed),
            tokens: 0,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniformly distributed float in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An unguessable task token: SHA-256 over the full 256-bit entropy and a counter, so
    /// guessing a token is as hard as guessing the entropy the runtime drew from the OS.
    pub(crate) fn token(&mut self) -> String {
        self.tokens += 1;
        let mut hasher = Sha256::new();
        hasher.update(self.entropy);
        hasher.update(self.tokens.to_le_bytes());
        let digest = hasher.finalize();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }
}
