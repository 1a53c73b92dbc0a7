//! Files sent peer to peer over one `RTCDataChannel` per peer connection; the server never sees
//! the bytes.
//!
//! The channel is negotiated (`negotiated: true`, id 0, label `noom-files`): both sides create
//! it, so there is no `datachannel` event to wait for. It is reliable and ordered, and carries
//! several transfers at once:
//!
//! * text: a [`FileControl`] (typed and golden-tested in `noom-shared`): `offer` announces a
//!   file; `cancel` from its sender stops it; from a receiver, `decline` stops it for that
//!   receiver and `received` confirms that it arrived with the right checksum;
//! * binary: a chunk of transfer `id`, as `id` (u32, big-endian) then up to [`CHUNK_BYTES`]
//!   bytes. A file is complete when `size` bytes have arrived; the receiver then checks the
//!   SHA-256 from the offer (`crypto.subtle.digest`).
//!
//! Sending waits while `bufferedAmount` is above [`HIGH_WATER`] and resumes on
//! `bufferedamountlow` (threshold [`LOW_WATER`]), so a large file never floods the channel.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Array, ArrayBuffer, Uint8Array};
use noom_shared::{FileControl, FileOffer};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, File, MessageEvent, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelState, RtcDataChannelType, RtcPeerConnection, Url,
};

/// Bytes of file per message: small enough for every browser's SCTP message limit.
pub const CHUNK_BYTES: u32 = 16 * 1024;
/// The bytes before a chunk's data: its transfer id.
const CHUNK_HEADER_BYTES: u32 = 4;

/// Sending pauses while this much is queued in the channel...
const HIGH_WATER: u32 = 1024 * 1024;
/// ...and resumes when the queue drains to this.
const LOW_WATER: u32 = 256 * 1024;

const LABEL: &str = "noom-files";
const CHANNEL_ID: u16 = 0;

/// What arrives on a file channel.
pub enum FileMessage {
    /// An offer, or a word about a transfer: ours when from a receiver, theirs when a cancel.
    Control(FileControl),
    Chunk {
        id: u32,
        data: Uint8Array,
    },
    /// The channel closed (the peer left or the connection failed).
    Closed,
}

/// One peer connection's file channel; clones share it. [`FileChannel::close`] ends it.
#[derive(Clone)]
pub struct FileChannel {
    dc: RtcDataChannel,
    /// Senders waiting for the channel to open or drain; woken on `open`, `bufferedamountlow`
    /// and `close`.
    waiters: Rc<RefCell<Vec<oneshot::Sender<()>>>>,
    _handlers: Rc<[Handler; 4]>,
}

type Handler = Closure<dyn FnMut(JsValue)>;

impl FileChannel {
    /// Creates the negotiated file channel on `pc`; `on_message` gets what arrives.
    pub(super) fn open(pc: &RtcPeerConnection, on_message: Rc<dyn Fn(FileMessage)>) -> Self {
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(CHANNEL_ID);
        let dc = pc.create_data_channel_with_data_channel_dict(LABEL, &init);
        dc.set_binary_type(RtcDataChannelType::Arraybuffer);
        dc.set_buffered_amount_low_threshold(LOW_WATER);
        let waiters: Rc<RefCell<Vec<oneshot::Sender<()>>>> = Rc::default();
        let waker = |waiters: &Rc<RefCell<Vec<oneshot::Sender<()>>>>| {
            let waiters = Rc::clone(waiters);
            move || {
                for waiter in waiters.take() {
                    let _ = waiter.send(());
                }
            }
        };
        let wake = waker(&waiters);
        let open = Handler::new(move |_| wake());
        let wake = waker(&waiters);
        let low = Handler::new(move |_| wake());
        let wake = waker(&waiters);
        let report = Rc::clone(&on_message);
        let close = Handler::new(move |_| {
            wake();
            report(FileMessage::Closed);
        });
        let message = Handler::new(move |event: JsValue| {
            let event: MessageEvent = event.unchecked_into();
            if let Some(message) = parse(&event.data()) {
                on_message(message);
            }
        });
        dc.set_onopen(Some(open.as_ref().unchecked_ref()));
        dc.set_onbufferedamountlow(Some(low.as_ref().unchecked_ref()));
        dc.set_onclose(Some(close.as_ref().unchecked_ref()));
        dc.set_onmessage(Some(message.as_ref().unchecked_ref()));
        Self {
            dc,
            waiters,
            _handlers: Rc::new([open, low, close, message]),
        }
    }

    /// Closes the channel; no handler runs after this, and waiting senders fail.
    pub(super) fn close(&self) {
        self.dc.set_onopen(None);
        self.dc.set_onbufferedamountlow(None);
        self.dc.set_onclose(None);
        self.dc.set_onmessage(None);
        self.dc.close();
        self.waiters.take();
    }

    /// Sends a word about a transfer; lost if the channel is not open.
    pub fn notify(&self, control: &FileControl) {
        let _ = self.dc.send_with_str(&control.encode());
    }

    /// Announces the file `offer` describes, once the channel is open.
    pub async fn offer(&self, offer: &FileOffer) -> Result<(), Stopped> {
        self.ready().await?;
        let text = FileControl::Offer(offer.clone()).encode();
        self.dc.send_with_str(&text).map_err(|_| Stopped::Closed)
    }

    /// Sends `bytes`, the file of the accepted `offer`; `sent` gets the size of each chunk
    /// queued. Stops, with [`Stopped::Asked`], as soon as `stop` says so.
    pub async fn send_file(
        &self,
        offer: &FileOffer,
        bytes: &Uint8Array,
        sent: &dyn Fn(u64),
        stop: &dyn Fn() -> bool,
    ) -> Result<(), Stopped> {
        let id = offer.id.to_be_bytes();
        let mut start = 0;
        while start < bytes.length() {
            let end = bytes.length().min(start + CHUNK_BYTES);
            let chunk = bytes.subarray(start, end);
            let message = Uint8Array::new_with_length(end - start + CHUNK_HEADER_BYTES);
            message.subarray(0, CHUNK_HEADER_BYTES).copy_from(&id);
            message.set(&chunk, CHUNK_HEADER_BYTES);
            self.ready().await?;
            if stop() {
                return Err(Stopped::Asked);
            }
            self.dc
                .send_with_array_buffer_view(&message)
                .map_err(|_| Stopped::Closed)?;
            sent(u64::from(end - start));
            start = end;
        }
        Ok(())
    }

    /// Waits until the channel is open with room in its queue; fails once it closes.
    async fn ready(&self) -> Result<(), Stopped> {
        loop {
            match self.dc.ready_state() {
                RtcDataChannelState::Open if self.dc.buffered_amount() <= HIGH_WATER => {
                    return Ok(());
                }
                RtcDataChannelState::Open | RtcDataChannelState::Connecting => {
                    let (wake, woken) = oneshot::channel();
                    self.waiters.borrow_mut().push(wake);
                    // A dropped waker (the channel was closed here) ends the wait too.
                    let _ = woken.await;
                }
                _ => return Err(Stopped::Closed),
            }
        }
    }
}

/// Why a file stopped going to a receiver before all of it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The channel closed (the receiver left, or the connection failed).
    Closed,
    /// `stop` said so (cancelled or declined).
    Asked,
}

fn parse(data: &JsValue) -> Option<FileMessage> {
    if let Some(text) = data.as_string() {
        return parse_control(&text).map(FileMessage::Control);
    }
    let buffer: &ArrayBuffer = data.dyn_ref()?;
    let mut header = [0; CHUNK_HEADER_BYTES as usize];
    if buffer.byte_length() < CHUNK_HEADER_BYTES {
        return None;
    }
    Uint8Array::new_with_byte_offset_and_length(buffer, 0, CHUNK_HEADER_BYTES).copy_to(&mut header);
    Some(FileMessage::Chunk {
        id: u32::from_be_bytes(header),
        data: Uint8Array::new_with_byte_offset(buffer, CHUNK_HEADER_BYTES),
    })
}

/// A text message of the channel; anything else is ignored (logged), so one odd message from
/// another client cannot stop the channel.
fn parse_control(text: &str) -> Option<FileControl> {
    match FileControl::decode(text) {
        Ok(control) => Some(control),
        Err(err) => {
            leptos::logging::warn!("ignored a file-channel message: {err}");
            None
        }
    }
}

/// Why reading, checksumming or assembling a file failed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileProblem {
    /// The picked file could not be read.
    Unreadable,
    /// No `crypto.subtle` (the page is not a secure context).
    NoChecksum,
    /// The received chunks could not be put together.
    Unassembled,
    /// The checksum of what arrived does not match the offer's.
    Damaged,
}

/// Reads a picked file into memory.
pub async fn read(file: &File) -> Result<Uint8Array, FileProblem> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| FileProblem::Unreadable)?;
    Ok(Uint8Array::new(&buffer))
}

/// The SHA-256 of `bytes`, in lowercase hex (`crypto.subtle.digest`).
pub async fn sha256(bytes: &Uint8Array) -> Result<String, FileProblem> {
    const NO_CRYPTO: FileProblem = FileProblem::NoChecksum;
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or(NO_CRYPTO)?;
    let promise = crypto
        .subtle()
        .digest_with_str_and_buffer_source("SHA-256", bytes)
        .map_err(|_| NO_CRYPTO)?;
    let digest = JsFuture::from(promise).await.map_err(|_| NO_CRYPTO)?;
    Ok(Uint8Array::new(&digest)
        .to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A received file put together from its chunks: its bytes, to check, and a download URL for
/// them (free it with [`revoke`]). The URL is always `application/octet-stream`, whatever type
/// the sender claimed: an HTML or SVG "file" opened from it would otherwise run its script in
/// Noom's origin. The browser downloads it instead.
pub async fn assemble(parts: &Array) -> Result<(Uint8Array, String), FileProblem> {
    const FAILED: FileProblem = FileProblem::Unassembled;
    let options = BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob =
        Blob::new_with_buffer_source_sequence_and_options(parts, &options).map_err(|_| FAILED)?;
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| FAILED)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|_| FAILED)?;
    Ok((Uint8Array::new(&buffer), url))
}

/// Frees a download URL from [`assemble`].
pub fn revoke(url: &str) {
    let _ = Url::revoke_object_url(url);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_parse_and_odd_ones_are_ignored() {
        let offer = parse_control(
            r#"{"id":3,"mime":"text/plain","name":"a.txt","sha256":"ab","size":5,"t":"offer"}"#,
        );
        assert!(matches!(
            offer,
            Some(FileControl::Offer(FileOffer { id: 3, size: 5, .. }))
        ));
        assert_eq!(
            parse_control(r#"{"t":"received","id":3}"#),
            Some(FileControl::Received { id: 3 })
        );
        assert_eq!(
            parse_control(r#"{"t":"decline","id":4}"#),
            Some(FileControl::Decline { id: 4 })
        );
        for odd in [
            "",
            "not json",
            r#"{"t":"explode","id":1}"#,
            r#"{"t":"offer","id":1}"#,
            "[]",
        ] {
            assert_eq!(parse_control(odd), None, "{odd}");
        }
    }
}
