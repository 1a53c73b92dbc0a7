//! Files sent to everyone in the call and received from them, peer to peer over each link's
//! file channel (in an SFU room, links that carry only that channel). The bookkeeping is the
//! pure [`Ledger`]; this glue keeps each row's signals, the chunks of files arriving, and the
//! download URLs, and talks to the channels.

use std::cell::Cell;
use std::collections::HashMap;

use futures_channel::oneshot;
use leptos::prelude::*;
use noom_shared::{FileControl, FileOffer, PeerId};
use wasm_bindgen_futures::spawn_local;

use super::Session;
use super::ledger::{Delivery, Failure, Ledger, RowKey, Stop, TransferState, Update as RowUpdate};
use crate::rtc::files::{self, FileChannel, FileMessage, FileProblem, Stopped};
use crate::rtc::peer::PeerLink;

/// One file sent or being received, as the chat panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub key: RowKey,
    pub name: String,
    pub size: u64,
    pub mime: String,
    /// Who sent it; `None` for ours.
    pub from: Option<String>,
    progress: RwSignal<f64>,
    state: RwSignal<TransferState>,
}

impl Transfer {
    /// From 0 to 1: bytes queued (ours, summed over receivers) or arrived (theirs).
    pub fn progress(&self) -> ReadSignal<f64> {
        self.progress.read_only()
    }

    pub fn state(&self) -> ReadSignal<TransferState> {
        self.state.read_only()
    }
}

/// Why a file was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendProblem {
    TooBig { name: String, size: u64, max: u64 },
    Empty { name: String },
    NobodyHere,
}

/// A file on its way to us: its row, what its sender announced, and the chunks so far.
struct Arriving {
    row: Transfer,
    offer: FileOffer,
    parts: js_sys::Array,
}

/// The browser side of the transfers.
#[derive(Default)]
pub(super) struct Files {
    ledger: Ledger,
    arriving: HashMap<RowKey, Arriving>,
    /// Our offers waiting for each receiver's `accept`, by transfer id and receiver; dropping
    /// one (declined, cancelled, gone) ends that wait.
    accepts: HashMap<(u32, PeerId), oneshot::Sender<()>>,
    /// Download URLs of received files, freed when the visit ends.
    urls: Vec<String>,
}

impl Files {
    /// Drops what is arriving and frees every download URL (the visit is over).
    pub(super) fn clear(&mut self) {
        self.ledger.clear_incoming();
        self.arriving.clear();
        self.accepts.clear();
        for url in self.urls.drain(..) {
            files::revoke(&url);
        }
    }
}

impl Session {
    /// Sends `file` to everyone in the call, peer to peer. Progress and the outcome show in
    /// [`Session::transfers`].
    pub fn send_file(self, file: web_sys::File) -> Result<(), SendProblem> {
        let name = file.name();
        // `File.size` is a whole number of bytes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = file.size() as u64;
        let max = self.max_file_bytes.get_untracked();
        if size > max {
            return Err(SendProblem::TooBig { name, size, max });
        }
        if size == 0 {
            return Err(SendProblem::Empty { name });
        }
        if self.media() == noom_shared::Media::Sfu {
            // The server forwards media only: files still go straight to each person, on
            // links opened for them now (each channel waits until its link is up).
            self.open_files_links();
        }
        let channels: Vec<_> = self.inner.with_value(|i| {
            i.links
                .iter()
                .filter_map(|(peer, link)| Some((peer.clone(), link.files()?)))
                .collect()
        });
        if channels.is_empty() {
            return Err(SendProblem::NobodyHere);
        }
        if let Some(row) = self.add_row(&name, size, &file.type_(), None) {
            row.state.set(TransferState::Preparing);
            spawn_local(self.send_to_all(file, row, channels));
        }
        Ok(())
    }

    /// Reads and checksums `file`, then sends it down every channel at once.
    async fn send_to_all(
        self,
        file: web_sys::File,
        row: Transfer,
        channels: Vec<(PeerId, FileChannel)>,
    ) {
        let prepared = async {
            let bytes = files::read(&file).await?;
            let sha256 = files::sha256(&bytes).await?;
            Ok::<_, FileProblem>((bytes, sha256))
        };
        let (bytes, sha256) = match prepared.await {
            Ok(prepared) => prepared,
            Err(problem) => {
                row.state
                    .try_set(TransferState::Failed(Failure::File(problem)));
                return;
            }
        };
        let receivers: Vec<PeerId> = channels.iter().map(|(peer, _)| peer.clone()).collect();
        let Some(id) = self
            .inner
            .try_update_value(|i| i.transfers.ledger.start_sending(row.key, &receivers))
        else {
            return;
        };
        let offer = FileOffer {
            id,
            name: row.name.clone(),
            size: row.size,
            mime: row.mime.clone(),
            sha256,
        };
        row.state.try_set(TransferState::Offered);
        let total = row.size * channels.len() as u64;
        let queued = Cell::new(0);
        let progress = Progress(row.progress);
        let on_sent = |n: u64| {
            queued.set(queued.get() + n);
            progress.report(queued.get(), total);
        };
        let sends = channels.iter().map(|(peer, channel)| {
            let stop = move || !self.still_sending(id, peer);
            let (on_sent, offer, bytes) = (&on_sent, &offer, &bytes);
            async move {
                // No byte goes before the receiver accepts: it may ask its user first.
                let accepted = self.wait_for_accept(id, peer);
                if channel.offer(offer).await.is_err() {
                    self.record_delivery(id, peer, Delivery::Lost);
                    return;
                }
                if accepted.await.is_err() {
                    return; // declined, cancelled, or the receiver is gone: recorded there
                }
                let delivery = match channel.send_file(offer, bytes, on_sent, &stop).await {
                    Ok(()) => Delivery::Sent,
                    Err(Stopped::Asked) => return,
                    Err(Stopped::Closed) => Delivery::Lost,
                };
                self.record_delivery(id, peer, delivery);
            }
        });
        futures_util::future::join_all(sends).await;
    }

    /// Resolves when `peer` accepts our transfer `id`; fails if that wait is ended instead.
    fn wait_for_accept(self, id: u32, peer: &PeerId) -> oneshot::Receiver<()> {
        let (accept, accepted) = oneshot::channel();
        self.inner.update_value(|i| {
            i.transfers.accepts.insert((id, peer.clone()), accept);
        });
        accepted
    }

    /// Ends the waits for an `accept` that `ended` picks out.
    fn end_waits(self, ended: impl Fn(u32, &PeerId) -> bool) {
        self.inner.update_value(|i| {
            i.transfers
                .accepts
                .retain(|(id, peer), _| !ended(*id, peer));
        });
    }

    /// Whether transfer `id` of ours still goes to `peer` (not cancelled, not declined).
    fn still_sending(self, id: u32, peer: &PeerId) -> bool {
        self.inner
            .try_with_value(|i| i.transfers.ledger.still_sending(id, peer))
            .unwrap_or(false)
    }

    fn record_delivery(self, id: u32, peer: &PeerId, delivery: Delivery) {
        let update = self
            .inner
            .try_update_value(|i| i.transfers.ledger.record(id, peer, delivery));
        self.show(update.flatten());
    }

    /// `peer` is gone: our files it had not confirmed count as lost.
    pub(super) fn lose_receiver(self, peer: &PeerId) {
        self.end_waits(|_, waiting| waiting == peer);
        let updates = self
            .inner
            .try_update_value(|i| i.transfers.ledger.lose_receiver(peer));
        updates
            .into_iter()
            .flatten()
            .for_each(|u| self.show(Some(u)));
    }

    /// Ends files from `from` still arriving as failed.
    pub(super) fn fail_incoming(self, from: &PeerId, failure: &Failure) {
        let updates = self
            .inner
            .try_update_value(|i| i.transfers.ledger.fail_from(from, failure));
        updates
            .into_iter()
            .flatten()
            .for_each(|u| self.show(Some(u)));
    }

    /// Stops a file: ours goes to nobody more, and its receivers are told; theirs stops coming
    /// to us, and its sender is told.
    pub fn cancel_transfer(self, key: RowKey) {
        let update = self.inner.try_update_value(|i| {
            let (tell, control, update) = match i.transfers.ledger.stop(key)? {
                Stop::Ours { id, tell, update } => {
                    i.transfers.accepts.retain(|(waiting, _), _| *waiting != id);
                    (tell, FileControl::Cancel { id }, update)
                }
                Stop::Theirs { from, id, update } => {
                    i.transfers.arriving.remove(&key);
                    (vec![from], FileControl::Decline { id }, update)
                }
            };
            for peer in tell {
                self::tell(i, &peer, &control);
            }
            Some(update)
        });
        self.show(update.flatten());
    }

    /// Something arrived on `from`'s file channel.
    pub(super) fn on_file(self, from: &PeerId, message: FileMessage) {
        match message {
            FileMessage::Control(FileControl::Offer(offer)) => self.offered(from, offer),
            FileMessage::Chunk { id, data } => self.chunk(from, id, &data),
            FileMessage::Control(FileControl::Cancel { id }) => {
                let nickname = self.nickname_of(from);
                let update = self.inner.try_update_value(|i| {
                    let update = i
                        .transfers
                        .ledger
                        .cancelled_by_sender(from, id, &nickname)?;
                    i.transfers.arriving.remove(&update.row);
                    Some(update)
                });
                self.show(update.flatten());
            }
            FileMessage::Control(FileControl::Accept { id }) => {
                let update = self.inner.try_update_value(|i| {
                    let update = i.transfers.ledger.accepted(id, from)?;
                    let accept = i.transfers.accepts.remove(&(id, from.clone()))?;
                    let _ = accept.send(());
                    Some(update)
                });
                self.show(update.flatten());
            }
            FileMessage::Control(FileControl::Decline { id }) => {
                self.end_waits(|waiting, peer| waiting == id && peer == from);
                self.record_delivery(id, from, Delivery::Declined);
            }
            FileMessage::Control(FileControl::Received { id }) => {
                self.record_delivery(id, from, Delivery::Confirmed);
            }
            FileMessage::Closed => {
                self.fail_incoming(from, &Failure::SenderClosed);
                self.lose_receiver(from);
            }
        }
    }

    fn offered(self, from: &PeerId, offer: FileOffer) {
        let nickname = self.nickname_of(from);
        let name = noom_shared::visible_text(&offer.name);
        let Some(row) = self.add_row(&name, offer.size, &offer.mime, Some(nickname)) else {
            return;
        };
        let max = self.max_file_bytes.get_untracked();
        let answer = self.inner.try_update_value(|i| {
            let answer = i.transfers.ledger.offered(from, &offer, row.key, max);
            if matches!(
                answer.update.state,
                TransferState::Receiving | TransferState::Asking
            ) {
                let parts = js_sys::Array::new();
                let key = answer.update.row;
                i.transfers
                    .arriving
                    .insert(key, Arriving { row, offer, parts });
            }
            if let Some(reply) = &answer.reply {
                tell(i, from, reply);
            }
            answer
        });
        self.show(answer.map(|answer| answer.update));
    }

    /// Our user accepts the large file in row `key`: its sender may start.
    pub fn accept_transfer(self, key: RowKey) {
        let update = self.inner.try_update_value(|i| {
            let (from, id, update) = i.transfers.ledger.accept(key)?;
            tell(i, &from, &FileControl::Accept { id });
            Some(update)
        });
        self.show(update.flatten());
    }

    fn chunk(self, from: &PeerId, id: u32, data: &js_sys::Uint8Array) {
        let done = self.inner.try_update_value(|i| {
            let arrival = i
                .transfers
                .ledger
                .arrived(from, id, u64::from(data.length()))?;
            let arriving = i.transfers.arriving.get(&arrival.row)?;
            arriving.parts.push(data);
            Progress(arriving.row.progress).report(arrival.received, arrival.size);
            if !arrival.complete() {
                return None;
            }
            i.transfers.arriving.remove(&arrival.row)
        });
        if let Some(Some(arriving)) = done {
            spawn_local(self.check_file(from.clone(), arriving));
        }
    }

    /// A file has fully arrived from `from`: check its SHA-256, offer it for download, and
    /// confirm it to the sender.
    async fn check_file(self, from: PeerId, arriving: Arriving) {
        let Arriving { row, offer, parts } = arriving;
        row.state.try_set(TransferState::Checking);
        let checked = async {
            let (bytes, url) = files::assemble(&parts).await?;
            match files::sha256(&bytes).await {
                Ok(sha256) if sha256 == offer.sha256 => Ok(url),
                failed => {
                    files::revoke(&url);
                    Err(failed.err().unwrap_or(FileProblem::Damaged))
                }
            }
        };
        let state = match checked.await {
            Ok(url) => {
                let kept = self.inner.try_update_value(|i| {
                    i.transfers.urls.push(url.clone());
                    if let Some(channel) = i.links.get(&from).and_then(PeerLink::files) {
                        channel.notify(&FileControl::Received { id: offer.id });
                    }
                });
                if kept.is_none() {
                    return files::revoke(&url);
                }
                TransferState::Verified(url)
            }
            Err(problem) => TransferState::Failed(Failure::File(problem)),
        };
        row.state.try_set(state);
    }

    /// Shows a row's new state.
    fn show(self, update: Option<RowUpdate>) {
        let Some(RowUpdate { row, state }) = update else {
            return;
        };
        let signal = self
            .transfers
            .try_with_untracked(|list| list.iter().find(|t| t.key == row).map(|t| t.state))
            .flatten();
        if let Some(signal) = signal {
            signal.try_set(state);
        }
    }

    /// A new row in the file list, its signals owned by the room page.
    fn add_row(self, name: &str, size: u64, mime: &str, from: Option<String>) -> Option<Transfer> {
        let key = self.next_key()?;
        let row = self.owned(|| Transfer {
            key,
            name: name.to_owned(),
            size,
            mime: mime.to_owned(),
            from,
            progress: RwSignal::new(0.0),
            state: RwSignal::new(TransferState::Receiving),
        });
        self.transfers.try_update(|list| list.push(row.clone()))?;
        Some(row)
    }

    fn nickname_of(self, peer: &PeerId) -> String {
        self.participant(peer)
            .and_then(|p| p.nickname().try_get_untracked())
            .unwrap_or_default()
    }
}

/// Sets a progress signal only when the whole percent changes, so a large file does not
/// re-render its row for every chunk.
struct Progress(RwSignal<f64>);

impl Progress {
    fn report(&self, done: u64, total: u64) {
        // Byte counts up to 100 MiB times the room size fit an f64 exactly.
        #[allow(clippy::cast_precision_loss)]
        let now = done as f64 / total.max(1) as f64;
        let before = self.0.try_get_untracked().unwrap_or(now);
        if (now * 100.0).floor() != (before * 100.0).floor() || now >= 1.0 {
            self.0.try_set(now);
        }
    }
}

/// Sends `control` down `peer`'s file channel, if it has one.
fn tell(inner: &super::Inner, peer: &PeerId, control: &FileControl) {
    if let Some(channel) = inner.links.get(peer).and_then(PeerLink::files) {
        channel.notify(control);
    }
}
