//! The names this server answers to. A page on an attacker's domain can make that name point
//! at a Noom on this machine or LAN (DNS rebinding); the browser then sends the attacker's name
//! as `Host`, and its Origin matches. Refusing names that are not ours stops that: IP addresses
//! are always accepted (a rebinding attacker needs a name), as are `localhost`, this machine's
//! name, `--public-host` and `--acme-domain` names.

use std::net::IpAddr;

use crate::config::Config;

#[derive(Debug, Clone)]
pub(crate) struct OwnNames {
    names: Vec<String>,
}

impl OwnNames {
    pub(crate) fn new(config: &Config) -> Self {
        let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let mut names = vec!["localhost".to_owned()];
        if !machine.is_empty() {
            names.push(format!("{machine}.local"));
            names.push(machine);
        }
        names.extend(
            config
                .public_host
                .iter()
                .chain(&config.acme_domain)
                .map(|name| normalise(name)),
        );
        Self { names }
    }

    /// Whether a request with this `Host` header is for us.
    pub(crate) fn accepts(&self, host: &str) -> bool {
        let name = without_port(host);
        if name.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = normalise(name);
        self.names.contains(&name)
    }
}

/// Lowercase, without the trailing dot of a fully qualified name.
fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `example.org:8080` → `example.org`, `[::1]:8080` → `::1`.
fn without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(public: &[&str]) -> OwnNames {
        OwnNames::new(&Config {
            public_host: public.iter().map(|n| (*n).to_owned()).collect(),
            acme_domain: vec!["acme.example.org".into()],
            ..Config::default()
        })
    }

    #[test]
    fn ours_and_addresses_are_accepted_and_other_names_are_not() {
        let own = names(&["Meet.Example.org"]);
        for host in [
            "127.0.0.1:8080",
            "192.168.1.20:8443",
            "[::1]:8080",
            "localhost:8080",
            "LOCALHOST",
            "meet.example.org",
            "meet.example.org.:443",
            "acme.example.org",
        ] {
            assert!(own.accepts(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "meet.example.org.evil.example",
            "",
            "127.0.0.1.nip.io",
        ] {
            assert!(!own.accepts(host), "{host}");
        }
    }
}
