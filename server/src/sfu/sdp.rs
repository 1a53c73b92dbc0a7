//! Touches to the SDP that str0m writes, for the WebRTC stacks that read it.

/// `sdp` with the ICE candidates of its first m-line repeated in every other m-line.
///
/// str0m writes them in the first m-line only, which BUNDLE allows and Chromium accepts; other
/// stacks read each m-line's candidates for its own transport before bundling (aiortc takes
/// those of the last m-line of each kind) and would find none to check.
pub(super) fn with_candidates_on_every_m_line(sdp: &str) -> String {
    let lines: Vec<&str> = sdp.split_terminator("\r\n").collect();
    let candidates: Vec<&str> = lines
        .iter()
        .skip_while(|line| !line.starts_with("m="))
        .skip(1)
        .take_while(|line| !line.starts_with("m="))
        .filter(|line| line.starts_with("a=candidate:"))
        .copied()
        .collect();
    let mut out = String::with_capacity(sdp.len() + 128 * candidates.len());
    let mut section_has_candidates = true;
    for line in lines {
        if line.starts_with("m=") {
            if !section_has_candidates {
                push_lines(&mut out, &candidates);
            }
            section_has_candidates = false;
        }
        section_has_candidates |= line.starts_with("a=candidate:");
        push_lines(&mut out, &[line]);
    }
    if !section_has_candidates {
        push_lines(&mut out, &candidates);
    }
    out
}

fn push_lines(out: &mut String, lines: &[&str]) {
    for line in lines {
        out.push_str(line);
        out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANDIDATE: &str = "a=candidate:1 1 udp 2130706175 127.0.0.1 5000 typ host";

    #[test]
    fn every_m_line_gets_the_first_one_s_candidates_once() {
        let sdp = format!(
            "v=0\r\na=ice-lite\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{CANDIDATE}\r\na=mid:0\r\n\
             m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\n"
        );
        let out = with_candidates_on_every_m_line(&sdp);
        let sections: Vec<&str> = out.split("m=").skip(1).collect();
        assert_eq!(sections.len(), 3);
        for section in sections {
            assert_eq!(section.matches(CANDIDATE).count(), 1, "{section}");
        }
        assert!(out.starts_with("v=0\r\na=ice-lite\r\nm=audio"), "{out}");
        assert!(out.ends_with("\r\n"));
    }

    #[test]
    fn an_sdp_without_candidates_or_m_lines_is_kept_as_it_is() {
        for sdp in [
            "v=0\r\ns=-\r\n",
            "v=0\r\nm=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\n",
        ] {
            assert_eq!(with_candidates_on_every_m_line(sdp), sdp);
        }
    }
}
