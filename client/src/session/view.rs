//! In an SFU room, how large we show each remote video, told to the server (`sfu_view`) so
//! that it sends each the simulcast layer that fits: a grid tile a small one, the speaker's or
//! a presentation's the full one, a tile scrolled out of sight nothing. Measured from the page
//! (the layout, the window's size and zoom all change it) and sent only when it changed, with
//! the participant we pinned, whose camera the server then sends us even in a room larger
//! than its last-N.

use leptos::prelude::*;
use noom_shared::{ClientMessage, PeerId, SfuTile, SfuTrackKind, SfuView};
use wasm_bindgen::JsCast;

use super::Session;

impl Session {
    /// Measures the remote tiles and tells the SFU if their sizes, or our pin, changed.
    pub fn report_view(self) {
        // Only an SFU room has an SFU link.
        if self.inner.try_with_value(|i| i.sfu.is_some()) != Some(true) {
            return;
        }
        let Some(tiles) = measure_tiles() else { return };
        let pinned = self.pinned.try_get_untracked().flatten();
        let view = SfuView { tiles, pinned };
        let changed = self.inner.try_update_value(|i| {
            let changed = i.view_sent.as_ref() != Some(&view);
            if changed {
                i.view_sent = Some(view.clone());
            }
            changed
        });
        if changed == Some(true) {
            self.send(ClientMessage::SfuView(view));
        }
    }

    /// Tells the SFU what we show once the page has laid out a change (of layout, of pin),
    /// rather than at the next sampling.
    pub fn report_view_soon(self) {
        request_animation_frame(move || self.report_view());
    }

    /// Pins `peer`, or unpins it if it was pinned; true if it is pinned now.
    pub fn toggle_pin(self, peer: PeerId) -> bool {
        let pinned = self.pinned.get_untracked().as_ref() != Some(&peer);
        self.pinned.set(pinned.then_some(peer));
        self.report_view_soon();
        pinned
    }
}

/// Every remote camera and screen tile on the page, with the size it is shown at.
fn measure_tiles() -> Option<Vec<SfuTile>> {
    let window = web_sys::window()?;
    let viewport = Viewport {
        width: window.inner_width().ok()?.as_f64()?,
        height: window.inner_height().ok()?.as_f64()?,
        pixel_ratio: window.device_pixel_ratio(),
    };
    let found = window
        .document()?
        .query_selector_all(
            r#"[data-testid="tile"][data-self="false"], [data-testid="screen-tile"][data-self="false"]"#,
        )
        .ok()?;
    let mut tiles = Vec::new();
    for index in 0..found.length() {
        let Some(element) = found
            .item(index)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        let Some(peer_id) = element
            .get_attribute("data-peer")
            .and_then(|id| PeerId::new(&id).ok())
        else {
            continue;
        };
        let kind = if element.get_attribute("data-testid").as_deref() == Some("screen-tile") {
            SfuTrackKind::Screen
        } else {
            SfuTrackKind::Camera
        };
        let rect = element.get_bounding_client_rect();
        let (width, height) = viewport.shown_size(Rect {
            left: rect.left(),
            top: rect.top(),
            width: rect.width(),
            height: rect.height(),
        });
        tiles.push(SfuTile {
            peer_id,
            kind,
            width,
            height,
        });
    }
    Some(tiles)
}

/// Sizes are rounded down to a multiple of this many device pixels: a tile that grows by a
/// pixel is no news to the server, and a layer a few pixels smaller than its tile looks no
/// different (a 307×172 grid tile still takes the 320×180 layer).
const STEP_PX: f64 = 16.0;

/// The part of the page the user sees, in CSS pixels.
#[derive(Debug, Clone, Copy)]
struct Viewport {
    width: f64,
    height: f64,
    /// Device pixels per CSS pixel (screen density, zoom).
    pixel_ratio: f64,
}

/// A tile's box, in CSS pixels from the viewport's top left corner.
#[derive(Debug, Clone, Copy)]
struct Rect {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Viewport {
    /// The device pixels a tile at `rect` needs (at least one step), or 0×0 when none of it
    /// is in view.
    fn shown_size(self, rect: Rect) -> (u32, u32) {
        let in_view = rect.width > 0.0
            && rect.height > 0.0
            && rect.left < self.width
            && rect.top < self.height
            && rect.left + rect.width > 0.0
            && rect.top + rect.height > 0.0;
        if !in_view {
            return (0, 0);
        }
        let device = |css: f64| {
            let steps = (css * self.pixel_ratio / STEP_PX).floor().max(1.0);
            // A tile is at most a few thousand pixels: the cast cannot overflow.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let px = (steps * STEP_PX) as u32;
            px
        };
        (device(rect.width), device(rect.height))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAPTOP: Viewport = Viewport {
        width: 1280.0,
        height: 800.0,
        pixel_ratio: 2.0,
    };

    fn rect(left: f64, top: f64, width: f64, height: f64) -> Rect {
        Rect {
            left,
            top,
            width,
            height,
        }
    }

    #[test]
    fn a_tile_in_view_needs_its_device_pixels_rounded_up() {
        assert_eq!(
            LAPTOP.shown_size(rect(10.0, 10.0, 300.0, 169.0)),
            (592, 336)
        );
        let plain = Viewport {
            pixel_ratio: 1.0,
            ..LAPTOP
        };
        assert_eq!(plain.shown_size(rect(0.0, 0.0, 307.0, 172.0)), (304, 160));
        assert_eq!(
            plain.shown_size(rect(0.0, 0.0, 3.0, 3.0)),
            (16, 16),
            "tiny, still shown"
        );
    }

    #[test]
    fn a_tile_partly_in_view_counts_whole_and_one_out_of_view_is_not_shown() {
        assert_eq!(
            LAPTOP.shown_size(rect(1200.0, 700.0, 160.0, 90.0)),
            (320, 176),
            "its corner shows"
        );
        assert_eq!(
            LAPTOP.shown_size(rect(0.0, 900.0, 160.0, 90.0)),
            (0, 0),
            "below"
        );
        assert_eq!(
            LAPTOP.shown_size(rect(-200.0, 0.0, 160.0, 90.0)),
            (0, 0),
            "left"
        );
        assert_eq!(
            LAPTOP.shown_size(rect(0.0, 0.0, 0.0, 0.0)),
            (0, 0),
            "display: none"
        );
    }
}
