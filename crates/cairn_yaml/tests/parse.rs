//! Behaviour of the spanned YAML loader on small, hand-written inputs.

use cairn_yaml::{Value, YamlErrorKind, parse};
use proptest::prelude::*;

#[test]
fn scalar_positions_are_line_column_and_bytes() {
    let text = "a: 1\nb:\n  c: héllo\n  d: x\n";
    let p = parse(text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let root = &p.documents[0].root;
    let c = root.path(&["b", "c"]).unwrap();
    assert_eq!((c.pos.line, c.pos.column), (3, 6));
    assert_eq!(&text[c.pos.start as usize..c.pos.end as usize], "héllo");
    // a byte range after a multi-byte character still lines up
    let d = root.path(&["b", "d"]).unwrap();
    assert_eq!(&text[d.pos.start as usize..d.pos.end as usize], "x");
    assert_eq!((d.pos.line, d.pos.column), (4, 6));
}

#[test]
fn multi_document_files_keep_every_document_and_its_index() {
    let p = parse("a: 1\n---\nb: 2\n---\n---\nc: 3\n");
    let keys: Vec<_> = p
        .documents
        .iter()
        .map(|d| {
            (
                d.index,
                d.root.as_map().map(|m| m[0].0.as_str().unwrap().to_owned()),
            )
        })
        .collect();
    assert_eq!(keys[0], (0, Some("a".to_owned())));
    assert_eq!(keys[1], (1, Some("b".to_owned())));
    assert_eq!(keys.last().unwrap(), &(3, Some("c".to_owned())));
}

#[test]
fn a_syntax_error_loses_only_its_document() {
    let text = "a: 1\n---\nb: [1, 2\nc: 3\n---\nd: 4\n";
    let p = parse(text);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, YamlErrorKind::Syntax);
    assert!(p.errors[0].pos.line >= 3, "{:?}", p.errors[0]);
    let roots: Vec<_> = p
        .documents
        .iter()
        .map(|d| d.root.as_map().unwrap()[0].0.as_str().unwrap())
        .collect();
    assert_eq!(roots, ["a", "d"]);
    // positions after the restart still count lines from the top of the file
    let d = p.documents[1].root.get("d").unwrap();
    assert_eq!(d.pos.line, 6);
    assert_eq!(&text[d.pos.start as usize..d.pos.end as usize], "4");
}

#[test]
fn merge_keys_fill_in_without_overriding() {
    let p = parse("base: &b {image: x, restart: always}\nsvc:\n  <<: *b\n  restart: never\n");
    let svc = p.documents[0].root.get("svc").unwrap();
    assert_eq!(svc.get_str("image"), Some("x"));
    assert_eq!(svc.get_str("restart"), Some("never"));
    assert!(svc.get("<<").is_none());
}

#[test]
fn merge_key_list_gives_precedence_to_earlier_maps() {
    let p = parse("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
    let c = p.documents[0].root.get("c").unwrap();
    assert_eq!(c.get("x").unwrap().as_i64(), Some(1));
    assert_eq!(c.get("y").unwrap().as_i64(), Some(2));
}

#[test]
fn duplicate_keys_are_reported_and_last_wins() {
    let p = parse("replicas: 1\nname: a\nreplicas: 3\n");
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, YamlErrorKind::DuplicateKey);
    assert_eq!(p.errors[0].pos.line, 3);
    assert_eq!(
        p.documents[0].root.get("replicas").unwrap().as_i64(),
        Some(3)
    );
}

#[test]
fn billion_laughs_is_stopped() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(cur);
        text.push_str(": &");
        text.push_str(cur);
        text.push_str(" [");
        text.push_str(&refs);
        text.push_str("]\n");
    }
    let p = parse(&text);
    assert!(
        p.errors.iter().any(|e| e.kind == YamlErrorKind::AliasLimit),
        "{:?}",
        p.errors
    );
    assert!(p.documents.is_empty());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let p = parse(&text);
    assert!(
        p.errors
            .iter()
            .any(|e| e.kind == YamlErrorKind::TooDeep || e.kind == YamlErrorKind::Syntax)
    );
    assert!(p.documents.is_empty());
    let block: String = (0..10_000).map(|i| " ".repeat(i) + "k:\n").collect();
    let p = parse(&block);
    assert!(!p.errors.is_empty());
}

#[test]
fn quoted_numbers_stay_strings() {
    let p = parse("a: \"3\"\nb: 3\nc: three\n");
    let r = &p.documents[0].root;
    assert_eq!(r.get("a").unwrap().as_i64(), None);
    assert_eq!(r.get("b").unwrap().as_i64(), Some(3));
    assert_eq!(r.get("c").unwrap().type_name(), "a string");
}

#[test]
fn empty_input_has_no_documents_and_no_errors() {
    for text in ["", "\n\n", "# only a comment\n"] {
        let p = parse(text);
        assert!(p.documents.is_empty() && p.errors.is_empty(), "{text:?}");
    }
}

#[test]
fn unknown_alias_is_reported() {
    let p = parse("a: *nothing\n");
    // saphyr rejects an undefined alias itself; either way it is reported, not a panic
    assert!(!p.errors.is_empty());
}

proptest! {
    #[test]
    fn any_text_parses_without_panic_and_positions_stay_in_bounds(text in "\\PC{0,200}") {
        let p = parse(&text);
        for d in &p.documents {
            let mut stack = vec![&d.root];
            while let Some(n) = stack.pop() {
                prop_assert!(n.pos.start <= n.pos.end);
                prop_assert!(n.pos.end as usize <= text.len());
                prop_assert!(text.is_char_boundary(n.pos.start as usize));
                prop_assert!(n.pos.line >= 1);
                match &n.value {
                    Value::Seq(items) => stack.extend(items),
                    Value::Map(entries) => for (k, v) in entries { stack.push(k); stack.push(v); },
                    Value::Scalar(_) => {}
                }
            }
        }
        for e in &p.errors {
            prop_assert!(e.pos.end as usize <= text.len());
        }
    }

    #[test]
    fn yaml_shaped_text_parses_without_panic(lines in prop::collection::vec("( {0,4})(-|[a-z]{1,3}:|&a|\\*a|<<:|\\[|\\]|\\{|\\}|---|'|\")( [a-z0-9]{0,3})?", 0..40)) {
        let text = lines.join("\n");
        let _ = parse(&text);
    }
}

/// Regression: the OpenTelemetry demo's docker-compose.yml closes a flow
/// sequence at its key's indentation, which saphyr rejects and go-yaml (docker
/// compose) accepts; the whole file used to be dropped.
#[test]
fn flow_closer_at_parent_indentation_is_read_leniently() {
    let text = "services:\n  flagd:\n    command: [\n      \"start\",\n      \"--uri\"\n    ]\n    ports:\n      - \"8013\"\n";
    let p = parse(text);
    let kinds: Vec<_> = p
        .errors
        .iter()
        .map(|e| (e.kind.clone(), e.pos.line))
        .collect();
    assert_eq!(kinds, [(YamlErrorKind::LenientIndentation, 6)]);
    let flagd = p.documents[0].root.path(&["services", "flagd"]).unwrap();
    let cmd: Vec<_> = flagd
        .seq_at("command")
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(cmd, ["start", "--uri"]);
    // positions after the re-indented line still point into the original text
    let port = &flagd.seq_at("ports")[0];
    assert_eq!(
        &text[port.pos.start as usize..port.pos.end as usize],
        "\"8013\""
    );
    assert_eq!((port.pos.line, port.pos.column), (8, 9));
}

/// Regression: sock-shop's grafana job closes a multi-line single-quoted
/// annotation at the key's indentation.
#[test]
fn quoted_closer_at_parent_indentation_is_read_leniently() {
    let text = "metadata:\n  annotations:\n    init: '[\n      {\"name\": \"wait\"}\n    ]'\n  name: job\n";
    let p = parse(text);
    assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
    assert_eq!(p.errors[0].kind, YamlErrorKind::LenientIndentation);
    let meta = p.documents[0].root.get("metadata").unwrap();
    assert!(
        meta.path(&["annotations", "init"])
            .unwrap()
            .as_str()
            .unwrap()
            .contains("wait")
    );
    let name = meta.get("name").unwrap();
    assert_eq!(&text[name.pos.start as usize..name.pos.end as usize], "job");
}

#[test]
fn a_quoted_scalar_ends_at_its_closing_quote_not_at_a_trailing_comment() {
    let text = "a: \"0%\" # a comment\nb: 'it''s' # another\nc: \"esc\\\"aped\"\n";
    let p = cairn_yaml::parse(text);
    let root = &p.documents[0].root;
    for (key, want) in [("a", "\"0%\""), ("b", "'it''s'"), ("c", "\"esc\\\"aped\"")] {
        let pos = root.get(key).unwrap().pos;
        assert_eq!(&text[pos.start as usize..pos.end as usize], want, "{key}");
    }
}
