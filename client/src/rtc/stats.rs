//! Call quality from `RTCPeerConnection.getStats()`: round-trip time of the selected candidate
//! pair, the share of inbound packets lost, and the bitrates in and out since the last sample.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Reflect, try_iter};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

use crate::i18n::Texts;

/// One link's quality, as the tile indicator and the stats panel show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Round-trip time in milliseconds, once ICE has a selected pair that measured it.
    pub rtt_ms: Option<f64>,
    /// Inbound packets lost since the link opened, in percent.
    pub loss_percent: f64,
    /// Received and sent bitrates since the previous sample, in kilobits per second.
    pub in_kbps: f64,
    pub out_kbps: f64,
}

/// How a link feels, from its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    Good,
    Fair,
    Poor,
}

impl Quality {
    pub fn grade(&self) -> Grade {
        let rtt = self.rtt_ms.unwrap_or(0.0);
        if self.loss_percent > 5.0 || rtt > 400.0 {
            Grade::Poor
        } else if self.loss_percent > 1.0 || rtt > 150.0 {
            Grade::Fair
        } else {
            Grade::Good
        }
    }

    /// "RTT 12 ms · Loss 0.0% · ↓ 1450 kb/s · ↑ 1380 kb/s", in `texts`' words.
    pub fn summary(&self, texts: &Texts) -> String {
        let (rtt, loss) = (texts.stats_rtt, texts.stats_loss);
        let round_trip = self
            .rtt_ms
            .map_or_else(|| format!("{rtt} –"), |ms| format!("{rtt} {ms:.0} ms"));
        format!(
            "{round_trip} · {loss} {:.1}% · ↓ {:.0} kb/s · ↑ {:.0} kb/s",
            self.loss_percent, self.in_kbps, self.out_kbps
        )
    }
}

/// Byte counters at one moment, to turn the next sample's counters into bitrates.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    at_ms: f64,
    bytes_in: f64,
    bytes_out: f64,
}

/// Samples one peer connection's stats; clones share the previous sample.
#[derive(Clone)]
pub struct StatsProbe {
    pc: RtcPeerConnection,
    last: Rc<Cell<Option<Totals>>>,
}

impl StatsProbe {
    pub(super) fn new(pc: RtcPeerConnection) -> Self {
        Self {
            pc,
            last: Rc::new(Cell::new(None)),
        }
    }

    /// Reads the stats now. The first sample has no bitrates yet (0).
    pub async fn sample(&self) -> Result<Quality, JsValue> {
        let report = JsFuture::from(self.pc.get_stats()).await?;
        let now = js_sys::Date::now();
        let mut totals = Totals {
            at_ms: now,
            ..Totals::default()
        };
        let (mut received, mut lost, mut rtt_ms) = (0.0, 0.0, None);
        for entry in try_iter(&report)?.into_iter().flatten() {
            // A stats report iterates as `[id, stats]` pairs.
            let stats = Reflect::get(&entry?, &1.into())?;
            let number = |name: &str| {
                Reflect::get(&stats, &name.into())
                    .ok()
                    .and_then(|v| v.as_f64())
                    .unwrap_or(0.0)
            };
            let text = |name: &str| {
                Reflect::get(&stats, &name.into())
                    .ok()
                    .and_then(|v| v.as_string())
            };
            match text("type").as_deref() {
                Some("inbound-rtp") => {
                    totals.bytes_in += number("bytesReceived");
                    received += number("packetsReceived");
                    lost += number("packetsLost");
                }
                Some("outbound-rtp") => totals.bytes_out += number("bytesSent"),
                Some("candidate-pair")
                    if text("state").as_deref() == Some("succeeded")
                        && Reflect::get(&stats, &"nominated".into())
                            .is_ok_and(|v| v.is_truthy()) =>
                {
                    let rtt = number("currentRoundTripTime");
                    if rtt > 0.0 {
                        rtt_ms = Some(rtt * 1000.0);
                    }
                }
                _ => {}
            }
        }
        let kbps = |bytes: f64, before: f64, since_ms: f64| {
            if since_ms > 0.0 {
                ((bytes - before).max(0.0) * 8.0) / since_ms
            } else {
                0.0
            }
        };
        let (in_kbps, out_kbps) = match self.last.replace(Some(totals)) {
            Some(last) => {
                let since = totals.at_ms - last.at_ms;
                (
                    kbps(totals.bytes_in, last.bytes_in, since),
                    kbps(totals.bytes_out, last.bytes_out, since),
                )
            }
            None => (0.0, 0.0),
        };
        let loss_percent = if received + lost > 0.0 {
            100.0 * lost.max(0.0) / (received + lost)
        } else {
            0.0
        };
        Ok(Quality {
            rtt_ms,
            loss_percent,
            in_kbps,
            out_kbps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quality(rtt_ms: Option<f64>, loss_percent: f64) -> Quality {
        Quality {
            rtt_ms,
            loss_percent,
            in_kbps: 900.0,
            out_kbps: 800.0,
        }
    }

    #[test]
    fn loss_and_round_trip_grade_a_link() {
        assert_eq!(quality(Some(20.0), 0.0).grade(), Grade::Good);
        assert_eq!(
            quality(None, 1.0).grade(),
            Grade::Good,
            "no RTT yet is not bad"
        );
        assert_eq!(quality(Some(150.1), 0.0).grade(), Grade::Fair);
        assert_eq!(quality(Some(10.0), 1.5).grade(), Grade::Fair);
        assert_eq!(quality(Some(400.1), 0.0).grade(), Grade::Poor);
        assert_eq!(quality(Some(10.0), 5.1).grade(), Grade::Poor);
    }

    #[test]
    fn summary_shows_every_number() {
        let en = crate::i18n::Lang::En.texts();
        let text = quality(Some(12.4), 0.3).summary(en);
        assert_eq!(text, "RTT 12 ms · Loss 0.3% · ↓ 900 kb/s · ↑ 800 kb/s");
        assert!(quality(None, 0.0).summary(en).starts_with("RTT –"));
    }
}
