use leptos::html::Video;
use leptos::prelude::*;
use web_sys::MediaStream;

use crate::rtc::media;

/// The speaker others are heard on (`None`: the default), as the call provides it.
#[derive(Debug, Clone, Copy)]
pub struct Speaker(pub ReadSignal<Option<String>>);

/// A `<video>` that plays a media stream. Our own picture is muted (no echo) and mirrored, as
/// people expect from a mirror.
#[component]
pub fn StreamVideo(
    /// The stream to play; `None` shows nothing.
    stream: ReadSignal<Option<MediaStream>, LocalStorage>,
    /// Whether this is our own camera.
    #[prop(optional)]
    own: bool,
) -> impl IntoView {
    let video = NodeRef::<Video>::new();
    Effect::new(move |_| {
        let (Some(element), stream) = (video.get(), stream.get()) else {
            return;
        };
        if element.src_object().as_ref() != stream.as_ref() {
            element.set_src_object(stream.as_ref());
            // Autoplay may refuse before a click; the `autoplay` attribute retries.
            let _ = element.play();
        }
    });
    // Others' sound goes to the chosen speaker; ours is muted anyway.
    let speaker = use_context::<Speaker>();
    Effect::new(move |_| {
        let (Some(element), Some(Speaker(speaker))) = (video.get(), speaker) else {
            return;
        };
        if let Some(sink) = speaker.get()
            && !own
        {
            media::play_on(&element, &sink);
        }
    });
    view! {
        <video
            node_ref=video
            class:mirrored=own
            autoplay
            playsinline
            prop:muted=own
            aria-hidden="true"
        ></video>
    }
}
