//! Cut and bit-flipped copies of the real model give typed errors, never a panic.

use tandem_core::Engine;

use crate::model_bytes;

fn load_code(bytes: &[u8]) -> Option<&'static str> {
    Engine::load(bytes).err().map(|e| e.code())
}

#[test]
fn truncated_files_are_model_load_errors() {
    let bytes = model_bytes();
    let header_end = 1_700_000; // inside the tensor directory of this file
    for cut in [
        0,
        3,
        4,
        20,
        1000,
        header_end,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        assert_eq!(
            load_code(&bytes[..cut]),
            Some("model_invalid"),
            "cut at {cut}"
        );
    }
}

#[test]
fn bit_flips_give_an_error_or_a_working_model_never_a_panic() {
    let bytes = model_bytes();
    let mut copy = bytes.to_vec();
    // The header: magic, version, counts, the first metadata key.
    let mut offsets: Vec<usize> = (0..40).collect();
    // Spread over the metadata and tensor directory, and a few in the weights.
    offsets.extend((1..12).map(|i| i * 150_001));
    offsets.extend([bytes.len() / 3, bytes.len() - 7]);
    let mut errors = 0;
    for at in offsets {
        let bit = at % 8;
        copy[at] ^= 1 << bit;
        if let Err(e) = Engine::load(&copy) {
            errors += 1;
            assert!(
                matches!(e.code(), "model_invalid" | "unsupported_model"),
                "flip at {at} bit {bit}: {e}"
            );
        }
        copy[at] ^= 1 << bit;
    }
    assert!(errors > 0, "flipping the magic must fail");
}

#[test]
fn an_unsupported_architecture_is_named() {
    let bytes = model_bytes();
    // "llama" in general.architecture -> "llamb"
    let at = find(bytes, b"general.architecture").unwrap() + "general.architecture".len();
    let value = at + 4 + 8; // value type u32, string length u64
    let mut copy = bytes.to_vec();
    assert_eq!(&copy[value..value + 5], b"llama");
    copy[value + 4] = b'b';
    let err = Engine::load(&copy).err().unwrap();
    assert_eq!(err.code(), "unsupported_model");
    assert!(err.to_string().contains("llamb"), "{err}");
    assert!(
        err.to_string().contains("llama, gemma3"),
        "lists the supported: {err}"
    );
}

#[test]
fn random_bytes_are_not_a_model() {
    let junk: Vec<u8> = (0..10_000u32)
        .map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes()[3])
        .collect();
    assert_eq!(load_code(&junk), Some("model_invalid"));
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
