//! Cheap cues in a prompt's words: one pass over lowercase words, with keyword tables
//! looked up in a hash map built once. The scanned text is capped (head and tail), so
//! the cost is bounded whatever the prompt's length.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Bytes of a prompt scanned from its start and from its end.
const HEAD_BYTES: usize = 6000;
const TAIL_BYTES: usize = 2000;

/// A kind of cue a keyword stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cue {
    /// Programming vocabulary.
    Code,
    /// An artefact of code to write ("function", "script"), after a making verb.
    CodeArtefact,
    /// Mathematics.
    Math,
    /// Analysis, comparison, planning, explanation.
    Reasoning,
    /// A request for a long text.
    Long,
    /// A request for a short text.
    Short,
    /// Rewriting, correcting, changing the tone.
    Rewrite,
    /// Classifying, labelling, answering yes or no.
    Classify,
    /// Replying, greeting, suggesting replies.
    Reply,
    /// Extracting fields or names.
    Extract,
    /// Looking up one small fact about a word or a thing (synonym, plural, capital).
    Lookup,
    /// Summarising.
    Summarize,
    /// Translation or a language name.
    Translate,
    /// Legal, medical, financial expertise.
    Expert,
    /// Requirements and constraints ("must", "handle", "edge cases").
    Constraint,
    /// Creative writing of some length (story, lyrics).
    Creative,
    /// Common words of other languages.
    Foreign,
    /// A verb that makes something ("write", "build").
    Make,
}

const TABLE: &[(Cue, &str)] = &[
    (Cue::Code, "code coding function functions class method python javascript typescript rust java golang kotlin swift sql regex api apis algorithm algorithms bug bugs debug compile compiler compiles script scripts program programs programming implement implementation refactor database async await thread threads recursion recursive array arrays struct loop variable html css react vue angular docker kubernetes backend frontend endpoint leetcode complexity git bash shell snippet cli parser exception segfault concurrency mutex lambda closure webpack npm cargo pandas numpy django flask node.js nodejs microservice microservices cache caching latency schema orm graphql grpc linux cpp stack trace runtime sdk interface deadlock kernel"),
    (Cue::Code, "unit test|memory leak|linked list|binary tree|hash map|time complexity|big o|data structure|pull request|stack overflow|rest api|web app|type error|null pointer"),
    (Cue::CodeArtefact, "function class program script module endpoint app application website component parser regex query tests test cli bot game server library plugin extension algorithm compiler interpreter api crawler scraper backend frontend service pipeline dashboard"),
    (Cue::Make, "write create build implement generate make code develop design"),
    (Cue::Math, "prove proof derive derivation integral integrate derivative differentiate equation equations theorem lemma probability calculate compute solve mph matrix matrices eigenvalue eigenvalues statistics statistical variance regression formula polynomial factorial primes geometry triangle algebra calculus converge converges convergence logarithm vector vectors modulo fibonacci combinatorics permutations permutation bayes bayesian hypothesis integer integers divisible arithmetic quadratic sqrt sum percent percentage"),
    (Cue::Math, "expected value|standard deviation|compound interest|km h|per hour|per minute|per second"),
    (Cue::Reasoning, "why compare comparison contrast analyze analyse analysis evaluate evaluation tradeoffs pros cons reasoning argue argument justify implications design architecture strategy strategies plan planning critique assess recommend recommendations debate investigate diagnose troubleshoot predict consequences impact causes relationship explain explanation optimize optimise scalable scale differences reasons discuss elaborate roadmap migrate migration"),
    (Cue::Reasoning, "show your work|show your working|show the work|show the steps|show every step|show your reasoning|show the calculation|step by step|trade offs|difference between|how does|how do|how would|what would happen|walk me through|think through|root cause|in detail|pros and cons"),
    (Cue::Long, "essay essays detailed depth comprehensive thorough thoroughly report article blog guide tutorial chapter whitepaper proposal documentation extensive exhaustive lengthy curriculum syllabus outline screenplay novel speech thesis dissertation manual handbook course"),
    (Cue::Long, "in depth|business plan|cover letter|lesson plan|full explanation|long form|research paper|literature review|case study|book report"),
    (Cue::Short, "briefly brief short shortly concise concisely tldr title headline tweet caption slogan tagline emoji hashtag hashtags nickname label one-liner oneliner quick"),
    (Cue::Short, "tl dr|yes or no|one word|single word|a word|one sentence|a sentence|single sentence|one line|a few words|subject line|few words|one phrase|short answer|two words|three words"),
    (Cue::Rewrite, "rewrite rephrase paraphrase reword fix correct proofread shorten spell spelling grammar typo typos punctuation polite politely formal informal friendly tone convert format uppercase lowercase capitalize autocomplete rename sort alphabetize"),
    (Cue::Rewrite, "fill in|complete the sentence|finish the sentence|make it|turn this|turn it|more polite|less formal|more formal|more casual"),
    (Cue::Classify, "classify categorize categorise categorization classification sentiment positive negative neutral spam detect tag label rate pick choose"),
    (Cue::Classify, "is this|is it|which category|what language|does this|yes or no"),
    (Cue::Reply, "reply respond greet hello hi hey thanks thank suggest joke haiku greeting compliment decline accept confirm remind reminder acknowledge congratulate apologize apologise"),
    (Cue::Reply, "smart replies|quick reply|say hello|say thanks"),
    (Cue::Extract, "extract"),
    (Cue::Extract, "pull out|list the names|list all the|find the date|find the name"),
    (Cue::Lookup, "synonym synonyms antonym antonyms opposite plural singular define definition abbreviation acronym rhymes rhyme mentioned"),
    (Cue::Lookup, "name a|name one|name two|name three|name an|stand for|capital of|what time|what color|what colour|which is bigger|which is larger|which is smaller|how many days|what day|in order|odd one|the price|the date|the name|spell out"),
    (Cue::Summarize, "summarize summarise summary summarizing summarising gist recap tldr condense"),
    (Cue::Summarize, "tl dr"),
    (Cue::Translate, "translate translation translating french spanish german italian portuguese japanese chinese mandarin korean russian arabic hindi dutch swedish polish turkish greek hebrew vietnamese thai indonesian latin"),
    (Cue::Expert, "legal law lawyer contract contracts clause liability lawsuit court medical medicine diagnosis symptoms symptom treatment dosage drug drugs clinical patient tax taxes investment investments portfolio financial finance mortgage accounting regulation regulations regulatory compliance gdpr hipaa patent insurance prescription pharmacology epidemiology securities audit jurisdiction litigation"),
    (Cue::Constraint, "must should ensure without include including handle requirements requirement constraints constraint edge cases each every following additionally also using efficient efficiently robust production"),
    (Cue::Constraint, "make sure|at least|at most|take into account|as well as"),
    (Cue::Creative, "story stories fiction fable lyrics song screenplay novel poem poetry plot characters narrative chapter dialogue worldbuilding"),
    (Cue::Foreign, "el en del al mi su con le la et du au zu den dem im il di da per uno ma em os um uma les des est und der das ist nicht ich los las que por para una che della het een niet och att jag vous nous pour avec sind wie mit auf como pero muy dans sur pas sie wir nein oder aber ein eine gibt kann ne je suis mais tu il elle ou qui quoi"),
];

/// Keyword tables keyed by first word: each entry is the remaining words and the cue.
type Index = HashMap<&'static str, Vec<(Vec<&'static str>, Cue)>>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut map: Index = HashMap::new();
        for &(cue, list) in TABLE {
            let phrases: Vec<&str> = if list.contains('|') {
                list.split('|').collect()
            } else {
                list.split(' ').collect()
            };
            for phrase in phrases {
                let mut words = phrase.split(' ');
                if let Some(first) = words.next() {
                    let entry = (words.collect(), cue);
                    let entries = map.entry(first).or_default();
                    if !entries.contains(&entry) {
                        entries.push(entry);
                    }
                }
            }
        }
        map
    })
}

/// Splits lowercase text into words: letters, digits, and `'`/`.`/`+`/`-` inside words.
pub fn words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !(c.is_alphanumeric() || "'.+-".contains(c)))
        .map(|w| w.trim_matches(|c: char| "'.+-".contains(c)))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The part of `text` that is scanned, lowercase: all of it, or its head and tail.
pub fn scanned(text: &str) -> String {
    if text.len() <= HEAD_BYTES + TAIL_BYTES {
        return text.to_lowercase();
    }
    let mut head = HEAD_BYTES;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - TAIL_BYTES;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}\n{}", &text[..head], &text[tail..]).to_lowercase()
}

/// Counts of each cue in `words`, with the positions where they occur.
#[derive(Default, Debug)]
pub struct Hits {
    counts: HashMap<Cue, usize>,
    positions: HashMap<Cue, Vec<usize>>,
}

impl Hits {
    /// Finds every keyword of the tables in `words`.
    pub fn find(words: &[&str]) -> Hits {
        let index = index();
        let mut hits = Hits::default();
        for (i, w) in words.iter().enumerate() {
            let Some(entries) = index.get(w) else {
                continue;
            };
            for (rest, cue) in entries {
                let tail = &words[i + 1..];
                if tail.len() >= rest.len() && rest.iter().zip(tail).all(|(a, b)| a == b) {
                    *hits.counts.entry(*cue).or_default() += 1;
                    hits.positions.entry(*cue).or_default().push(i);
                }
            }
        }
        hits
    }

    /// How many times `cue` occurs.
    pub fn count(&self, cue: Cue) -> usize {
        self.counts.get(&cue).copied().unwrap_or(0)
    }

    /// Whether a `first` cue is followed by an `then` cue within `window` words.
    pub fn followed(&self, first: Cue, then: Cue, window: usize) -> bool {
        let (Some(a), Some(b)) = (self.positions.get(&first), self.positions.get(&then)) else {
            return false;
        };
        a.iter()
            .any(|&i| b.iter().any(|&j| j > i && j <= i + window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_phrases() {
        let lower = "please write a python function, step by step; it's a one-liner.";
        let w = words(lower);
        assert_eq!(w[..4], ["please", "write", "a", "python"]);
        assert!(w.contains(&"it's") && w.contains(&"one-liner"));
        let hits = Hits::find(&w);
        assert_eq!(hits.count(Cue::Reasoning), 1);
        assert_eq!(hits.count(Cue::Short), 1);
        assert!(hits.followed(Cue::Make, Cue::CodeArtefact, 4));
        assert!(!hits.followed(Cue::CodeArtefact, Cue::Make, 4));
    }

    #[test]
    fn long_text_is_capped() {
        let text = "word ".repeat(10_000);
        assert!(scanned(&text).len() <= HEAD_BYTES + TAIL_BYTES + 1);
        let wide = "é".repeat(10_000);
        assert!(scanned(&wide).len() <= HEAD_BYTES + TAIL_BYTES + 1);
    }
}
