//! The rule documentation under `docs/rules/`, generated from the rule files.

use std::fmt::Write;

use crate::{Category, Profile, Rule, rules};

/// One page per rule plus the index `README.md`: `(file name, content)`.
pub fn pages() -> Vec<(String, String)> {
    let all = rules();
    let mut out: Vec<(String, String)> = all
        .iter()
        .map(|r| (format!("{}.md", r.name), page(r)))
        .collect();
    out.push(("README.md".into(), index(&all)));
    out
}

fn levels_table(r: &Rule) -> String {
    let mut s = String::from("| profile |");
    for p in Profile::ALL {
        let _ = write!(s, " {} |", p.as_str());
    }
    s.push_str("\n|---|");
    for _ in Profile::ALL {
        s.push_str("---|");
    }
    s.push_str("\n| severity |");
    for p in Profile::ALL {
        let _ = write!(s, " {} |", r.level(p).as_str());
    }
    s.push('\n');
    s
}

/// A rule's page.
pub fn page(r: &Rule) -> String {
    let docs = r.docs();
    let mut lines = docs.lines();
    let title = lines.next().unwrap_or(r.summary);
    let body: Vec<&str> = lines.collect();
    let mut s = String::new();
    let _ = writeln!(s, "# `{}` ({})\n", r.name, r.code);
    let _ = writeln!(s, "{title}\n");
    let _ = writeln!(s, "Category: `{}`.\n", r.category.as_str());
    let _ = writeln!(s, "{}", levels_table(r));
    let _ = writeln!(s, "{}", body.join("\n").trim());
    let _ = writeln!(
        s,
        "\nSuppress one finding with the annotation `cairn.dev/ignore: \"{} <reason>\"` on the object (or its pod template), or the comment `# cairn:ignore {} <reason>` on the line or the line above.",
        r.name, r.name
    );
    s
}

fn index(all: &[&Rule]) -> String {
    let mut s = String::from(
        "# cairn check rules\n\nGenerated from `crates/cairn_check/src/rules/`; do not edit by hand \
         (`UPDATE_DOCS=1 cargo test -p cairn_check --test docs` rewrites this folder).\n\n\
         Severity per environment profile: homelab / sandbox / dev / staging / production.\n",
    );
    for c in Category::ALL {
        let mine: Vec<&&Rule> = all.iter().filter(|r| r.category == c).collect();
        if mine.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "\n## {}\n\n| code | rule | severity | what |\n|---|---|---|---|",
            c.as_str()
        );
        for r in mine {
            let sev: Vec<&str> = Profile::ALL.iter().map(|p| r.level(*p).as_str()).collect();
            let _ = writeln!(
                s,
                "| {} | [`{}`]({}.md) | {} | {} |",
                r.code,
                r.name,
                r.name,
                sev.join(" / "),
                r.summary.replace('|', "\\|")
            );
        }
    }
    s
}
