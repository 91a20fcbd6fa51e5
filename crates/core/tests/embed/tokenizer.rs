//! Token ids equal Hugging Face `tokenizers`' on every reference text, from the
//! tokenizer.json and from the GGUF's vocabulary.

use crate::{common, folder_encoder, gguf_encoder, reference};

#[test]
fn ids_equal_hugging_face_from_tokenizer_json_and_gguf() {
    let gguf = gguf_encoder("q8_0");
    for line in reference() {
        let text = line["text"].as_str().unwrap();
        let want = common::ids(&line["ids"]);
        let full = line["tokens"].as_u64().unwrap() as usize;
        for (name, encoder) in [("tokenizer.json", folder_encoder()), ("GGUF", &gguf)] {
            let ids = encoder.tokenize(text);
            assert_eq!(ids.len(), full, "{name}: token count of {text:?}");
            assert_eq!(
                &ids[..want.len() - 1],
                &want[..want.len() - 1],
                "{name}: {text:?}"
            );
            let got = &encoder.embed(&[text], true).unwrap().data[0];
            assert_eq!(
                got.ids, want,
                "{name}: the ids given to the encoder for {text:?}"
            );
            assert_eq!(got.truncated, full > 256);
        }
    }
}
