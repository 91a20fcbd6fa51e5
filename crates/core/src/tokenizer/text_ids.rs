//! Token ids by text for a large vocabulary: every text in one buffer and an
//! open-addressing hash table of ids into it, three allocations in all where a
//! `HashMap<String, u32>` makes one per token (Gemma has 262,144).

/// Token ids by text.
pub struct TextIds {
    /// Every token's text, back to back in id order.
    texts: String,
    /// Where each token's text ends in `texts` (it starts where the previous one ends).
    ends: Vec<usize>,
    /// The table: id + 1 of a token, 0 for an empty slot. Its length is a power of two
    /// at least twice the number of tokens, and a text's token sits at the slot its
    /// hash picks or, when that was taken, at the first free one after it.
    slots: Vec<u32>,
}

impl TextIds {
    /// The ids of `tokens`, by position; a text that is there twice has the later id,
    /// as llama.cpp's map keeps it.
    pub fn new(tokens: &[&str]) -> Self {
        let mut texts = String::with_capacity(tokens.iter().map(|t| t.len()).sum());
        let mut ends = Vec::with_capacity(tokens.len());
        for text in tokens {
            texts.push_str(text);
            ends.push(texts.len());
        }
        let slot_count = (2 * tokens.len()).next_power_of_two();
        let mut ids = TextIds {
            texts,
            ends,
            slots: vec![0; slot_count],
        };
        for (id, text) in tokens.iter().enumerate() {
            let slot = ids.slot(text);
            ids.slots[slot] = id as u32 + 1;
        }
        ids
    }

    /// The id of the token spelt `text`.
    pub fn get(&self, text: &str) -> Option<u32> {
        self.slots[self.slot(text)].checked_sub(1)
    }

    /// The slot of the token spelt `text`, or the empty slot where it would go.
    fn slot(&self, text: &str) -> usize {
        let mask = self.slots.len() - 1;
        let mut slot = hash(text.as_bytes()) as usize & mask;
        loop {
            match self.slots[slot].checked_sub(1) {
                Some(id) if self.text(id) != text => slot = (slot + 1) & mask,
                _ => return slot,
            }
        }
    }

    fn text(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.texts[start..self.ends[id]]
    }
}

/// FNV-1a, with its bits spread by a multiplication (the table takes the low ones).
fn hash(bytes: &[u8]) -> u64 {
    let fnv = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (fnv ^ (fnv >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_finds_its_id_and_no_other_text_finds_one() {
        let tokens: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
        let mut refs: Vec<&str> = tokens.iter().map(|t| t.as_str()).collect();
        refs.push("");
        let ids = TextIds::new(&refs);
        for (id, text) in refs.iter().enumerate() {
            assert_eq!(ids.get(text), Some(id as u32));
        }
        assert_eq!(ids.get("t1000"), None);
        assert_eq!(ids.get("t"), None);
    }

    #[test]
    fn a_duplicate_text_has_its_later_id() {
        assert_eq!(TextIds::new(&["a", "b", "a"]).get("a"), Some(2));
    }
}
