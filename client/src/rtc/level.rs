//! Audio level of a stream, for the pre-join meter and the speaking highlight.

use std::cell::RefCell;

use web_sys::{AnalyserNode, AudioContext, MediaStream, MediaStreamAudioSourceNode};

thread_local! {
    /// One audio context for the page: browsers limit how many may exist.
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// Measures the loudness of a stream's audio. Dropping it disconnects it.
pub struct LevelMeter {
    source: MediaStreamAudioSourceNode,
    analyser: AnalyserNode,
    samples: RefCell<Vec<f32>>,
}

impl LevelMeter {
    /// A meter on `stream`'s audio, or `None` when it has no audio track or audio is unavailable.
    pub fn new(stream: &MediaStream) -> Option<Self> {
        if stream.get_audio_tracks().length() == 0 {
            return None;
        }
        let context = shared_context()?;
        let source = context.create_media_stream_source(stream).ok()?;
        let analyser = context.create_analyser().ok()?;
        analyser.set_fft_size(512);
        source.connect_with_audio_node(&analyser).ok()?;
        Some(Self {
            source,
            analyser,
            samples: RefCell::new(vec![0.0; 512]),
        })
    }

    /// The current level, 0.0 (silence) to 1.0 (loud speech and above).
    pub fn level(&self) -> f64 {
        let mut samples = self.samples.borrow_mut();
        self.analyser.get_float_time_domain_data(&mut samples);
        let power = samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / 512.0;
        // Speech sits around an RMS of 0.02 to 0.2: stretch that range over the meter.
        (power.sqrt() * 5.0).min(1.0)
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        let _ = self.source.disconnect();
    }
}

fn shared_context() -> Option<AudioContext> {
    CONTEXT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = AudioContext::new().ok();
        }
        let context = slot.clone()?;
        // Created before any click, a context starts suspended; this is retried on every meter.
        let _ = context.resume();
        Some(context)
    })
}
