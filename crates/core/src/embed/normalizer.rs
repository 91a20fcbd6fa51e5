//! BERT's text normalisation, as Hugging Face `tokenizers`' `BertNormalizer` does it:
//! control characters dropped and whitespace made plain spaces (clean text), spaces
//! around CJK ideographs, accents stripped (NFD, then nonspacing marks dropped) and
//! lowercase, each when asked. Character classes come from the crates `tokenizers`
//! itself uses (unicode_categories, unicode-normalization-alignments), so the tables
//! are the same.

use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::UnicodeNormalization;

/// Which steps of BERT's normalisation run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalizer {
    /// Drop NUL, U+FFFD and control/format/private-use characters; whitespace → ' '.
    pub clean_text: bool,
    /// Put spaces around CJK ideographs, so each is a word of its own.
    pub chinese_chars: bool,
    /// Decompose (NFD) and drop nonspacing marks.
    pub strip_accents: bool,
    /// Lowercase, character by character.
    pub lowercase: bool,
}

impl Normalizer {
    /// Everything on: llama.cpp's BERT tokenizer, and `tokenizers`' defaults.
    pub const ALL: Normalizer = Normalizer {
        clean_text: true,
        chinese_chars: true,
        strip_accents: true,
        lowercase: true,
    };

    /// `text` normalised.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        for c in text.chars() {
            if self.clean_text {
                if c == '\0' || c == '\u{fffd}' || is_control(c) {
                    continue;
                }
                if is_whitespace(c) {
                    out.push(' ');
                    continue;
                }
            }
            if self.chinese_chars && is_chinese_char(c) {
                out.extend([' ', c, ' ']);
            } else {
                out.push(c);
            }
        }
        if self.strip_accents {
            out = out
                .as_str()
                .nfd()
                .map(|(c, _)| c)
                .filter(|c| !c.is_mark_nonspacing())
                .collect();
        }
        if self.lowercase {
            out = out.chars().flat_map(char::to_lowercase).collect();
        }
        out
    }
}

/// Whitespace for BERT: tab, newline and carriage return, and Unicode's White_Space.
fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// A control character for BERT: Unicode's Cc, Cf and Co, but tab, newline and
/// carriage return (whitespace).
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// A CJK ideograph (the CJK Unified Ideographs blocks and their extensions A–E, and
/// the compatibility ideographs).
fn is_chinese_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_spaces_ideographs_accents_and_case() {
        let n = Normalizer::ALL;
        assert_eq!(n.normalize("Café\tNAÏVE\u{200b}x\u{7}"), "cafe naivex");
        assert_eq!(n.normalize("中文a"), " 中  文 a");
        assert_eq!(n.normalize("İ"), "i");
        let keep = Normalizer {
            strip_accents: false,
            lowercase: false,
            ..Normalizer::ALL
        };
        assert_eq!(keep.normalize("Café"), "Café");
    }
}
