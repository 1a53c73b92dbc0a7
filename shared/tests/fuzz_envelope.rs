//! Mutation fuzzing of the envelope decoder (stable Rust, no cargo-fuzz): valid client and
//! server messages are flipped, cut, spliced and stuffed with odd bytes, and every result
//! is decoded. No input may panic, and whatever decodes must encode and decode back to
//! itself. The normal suite runs 50,000 inputs; a long run:
//! `NOOM_FUZZ_INPUTS=10000000 cargo test --release -p noom-shared --test fuzz_envelope -- --nocapture`

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Instant;

use noom_shared::testing::Dice;
use noom_shared::{ClientMessage, Envelope, Message, ServerMessage};

const SEEDS: &[&str] = &[
    r#"{"type":"list_rooms","payload":{},"id":1}"#,
    r#"{"type":"join","payload":{"room":"standup","nickname":"Ada"},"id":2}"#,
    r#"{"type":"leave","payload":{}}"#,
    r#"{"type":"signal","payload":{"to":"p2","data":{"candidate":null}}}"#,
    r#"{"type":"signal","payload":{"to":"p2","data":{"description":{"type":"offer","sdp":"v=0\r\n"},"screen":"s1"}}}"#,
    r#"{"type":"chat","payload":{"text":"hello <b>all</b> 김민지 👋"}}"#,
    r#"{"type":"set_nickname","payload":{"nickname":"Grace"}}"#,
    r#"{"type":"set_status","payload":{"muted":true,"camera_off":false,"hand_raised":true}}"#,
    r#"{"type":"resume","payload":{"token":"0123456789abcdef0123456789abcdef"},"id":5}"#,
    r#"{"type":"welcome","payload":{"peer_id":"p1","ice_servers":[{"urls":["turn:t:3478"],"username":"u","credential":"c"}],"max_room_size":8,"max_file_bytes":25000000,"protocol":1}}"#,
    r#"{"type":"joined","payload":{"room":"standup","peer_id":"p2","peers":[{"peer_id":"p1","nickname":"Ada"}]},"id":2}"#,
    r#"{"type":"error","payload":{"code":"room_full","message":"room is full"},"id":4}"#,
];

/// Bytes that tend to break parsers: quotes, escapes, brackets, separators, invalid and
/// multi-byte UTF-8, bidi and zero-width characters, huge numbers.
const STUFFING: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"\0",
    b"\xff",
    b"\xc3",
    "\u{202E}".as_bytes(),
    "\u{200B}".as_bytes(),
    "é".as_bytes(),
    b"\"type\"",
    b"\"payload\"",
    b"\"id\"",
];

fn mutate(dice: &mut Dice, input: &mut Vec<u8>) {
    for _ in 0..=dice.roll(4) {
        let at = dice.roll(input.len() + 1);
        match dice.roll(6) {
            0 if !input.is_empty() => {
                let last = input.len() - 1;
                input[at.min(last)] ^= 1 << dice.roll(8);
            }
            1 => input.truncate(at),
            2 => {
                let stuffing = STUFFING[dice.roll(STUFFING.len())];
                input.splice(at..at, stuffing.iter().copied());
            }
            3 => {
                let other = SEEDS[dice.roll(SEEDS.len())].as_bytes();
                let from = dice.roll(other.len());
                input.splice(at..at, other[from..].iter().copied());
            }
            4 if at < input.len() => {
                let end = (at + 1 + dice.roll(16)).min(input.len());
                input.drain(at..end);
            }
            _ => {
                let repeat: Vec<u8> = input[..at].to_vec();
                input.extend_from_slice(&repeat);
            }
        }
    }
}

/// Decodes `text` as `M`; whatever decodes survives an encode-decode round trip.
fn check<M: Message + Clone + PartialEq + std::fmt::Debug>(text: &str) -> bool {
    let Ok(envelope) = Envelope::<M>::decode(text) else {
        return false;
    };
    let again = Envelope::<M>::decode(&envelope.clone().encode()).unwrap();
    assert_eq!(again.message, envelope.message, "round trip of {text:?}");
    assert_eq!(again.id, envelope.id);
    true
}

#[test]
fn mutated_envelopes_never_panic_and_what_decodes_round_trips() {
    let inputs: u64 = std::env::var("NOOM_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000);
    let started = Instant::now();
    let mut dice = Dice(0x5EED_0F00_0000_0001);
    let mut decoded = 0u64;
    for _ in 0..inputs {
        let mut input = SEEDS[dice.roll(SEEDS.len())].as_bytes().to_vec();
        mutate(&mut dice, &mut input);
        let text = String::from_utf8_lossy(&input);
        if check::<ClientMessage>(&text) | check::<ServerMessage>(&text) {
            decoded += 1;
        }
    }
    println!(
        "{inputs} mutated envelopes in {:?}, {decoded} still decoded",
        started.elapsed()
    );
    assert!(
        decoded > 0,
        "the mutations left nothing valid: they test nothing"
    );
}
