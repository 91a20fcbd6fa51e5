//! Which vocabulary tokens a matcher accepts now: the tokens sorted by their bytes
//! form an implicit trie, walked depth first with one matcher step per trie edge, so
//! a byte rejected at depth `d` prunes every token sharing that prefix.
//!
//! Between two characters of a string with length limits the walk runs without
//! the limits (a state shared by every character of the string, so its mask is
//! cached once); the limits then filter that set by what each token adds to a
//! string, known ahead.

use super::matcher::{string_run, Limits, Matcher};
use super::schema::Schema;
use crate::tokenizer::Tokenizer;

/// The vocabulary ordered for walking as a trie; built once per engine.
pub struct TokenTrie {
    /// Ids of tokens with text (control tokens excluded), sorted by their bytes.
    sorted: Vec<u32>,
    /// End-of-generation ids: allowed only once the value is complete.
    end: Vec<u32>,
    /// Every token with the characters it adds inside a string (see
    /// [`string_run`]), most first.
    longest_first: Vec<(u32, u32)>,
    /// The tokens that close a string, with the characters they add before.
    closers: Vec<(u32, u32)>,
    vocab: usize,
}

/// A set of token ids, one bit each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet(Vec<u64>);

impl TokenSet {
    pub(crate) fn new(vocab: usize) -> Self {
        TokenSet(vec![0; vocab.div_ceil(64)])
    }

    pub(crate) fn insert(&mut self, id: u32) {
        self.0[id as usize / 64] |= 1 << (id % 64);
    }

    fn remove(&mut self, id: u32) {
        self.0[id as usize / 64] &= !(1 << (id % 64));
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        self.0
            .get(id as usize / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// How many ids are in the set.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The ids in the set, in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        })
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

impl TokenTrie {
    /// Index the vocabulary of `tokenizer`.
    pub fn new(tokenizer: &Tokenizer) -> Self {
        let vocab = tokenizer.vocab_size();
        let mut sorted: Vec<u32> = (0..vocab as u32)
            .filter(|&id| !tokenizer.piece(id).is_empty() && !tokenizer.is_control(id))
            .collect();
        sorted.sort_by(|&a, &b| tokenizer.piece(a).cmp(tokenizer.piece(b)));
        let end = (0..vocab as u32)
            .filter(|&id| tokenizer.is_end_of_generation(id))
            .collect();
        let runs: Vec<_> = (0..vocab as u32)
            .map(|id| (string_run(tokenizer.piece(id)), id))
            .collect();
        let mut longest_first: Vec<_> = runs.iter().map(|&((chars, _), id)| (chars, id)).collect();
        longest_first.sort_unstable_by(|a, b| b.cmp(a));
        let closers = runs
            .iter()
            .filter(|((_, closes), _)| *closes)
            .map(|&((chars, _), id)| (chars, id))
            .collect();
        TokenTrie {
            sorted,
            end,
            longest_first,
            closers,
            vocab,
        }
    }

    /// The tokens whose every byte `matcher` accepts, plus the end-of-generation
    /// tokens when the value is already complete.
    pub fn allowed(&self, tokenizer: &Tokenizer, schema: &Schema, matcher: &Matcher) -> TokenSet {
        let mut set = TokenSet::new(self.vocab);
        let mut walk = Walk {
            tokenizer,
            schema,
            sorted: &self.sorted,
            set: &mut set,
            states: vec![matcher.clone()],
        };
        walk.children(0, 0, self.sorted.len());
        if matcher.is_complete(schema) {
            self.end.iter().for_each(|&id| set.insert(id));
        }
        set
    }

    /// The tokens of `free` (the tokens allowed between two characters of a string
    /// without limits) that keep to `limits` there: without those that add too many
    /// characters (few while there is room) or close the string too soon.
    pub(crate) fn limit(&self, free: &TokenSet, limits: Limits) -> TokenSet {
        let mut set = free.clone();
        let too_long = self
            .longest_first
            .iter()
            .take_while(|&&(chars, _)| !limits.allow(chars, false));
        let too_soon = self
            .closers
            .iter()
            .filter(|&&(chars, _)| !limits.allow(chars, true));
        too_long.chain(too_soon).for_each(|&(_, id)| set.remove(id));
        set
    }
}

struct Walk<'a> {
    tokenizer: &'a Tokenizer,
    schema: &'a Schema,
    sorted: &'a [u32],
    set: &'a mut TokenSet,
    /// `states[d]`: the matcher after the first `d` bytes of the current prefix
    /// (reused between siblings, so walking allocates little).
    states: Vec<Matcher>,
}

impl Walk<'_> {
    /// Visit `sorted[start..end]`, all sharing a prefix of `depth` bytes that
    /// `states[depth]` accepted.
    fn children(&mut self, depth: usize, start: usize, end: usize) {
        let piece = |id: u32| self.tokenizer.piece(id);
        let mut i = start;
        while i < end && piece(self.sorted[i]).len() == depth {
            self.set.insert(self.sorted[i]);
            i += 1;
        }
        while i < end {
            let byte = piece(self.sorted[i])[depth];
            let group = i + self.sorted[i..end].partition_point(|&id| piece(id)[depth] == byte);
            if self.states.len() <= depth + 1 {
                self.states.push(Matcher::default());
            }
            let (before, after) = self.states.split_at_mut(depth + 1);
            let next = &mut after[0];
            next.clone_from(&before[depth]);
            if next.feed(self.schema, byte) {
                self.children(depth + 1, i, group);
            }
            i = group;
        }
    }
}
