//! Placeholder weights of the difficulty scorer, set by hand until the trained ones land.
//! Logistic-regression weights, in `features::NAMES` order.

/// Feature names the weights were trained for.
pub const NAMES: [&str; 23] = [
    "bias",
    "length",
    "instruction_length",
    "code_syntax",
    "code_words",
    "write_code",
    "math",
    "reasoning",
    "several_questions",
    "non_english",
    "translate",
    "long_requested",
    "requested_long",
    "requested_short",
    "short_requested",
    "quick_task",
    "summarize",
    "summarize_long",
    "expert_domain",
    "constraints",
    "creative",
    "task_quick",
    "task_chat",
];

/// One weight per feature; the first is the bias.
pub const WEIGHTS: [f32; 23] = [
    -1.0, // bias
    1.5,  // length
    0.5,  // instruction_length
    1.5,  // code_syntax
    1.5,  // code_words
    2.5,  // write_code
    2.0,  // math
    1.5,  // reasoning
    1.0,  // several_questions
    2.0,  // non_english
    1.5,  // translate
    2.5,  // long_requested
    3.0,  // requested_long
    -2.0, // requested_short
    -1.5, // short_requested
    -2.0, // quick_task
    -0.5, // summarize
    2.0,  // summarize_long
    1.5,  // expert_domain
    1.0,  // constraints
    1.0,  // creative
    -3.0, // task_quick
    0.0,  // task_chat
];
