//! Accessibility checks in a real page: axe-core (npm's `axe-core`, installed by
//! `scripts/setup.sh --test`) run on the page as it is, keeping the serious and critical
//! violations.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::browser::Page;

/// axe-core's script, read once.
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let root = std::process::Command::new("npm")
            .args(["root", "--global"])
            .output()
            .expect("npm runs");
        let root = String::from_utf8_lossy(&root.stdout).trim().to_owned();
        let path = PathBuf::from(root).join("axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "{} unreadable ({err}): run scripts/setup.sh --test",
                path.display()
            )
        })
    })
}

/// The serious and critical violations axe-core finds on `page` now, one line each (rule,
/// what it asks, and up to five elements with why).
pub async fn serious_violations(page: &Page) -> Vec<String> {
    // Evaluated as it is, not through `eval()`, which the app's CSP forbids.
    page.eval(&format!("{};true", axe_source())).await;
    let found = page
        .eval(
            "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations \
             .filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `${v.id} (${v.impact}): ${v.help}\\n      ` + v.nodes.slice(0, 5) \
               .map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\\n/g, ' ')) \
               .join('\\n      ')))",
        )
        .await;
    match found {
        Value::Array(lines) => lines
            .into_iter()
            .map(|line| line.as_str().unwrap_or_default().to_owned())
            .collect(),
        other => panic!("axe-core gave {other:?}"),
    }
}

/// Fails the test, listing them, if axe-core finds serious or critical violations on `page`.
pub async fn assert_accessible(page: &Page, what: &str) {
    let violations = serious_violations(page).await;
    assert!(
        violations.is_empty(),
        "{what}: {} serious or critical accessibility violations:\n  {}",
        violations.len(),
        violations.join("\n  ")
    );
    println!("{what}: no serious or critical accessibility violation");
}
