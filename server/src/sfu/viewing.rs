//! What a member shows of the others' videos: whether it wants video at all (`sfu_pause`),
//! whose cameras last-N lets it have, how large it shows each one and whom it pinned
//! (`sfu_view`).

use std::collections::{BTreeSet, HashMap};

use noom_shared::{PeerId, SfuTrackKind, SfuView};

use super::simulcast::Size;

/// The most tiles an `sfu_view` is taken to describe: two (camera, screen) for each other
/// member of the largest room (`--max-room-size` is at most 64); the rest are ignored.
const MAX_TILES: usize = 2 * 64;

/// How large a viewer shows one other member's camera and screen; `None`: it did not say.
#[derive(Debug, Default, Clone, Copy)]
struct Tiles {
    camera: Option<Size>,
    screen: Option<Size>,
}

impl Tiles {
    fn of(self, kind: SfuTrackKind) -> Option<Size> {
        match kind {
            SfuTrackKind::Camera => self.camera,
            SfuTrackKind::Screen => self.screen,
            SfuTrackKind::Audio => None,
        }
    }
}

/// Whether and how a member shows one video track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Showing {
    /// In a tile of this size (`None`: it did not say, so the best there is).
    Tile(Option<Size>),
    /// Its tile is out of view or has no size: shown again, it starts at a keyframe.
    Hidden,
    /// Not at all: the member paused video, or last-N chose other cameras.
    Off,
}

#[derive(Debug, Default)]
pub(super) struct Viewing {
    views: HashMap<PeerId, Tiles>,
    /// It asked for no video (`sfu_pause`), e.g. while its page is hidden.
    pub(super) video_paused: bool,
    /// Whose cameras it gets: `None`, everyone's (see `last_n.rs`).
    pub(super) cameras: Option<BTreeSet<PeerId>>,
    /// The member whose camera it wants whatever last-N says.
    pub(super) pinned: Option<PeerId>,
}

impl Viewing {
    /// `sfu_view`: how large it shows each of the others' videos from now on, and whom it
    /// pinned; true if that changed its pin.
    pub(super) fn view(&mut self, view: SfuView) -> bool {
        let repinned = self.pinned != view.pinned;
        self.pinned = view.pinned;
        self.views.clear();
        for tile in view.tiles.into_iter().take(MAX_TILES) {
            let size = Some(Size {
                width: tile.width,
                height: tile.height,
            });
            let shown = self.views.entry(tile.peer_id).or_default();
            match tile.kind {
                SfuTrackKind::Camera => shown.camera = size,
                SfuTrackKind::Screen => shown.screen = size,
                SfuTrackKind::Audio => {}
            }
        }
        repinned
    }

    /// How it shows `from`'s `kind` video.
    pub(super) fn showing(&self, from: &PeerId, kind: SfuTrackKind) -> Showing {
        let camera_not_chosen = kind == SfuTrackKind::Camera
            && self.cameras.as_ref().is_some_and(|set| !set.contains(from));
        if self.video_paused || camera_not_chosen {
            return Showing::Off;
        }
        match self.views.get(from).and_then(|tiles| tiles.of(kind)) {
            Some(size) if size.width == 0 || size.height == 0 => Showing::Hidden,
            shown => Showing::Tile(shown),
        }
    }
}
