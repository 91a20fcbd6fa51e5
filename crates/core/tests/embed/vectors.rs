//! Vectors against the float64 reference: cosine ≥ 0.9999 per text with f32 weights
//! (the safetensors folder and the F32 GGUF), ≥ 0.999 with Q8_0 weights; every text
//! in one call (so in padded batches of mixed lengths) and alone give the same vectors
//! within rounding.

use tandem_core::Encoder;

use crate::{cosine, floats, folder_encoder, gguf_encoder, reference};

/// The worst cosine over the reference texts, all embedded in one call.
fn worst_cosine(encoder: &Encoder) -> (f64, String) {
    let texts: Vec<&str> = reference()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    let got = encoder.embed(&texts, true).unwrap();
    assert_eq!(got.data.len(), texts.len());
    let mut worst = (1.0f64, String::new());
    for (e, line) in got.data.iter().zip(reference()) {
        assert_eq!(e.vector.len(), 384);
        let c = cosine(&e.vector, &floats(&line["embedding"]));
        if c < worst.0 {
            worst = (c, line["text"].as_str().unwrap().chars().take(40).collect());
        }
    }
    worst
}

#[test]
fn safetensors_folder_within_1e4_of_the_reference() {
    let (c, text) = worst_cosine(folder_encoder());
    assert!(c >= 0.9999, "worst cosine {c} for {text:?}");
}

#[test]
fn f32_gguf_within_1e4_of_the_reference() {
    let (c, text) = worst_cosine(&gguf_encoder("f32"));
    assert!(c >= 0.9999, "worst cosine {c} for {text:?}");
}

#[test]
fn q8_0_gguf_within_1e3_of_the_reference() {
    let (c, text) = worst_cosine(&gguf_encoder("q8_0"));
    assert!(c >= 0.999, "worst cosine {c} for {text:?}");
}

#[test]
fn a_text_alone_equals_it_in_a_batch() {
    let encoder = folder_encoder();
    let texts = [
        "A man is eating food.",
        "A much longer sentence, with more tokens in it than the first.",
        "Hi",
    ];
    let batch = encoder.embed(&texts, false).unwrap();
    for (text, e) in texts.iter().zip(&batch.data) {
        let alone = &encoder.embed(&[text], false).unwrap().data[0];
        assert_eq!(alone.ids, e.ids);
        let c = cosine(
            &alone.vector,
            &e.vector.iter().map(|&x| x as f64).collect::<Vec<_>>(),
        );
        assert!(c > 0.999_999, "{text:?}: {c}");
    }
    assert_eq!(
        batch.tokens(),
        batch.data.iter().map(|e| e.ids.len()).sum::<usize>()
    );
}
