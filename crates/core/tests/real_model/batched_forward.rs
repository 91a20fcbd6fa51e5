//! One token for each of several sequences in one batched forward pass: each row's
//! logits are the bits its sequence gets when it runs alone.

use tandem_core::sampling::argmax;
use tandem_core::{ChatMessage, Engine, Role, Sequence};

use crate::engine;

/// Prompts of different lengths, so that the rows of a batch sit at different
/// positions.
const PROMPTS: [&str; 6] = [
    "Hi.",
    "What is the capital of France?",
    "Write a short poem about the sea, the waves, the tides and the fish that swim \
     in the deep, and the boats that sail above them.",
    "Count from one to five.",
    "Explain, step by step and in simple words, why the sky is blue during the day \
     and red at sunset, and what the air has to do with it. Then say the same about \
     the colour of the sea, and why it changes with the weather.",
    "Name a colour.",
];

/// Tokens each sequence runs after its prompt.
const STEPS: usize = 4;

fn prompt(engine: &Engine, text: &str) -> Vec<u32> {
    engine
        .chat_prompt(&[ChatMessage::new(Role::User, text)])
        .unwrap()
}

fn bits(logits: &[f32]) -> Vec<u32> {
    logits.iter().map(|x| x.to_bits()).collect()
}

/// The logits of `STEPS` greedy tokens after `prompt`, one at a time on the model's
/// own sequence.
fn alone(engine: &mut Engine, prompt: &[u32]) -> Vec<Vec<u32>> {
    let model = engine.model_mut();
    let mut logits = model.forward(prompt, 0).unwrap();
    (0..STEPS)
        .map(|i| {
            logits = model.forward(&[argmax(&logits)], prompt.len() + i).unwrap();
            bits(&logits)
        })
        .collect()
}

/// The same, for all `prompts` at once: each read alone into a sequence of its own,
/// then the greedy tokens one batch per step.
fn batched(engine: &mut Engine, prompts: &[Vec<u32>]) -> Vec<Vec<Vec<u32>>> {
    let model = engine.model_mut();
    let mut sequences: Vec<Sequence> = prompts.iter().map(|_| model.new_sequence()).collect();
    let mut logits: Vec<Vec<f32>> = prompts
        .iter()
        .zip(&mut sequences)
        .map(|(p, s)| model.forward_on(s, p, 0).unwrap())
        .collect();
    let mut out = vec![Vec::new(); prompts.len()];
    for _ in 0..STEPS {
        let tokens: Vec<u32> = logits.iter().map(|l| argmax(l)).collect();
        let mut batch: Vec<&mut Sequence> = sequences.iter_mut().collect();
        logits = model.forward_batch(&mut batch, &tokens).unwrap();
        for (out, l) in out.iter_mut().zip(&logits) {
            out.push(bits(l));
        }
    }
    for (s, p) in sequences.iter().zip(prompts) {
        assert_eq!(s.tokens().len(), p.len() + STEPS);
    }
    out
}

#[test]
fn a_batch_gives_each_sequence_the_logits_it_gets_alone() {
    let mut engine = engine();
    let engine = &mut *engine;
    let prompts: Vec<Vec<u32>> = PROMPTS.iter().map(|t| prompt(engine, t)).collect();
    let mut lengths: Vec<usize> = prompts.iter().map(Vec::len).collect();
    lengths.sort();
    lengths.dedup();
    assert_eq!(lengths.len(), PROMPTS.len(), "{lengths:?}");
    let want: Vec<_> = prompts.iter().map(|p| alone(engine, p)).collect();
    for n in 1..=prompts.len() {
        // A different mix of positions for each size: the last n prompts when n is odd.
        let first = if n % 2 == 1 { prompts.len() - n } else { 0 };
        let got = batched(engine, &prompts[first..first + n]);
        for (i, got) in got.iter().enumerate() {
            assert!(
                *got == want[first + i],
                "batch of {n}: row {i} (prompt {}) differs",
                first + i
            );
        }
    }
}

#[test]
fn a_batch_takes_one_token_per_sequence() {
    let mut engine = engine();
    let model = engine.model_mut();
    let mut ok = model.new_sequence();
    model.forward_on(&mut ok, &[1, 2, 3], 0).unwrap();
    // Tokens and sequences must pair up (the sequence is left as it was), and an
    // empty batch runs nothing.
    assert!(model.forward_batch(&mut [&mut ok], &[4, 5]).is_err());
    assert_eq!(
        model.forward_batch(&mut [], &[]).unwrap(),
        Vec::<Vec<f32>>::new()
    );
    assert_eq!(ok.tokens(), [1, 2, 3]);
}
