//! The file-transfer ledger: which of our files go to whom and how far each got, and which of
//! theirs are arriving. Plain data and functions, no browser: the transfers glue
//! (`session/transfers.rs`) turns what it returns into row signals and channel messages.

use std::collections::HashMap;

use noom_shared::{FileControl, FileOffer, PeerId};

use crate::rtc::files::FileProblem;

/// A row of the file list, unique within the visit.
pub type RowKey = usize;

/// How the receivers of one of our files are doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Got every byte and confirmed the checksum.
    pub confirmed: usize,
    /// Got every byte from us, not confirmed yet.
    pub sent: usize,
    pub declined: usize,
    /// Left, or their connection closed, first.
    pub lost: usize,
}

/// A row's state, as data; the transfer row puts it in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    /// Reading and checksumming our file.
    Preparing,
    /// Ours, offered; no receiver has accepted it yet.
    Offered,
    Sending,
    /// Theirs, large: waiting for our user to accept or decline it.
    Asking,
    Receiving,
    /// All bytes here; checking the SHA-256.
    Checking,
    /// Ours, every byte handed over; waiting for some receivers to confirm.
    Sent(Tally),
    /// Ours, every receiver that got it confirmed its checksum.
    Delivered(Tally),
    /// Ours, and nobody got it.
    NotDelivered(Tally),
    /// Theirs, checksum matched: a download URL.
    Verified(String),
    Cancelled(Cancelled),
    Failed(Failure),
}

/// Who stopped a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// We stopped sending ours.
    ByUs,
    /// Its sender (this nickname) stopped it.
    BySender(String),
    /// We declined theirs.
    Declined,
}

/// Why a file did not make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Offered over the size cap, which is `max` bytes.
    TooBig { max: u64 },
    /// Offered while `limit` files were already arriving, or waiting for an answer.
    Busy { limit: usize },
    /// Its sender (this nickname) left before it arrived.
    SenderLeft(String),
    /// The sender's connection closed.
    SenderClosed,
    /// We rejoined the room: every connection started over.
    ConnectionReset,
    /// Reading, checksumming or assembling it failed here.
    File(FileProblem),
}

/// How far one of our files got with one receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Offered, not accepted yet: no byte goes before it is.
    Offered,
    Sending,
    /// All bytes handed to the channel; no confirmation yet.
    Sent,
    Confirmed,
    Declined,
    /// The receiver left or the connection closed first.
    Lost,
}

/// A row whose state changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub row: RowKey,
    pub state: TransferState,
}

/// What stopping a row means for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Ours, transfer `id`: tell these receivers it is cancelled.
    Ours {
        id: u32,
        tell: Vec<PeerId>,
        update: Update,
    },
    /// Theirs: tell `from` we decline its transfer `id`.
    Theirs {
        from: PeerId,
        id: u32,
        update: Update,
    },
}

/// A chunk of a file arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub row: RowKey,
    pub received: u64,
    pub size: u64,
}

impl Arrival {
    pub fn complete(&self) -> bool {
        self.received >= self.size
    }
}

struct Outgoing {
    row: RowKey,
    receivers: HashMap<PeerId, Delivery>,
    cancelled: bool,
}

impl Outgoing {
    fn state(&self) -> TransferState {
        let count = |d: Delivery| self.receivers.values().filter(|&&r| r == d).count();
        let tally = Tally {
            confirmed: count(Delivery::Confirmed),
            sent: count(Delivery::Sent),
            declined: count(Delivery::Declined),
            lost: count(Delivery::Lost),
        };
        if self.cancelled {
            TransferState::Cancelled(Cancelled::ByUs)
        } else if count(Delivery::Sending) > 0 {
            TransferState::Sending
        } else if count(Delivery::Offered) > 0 {
            TransferState::Offered
        } else if tally.sent > 0 {
            TransferState::Sent(tally)
        } else if tally.confirmed > 0 {
            TransferState::Delivered(tally)
        } else {
            TransferState::NotDelivered(tally)
        }
    }

    fn update(&self) -> Update {
        Update {
            row: self.row,
            state: self.state(),
        }
    }
}

struct Incoming {
    row: RowKey,
    size: u64,
    received: u64,
    /// We told its sender to send it; chunks before that are ignored.
    accepted: bool,
}

/// Files of up to this size are accepted without asking.
pub const ACCEPT_WITHOUT_ASKING: u64 = 20_000_000;
/// Files arriving at once, and files waiting for our user's answer: offers beyond either
/// are declined, so that a peer cannot make the page hold any number of files.
pub const MAX_ARRIVING: usize = 3;
pub const MAX_ASKING: usize = 3;

/// What to do about an offer: the row's state, and what to tell its sender now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub update: Update,
    pub reply: Option<FileControl>,
}

/// Every transfer of the visit that is still going somewhere.
#[derive(Default)]
pub struct Ledger {
    /// Ours, by transfer id.
    outgoing: HashMap<u32, Outgoing>,
    /// Theirs, by sender and the sender's transfer id.
    incoming: HashMap<(PeerId, u32), Incoming>,
    next_id: u32,
}

impl Ledger {
    /// Our file in `row` starts going to `receivers`; returns its transfer id.
    pub fn start_sending(&mut self, row: RowKey, receivers: &[PeerId]) -> u32 {
        self.next_id += 1;
        let receivers = receivers
            .iter()
            .map(|peer| (peer.clone(), Delivery::Offered))
            .collect();
        let outgoing = Outgoing {
            row,
            receivers,
            cancelled: false,
        };
        self.outgoing.insert(self.next_id, outgoing);
        self.next_id
    }

    /// Whether our transfer `id` still goes to `peer` (not cancelled, declined or lost).
    pub fn still_sending(&self, id: u32, peer: &PeerId) -> bool {
        self.outgoing.get(&id).is_some_and(|o| {
            !o.cancelled
                && matches!(
                    o.receivers.get(peer),
                    Some(Delivery::Offered | Delivery::Sending)
                )
        })
    }

    /// `peer` accepted our transfer `id`: the bytes may go.
    pub fn accepted(&mut self, id: u32, peer: &PeerId) -> Option<Update> {
        let outgoing = self.outgoing.get_mut(&id)?;
        let current = outgoing.receivers.get_mut(peer)?;
        if *current != Delivery::Offered || outgoing.cancelled {
            return None;
        }
        *current = Delivery::Sending;
        Some(outgoing.update())
    }

    /// Records how far our transfer `id` got with `peer`. Confirmed, declined and lost are
    /// final; sent only follows sending.
    pub fn record(&mut self, id: u32, peer: &PeerId, delivery: Delivery) -> Option<Update> {
        let outgoing = self.outgoing.get_mut(&id)?;
        let current = outgoing.receivers.get_mut(peer)?;
        let moves = match delivery {
            Delivery::Sent => *current == Delivery::Sending,
            _ => matches!(
                *current,
                Delivery::Offered | Delivery::Sending | Delivery::Sent
            ),
        };
        if moves {
            *current = delivery;
        }
        Some(outgoing.update())
    }

    /// `peer` is gone: our files it had not confirmed count as lost to it.
    pub fn lose_receiver(&mut self, peer: &PeerId) -> Vec<Update> {
        let ids: Vec<u32> = self.outgoing.keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| self.record(id, peer, Delivery::Lost))
            .collect()
    }

    /// Stops the file in `row`: ours goes to nobody more; theirs stops coming to us.
    pub fn stop(&mut self, row: RowKey) -> Option<Stop> {
        if let Some((&id, outgoing)) = self.outgoing.iter_mut().find(|(_, o)| o.row == row) {
            outgoing.cancelled = true;
            let tell = outgoing
                .receivers
                .iter()
                .filter(|(_, d)| {
                    matches!(d, Delivery::Offered | Delivery::Sending | Delivery::Sent)
                })
                .map(|(peer, _)| peer.clone())
                .collect();
            return Some(Stop::Ours {
                id,
                tell,
                update: outgoing.update(),
            });
        }
        let (from, id) = self
            .incoming
            .iter()
            .find(|(_, incoming)| incoming.row == row)
            .map(|(key, _)| key.clone())?;
        self.incoming.remove(&(from.clone(), id));
        let update = Update {
            row,
            state: TransferState::Cancelled(Cancelled::Declined),
        };
        Some(Stop::Theirs { from, id, update })
    }

    /// `from` offers a file, shown in `row`: accepted at once if it is small, asked about if it
    /// is large, refused if it is over `max` bytes or too many files are on their way already.
    pub fn offered(&mut self, from: &PeerId, offer: &FileOffer, row: RowKey, max: u64) -> Answer {
        let decline = Some(FileControl::Decline { id: offer.id });
        let refuse = |failure| Answer {
            update: Update {
                row,
                state: TransferState::Failed(failure),
            },
            reply: decline.clone(),
        };
        if offer.size > max {
            return refuse(Failure::TooBig { max });
        }
        let arriving = self.incoming.values().filter(|i| i.accepted).count();
        let asking = self.incoming.len() - arriving;
        let ask = offer.size > ACCEPT_WITHOUT_ASKING;
        if ask && asking >= MAX_ASKING {
            return refuse(Failure::Busy { limit: MAX_ASKING });
        }
        if !ask && arriving >= MAX_ARRIVING {
            return refuse(Failure::Busy {
                limit: MAX_ARRIVING,
            });
        }
        let incoming = Incoming {
            row,
            size: offer.size,
            received: 0,
            accepted: !ask,
        };
        self.incoming.insert((from.clone(), offer.id), incoming);
        let (state, reply) = if ask {
            (TransferState::Asking, None)
        } else {
            let accept = FileControl::Accept { id: offer.id };
            (TransferState::Receiving, Some(accept))
        };
        Answer {
            update: Update { row, state },
            reply,
        }
    }

    /// Our user accepts the file in `row`: tell `from` to send its transfer `id`.
    pub fn accept(&mut self, row: RowKey) -> Option<(PeerId, u32, Update)> {
        let (key, incoming) = self
            .incoming
            .iter_mut()
            .find(|(_, incoming)| incoming.row == row && !incoming.accepted)?;
        incoming.accepted = true;
        let update = Update {
            row,
            state: TransferState::Receiving,
        };
        Some((key.0.clone(), key.1, update))
    }

    /// `bytes` more of `from`'s transfer `id` arrived. A complete file leaves the ledger.
    pub fn arrived(&mut self, from: &PeerId, id: u32, bytes: u64) -> Option<Arrival> {
        let key = (from.clone(), id);
        let incoming = self.incoming.get_mut(&key).filter(|i| i.accepted)?;
        incoming.received += bytes;
        let arrival = Arrival {
            row: incoming.row,
            received: incoming.received,
            size: incoming.size,
        };
        if arrival.complete() {
            self.incoming.remove(&key);
        }
        Some(arrival)
    }

    /// `from`, known here as `nickname`, cancelled its transfer `id`.
    pub fn cancelled_by_sender(
        &mut self,
        from: &PeerId,
        id: u32,
        nickname: &str,
    ) -> Option<Update> {
        let incoming = self.incoming.remove(&(from.clone(), id))?;
        Some(Update {
            row: incoming.row,
            state: TransferState::Cancelled(Cancelled::BySender(nickname.to_owned())),
        })
    }

    /// Every file still arriving from `from` fails with `failure`.
    pub fn fail_from(&mut self, from: &PeerId, failure: &Failure) -> Vec<Update> {
        let keys: Vec<_> = self
            .incoming
            .keys()
            .filter(|(peer, _)| peer == from)
            .cloned()
            .collect();
        keys.iter()
            .filter_map(|key| self.incoming.remove(key))
            .map(|incoming| Update {
                row: incoming.row,
                state: TransferState::Failed(failure.clone()),
            })
            .collect()
    }

    /// Forgets every file still arriving (the visit is over).
    pub fn clear_incoming(&mut self) {
        self.incoming.clear();
    }
}

#[cfg(test)]
mod tests;
