//! Retrieval sanity (tests/fixtures/embed_retrieval.jsonl): for each query, its
//! paraphrase ranks first among every query's paraphrase and its own distractors for
//! at least 90% of the queries.

use crate::common;
use crate::folder_encoder;

#[test]
fn the_paraphrase_ranks_first_for_nine_queries_in_ten() {
    let encoder = folder_encoder();
    let cases = common::fixture("embed_retrieval.jsonl");
    assert!(cases.len() >= 20);
    let text = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    let paraphrases: Vec<String> = cases.iter().map(|c| text(&c["paraphrase"])).collect();
    let refs: Vec<&str> = paraphrases.iter().map(String::as_str).collect();
    let para = encoder.embed(&refs, false).unwrap();
    let mut first = 0;
    for (i, case) in cases.iter().enumerate() {
        let query = &encoder.embed(&[&text(&case["query"])], false).unwrap().data[0].vector;
        let distractors: Vec<String> = case["distractors"]
            .as_array()
            .unwrap()
            .iter()
            .map(text)
            .collect();
        let refs: Vec<&str> = distractors.iter().map(String::as_str).collect();
        let dis = encoder.embed(&refs, false).unwrap();
        let dot = |v: &[f32]| v.iter().zip(query).map(|(a, b)| a * b).sum::<f32>();
        let scores: Vec<f32> = para
            .data
            .iter()
            .chain(&dis.data)
            .map(|e| dot(&e.vector))
            .collect();
        let best = (0..scores.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        first += usize::from(best == i);
    }
    assert!(
        first * 10 >= cases.len() * 9,
        "the paraphrase ranks first for {first} of {}",
        cases.len()
    );
}
