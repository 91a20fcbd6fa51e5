//! BERT's pre-tokenisation, as `tokenizers`' `BertPreTokenizer` does it: words split
//! at whitespace (removed) and at punctuation (each mark a word of its own).
//! Punctuation is ASCII punctuation (symbols such as `$`, `+`, `^` included) and
//! Unicode's P* categories.

use unicode_categories::UnicodeCategories;

/// The words of normalised `text`, in order.
pub fn words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for chunk in text.split(char::is_whitespace) {
        let mut start = 0;
        for (i, c) in chunk.char_indices() {
            if is_punctuation(c) {
                if start < i {
                    words.push(&chunk[start..i]);
                }
                words.push(&chunk[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        if start < chunk.len() {
            words.push(&chunk[start..]);
        }
    }
    words
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_punctuation()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_spaces_and_around_punctuation() {
        assert_eq!(
            words("hey friend!     how are you?!?"),
            ["hey", "friend", "!", "how", "are", "you", "?", "!", "?"]
        );
        assert_eq!(words("a$b «c»"), ["a", "$", "b", "«", "c", "»"]);
        assert!(words("   ").is_empty());
    }
}
