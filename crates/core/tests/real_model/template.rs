use tandem_core::{ChatMessage, Role};

use crate::{engine, fixture, ids, messages};

#[test]
fn prompt_ids_match_llama_cpp_for_every_fixture() {
    let engine = engine();
    for line in fixture("greedy.jsonl") {
        assert_eq!(
            engine.chat_prompt(&messages(&line)).unwrap(),
            ids(&line["prompt_ids"]),
            "prompt of {}",
            line["messages"]
        );
    }
}

#[test]
fn a_system_message_replaces_the_default_one() {
    let engine = engine();
    let with_system = [
        ChatMessage::new(Role::System, "Be brief."),
        ChatMessage::new(Role::User, "Hi"),
        ChatMessage::new(Role::Assistant, "Hello!"),
        ChatMessage::new(Role::User, "Bye"),
    ];
    let text = engine
        .tokenizer()
        .decode(&engine.chat_prompt(&with_system).unwrap());
    assert_eq!(
        text,
        "system\nBe brief.\nuser\nHi\nassistant\nHello!\nuser\nBye\nassistant\n"
    );
}

#[test]
fn empty_messages_are_an_invalid_request() {
    let err = engine().chat_prompt(&[]).unwrap_err();
    assert_eq!(err.code(), "invalid_request");
}
