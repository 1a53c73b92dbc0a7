//! The ledger's rules, natively.

#![allow(clippy::unwrap_used)]

use super::*;

fn peer(id: &str) -> PeerId {
    PeerId::new(id).unwrap()
}

fn offer(id: u32, size: u64) -> FileOffer {
    FileOffer {
        id,
        name: "a.bin".to_owned(),
        size,
        mime: String::new(),
        sha256: "00".to_owned(),
    }
}

fn state(update: Option<Update>) -> TransferState {
    update.unwrap().state
}

#[test]
fn ours_goes_offered_sending_sent_delivered_as_receivers_accept_and_confirm() {
    let mut ledger = Ledger::default();
    let (ana, ben) = (peer("ana"), peer("ben"));
    let id = ledger.start_sending(1, &[ana.clone(), ben.clone()]);
    assert!(ledger.still_sending(id, &ana));
    assert_eq!(
        state(ledger.record(id, &ana, Delivery::Sent)),
        TransferState::Offered,
        "nothing is sent before it is accepted"
    );
    assert_eq!(state(ledger.accepted(id, &ana)), TransferState::Sending);
    assert_eq!(ledger.accepted(id, &ana), None, "once");
    ledger.accepted(id, &ben);
    assert_eq!(
        state(ledger.record(id, &ana, Delivery::Sent)),
        TransferState::Sending
    );
    assert!(!ledger.still_sending(id, &ana));
    let sent = state(ledger.record(id, &ben, Delivery::Sent));
    let two_sent = Tally {
        sent: 2,
        ..Tally::default()
    };
    assert_eq!(sent, TransferState::Sent(two_sent));
    ledger.record(id, &ana, Delivery::Confirmed);
    let delivered = state(ledger.record(id, &ben, Delivery::Confirmed));
    let two = Tally {
        confirmed: 2,
        ..Tally::default()
    };
    assert_eq!(delivered, TransferState::Delivered(two));
}

#[test]
fn final_deliveries_do_not_move_and_sent_only_follows_sending() {
    let mut ledger = Ledger::default();
    let ana = peer("ana");
    let id = ledger.start_sending(1, std::slice::from_ref(&ana));
    ledger.record(id, &ana, Delivery::Declined);
    assert_eq!(ledger.accepted(id, &ana), None, "declined stays declined");
    ledger.record(id, &ana, Delivery::Sent);
    let after = state(ledger.record(id, &ana, Delivery::Confirmed));
    let declined = Tally {
        declined: 1,
        ..Tally::default()
    };
    assert_eq!(after, TransferState::NotDelivered(declined));
    assert_eq!(ledger.record(id, &peer("stranger"), Delivery::Sent), None);
}

#[test]
fn a_receiver_leaving_counts_as_lost_beside_the_others() {
    let mut ledger = Ledger::default();
    let (ana, ben) = (peer("ana"), peer("ben"));
    let id = ledger.start_sending(4, &[ana.clone(), ben.clone()]);
    ledger.accepted(id, &ana);
    ledger.record(id, &ana, Delivery::Sent);
    ledger.record(id, &ana, Delivery::Confirmed);
    let updates = ledger.lose_receiver(&ben);
    let tally = Tally {
        confirmed: 1,
        lost: 1,
        ..Tally::default()
    };
    assert_eq!(
        updates,
        vec![Update {
            row: 4,
            state: TransferState::Delivered(tally)
        }]
    );
    // Ana had confirmed: losing her now changes nothing.
    let again = ledger.lose_receiver(&ana);
    assert_eq!(again[0].state, TransferState::Delivered(tally));
}

#[test]
fn stopping_ours_tells_only_those_still_receiving() {
    let mut ledger = Ledger::default();
    let (ana, ben) = (peer("ana"), peer("ben"));
    let id = ledger.start_sending(2, &[ana.clone(), ben.clone()]);
    ledger.record(id, &ana, Delivery::Declined);
    let Some(Stop::Ours {
        id: stopped,
        tell,
        update,
    }) = ledger.stop(2)
    else {
        panic!("not ours");
    };
    assert_eq!((stopped, tell), (id, vec![ben.clone()]));
    assert_eq!(update.state, TransferState::Cancelled(Cancelled::ByUs));
    assert!(!ledger.still_sending(id, &ben));
}

#[test]
fn theirs_arrives_in_chunks_and_leaves_the_ledger_when_complete() {
    let mut ledger = Ledger::default();
    let ana = peer("ana");
    let answer = ledger.offered(&ana, &offer(7, 10), 3, 100);
    assert_eq!(answer.update.state, TransferState::Receiving);
    assert_eq!(answer.reply, Some(FileControl::Accept { id: 7 }));
    let first = ledger.arrived(&ana, 7, 4).unwrap();
    assert!(!first.complete());
    let last = ledger.arrived(&ana, 7, 6).unwrap();
    assert_eq!((last.row, last.received, last.complete()), (3, 10, true));
    assert_eq!(
        ledger.arrived(&ana, 7, 1),
        None,
        "a finished file takes no more bytes"
    );
    assert_eq!(
        ledger.arrived(&peer("ben"), 7, 1),
        None,
        "ids are per sender"
    );
}

#[test]
fn an_offer_over_the_cap_is_refused_and_never_arrives() {
    let mut ledger = Ledger::default();
    let ana = peer("ana");
    let answer = ledger.offered(&ana, &offer(1, 101), 5, 100);
    assert_eq!(
        answer.update.state,
        TransferState::Failed(Failure::TooBig { max: 100 })
    );
    assert_eq!(answer.reply, Some(FileControl::Decline { id: 1 }));
    assert_eq!(ledger.arrived(&ana, 1, 10), None);
}

#[test]
fn a_large_offer_waits_for_an_answer_and_takes_no_bytes_before_it() {
    let mut ledger = Ledger::default();
    let ana = peer("ana");
    let large = ACCEPT_WITHOUT_ASKING + 1;
    let answer = ledger.offered(&ana, &offer(4, large), 9, u64::MAX);
    assert_eq!(
        (answer.update.state, answer.reply),
        (TransferState::Asking, None)
    );
    assert_eq!(ledger.arrived(&ana, 4, 10), None, "not accepted yet");
    let (from, id, update) = ledger.accept(9).unwrap();
    assert_eq!(
        (from, id, update.state),
        (ana.clone(), 4, TransferState::Receiving)
    );
    assert_eq!(ledger.accept(9), None, "once");
    assert_eq!(ledger.arrived(&ana, 4, 10).unwrap().received, 10);
}

#[test]
fn offers_beyond_the_limits_are_declined() {
    let mut ledger = Ledger::default();
    let ana = peer("ana");
    let (small, large) = (10, ACCEPT_WITHOUT_ASKING + 1);
    for id in 0..MAX_ARRIVING as u32 {
        ledger.offered(&ana, &offer(id, small), id as usize, u64::MAX);
    }
    for id in 10..10 + MAX_ASKING as u32 {
        ledger.offered(&ana, &offer(id, large), id as usize, u64::MAX);
    }
    let busy = |limit| TransferState::Failed(Failure::Busy { limit });
    let one_more = ledger.offered(&ana, &offer(20, small), 20, u64::MAX);
    assert_eq!(one_more.update.state, busy(MAX_ARRIVING));
    assert_eq!(one_more.reply, Some(FileControl::Decline { id: 20 }));
    let one_more_large = ledger.offered(&ana, &offer(21, large), 21, u64::MAX);
    assert_eq!(one_more_large.update.state, busy(MAX_ASKING));
    // One arrives: room for another.
    ledger.arrived(&ana, 0, small);
    let next = ledger.offered(&ana, &offer(22, small), 22, u64::MAX);
    assert_eq!(next.update.state, TransferState::Receiving);
}

#[test]
fn theirs_can_be_declined_cancelled_or_failed_once() {
    let mut ledger = Ledger::default();
    let ana = peer("ana");
    ledger.offered(&ana, &offer(1, 10), 1, 100);
    ledger.offered(&ana, &offer(2, 10), 2, 100);
    ledger.offered(&ana, &offer(3, 10), 3, 100);
    let Some(Stop::Theirs { from, id, update }) = ledger.stop(1) else {
        panic!("not theirs");
    };
    assert_eq!((from, id), (ana.clone(), 1));
    assert_eq!(update.state, TransferState::Cancelled(Cancelled::Declined));
    let cancelled = state(ledger.cancelled_by_sender(&ana, 2, "Ana"));
    assert_eq!(
        cancelled,
        TransferState::Cancelled(Cancelled::BySender("Ana".into()))
    );
    let failed = ledger.fail_from(&ana, &Failure::SenderClosed);
    assert_eq!(
        failed,
        vec![Update {
            row: 3,
            state: TransferState::Failed(Failure::SenderClosed)
        }]
    );
    assert_eq!(ledger.stop(1), None);
    assert_eq!(ledger.cancelled_by_sender(&ana, 2, "Ana"), None);
    assert!(ledger.fail_from(&ana, &Failure::SenderClosed).is_empty());
}
