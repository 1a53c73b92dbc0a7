//! One participant's connection to the SFU: its `Rtc`, the three m-lines it publishes on, the
//! m-lines that carry the others' tracks to it (an audio line per other member, and pools of
//! camera and screen slots that last-N and the presenters fill), and the one negotiation it may
//! have in flight.
//!
//! The server always offers and the client always answers, so offers never cross (no glare):
//! a change wanted while an offer is out waits for its answer.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use noom_shared::{PeerId, RoomName, SfuOffer, SfuSlots, SfuTrack, SfuTrackKind, SfuView};
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaData, MediaKind, Mid, Rid};
use str0m::net::Transmit;
use str0m::{Candidate, Event, Input, Output, Rtc};

use super::allocation::{self, Downlink};
use super::budget::Budget;
use super::last_n;
use super::line::Line;
use super::simulcast::{self, Layer, Layers};
use super::slots::{self, Slots, VIDEO};
use super::viewing::{Showing, Viewing};

/// The kinds a participant publishes, each on one m-line of its own.
pub(super) const PUBLISHED: [SfuTrackKind; 3] = [
    SfuTrackKind::Audio,
    SfuTrackKind::Camera,
    SfuTrackKind::Screen,
];

/// Keyframe requests sent to one layer of a publisher's track at most this often: every late
/// joiner asks, and a burst of them must cost the publisher one keyframe, not one each.
const KEYFRAME_REQUESTS_EVERY: Duration = Duration::from_millis(300);

/// Why an `sfu_answer` was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerProblem {
    NotAwaited,
    Unreadable,
    Unfit,
}

impl AnswerProblem {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::NotAwaited => "no offer awaits an answer",
            Self::Unreadable => "the answer is not an SDP description",
            Self::Unfit => "the answer does not fit the offer",
        }
    }
}

/// What a member's connection said, for the forwarder to pass on.
pub(super) enum Heard {
    /// Media on one of its own m-lines.
    Media(SfuTrackKind, Box<MediaData>),
    /// It wants a keyframe of a layer of another participant's track.
    KeyframeWanted(PeerId, SfuTrackKind, Option<Rid>),
    /// A frame of its own not forwarded: it sends more than it may.
    OverBudget,
    /// Its camera or screen sends again after sending nothing.
    VideoStarted,
}

/// What became of a frame forwarded to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Delivery {
    pub(super) sent: bool,
    /// The layer the line waits for a keyframe of, which the publisher should send: the line
    /// is new or resumed, or changes layer (it keeps the old one until then).
    pub(super) keyframe_wanted: Option<Option<Rid>>,
}

impl Delivery {
    const NOT_SENT: Self = Self {
        sent: false,
        keyframe_wanted: None,
    };
}

pub(super) struct Member {
    pub(super) room: RoomName,
    rtc: Rtc,
    /// Its own m-lines, in [`PUBLISHED`]'s order, from the first offer on.
    own: Option<[Mid; 3]>,
    lines: Vec<Line>,
    /// The m-lines its connection's description holds: its own, every line it was ever
    /// offered, stopped ones too (str0m appends new m-lines and never reuses a stopped one).
    m_lines: usize,
    /// The offer in flight.
    pending: Option<SdpPendingOffer>,
    /// When a keyframe of each layer of its tracks was last asked for.
    keyframe_asked: Vec<(SfuTrackKind, Option<Rid>, Instant)>,
    /// The layers its camera and its screen arrive in.
    camera_layers: Layers,
    screen_layers: Layers,
    /// Whether and how large it shows the others' videos.
    viewing: Viewing,
    /// What it may still publish.
    budget: Budget,
    /// What its downlink has been seen to carry (see `allocation.rs`).
    downlink: Downlink,
    /// The worst loss its receiver reports gave since the layers were last fitted.
    loss_heard: Option<f32>,
    /// When its audio last sounded like speech (for last-N).
    pub(super) last_spoke: Option<Instant>,
    /// When its camera last sent a frame.
    last_camera_frame: Option<Instant>,
    /// A slot changed hands since `sfu_slots` last told it whose cameras its slots carry.
    slots_changed: bool,
    /// Its connection was given something (a datagram, media to send, a negotiation) since
    /// it was last polled; otherwise it needs polling only at `next_poll`, its own timeout.
    woken: bool,
    next_poll: Instant,
}

impl Member {
    /// A member whose media arrives at `candidate`, the SFU's one UDP address, and who may
    /// publish `max_kbps`.
    pub(super) fn new(room: RoomName, candidate: SocketAddr, max_kbps: u32, now: Instant) -> Self {
        let mut rtc = Rtc::builder()
            // The server only answers connectivity checks: the browser is the controlling side.
            .set_ice_lite(true)
            // Opus and VP8 only: every browser has both, and each codec more in an offer
            // costs bytes on every m-line.
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            // Loss from the browser's receiver reports fits the layers to its downlink.
            .set_stats_interval(Some(STATS_EVERY))
            .build(now);
        if let Ok(host) = Candidate::host(candidate, "udp") {
            rtc.add_local_candidate(host);
        }
        Self {
            room,
            rtc,
            own: None,
            lines: Vec::new(),
            m_lines: 0,
            pending: None,
            keyframe_asked: Vec::new(),
            camera_layers: Layers::default(),
            screen_layers: Layers::default(),
            viewing: Viewing::default(),
            budget: Budget::new(max_kbps, now),
            downlink: Downlink::default(),
            loss_heard: None,
            last_spoke: None,
            last_camera_frame: None,
            slots_changed: false,
            woken: true,
            next_poll: now,
        }
    }

    /// An offer that brings its m-lines in line with `others` (the members whose audio it
    /// gets, on a line each) and `slots`, unless one is in flight or nothing changes. `me` is
    /// its own peer id. Slots are never taken away: a free one costs little.
    pub(super) fn negotiate(
        &mut self,
        me: &PeerId,
        others: &[PeerId],
        slots: Slots,
    ) -> Option<SfuOffer> {
        if self.pending.is_some() || !self.rtc.is_alive() {
            return None;
        }
        let missing: Vec<&PeerId> = others.iter().filter(|from| !self.hears(from)).collect();
        let new_slots = VIDEO.map(|kind| (kind, slots.of(kind).saturating_sub(self.slots(kind))));
        let mut change = self.rtc.sdp_api();
        let own = *self.own.get_or_insert_with(|| {
            self.m_lines += PUBLISHED.len();
            PUBLISHED.map(|kind| {
                let layers = (kind == SfuTrackKind::Camera).then(simulcast::camera_layers);
                change.add_media(media_kind(kind), Direction::RecvOnly, None, None, layers)
            })
        });
        for from in missing {
            self.m_lines += 1;
            // Its `a=msid` stream is the member's id.
            let stream = Some(from.to_string());
            let mid = change.add_media(MediaKind::Audio, Direction::SendOnly, stream, None, None);
            self.lines
                .push(Line::new(Some(from.clone()), SfuTrackKind::Audio, mid));
        }
        for (kind, count) in new_slots {
            for _ in 0..count {
                self.m_lines += 1;
                let mid = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
                self.lines.push(Line::new(None, kind, mid));
            }
        }
        for line in &mut self.lines {
            let gone = line
                .from
                .as_ref()
                .is_some_and(|from| !others.contains(from));
            if !line.stopping && !line.is_slot() && gone {
                change.stop_media(line.mid);
                line.stopping = true;
            }
        }
        let (offer, pending) = change.apply()?;
        self.pending = Some(pending);
        self.woken = true;
        let own_tracks = PUBLISHED.iter().zip(own).map(|(kind, mid)| SfuTrack {
            mid: mid.to_string(),
            peer_id: me.clone(),
            kind: *kind,
        });
        self.slots_changed = false;
        Some(SfuOffer {
            sdp: super::sdp::with_candidates_on_every_m_line(&offer.to_sdp_string()),
            tracks: own_tracks.chain(slots::told(&self.lines)).collect(),
        })
    }

    /// `sfu_slots`, if a slot changed hands since it was last told.
    pub(super) fn slots_news(&mut self) -> Option<SfuSlots> {
        if !std::mem::take(&mut self.slots_changed) {
            return None;
        }
        let tracks = slots::told(&self.lines).filter(|t| is_video(t.kind));
        Some(SfuSlots {
            tracks: tracks.collect(),
        })
    }

    /// Its `kind` slots, free ones included.
    pub(super) fn slots(&self, kind: SfuTrackKind) -> usize {
        slots::count(&self.lines, kind)
    }

    /// Gives its `kind` slots to the videos of `wanted` (see [`slots::fill`]).
    pub(super) fn fill_slots(&mut self, kind: SfuTrackKind, wanted: &[PeerId]) {
        self.slots_changed |= slots::fill(&mut self.lines, kind, wanted);
    }

    /// Whether a line that is not being stopped brings `from`'s audio to it.
    fn hears(&self, from: &PeerId) -> bool {
        self.lines
            .iter()
            .any(|l| !l.stopping && l.kind == SfuTrackKind::Audio && l.from.as_ref() == Some(from))
    }

    /// The m-lines its connection would hold once offered what it lacks of `others` and of
    /// `slots`, if no offer is in flight (`None`: one is, nothing can change now).
    pub(super) fn m_lines_after(&self, others: &[PeerId], slots: Slots) -> Option<usize> {
        if self.pending.is_some() {
            return None;
        }
        let own = if self.own.is_none() {
            PUBLISHED.len()
        } else {
            0
        };
        let new = others.iter().filter(|from| !self.hears(from)).count();
        let new_slots: usize = VIDEO
            .map(|kind| slots.of(kind).saturating_sub(self.slots(kind)))
            .iter()
            .sum();
        Some(self.m_lines + own + new + new_slots)
    }

    /// Takes the answer to the offer in flight. The video lines it opens ask for keyframes
    /// when their first frames come (see [`Member::forward`]).
    pub(super) fn answer(&mut self, sdp: &str) -> Result<(), AnswerProblem> {
        if self.pending.is_none() {
            return Err(AnswerProblem::NotAwaited);
        }
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|_| AnswerProblem::Unreadable)?;
        let pending = self.pending.take().ok_or(AnswerProblem::NotAwaited)?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|_| AnswerProblem::Unfit)?;
        self.woken = true;
        self.lines.retain(|l| !l.stopping);
        for line in &mut self.lines {
            line.open = true;
        }
        Ok(())
    }

    /// Whether `input` belongs to this member's connection.
    pub(super) fn accepts(&self, input: &Input) -> bool {
        self.rtc.is_alive() && self.rtc.accepts(input)
    }

    pub(super) fn handle(&mut self, input: Input) {
        if !self.rtc.is_alive() {
            return;
        }
        self.woken = true;
        if let Err(err) = self.rtc.handle_input(input) {
            tracing::debug!(cause = %err, "SFU connection failed");
            self.rtc.disconnect();
        }
    }

    /// Drains its connection until it next wants time: packets to send go to `transmits`,
    /// what the others must hear of to `heard`. Returns when to poll it again.
    pub(super) fn poll(
        &mut self,
        now: Instant,
        transmits: &mut Vec<Transmit>,
        heard: &mut Vec<Heard>,
    ) -> Instant {
        self.handle(Input::Timeout(now));
        self.woken = false;
        self.next_poll = self.drain(now, transmits, heard);
        self.next_poll
    }

    /// Whether it must be polled now; else it wants polling at [`Member::next_poll`].
    pub(super) fn wants_poll(&self, now: Instant) -> bool {
        self.woken || self.next_poll <= now
    }

    pub(super) fn next_poll(&self) -> Instant {
        self.next_poll
    }

    fn drain(
        &mut self,
        now: Instant,
        transmits: &mut Vec<Transmit>,
        heard: &mut Vec<Heard>,
    ) -> Instant {
        loop {
            if !self.rtc.is_alive() {
                return now + IDLE_POLL;
            }
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return at,
                Ok(Output::Transmit(transmit)) => transmits.push(transmit),
                Ok(Output::Event(Event::MediaData(data))) => {
                    if let Some(kind) = self.kind_of(data.mid) {
                        if !self.budget.spend(data.data.len(), data.is_keyframe(), now) {
                            heard.push(Heard::OverBudget);
                            continue;
                        }
                        // A frame after a gap (a packet lost on the way in) breaks every
                        // subscriber's picture until the next keyframe: ask for one now.
                        if !data.contiguous {
                            self.request_keyframe(kind, data.rid, now);
                        }
                        let loud = data.ext_vals.audio_level >= Some(last_n::SPEAKING_DBOV);
                        if kind == SfuTrackKind::Audio && loud {
                            self.last_spoke = Some(now);
                        }
                        // A camera turned on, or a screen shared, gets its slots at once.
                        let started = match kind {
                            SfuTrackKind::Camera => !self.sends_camera(now),
                            SfuTrackKind::Screen => !self.presents(now),
                            SfuTrackKind::Audio => false,
                        };
                        if started {
                            heard.push(Heard::VideoStarted);
                        }
                        if kind == SfuTrackKind::Camera {
                            self.last_camera_frame = Some(now);
                        }
                        let size_unknown = self
                            .layers_mut(kind)
                            .is_some_and(|layers| layers.saw(&data, now));
                        if size_unknown {
                            self.request_keyframe(kind, data.rid, now);
                        }
                        heard.push(Heard::Media(kind, Box::new(data)));
                    }
                }
                Ok(Output::Event(Event::KeyframeRequest(request))) => {
                    if let Some(line) = self.lines.iter().find(|l| l.mid == request.mid) {
                        if let (Some(from), Some(layer)) = (&line.from, line.layer) {
                            heard.push(Heard::KeyframeWanted(from.clone(), line.kind, layer));
                        }
                    }
                }
                Ok(Output::Event(Event::MediaEgressStats(stats))) => {
                    let video = self
                        .lines
                        .iter()
                        .any(|l| l.mid == stats.mid && is_video(l.kind));
                    if let (true, Some(loss)) = (video, stats.loss) {
                        self.loss_heard = Some(self.loss_heard.map_or(loss, |l| l.max(loss)));
                    }
                }
                Ok(Output::Event(Event::IceConnectionStateChange(state))) => {
                    tracing::debug!(?state, room = %self.room, "SFU ICE");
                }
                Ok(Output::Event(_)) => {}
                Err(err) => {
                    tracing::debug!(cause = %err, "SFU connection failed");
                    self.rtc.disconnect();
                }
            }
        }
    }

    /// Stops or resumes every video line to this member; a resumed line starts again at a
    /// keyframe.
    pub(super) fn pause_video(&mut self, paused: bool) {
        if self.viewing.video_paused && !paused {
            for line in &mut self.lines {
                if is_video(line.kind) {
                    line.layer = None;
                }
            }
        }
        self.viewing.video_paused = paused;
    }

    /// Whether its camera sends now (it sent a frame within [`last_n::CAMERA_OFF_AFTER`]).
    pub(super) fn sends_camera(&self, now: Instant) -> bool {
        self.last_camera_frame
            .is_some_and(|at| now.saturating_duration_since(at) < last_n::CAMERA_OFF_AFTER)
    }

    /// Whether it presents a screen now.
    pub(super) fn presents(&self, now: Instant) -> bool {
        !self.screen_layers.live(now).is_empty()
    }

    /// From now on it gets the cameras of `cameras` only (`None`: everyone's); false if that
    /// is what it got already. Its slots follow with [`Member::fill_slots`].
    pub(super) fn choose_cameras(&mut self, cameras: Option<BTreeSet<PeerId>>) -> bool {
        if cameras == self.viewing.cameras {
            return false;
        }
        self.viewing.cameras = cameras;
        true
    }

    /// `sfu_view`: how large it shows each of the others' videos from now on, and whom it
    /// pinned; true if its pin changed.
    pub(super) fn view(&mut self, view: SfuView) -> bool {
        self.viewing.view(view)
    }

    /// The member it pinned, whose camera last-N sends it first.
    pub(super) fn pinned(&self) -> Option<&PeerId> {
        self.viewing.pinned.as_ref()
    }

    /// Sends `data`, from `from`'s `kind` track, on the line that carries it here, if open
    /// and if it is the layer that fits the tile this member shows it in (`live`: the layers
    /// the track arrives in now). A line that waits for a keyframe, of its first layer or of
    /// the one it changes to, says so: the request made when it opened fails if `from`'s
    /// track had not begun yet.
    pub(super) fn forward(
        &mut self,
        from: &PeerId,
        kind: SfuTrackKind,
        data: &MediaData,
        live: &[Layer],
    ) -> Delivery {
        let Some(line) = self.lines.iter_mut().find(|l| l.carries(from, kind)) else {
            return Delivery::NOT_SENT;
        };
        let target = if is_video(kind) {
            match self.viewing.showing(from, kind) {
                Showing::Tile(shown) => {
                    simulcast::fit(simulcast::at_most(live, line.ceiling), shown)
                        .unwrap_or(data.rid)
                }
                Showing::Hidden => {
                    line.layer = None;
                    return Delivery::NOT_SENT;
                }
                Showing::Off => return Delivery::NOT_SENT,
            }
        } else {
            data.rid
        };
        let pass = line.pass(data, target, is_video(kind));
        let keyframe_wanted = pass.keyframe_wanted;
        let Some(time) = pass.time else {
            return Delivery {
                sent: false,
                keyframe_wanted,
            };
        };
        // A slot's new owner is told as its first frame, a keyframe, goes out.
        if line.told != line.from {
            line.told.clone_from(&line.from);
            self.slots_changed = true;
        }
        let Some(writer) = self.rtc.writer(line.mid) else {
            return Delivery::NOT_SENT;
        };
        let Some(pt) = writer.match_params(data.params) else {
            return Delivery::NOT_SENT;
        };
        // A write fails only for a line being torn down: the frame is simply not sent.
        let sent = writer
            .write(pt, data.network_time, time, data.data.clone())
            .is_ok();
        self.woken |= sent;
        Delivery {
            sent,
            keyframe_wanted,
        }
    }

    /// Caps the layer of each video it is sent so that together they fit what its downlink
    /// was seen to carry (see `allocation.rs`), given `live`, the layers each publisher's
    /// tracks arrive in now. True if its receiver reports cut the cap.
    pub(super) fn allocate(
        &mut self,
        live: &HashMap<(PeerId, SfuTrackKind), Vec<Layer>>,
        now: Instant,
    ) -> bool {
        let loss = self.loss_heard.take();
        let downlink = &mut self.downlink;
        allocation::cap_lines(&mut self.lines, &self.viewing, live, downlink, loss, now)
    }

    /// The layers its `kind` track arrives in, now.
    pub(super) fn live_layers(&self, kind: SfuTrackKind, now: Instant) -> Vec<Layer> {
        match kind {
            SfuTrackKind::Camera => self.camera_layers.live(now),
            SfuTrackKind::Screen => self.screen_layers.live(now),
            SfuTrackKind::Audio => Vec::new(),
        }
    }

    fn layers_mut(&mut self, kind: SfuTrackKind) -> Option<&mut Layers> {
        match kind {
            SfuTrackKind::Camera => Some(&mut self.camera_layers),
            SfuTrackKind::Screen => Some(&mut self.screen_layers),
            SfuTrackKind::Audio => None,
        }
    }

    /// Asks this member for a keyframe of layer `rid` of its `kind` track, unless asked just
    /// now.
    pub(super) fn request_keyframe(&mut self, kind: SfuTrackKind, rid: Option<Rid>, now: Instant) {
        let Some(index) = PUBLISHED.iter().position(|k| *k == kind) else {
            return;
        };
        let Some(mid) = self.own.map(|own| own[index]) else {
            return;
        };
        self.keyframe_asked
            .retain(|(_, _, at)| now.saturating_duration_since(*at) < KEYFRAME_REQUESTS_EVERY);
        let recent = self
            .keyframe_asked
            .iter()
            .any(|(k, r, _)| *k == kind && *r == rid);
        if recent || !is_video(kind) {
            return;
        }
        if let Some(mut writer) = self.rtc.writer(mid) {
            if writer
                .request_keyframe(rid, KeyframeRequestKind::Pli)
                .is_ok()
            {
                self.woken = true;
                self.keyframe_asked.push((kind, rid, now));
            }
        }
    }

    fn kind_of(&self, mid: Mid) -> Option<SfuTrackKind> {
        let index = self.own?.iter().position(|own| *own == mid)?;
        Some(PUBLISHED[index])
    }
}

/// How often its connection reports what the browser's receiver reports said (loss).
const STATS_EVERY: Duration = Duration::from_secs(1);

/// How often a member whose connection died is looked at (it waits for `sfu_restart`).
const IDLE_POLL: Duration = Duration::from_secs(1);

pub(super) fn is_video(kind: SfuTrackKind) -> bool {
    media_kind(kind) == MediaKind::Video
}

/// The str0m media kind that carries `kind`.
fn media_kind(kind: SfuTrackKind) -> MediaKind {
    match kind {
        SfuTrackKind::Audio => MediaKind::Audio,
        SfuTrackKind::Camera | SfuTrackKind::Screen => MediaKind::Video,
    }
}
