//! Who is speaking (audio levels, sampled by the call view) and how each link is doing (its
//! stats, sampled likewise).

use std::collections::HashMap;

use leptos::prelude::*;
use noom_shared::PeerId;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;

use super::Session;
use crate::rtc::level::LevelMeter;

/// How loud the audio must be for a tile to show as speaking.
const SPEAKING_LEVEL: f64 = 0.12;

impl Session {
    /// Measures `stream`'s audio for `id`'s speaking highlight, replacing any earlier meter.
    pub(super) fn watch_level(self, id: &PeerId, stream: &MediaStream) {
        let meter = LevelMeter::new(stream);
        self.inner.try_update_value(|i| match meter {
            Some(meter) => i.meters.insert(id.clone(), meter),
            None => i.meters.remove(id),
        });
    }

    /// Updates every participant's speaking highlight from its audio level, and the active
    /// speaker.
    pub fn sample_levels(self) {
        let Some(levels) = self.inner.try_with_value(|i| {
            i.meters
                .iter()
                .map(|(id, meter)| (id.clone(), meter.level()))
                .collect::<HashMap<_, _>>()
        }) else {
            return;
        };
        let mic_on = self.devices.mic_on().get_untracked();
        let mut loudest: Option<(f64, PeerId)> = None;
        for p in self.participants.get_untracked() {
            let level = levels.get(&p.id).copied().unwrap_or(0.0);
            let speaking = level > SPEAKING_LEVEL && (mic_on || !p.is_self);
            if p.speaking().get_untracked() != speaking {
                p.set_speaking(speaking);
            }
            if speaking && !p.is_self && loudest.as_ref().is_none_or(|(max, _)| level > *max) {
                loudest = Some((level, p.id.clone()));
            }
        }
        // The last one heard stays the active speaker through a pause.
        if let Some((_, id)) = loudest
            && self.active_speaker.get_untracked().as_ref() != Some(&id)
        {
            self.active_speaker.set(Some(id));
        }
    }

    /// Reads every link's stats and updates its participant's quality. In an SFU room the one
    /// link carries everyone: its quality is each remote participant's.
    pub fn sample_stats(self) {
        if let Some(Some(probe)) = self
            .inner
            .try_with_value(|i| i.sfu.as_ref().map(|s| s.stats()))
        {
            spawn_local(async move {
                if let Ok(quality) = probe.sample().await {
                    for p in self.participants.try_get_untracked().unwrap_or_default() {
                        if !p.is_self {
                            p.set_quality(quality);
                        }
                    }
                }
            });
            return;
        }
        let Some(probes) = self.inner.try_with_value(|i| {
            i.links
                .iter()
                .map(|(id, link)| (id.clone(), link.stats()))
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        for (id, probe) in probes {
            let Some(participant) = self.participant(&id) else {
                continue;
            };
            spawn_local(async move {
                if let Ok(quality) = probe.sample().await {
                    participant.set_quality(quality);
                }
            });
        }
    }
}
