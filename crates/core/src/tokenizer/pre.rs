//! Pre-tokenizers of byte-level BPE: how text is split into words before their bytes
//! merge, for each `tokenizer.ggml.pre` tandem knows, with llama.cpp's regexes
//! (src/llama-vocab.cpp) and the settings llama.cpp gives the same names.
//!
//! llama.cpp runs some of these regexes through hand-written splitters and others
//! through `std::regex` on text whose non-ASCII characters are replaced by their
//! category; both give the regex's own matches with `\p{L}`, `\p{N}` and `\s` as
//! Unicode's letters, numbers and white space, which is what the regex engine here
//! takes them for. (Each side's Unicode tables are of some version: characters
//! assigned since the older one may be classed differently.)

use fancy_regex::Regex;

use crate::error::{Error, Result};

/// GPT-2's pattern (contractions, letters, numbers, other, spaces).
const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Llama 3's pattern: contractions in any case (ASCII, as llama.cpp writes them out),
/// letters with one leading non-letter, numbers of up to three digits, other
/// characters with the line breaks after them, line breaks with the spaces before
/// them, spaces.
const LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen2's pattern: Llama 3's with every digit a word of its own.
const QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How text is split into words before BPE, and what llama.cpp does differently for
/// the vocabularies that use it.
pub struct PreTokenizer {
    /// Each numeric character is a word of its own before the regex runs (SmolLM).
    numbers_alone: bool,
    /// Words are this regex's matches; it matches every character somewhere.
    regex: Regex,
    /// A word that is itself a token is that token, whatever its merges would give
    /// (llama.cpp's `ignore_merges`, Llama 3).
    pub whole_words: bool,
    /// BOS is added to prompts when the metadata does not say (Llama 3).
    pub adds_bos: bool,
}

impl PreTokenizer {
    /// The pre-tokenizer `tokenizer.ggml.pre` names.
    pub fn from_name(name: &str) -> Result<Self> {
        let (pattern, numbers_alone, llama3) = match name {
            "smollm" => (GPT2, true, false),
            "gpt2" | "default" => (GPT2, false, false),
            "llama-bpe" | "llama3" | "llama-v3" => (LLAMA3, false, true),
            "qwen2" | "deepseek-r1-qwen" => (QWEN2, false, false),
            other => {
                return Err(Error::UnsupportedModel(format!(
                    "pre-tokenizer {other:?} (supported: smollm, gpt2, llama-bpe, qwen2)"
                )))
            }
        };
        Ok(PreTokenizer {
            numbers_alone,
            regex: Regex::new(pattern).expect("the pre-tokenizer patterns are valid"),
            whole_words: llama3,
            adds_bos: llama3,
        })
    }

    /// Split `text` into words, calling `word` on each in order.
    pub fn split(&self, text: &str, word: &mut impl FnMut(&str)) {
        if !self.numbers_alone {
            return self.split_regex(text, word);
        }
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c.is_numeric() {
                self.split_regex(&text[start..i], word);
                word(&text[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        self.split_regex(&text[start..], word);
    }

    fn split_regex(&self, text: &str, word: &mut impl FnMut(&str)) {
        for m in self.regex.find_iter(text).flatten() {
            word(m.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(name: &str, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        PreTokenizer::from_name(name)
            .unwrap()
            .split(text, &mut |w| out.push(w.to_string()));
        out
    }

    #[test]
    fn llama3_keeps_up_to_three_digits_together_and_qwen2_one() {
        assert_eq!(words("llama-bpe", "1234567"), ["123", "456", "7"]);
        assert_eq!(words("qwen2", "1234"), ["1", "2", "3", "4"]);
    }

    #[test]
    fn contractions_match_in_either_case_but_only_ascii() {
        assert_eq!(words("llama-bpe", "I'LL we'Ve"), ["I", "'LL", " we", "'Ve"]);
        // U+017F (long s) folds to "s" in Unicode, not for llama.cpp: no contraction.
        assert_eq!(words("qwen2", "'\u{17f}a"), ["'\u{17f}a"]);
    }

    #[test]
    fn line_breaks_stay_with_punctuation_and_spaces_before_them() {
        assert_eq!(
            words("qwen2", "end.\n\nNext  \n x"),
            ["end", ".\n\n", "Next", "  \n", " x"]
        );
        assert_eq!(words("llama-bpe", "a   b"), ["a", "  ", " b"]);
    }

    #[test]
    fn letters_take_one_leading_non_letter() {
        assert_eq!(words("llama-bpe", "\"quoted\" x"), ["\"quoted", "\"", " x"]);
    }

    #[test]
    fn an_unknown_pre_tokenizer_is_refused_by_name() {
        let err = PreTokenizer::from_name("tekken").err().unwrap();
        assert!(err.to_string().contains("tekken"), "{err}");
    }
}
