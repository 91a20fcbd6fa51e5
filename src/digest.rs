//! The digests of a model file as it streams: sha256, which a download is checked
//! against (the app's `sha256`) and which identifies the file, and xxh3-128, which a
//! cached copy is checked against on later loads. xxh3 reads bytes many times faster
//! than sha256 and catches the same damage: a copy changed by accident (bits flipped,
//! cut short) has another xxh3 but for a chance of 2⁻¹²⁸. A deliberate change is no
//! different: whoever can rewrite the origin's Cache Storage can rewrite the record
//! beside the file, with its sha256 as well.

use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::Xxh3;

/// Hashers fed the same bytes.
pub struct Hashers {
    sha256: Option<Sha256>,
    xxh3: Xxh3,
}

/// What [`Hashers::finish`] gives (lowercase hex).
pub struct Digests {
    /// When it was asked for.
    pub sha256: Option<String>,
    pub xxh3: String,
}

impl Hashers {
    /// xxh3, and sha256 too when `sha256`.
    pub fn new(sha256: bool) -> Self {
        Hashers {
            sha256: sha256.then(Sha256::new),
            xxh3: Xxh3::new(),
        }
    }

    /// The next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(bytes);
        }
        self.xxh3.update(bytes);
    }

    /// The digests of all the bytes.
    pub fn finish(self) -> Digests {
        Digests {
            sha256: (self.sha256)
                .map(|h| h.finalize().iter().map(|b| format!("{b:02x}")).collect()),
            xxh3: format!("{:032x}", self.xxh3.digest128()),
        }
    }
}
