//! AsyncAPI 2.x and 3.x: comparing two versions of an event contract.
//!
//! Channels, operations and messages are matched by name; a message
//! payload is compared with the same schema comparison as an OpenAPI body,
//! in the direction the application uses it. A message the application
//! *receives* (AsyncAPI 2 `publish`, AsyncAPI 3 `action: receive`) is like a
//! request: narrowing it breaks the services that send it. A message it
//! *sends* (2: `subscribe`, 3: `action: send`) is like a response: widening
//! it breaks its consumers. Payload change ids are OpenAPI's with
//! `request`/`response` read as `received`/`sent`
//! (`new-required-received-property`, `sent-property-became-nullable`), at
//! the same levels.

use std::sync::OnceLock;

use cairn_source::{Diagnostic, FileId};
use cairn_yaml::Node;

use crate::openapi::diff::{Cx, finish};
use crate::openapi::schema::Place;
use crate::openapi::spec::{key_loc, loc};
use crate::openapi::{At, Docs, Options, Spec, ids};
use crate::{Change, Level};

/// Structural ids of event contracts, with their levels.
pub const IDS: &[(&str, Level)] = &[
    ("channel-added", Level::Info),
    ("channel-address-changed", Level::Err),
    ("channel-removed", Level::Err),
    ("message-added", Level::Info),
    ("message-removed", Level::Err),
    ("operation-action-changed", Level::Err),
    ("operation-added", Level::Info),
    ("operation-removed", Level::Err),
];

/// Every id an AsyncAPI comparison can report, with its level: the
/// structural ones and the renamed payload ids.
pub fn all_ids() -> &'static [(&'static str, Level)] {
    static ALL: OnceLock<Vec<(&'static str, Level)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<(&'static str, Level)> = IDS.to_vec();
        for (id, level) in ids::IDS {
            if let Some(renamed) = rename(id) {
                // Bounded: one string per OpenAPI id, made once per process.
                v.push((Box::leak(renamed.into_boxed_str()), *level));
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// The event name of an OpenAPI payload id, when it concerns a body or its properties.
fn rename(id: &str) -> Option<String> {
    if !(id.contains("request") || id.contains("response"))
        || id.contains("parameter")
        || id.contains("header")
    {
        return None;
    }
    if id.contains("media-type")
        || id.contains("status")
        || id.starts_with("api-")
        || id.starts_with("endpoint")
    {
        return None;
    }
    Some(
        id.replace("request-body", "received-payload")
            .replace("response-body", "sent-payload")
            .replace("request", "received")
            .replace("response", "sent"),
    )
}

/// The id and level to report for `id` in an event comparison.
pub(crate) fn event_id(id: &str) -> Option<(&'static str, Level)> {
    let all = all_ids();
    let lookup = |x: &str| {
        all.binary_search_by(|(i, _)| (*i).cmp(x))
            .ok()
            .map(|k| all[k])
    };
    lookup(id).or_else(|| rename(id).and_then(|r| lookup(&r)))
}

/// Whether a document is an AsyncAPI document.
pub fn is_asyncapi(root: &Node) -> bool {
    root.get("asyncapi").is_some()
}

/// A message as used by one operation: its key and node.
struct Message<'a> {
    key: String,
    node: At<'a>,
}

/// An operation: key, whether the application receives (vs sends), channel, messages.
struct Operation<'a> {
    key: String,
    receive: bool,
    channel: String,
    node: At<'a>,
    messages: Vec<Message<'a>>,
}

fn ref_tail(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// The messages of a v2 operation: `message`, or its `oneOf` list.
fn v2_messages<'a>(spec: &Spec<'a>, op: At<'a>) -> Vec<Message<'a>> {
    let Some(raw) = spec.get(op, "message") else {
        return Vec::new();
    };
    let resolved = spec.deref(raw);
    let list: Vec<At<'a>> = match resolved.node.get("oneOf") {
        Some(_) => spec
            .get(resolved, "oneOf")
            .map(|l| seq(l))
            .unwrap_or_default(),
        None => vec![raw],
    };
    list.into_iter()
        .enumerate()
        .map(|(i, m)| {
            let d = spec.deref(m);
            let key = d
                .node
                .get_str("messageId")
                .or_else(|| d.node.get_str("name"))
                .or_else(|| m.node.get_str("$ref").map(ref_tail))
                .map_or_else(|| format!("#{i}"), str::to_owned);
            Message { key, node: d }
        })
        .collect()
}

fn seq(at: At<'_>) -> Vec<At<'_>> {
    at.node
        .as_seq()
        .unwrap_or(&[])
        .iter()
        .map(|node| At {
            file: at.file,
            node,
            key: None,
        })
        .collect()
}

fn operations<'a>(spec: &Spec<'a>) -> (Vec<Operation<'a>>, Vec<(String, At<'a>)>) {
    let v3 = spec
        .root
        .node
        .get_str("asyncapi")
        .is_some_and(|v| v.starts_with('3'));
    let channels: Vec<(String, At<'a>)> = spec
        .entries(spec.get(spec.root, "channels"))
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let mut ops = Vec::new();
    if v3 {
        for (key, op) in spec.entries(spec.get(spec.root, "operations")) {
            let receive = op.node.get_str("action") == Some("receive");
            let channel = op
                .node
                .get("channel")
                .and_then(|c| c.get_str("$ref"))
                .map(ref_tail)
                .unwrap_or_default()
                .replace("~1", "/");
            let mut messages: Vec<Message<'a>> = spec
                .get(op, "messages")
                .map(seq)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let key = m
                        .node
                        .get_str("$ref")
                        .map_or_else(|| format!("#{i}"), |r| ref_tail(r).to_owned());
                    Message {
                        key,
                        node: spec.deref(m),
                    }
                })
                .collect();
            if messages.is_empty() {
                // No list: every message of the channel.
                if let Some((_, ch)) = channels.iter().find(|(k, _)| *k == channel) {
                    messages = spec
                        .entries(spec.get(*ch, "messages"))
                        .into_iter()
                        .map(|(k, m)| Message {
                            key: k.to_owned(),
                            node: m,
                        })
                        .collect();
                }
            }
            ops.push(Operation {
                key: key.to_owned(),
                receive,
                channel,
                node: op,
                messages,
            });
        }
    } else {
        for (name, ch) in &channels {
            for (verb, receive) in [("publish", true), ("subscribe", false)] {
                if let Some(op) = spec.get_d(*ch, verb) {
                    ops.push(Operation {
                        key: format!("{name} {verb}"),
                        receive,
                        channel: name.clone(),
                        node: op,
                        messages: v2_messages(spec, op),
                    });
                }
            }
        }
    }
    (ops, channels)
}

/// Compares two AsyncAPI documents.
pub fn compare(
    docs: &Docs,
    base: FileId,
    revision: FileId,
    opts: &Options,
) -> (Vec<Change>, Vec<Diagnostic>) {
    let (Some(b), Some(r)) = (Spec::new(docs, base), Spec::new(docs, revision)) else {
        return (Vec::new(), Vec::new());
    };
    let mut diags = Vec::new();
    let (bv, rv) = (
        b.root.node.get_str("asyncapi").unwrap_or(""),
        r.root.node.get_str("asyncapi").unwrap_or(""),
    );
    if bv.chars().next() != rv.chars().next() {
        diags.push(
            Diagnostic::warning(
                "contract-version-changed",
                format!("the AsyncAPI major version changed ({bv} to {rv}); channels and operations are matched by name across versions"),
            )
            .in_file(revision)
            .at(r.root.node.get("asyncapi").map_or(r.root.node.pos, |n| n.pos)),
        );
    }
    let mut cx = Cx::new(b, r, opts);
    cx.event = true;
    let (bops, bch) = operations(&b);
    let (rops, rch) = operations(&r);
    for (name, bc) in &bch {
        cx.path.clone_from(name);
        match rch.iter().find(|(k, _)| k == name) {
            None => {
                cx.emit(
                    "channel-removed",
                    Some(loc(*bc)),
                    format!("removed the channel `{name}`"),
                );
            }
            Some((_, rc)) => {
                let (x, y) = (bc.node.get_str("address"), rc.node.get_str("address"));
                if x != y {
                    cx.emit(
                        "channel-address-changed",
                        Some(key_loc(*rc, "address")),
                        format!(
                            "the address of channel `{name}` changed from `{}` to `{}`",
                            x.unwrap_or("none"),
                            y.unwrap_or("none")
                        ),
                    );
                }
            }
        }
    }
    for (name, rc) in &rch {
        if !bch.iter().any(|(k, _)| k == name) {
            cx.path.clone_from(name);
            cx.emit(
                "channel-added",
                Some(loc(*rc)),
                format!("added the channel `{name}`"),
            );
        }
    }
    for bo in &bops {
        cx.path.clone_from(&bo.channel);
        cx.method = if bo.receive {
            "receive".into()
        } else {
            "send".into()
        };
        let Some(ro) = rops.iter().find(|o| o.key == bo.key) else {
            // A v2 operation whose channel went is already reported with the channel.
            if rch.iter().any(|(k, _)| *k == bo.channel)
                || !bch.iter().any(|(k, _)| *k == bo.channel)
            {
                cx.emit(
                    "operation-removed",
                    Some(loc(bo.node)),
                    format!("removed the operation `{}`", bo.key),
                );
            }
            continue;
        };
        if bo.receive != ro.receive {
            cx.emit(
                "operation-action-changed",
                Some(key_loc(ro.node, "action")),
                format!(
                    "the operation `{}` changed from {} to {}",
                    bo.key,
                    verb(bo.receive),
                    verb(ro.receive)
                ),
            );
            continue;
        }
        for bm in &bo.messages {
            match ro.messages.iter().find(|m| m.key == bm.key) {
                None => {
                    cx.emit(
                        "message-removed",
                        Some(loc(bm.node)),
                        format!(
                            "the operation `{}` no longer carries the message `{}`",
                            bo.key, bm.key
                        ),
                    );
                }
                Some(rm) => {
                    for part in ["payload", "headers"] {
                        if let (Some(bs), Some(rs)) =
                            (b.get_d(bm.node, part), r.get_d(rm.node, part))
                        {
                            let media = rm
                                .node
                                .node
                                .get_str("contentType")
                                .or_else(|| r.root.node.get_str("defaultContentType"))
                                .unwrap_or("application/json");
                            let place =
                                Place::message(ro.receive, media, &bm.key, part == "headers");
                            cx.schema(&place, bs, rs);
                        }
                    }
                }
            }
        }
        for rm in &ro.messages {
            if !bo.messages.iter().any(|m| m.key == rm.key) {
                cx.emit(
                    "message-added",
                    Some(loc(rm.node)),
                    format!(
                        "the operation `{}` now carries the message `{}`",
                        ro.key, rm.key
                    ),
                );
            }
        }
    }
    for ro in &rops {
        if !bops.iter().any(|o| o.key == ro.key) {
            cx.path.clone_from(&ro.channel);
            cx.method = verb(ro.receive).into();
            cx.emit(
                "operation-added",
                Some(loc(ro.node)),
                format!("added the operation `{}`", ro.key),
            );
        }
    }
    (finish(cx.out), diags)
}

fn verb(receive: bool) -> &'static str {
    if receive { "receive" } else { "send" }
}
