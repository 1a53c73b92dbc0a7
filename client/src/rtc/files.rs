//! Files sent peer to peer over one `RTCDataChannel` per peer connection; the server never sees
//! the bytes.
//!
//! The channel is negotiated (`negotiated: true`, id 0, label `noom-files`): both sides create
//! it, so there is no `datachannel` event to wait for. It is reliable and ordered, and carries
//! several transfers at once:
//!
//! * text: `{"t":"offer","id":7,"name":"a.pdf","size":1234,"mime":"application/pdf",
//!   "sha256":"<hex>"}` announces a file; `{"t":"cancel","id":7}` from its sender stops it;
//!   from a receiver, `{"t":"decline","id":7}` stops it for that receiver and
//!   `{"t":"received","id":7}` confirms that it arrived with the right checksum;
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
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, File, MessageEvent, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelState, RtcDataChannelType, RtcPeerConnection, Url,
};

/// Bytes of file per message: small enough for every browser's SCTP message limit.
pub const CHUNK_BYTES: u32 = 16 * 1024;

/// Sending pauses while this much is queued in the channel...
const HIGH_WATER: u32 = 1024 * 1024;
/// ...and resumes when the queue drains to this.
const LOW_WATER: u32 = 256 * 1024;

const LABEL: &str = "noom-files";
const CHANNEL_ID: u16 = 0;

/// A file announced by its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// Unique per sender for the life of the connection.
    pub id: u32,
    pub name: String,
    pub size: u64,
    pub mime: String,
    /// Lowercase hex.
    pub sha256: String,
}

/// A word about a transfer, from its sender or one of its receivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// From the sender: it stopped sending the file.
    Cancel,
    /// From a receiver: stop sending it the file.
    Decline,
    /// From a receiver: the file arrived, checksum verified.
    Received,
}

impl Notice {
    fn wire_name(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Decline => "decline",
            Self::Received => "received",
        }
    }
}

/// What arrives on a file channel.
pub enum FileMessage {
    Offer(FileOffer),
    Chunk {
        id: u32,
        data: Uint8Array,
    },
    /// About transfer `id`: ours when from a receiver, theirs when [`Notice::Cancel`].
    Notice {
        id: u32,
        notice: Notice,
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

    /// Sends a word about transfer `id`; lost if the channel is not open.
    pub fn notify(&self, id: u32, notice: Notice) {
        let text = serde_json::json!({ "t": notice.wire_name(), "id": id });
        let _ = self.dc.send_with_str(&text.to_string());
    }

    /// Sends `bytes` as the file `offer` describes; `sent` gets the size of each chunk queued.
    /// Stops, with [`Stopped::Asked`], as soon as `stop` says so.
    pub async fn send_file(
        &self,
        offer: &FileOffer,
        bytes: &Uint8Array,
        sent: &dyn Fn(u64),
        stop: &dyn Fn() -> bool,
    ) -> Result<(), Stopped> {
        self.ready().await?;
        let text = serde_json::json!({
            "t": "offer",
            "id": offer.id,
            "name": offer.name,
            "size": offer.size,
            "mime": offer.mime,
            "sha256": offer.sha256,
        });
        self.dc
            .send_with_str(&text.to_string())
            .map_err(|_| Stopped::Closed)?;
        let id = offer.id.to_be_bytes();
        let mut start = 0;
        while start < bytes.length() {
            let end = bytes.length().min(start + CHUNK_BYTES);
            let chunk = bytes.subarray(start, end);
            let message = Uint8Array::new_with_length(end - start + 4);
            message.subarray(0, 4).copy_from(&id);
            message.set(&chunk, 4);
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
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        let id = u32::try_from(value.get("id")?.as_u64()?).ok()?;
        let field = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let notice = match value.get("t")?.as_str()? {
            "offer" => None,
            "cancel" => Some(Notice::Cancel),
            "decline" => Some(Notice::Decline),
            "received" => Some(Notice::Received),
            _ => return None,
        };
        if let Some(notice) = notice {
            return Some(FileMessage::Notice { id, notice });
        }
        return Some(FileMessage::Offer(FileOffer {
            id,
            name: field("name")?,
            size: value.get("size")?.as_u64()?,
            mime: field("mime").unwrap_or_default(),
            sha256: field("sha256")?,
        }));
    }
    let buffer: &ArrayBuffer = data.dyn_ref()?;
    if buffer.byte_length() < 4 {
        return None;
    }
    let mut id = [0; 4];
    Uint8Array::new_with_byte_offset_and_length(buffer, 0, 4).copy_to(&mut id);
    Some(FileMessage::Chunk {
        id: u32::from_be_bytes(id),
        data: Uint8Array::new_with_byte_offset(buffer, 4),
    })
}

/// Reads a picked file into memory.
pub async fn read(file: &File) -> Result<Uint8Array, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("Cannot read {}", file.name()))?;
    Ok(Uint8Array::new(&buffer))
}

/// The SHA-256 of `bytes`, in lowercase hex (`crypto.subtle.digest`).
pub async fn sha256(bytes: &Uint8Array) -> Result<String, String> {
    const NO_CRYPTO: &str = "This browser cannot checksum files here (it needs HTTPS)";
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
/// them (free it with [`revoke`]).
pub async fn assemble(parts: &Array, mime: &str) -> Result<(Uint8Array, String), String> {
    const FAILED: &str = "Cannot put the file together";
    let options = BlobPropertyBag::new();
    options.set_type(mime);
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

/// `bytes` for people: "100 MB", "5.0 MB", "16 KB", "12 bytes".
pub fn human_size(bytes: u64) -> String {
    // Sizes are shown rounded; precision loss above 2^52 bytes does not matter.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.0} KB", b / 1e3),
        1_000_000..10_000_000 => format!("{:.1} MB", b / 1e6),
        10_000_000..1_000_000_000 => format!("{:.0} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}
