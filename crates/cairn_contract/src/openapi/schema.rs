//! Comparing two schemas, direction-aware.
//!
//! A schema is compared where it is used: in a request (what clients
//! send, so narrowing it breaks them) or in a response (what clients
//! read, so widening it breaks them). The comparison records what changed
//! as an *aspect* (`min-increased`, `became-nullable`, `pattern-added`) at
//! a [`Place`]; the id is built from the place and the aspect
//! (`request-property-min-increased`) and its level comes from the id
//! table, which is where the direction decides. An aspect that no check
//! names at that place is not reported.
//!
//! Recursive schemas end: a pair of nodes met again on the current path is
//! assumed equal, and a pair that differs and is part of a cycle is
//! compared once per root (see [`Walk`]), so a graph of schemas that refer
//! to each other costs its size, not the number of paths through it.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use cairn_source::Loc;
use cairn_yaml::{Node, Value};

use super::diff::{Cx, flag, same, show_date, stability, sunset};
use super::load::At;
use super::spec::{key_loc, loc};
use crate::Change;

/// Deepest nesting of schemas compared; far beyond real specifications.
const MAX_DEPTH: usize = 64;

/// The changes one comparison of a schema pair at a place found, to repeat
/// where the same pair is used at the same place again.
pub(crate) struct Replay {
    changes: Vec<Change>,
    seen: usize,
    /// Where the two roots were used (their keys), which some changes point at.
    roots: [Option<Loc>; 2],
}

/// A schema pair at a place, by the addresses of its two nodes.
pub(crate) type ReplayKey = (Place, usize, usize);

/// A schema pair, by the addresses of its two nodes.
type PairKey = (usize, usize);

/// The schema pairs being compared from one root: cycles, equality that
/// holds on an assumption, and recursive pairs already compared.
///
/// Equality of recursive schemas is decided the coinductive way: a pair met
/// again while it is still being compared is assumed equal. A pair whose
/// comparison found no difference is equal outright when it relied on no
/// pair above it; otherwise it is equal *provided* that pair is, and it is
/// reused as such while that pair is still being compared (then settled
/// with it).
///
/// A pair that differs and is part of a cycle (it relied on a pair above
/// it, or a pair below relied on it) is compared once per root: its
/// changes are reported at the first place it is reached, not again at
/// each of the other paths through the cycle. Without these two rules a
/// graph of schemas that refer to each other (Stripe's, Microsoft
/// Graph's) is walked once per path through it: exponential in its size.
#[derive(Default)]
pub(crate) struct Walk {
    /// The pairs being compared, with their frame (depth on this stack).
    active: HashMap<PairKey, usize>,
    /// Per frame: its pair, the lowest frame its comparison relied on, and
    /// whether a comparison below relied on it.
    frames: Vec<Frame>,
    /// Per frame: the pairs found equal provided this frame is.
    pending: Vec<Vec<PairKey>>,
    /// Pairs found equal provided a frame still on the stack is, with that frame.
    provisional: HashMap<PairKey, usize>,
    /// Recursive pairs compared already (with the read-only and write-only
    /// context they were compared in), with the frame and pair they relied on.
    recursive: HashMap<(PairKey, bool, bool), Option<(usize, PairKey)>>,
}

struct Frame {
    key: PairKey,
    low: usize,
    relied_on: bool,
}

impl Walk {
    /// The frame a pair's equality may be assumed on: its own when it is
    /// being compared, or the one its provisional equality relies on.
    fn assumed(&self, key: PairKey) -> Option<usize> {
        self.active
            .get(&key)
            .or_else(|| self.provisional.get(&key))
            .copied()
    }

    /// Whether `key` is a recursive pair compared already in this context;
    /// the current comparison then relies on what it relied on.
    fn compared(&mut self, key: PairKey, place: &Place) -> bool {
        let Some(dep) = self
            .recursive
            .get(&(key, place.read_only, place.write_only))
            .copied()
        else {
            return false;
        };
        if let Some((frame, k)) = dep
            && self.frames.get(frame).is_some_and(|f| f.key == k)
        {
            self.depend(frame);
        }
        true
    }

    /// The current comparison relies on frame `frame` being equal.
    fn depend(&mut self, frame: usize) {
        if let Some(f) = self.frames.get_mut(frame) {
            f.relied_on = true;
        }
        if let Some(top) = self.frames.last_mut() {
            top.low = top.low.min(frame);
        }
    }

    /// Starts comparing `key`; returns its frame.
    fn enter(&mut self, key: PairKey) -> usize {
        let frame = self.frames.len();
        self.active.insert(key, frame);
        self.frames.push(Frame {
            key,
            low: frame,
            relied_on: false,
        });
        self.pending.push(Vec::new());
        frame
    }

    /// Ends comparing `key` (frame `frame`) at `place`; `same` when no
    /// difference was found below it. Pairs settled equal go to `equal`.
    fn leave(
        &mut self,
        key: PairKey,
        frame: usize,
        place: &Place,
        same: bool,
        equal: &mut HashSet<PairKey>,
    ) {
        self.active.remove(&key);
        let Some(me) = self.frames.pop() else { return };
        let low = me.low;
        let mut mine = self.pending.pop().unwrap_or_default();
        if same && low >= frame {
            for k in mine.into_iter().chain([key]) {
                self.provisional.remove(&k);
                equal.insert(k);
            }
        } else if same {
            mine.push(key);
            for k in &mine {
                self.provisional.insert(*k, low);
            }
            self.pending[low].extend(mine);
        } else {
            for k in mine {
                self.provisional.remove(&k);
            }
            if low < frame || me.relied_on {
                let dep = (low < frame).then(|| (low, self.frames[low].key));
                self.recursive
                    .insert((key, place.read_only, place.write_only), dep);
            }
        }
        if low < frame {
            self.depend(low);
        }
    }
}

/// Where a schema is used.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Place {
    request: bool,
    kind: Kind,
    /// The property path below the root (`address/street`), empty at the root.
    prop: String,
    media: String,
    status: Option<String>,
    read_only: bool,
    write_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Body,
    /// An event message's payload (AsyncAPI).
    Message {
        name: String,
    },
    Param {
        location: String,
        name: String,
    },
    Header {
        name: String,
    },
}

impl Place {
    /// A request (`request`) or response body of media type `media`.
    pub fn body(request: bool, media: &str) -> Place {
        Place {
            request,
            kind: Kind::Body,
            prop: String::new(),
            media: media.to_owned(),
            status: None,
            read_only: false,
            write_only: false,
        }
    }

    /// An event message received (`receive`) or sent by the application;
    /// `headers` for its headers schema.
    pub fn message(receive: bool, media: &str, name: &str, headers: bool) -> Place {
        Place {
            request: receive,
            kind: Kind::Message {
                name: name.to_owned(),
            },
            prop: if headers {
                "headers".to_owned()
            } else {
                String::new()
            },
            media: media.to_owned(),
            status: None,
            read_only: false,
            write_only: false,
        }
    }

    /// A request parameter.
    pub fn param(location: &str, name: &str) -> Place {
        Place {
            request: true,
            kind: Kind::Param {
                location: location.to_owned(),
                name: name.to_owned(),
            },
            prop: String::new(),
            media: String::new(),
            status: None,
            read_only: false,
            write_only: false,
        }
    }

    /// A response header.
    pub fn header(name: &str) -> Place {
        Place {
            request: false,
            kind: Kind::Header {
                name: name.to_owned(),
            },
            prop: String::new(),
            media: String::new(),
            status: None,
            read_only: false,
            write_only: false,
        }
    }

    /// The same place in the response of status `code`.
    pub fn with_status(mut self, code: &str) -> Place {
        self.status = Some(code.to_owned());
        self
    }

    fn nested(&self, name: &str, s: At<'_>) -> Place {
        let mut p = self.clone();
        p.prop = if p.prop.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", p.prop)
        };
        p.read_only = flag(s.node, "readOnly");
        p.write_only = flag(s.node, "writeOnly");
        p
    }

    fn dir(&self) -> &'static str {
        if self.request { "request" } else { "response" }
    }

    /// The subject words of ids at this place, most specific first.
    fn subjects(&self) -> &'static [&'static str] {
        let root = self.prop.is_empty();
        match (&self.kind, root) {
            // A read-only property is not sent by clients: its own ids come
            // first (at INFO); checks without one still apply, as in oasdiff.
            (Kind::Body, false) if self.request && self.read_only => {
                &["read-only-property", "property"]
            }
            // A write-only property is never returned: no response check applies.
            (_, false) if !self.request && self.write_only => &[],
            (Kind::Body | Kind::Message { .. }, true) => &["body"],
            (Kind::Body | Kind::Message { .. }, false) => &["property"],
            (Kind::Param { .. }, true) => &["parameter"],
            (Kind::Param { location, .. }, false) if location == "header" => {
                &["header-property", "parameter-property"]
            }
            (Kind::Param { .. }, false) => &["parameter-property"],
            (Kind::Header { .. }, true) => &["header"],
            (Kind::Header { .. }, false) => &[],
        }
    }

    fn describe(&self) -> String {
        let mut s = match &self.kind {
            Kind::Body if self.prop.is_empty() => format!("the {} body", self.dir()),
            Kind::Body => format!("the {} property `{}`", self.dir(), self.prop),
            Kind::Param { location, name } if self.prop.is_empty() => {
                format!("the {location} request parameter `{name}`")
            }
            Kind::Param { location, name } => format!(
                "the property `{}` of the {location} request parameter `{name}`",
                self.prop
            ),
            Kind::Header { name } => format!("the response header `{name}`"),
            Kind::Message { name } if self.prop.is_empty() => {
                format!(
                    "the payload of the {} message `{name}`",
                    if self.request { "received" } else { "sent" }
                )
            }
            Kind::Message { name } => {
                format!(
                    "the property `{}` of the {} message `{name}`",
                    self.prop,
                    if self.request { "received" } else { "sent" }
                )
            }
        };
        match (&self.status, self.media.is_empty()) {
            (Some(c), false) => {
                let _ = write!(s, " ({c}, {})", self.media);
            }
            (Some(c), true) => {
                let _ = write!(s, " ({c})");
            }
            (None, false) => {
                let _ = write!(s, " ({})", self.media);
            }
            (None, true) => {}
        }
        s
    }
}

impl<'a> Cx<'a> {
    /// Emits `aspect` at `place`, under the first id that exists for it.
    fn aspect(&mut self, place: &Place, aspect: &str, at: At<'_>, key: &str, detail: &str) {
        self.seen += 1;
        for subject in place.subjects() {
            let id = format!("{}-{subject}-{aspect}", place.dir());
            if super::ids::level(&id).is_some() {
                let text = format!("{} {detail}", place.describe());
                self.emit(
                    &id,
                    Some(if key.is_empty() {
                        loc(at)
                    } else {
                        key_loc(at, key)
                    }),
                    text,
                );
                return;
            }
        }
    }

    /// Compares the schemas `b` and `r` used at `place`.
    ///
    /// The same pair at the same place (a shared error response in every
    /// operation) gives the same changes: they are found once and repeated
    /// for each operation, at the position of each one's own `schema:` key.
    pub(crate) fn schema(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        let (bd, rd) = (self.base.deref(b), self.rev.deref(r));
        let key = (
            place.clone(),
            std::ptr::from_ref(bd.node) as usize,
            std::ptr::from_ref(rd.node) as usize,
        );
        let roots = [
            bd.key.map(|k| Loc::new(bd.file, k)),
            rd.key.map(|k| Loc::new(rd.file, k)),
        ];
        if let Some(found) = self.replay.get(&key) {
            let operation = (!self.method.is_empty()).then(|| self.method.to_ascii_uppercase());
            let path = (!self.path.is_empty()).then(|| self.path.clone());
            let mut again = Vec::with_capacity(found.changes.len());
            for c in &found.changes {
                // A change at the root's key moves to this use's key.
                let loc = match found.roots.iter().position(|x| x.is_some() && *x == c.loc) {
                    Some(i) => roots[i].or(c.loc),
                    None => c.loc,
                };
                again.push(Change {
                    loc,
                    operation: operation.clone(),
                    path: path.clone(),
                    ..c.clone()
                });
            }
            self.seen += found.seen;
            self.out.extend(again);
            return;
        }
        let (start, seen) = (self.out.len(), self.seen);
        let mut visiting = Walk::default();
        self.schema_at(place, b, r, &mut visiting, 0);
        let found = Replay {
            changes: self.out[start..].to_vec(),
            seen: self.seen - seen,
            roots,
        };
        self.replay.insert(key, found);
    }

    fn schema_at(
        &mut self,
        place: &Place,
        b: At<'a>,
        r: At<'a>,
        visiting: &mut Walk,
        depth: usize,
    ) {
        let (b, r) = self.pair(b, r);
        if std::ptr::eq(b.node, r.node) {
            return;
        }
        if depth > MAX_DEPTH {
            // Not compared: count it as a difference, so that no schema
            // above is taken as equal.
            self.seen += 1;
            return;
        }
        let key = (
            std::ptr::from_ref(b.node) as usize,
            std::ptr::from_ref(r.node) as usize,
        );
        if self.equal.contains(&key) {
            return;
        }
        if let Some(frame) = visiting.assumed(key) {
            // A cycle, or a pair found equal on the assumption that a schema
            // still being compared is: assume the same here.
            visiting.depend(frame);
            return;
        }
        if visiting.compared(key, place) {
            // Reported where it was first reached; it still differs, so no
            // schema above it is equal.
            self.seen += 1;
            return;
        }
        let frame = visiting.enter(key);
        let seen = self.seen;
        if wrapped_in_one_of(b.node, r.node) {
            // The old schema became one alternative of a `oneOf`: the
            // alternatives are not compared with it one by one.
            self.aspect(
                place,
                "wrapped-in-one-of",
                r,
                "oneOf",
                "was wrapped in `oneOf`",
            );
            visiting.leave(key, frame, place, false, &mut self.equal);
            return;
        }
        self.types(place, b, r);
        self.nullable(place, b, r);
        self.values(place, b, r);
        self.bounds(place, b, r);
        self.pattern(place, b, r);
        self.keywords(place, b, r);
        self.discriminator(place, b, r);
        self.compositions(place, b, r, visiting, depth);
        self.properties(place, b, r, visiting, depth);
        // Subschemas that constrain the same value are compared in place.
        for kw in [
            "not",
            "if",
            "then",
            "else",
            "contains",
            "propertyNames",
            "unevaluatedItems",
            "unevaluatedProperties",
            "contentSchema",
        ] {
            if let (Some(bi), Some(ri)) = (self.base.get_d(b, kw), self.rev.get_d(r, kw))
                && bi.node.as_map().is_some()
                && ri.node.as_map().is_some()
            {
                self.schema_at(place, bi, ri, visiting, depth + 1);
            }
        }
        for (i, (bi, ri)) in self
            .base
            .items(self.base.get(b, "prefixItems"))
            .into_iter()
            .zip(self.rev.items(self.rev.get(r, "prefixItems")))
            .enumerate()
        {
            let p = place.nested(&format!("prefixItems/{i}"), ri);
            self.schema_at(&p, bi, ri, visiting, depth + 1);
        }
        for kw in ["patternProperties", "dependentSchemas"] {
            let rmap = self.rev.entries(self.rev.get(r, kw));
            for (k, bi) in self.base.entries(self.base.get(b, kw)) {
                if let Some((_, ri)) = rmap.iter().find(|(k2, _)| *k2 == k) {
                    let p = place.nested(k, *ri);
                    self.schema_at(&p, bi, *ri, visiting, depth + 1);
                }
            }
        }
        for (kw, name) in [
            ("items", "items"),
            ("additionalProperties", "additionalProperties"),
        ] {
            if let (Some(bi), Some(ri)) = (self.base.get_d(b, kw), self.rev.get_d(r, kw))
                && bi.node.as_map().is_some()
                && ri.node.as_map().is_some()
            {
                if kw == "items"
                    && matches!(place.kind, Kind::Param { .. })
                    && place.prop.is_empty()
                {
                    // The items of an array parameter are the parameter's values.
                    self.schema_at(place, bi, ri, visiting, depth + 1);
                    continue;
                }
                let p = place.nested(name, ri);
                let p = Place {
                    read_only: p.read_only || place.read_only,
                    write_only: p.write_only || place.write_only,
                    ..p
                };
                self.schema_at(&p, bi, ri, visiting, depth + 1);
            }
        }
        visiting.leave(key, frame, place, self.seen == seen, &mut self.equal);
    }

    /// The two schemas a comparison of `b` and `r` looks at: dereferenced,
    /// and `{allOf: [X], description: …}` read as X when the other side has
    /// no `allOf` (not as a schema that lost X's type and properties).
    fn pair(&self, b: At<'a>, r: At<'a>) -> (At<'a>, At<'a>) {
        let (b, r) = (self.base.deref(b), self.rev.deref(r));
        match (b.node.get("allOf").is_some(), r.node.get("allOf").is_some()) {
            (true, false) => (self.base.unwrap_all_of(b), r),
            (false, true) => (b, self.rev.unwrap_all_of(r)),
            _ => (b, r),
        }
    }

    /// Whether the schemas `b` and `r` are known to be equal already.
    fn known_equal(&self, b: At<'a>, r: At<'a>) -> bool {
        let (b, r) = self.pair(b, r);
        std::ptr::eq(b.node, r.node)
            || self.equal.contains(&(
                std::ptr::from_ref(b.node) as usize,
                std::ptr::from_ref(r.node) as usize,
            ))
    }

    fn types(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        let (mut bt, mut rt) = (self.flat_types(true, b), self.flat_types(false, r));
        // A schema without `type` whose keywords only apply to objects
        // (`properties`) or arrays (`items`) describes that type: stating it,
        // or no longer stating it, is no change.
        if bt.is_empty() && !rt.is_empty() {
            bt = implied_types(b.node);
        } else if rt.is_empty() && !bt.is_empty() {
            rt = implied_types(r.node);
        }
        let (bf, rf) = (
            b.node.get_str("format").unwrap_or(""),
            r.node.get_str("format").unwrap_or(""),
        );
        let type_diff = !same_set(&bt, &rt);
        let format_diff = bf != rf;
        if !type_diff && !format_diff {
            return;
        }
        if place.request && place.read_only && !place.prop.is_empty() {
            // Not sent by clients; still a difference, so the pair is not equal elsewhere.
            self.seen += 1;
            return;
        }
        if type_diff && (bt.len() > 1 || rt.len() > 1) && !bt.is_empty() && !rt.is_empty() {
            if subset(&bt, &rt) {
                self.aspect(
                    place,
                    "list-of-types-widened",
                    r,
                    "type",
                    &format!("types widened from {} to {}", bt.join(", "), rt.join(", ")),
                );
                return;
            }
            if subset(&rt, &bt) {
                self.aspect(
                    place,
                    "list-of-types-narrowed",
                    r,
                    "type",
                    &format!("types narrowed from {} to {}", bt.join(", "), rt.join(", ")),
                );
                return;
            }
        }
        // A parameter or header is text on the wire; a body is strongly
        // typed when its media type is JSON.
        let strongly =
            matches!(place.kind, Kind::Body | Kind::Message { .. }) && is_json(&place.media);
        let show = |t: &[&str], f: &str| {
            let t = if t.is_empty() {
                "any".to_owned()
            } else {
                t.join("|")
            };
            if f.is_empty() { t } else { format!("{t}/{f}") }
        };
        let detail = format!(
            "type/format changed from `{}` to `{}`",
            show(&bt, bf),
            show(&rt, rf)
        );
        let key = if type_diff { "type" } else { "format" };
        if matches!(place.kind, Kind::Param { .. }) && !place.prop.is_empty() {
            // How an object parameter is serialised is not known: the change
            // is an error only when it breaks both typed and untyped forms.
            let added: Vec<&str> = rt.iter().filter(|t| !bt.contains(t)).copied().collect();
            let deleted: Vec<&str> = bt.iter().filter(|t| !rt.contains(t)).copied().collect();
            let breaks = |strongly: bool| {
                (type_diff && !type_contained(&added, &deleted, strongly))
                    || (format_diff && !format_contained(&rt, rf, bf))
            };
            let aspect = match (breaks(true), breaks(false)) {
                (true, true) => "type-specialized",
                (false, false) => "type-generalized",
                _ => "type-changed",
            };
            self.aspect(place, aspect, r, key, &detail);
            return;
        }
        // A request is read from the base to the revision, a response the
        // other way round: what clients send must stay accepted, what they
        // read must stay what they expect.
        let (from, to, from_f, to_f) = if place.request {
            (&bt, &rt, bf, rf)
        } else {
            (&rt, &bt, rf, bf)
        };
        let (td, breaking) = type_breaks(from, to, from_f, to_f, type_diff, format_diff, strongly);
        let concrete = td && !bt.is_empty() && !rt.is_empty();
        let aspect = match (place.request, breaking) {
            (false, true) if type_diff && covered(&bt, &rt) => "type-generalized",
            (_, true) => "type-changed",
            (_, false) if concrete => "type-compatible",
            (true, false) => "type-generalized",
            (false, false) => "type-specialized",
        };
        self.aspect(place, aspect, r, key, &detail);
    }

    fn nullable(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        match (nullable(b.node), nullable(r.node)) {
            (false, true) => {
                self.aspect(place, "became-nullable", r, "nullable", "became nullable");
            }
            (true, false) => self.aspect(
                place,
                "became-not-nullable",
                r,
                "nullable",
                "became not nullable",
            ),
            _ => {}
        }
    }

    fn values(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        let (be, re) = (scalars(b.node, "enum"), scalars(r.node, "enum"));
        if be.is_none() && re.is_some() {
            self.aspect(place, "became-enum", r, "enum", "became an enum");
        }
        if let (Some(be), Some(re)) = (&be, &re) {
            for v in be.iter().filter(|v| !re.contains(v)) {
                if !place.request && matches!(place.kind, Kind::Body) && place.prop.is_empty() {
                    // oasdiff names this one after the media type.
                    let text = format!("{} lost the enum value `{v}`", place.describe());
                    self.emit(
                        "response-mediatype-enum-value-removed",
                        Some(key_loc(r, "enum")),
                        text,
                    );
                    continue;
                }
                self.aspect(
                    place,
                    "enum-value-removed",
                    r,
                    "enum",
                    &format!("lost the enum value `{v}`"),
                );
            }
            for v in re.iter().filter(|v| !be.contains(v)) {
                self.aspect(
                    place,
                    "enum-value-added",
                    r,
                    "enum",
                    &format!("gained the enum value `{v}`"),
                );
            }
        }
        if let (Some(be), Some(re)) = (
            scalars(b.node, "x-extensible-enum"),
            scalars(r.node, "x-extensible-enum"),
        ) {
            for v in be.iter().filter(|v| !re.contains(v)) {
                self.aspect(
                    place,
                    "x-extensible-enum-value-removed",
                    r,
                    "x-extensible-enum",
                    &format!("lost the x-extensible-enum value `{v}`"),
                );
            }
        }
        for (kw, name) in [("const", "const"), ("default", "default-value")] {
            match (b.node.get(kw), r.node.get(kw)) {
                (None, Some(v)) => self.aspect(
                    place,
                    &format!("{name}-added"),
                    r,
                    kw,
                    &format!("gained the {kw} `{}`", show(v)),
                ),
                (Some(v), None) => self.aspect(
                    place,
                    &format!("{name}-removed"),
                    r,
                    "",
                    &format!("lost the {kw} `{}`", show(v)),
                ),
                (Some(x), Some(y)) if !same(x, y) => {
                    self.aspect(
                        place,
                        &format!("{name}-changed"),
                        r,
                        kw,
                        &format!("{kw} changed from `{}` to `{}`", show(x), show(y)),
                    );
                }
                _ => {}
            }
        }
    }

    fn bounds(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        const BOUNDS: &[(&str, &str)] = &[
            ("minimum", "min"),
            ("maximum", "max"),
            ("exclusiveMinimum", "exclusive-min"),
            ("exclusiveMaximum", "exclusive-max"),
            ("minLength", "min-length"),
            ("maxLength", "max-length"),
            ("minItems", "min-items"),
            ("maxItems", "max-items"),
            ("minContains", "min-contains"),
            ("maxContains", "max-contains"),
        ];
        for (kw, name) in BOUNDS {
            let (bv, rv) = (
                b.node.get(kw).and_then(Node::as_f64),
                r.node.get(kw).and_then(Node::as_f64),
            );
            match (bv, rv) {
                (None, Some(v)) => self.aspect(
                    place,
                    &format!("{name}-set"),
                    r,
                    kw,
                    &format!("gained `{kw}: {v}`"),
                ),
                (Some(v), None) => self.aspect(
                    place,
                    &format!("{name}-unset"),
                    r,
                    "",
                    &format!("lost `{kw}: {v}`"),
                ),
                (Some(x), Some(y)) if y > x => self.aspect(
                    place,
                    &format!("{name}-increased"),
                    r,
                    kw,
                    &format!("`{kw}` increased from {x} to {y}"),
                ),
                (Some(x), Some(y)) if y < x => self.aspect(
                    place,
                    &format!("{name}-decreased"),
                    r,
                    kw,
                    &format!("`{kw}` decreased from {x} to {y}"),
                ),
                _ => {}
            }
        }
    }

    fn pattern(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        let pattern = |n: &'a Node| n.get_str("pattern").filter(|p| !p.is_empty());
        match (pattern(b.node), pattern(r.node)) {
            (None, Some(p)) => self.aspect(
                place,
                "pattern-added",
                r,
                "pattern",
                &format!("gained the pattern `{p}`"),
            ),
            (Some(p), None) => self.aspect(
                place,
                "pattern-removed",
                r,
                "",
                &format!("lost the pattern `{p}`"),
            ),
            (Some(x), Some(y)) if x != y => {
                if matches!(y, ".*" | "^.*$" | "^.*" | ".*$") {
                    self.aspect(
                        place,
                        "pattern-generalized",
                        r,
                        "pattern",
                        &format!("pattern generalized from `{x}` to `{y}`"),
                    );
                } else {
                    self.aspect(
                        place,
                        "pattern-changed",
                        r,
                        "pattern",
                        &format!("pattern changed from `{x}` to `{y}`"),
                    );
                }
            }
            _ => {}
        }
    }

    fn discriminator(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        match (b.node.get("discriminator"), r.node.get("discriminator")) {
            (None, Some(_)) => self.aspect(
                place,
                "discriminator-added",
                r,
                "discriminator",
                "gained a discriminator",
            ),
            (Some(_), None) => self.aspect(
                place,
                "discriminator-removed",
                r,
                "",
                "lost its discriminator",
            ),
            (Some(x), Some(y)) => {
                let rd = At {
                    file: r.file,
                    node: y,
                    key: None,
                };
                if x.get_str("propertyName") != y.get_str("propertyName") {
                    self.aspect(
                        place,
                        "discriminator-property-name-changed",
                        rd,
                        "propertyName",
                        "changed the discriminator's property name",
                    );
                }
                let (bm, rm) = (x.map_at("mapping"), y.map_at("mapping"));
                for (k, v) in bm {
                    match rm.iter().find(|(k2, _)| k2.as_str() == k.as_str()) {
                        None => self.aspect(
                            place,
                            "discriminator-mapping-deleted",
                            rd,
                            "mapping",
                            &format!("lost the discriminator mapping `{}`", show(k)),
                        ),
                        Some((_, v2)) if !same(v, v2) => {
                            self.aspect(
                                place,
                                "discriminator-mapping-changed",
                                rd,
                                "mapping",
                                &format!("changed the discriminator mapping `{}`", show(k)),
                            );
                        }
                        _ => {}
                    }
                }
                for (k, _) in rm {
                    if !bm.iter().any(|(k2, _)| k2.as_str() == k.as_str()) {
                        self.aspect(
                            place,
                            "discriminator-mapping-added",
                            rd,
                            "mapping",
                            &format!("gained the discriminator mapping `{}`", show(k)),
                        );
                    }
                }
            }
            (None, None) => {}
        }
    }

    /// JSON Schema 2020-12 keywords (OpenAPI 3.1).
    fn keywords(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        for (kw, name) in [
            ("contains", "contains"),
            ("contentSchema", "content-schema"),
            ("if", "if"),
            ("then", "then"),
            ("else", "else"),
            ("propertyNames", "property-names"),
            ("unevaluatedItems", "unevaluated-items"),
            ("unevaluatedProperties", "unevaluated-properties"),
        ] {
            match (b.node.get(kw).is_some(), r.node.get(kw).is_some()) {
                (false, true) => self.aspect(
                    place,
                    &format!("{name}-added"),
                    r,
                    kw,
                    &format!("gained `{kw}`"),
                ),
                (true, false) => self.aspect(
                    place,
                    &format!("{name}-removed"),
                    r,
                    "",
                    &format!("lost `{kw}`"),
                ),
                _ => {}
            }
        }
        for (kw, name) in [
            ("contentMediaType", "content-media-type"),
            ("contentEncoding", "content-encoding"),
        ] {
            let (x, y) = (b.node.get_str(kw), r.node.get_str(kw));
            if x != y {
                let show = |v: Option<&str>| v.unwrap_or("none").to_owned();
                self.aspect(
                    place,
                    &format!("{name}-changed"),
                    r,
                    kw,
                    &format!("`{kw}` changed from `{}` to `{}`", show(x), show(y)),
                );
            }
        }
        for (kw, name) in [
            ("dependentRequired", "dependent-required"),
            ("dependentSchemas", "dependent-schema"),
            ("patternProperties", "pattern-property"),
        ] {
            let (bm, rm) = (b.node.map_at(kw), r.node.map_at(kw));
            for (k, v) in bm {
                let k = k.as_str().unwrap_or_default();
                match rm.iter().find(|(k2, _)| k2.as_str() == Some(k)) {
                    None => self.aspect(
                        place,
                        &format!("{name}-removed"),
                        r,
                        "",
                        &format!("lost `{kw}` entry `{k}`"),
                    ),
                    Some((_, v2)) if kw == "dependentRequired" && !same(v, v2) => {
                        self.aspect(
                            place,
                            &format!("{name}-changed"),
                            r,
                            kw,
                            &format!("`{kw}` entry `{k}` changed"),
                        );
                    }
                    _ => {}
                }
            }
            for (k, _) in rm {
                let k = k.as_str().unwrap_or_default();
                if !bm.iter().any(|(k2, _)| k2.as_str() == Some(k)) {
                    self.aspect(
                        place,
                        &format!("{name}-added"),
                        r,
                        kw,
                        &format!("gained `{kw}` entry `{k}`"),
                    );
                }
            }
        }
        let (bp, rp) = (
            b.node.seq_at("prefixItems").len(),
            r.node.seq_at("prefixItems").len(),
        );
        if rp > bp {
            self.aspect(
                place,
                "prefix-items-added",
                r,
                "prefixItems",
                "gained `prefixItems` entries",
            );
        } else if rp < bp {
            self.aspect(
                place,
                "prefix-items-removed",
                r,
                "",
                "lost `prefixItems` entries",
            );
        }
    }

    fn compositions(
        &mut self,
        place: &Place,
        b: At<'a>,
        r: At<'a>,
        visiting: &mut Walk,
        depth: usize,
    ) {
        for (kw, name) in [
            ("allOf", "all-of"),
            ("anyOf", "any-of"),
            ("oneOf", "one-of"),
        ] {
            // Flattened, `allOf` members are part of the schema itself.
            if kw == "allOf" && self.opts.flatten_allof {
                continue;
            }
            let (bl, rl) = (raw_items(b, kw), raw_items(r, kw));
            if bl.is_empty() && rl.is_empty() {
                continue;
            }
            // Pair subschemas by `$ref` first, then the rest in order.
            let mut used = vec![false; rl.len()];
            let mut pairs = Vec::new();
            let mut unmatched_b = Vec::new();
            for bs in &bl {
                let bref = bs.node.get_str("$ref").map(ref_name);
                let hit = (0..rl.len()).find(|&j| {
                    !used[j] && bref.is_some() && rl[j].node.get_str("$ref").map(ref_name) == bref
                });
                match hit {
                    Some(j) => {
                        used[j] = true;
                        pairs.push((*bs, rl[j]));
                    }
                    None => unmatched_b.push(*bs),
                }
            }
            let mut unmatched_r: Vec<At<'a>> =
                (0..rl.len()).filter(|&j| !used[j]).map(|j| rl[j]).collect();
            // Unnamed subschemas that stayed are compared in order.
            let n = unmatched_b
                .iter()
                .filter(|s| s.node.get("$ref").is_none())
                .count()
                .min(
                    unmatched_r
                        .iter()
                        .filter(|s| s.node.get("$ref").is_none())
                        .count(),
                );
            let mut taken = 0;
            unmatched_b.retain(|bs| {
                if taken < n
                    && bs.node.get("$ref").is_none()
                    && let Some(k) = unmatched_r
                        .iter()
                        .position(|s| s.node.get("$ref").is_none())
                {
                    pairs.push((*bs, unmatched_r.remove(k)));
                    taken += 1;
                    return false;
                }
                true
            });
            // In `allOf`, a referenced member replaced by another (a renamed
            // component) is compared with it: the same content is no change,
            // and a single one replaced by a single other is compared with it.
            // Not in `oneOf`/`anyOf`: there the name of an alternative can be
            // its discriminator value, and oasdiff reports the swap.
            let is_ref = |s: &At<'a>| s.node.get("$ref").is_some();
            unmatched_b.retain(|bs| {
                if kw != "allOf" || !is_ref(bs) {
                    return true;
                }
                let bd = self.base.deref(*bs);
                match unmatched_r
                    .iter()
                    .position(|rs| is_ref(rs) && same(bd.node, self.rev.deref(*rs).node))
                {
                    Some(k) => {
                        pairs.push((*bs, unmatched_r.remove(k)));
                        false
                    }
                    None => true,
                }
            });
            if kw == "allOf"
                && let ([bs], [rs]) = (unmatched_b.as_slice(), unmatched_r.as_slice())
                && is_ref(bs)
                && is_ref(rs)
            {
                pairs.push((*bs, *rs));
                unmatched_b.clear();
                unmatched_r.clear();
            }
            for rs in &unmatched_r {
                let rs_d = self.rev.deref(*rs);
                if kw == "allOf" && annotation_only(rs_d.node) {
                    self.aspect(
                        place,
                        "all-of-added-annotation-only",
                        *rs,
                        "",
                        "gained an annotation-only `allOf` subschema",
                    );
                } else {
                    self.aspect(
                        place,
                        &format!("{name}-added"),
                        *rs,
                        "",
                        &format!("gained a `{kw}` subschema{}", ref_suffix(rs.node)),
                    );
                }
            }
            for bs in &unmatched_b {
                let bs_d = self.base.deref(*bs);
                if kw == "allOf" && annotation_only(bs_d.node) {
                    self.aspect(
                        place,
                        "all-of-removed-annotation-only",
                        r,
                        kw,
                        "lost an annotation-only `allOf` subschema",
                    );
                } else {
                    self.aspect(
                        place,
                        &format!("{name}-removed"),
                        r,
                        kw,
                        &format!("lost a `{kw}` subschema{}", ref_suffix(bs.node)),
                    );
                }
            }
            for (bs, rs) in pairs {
                self.schema_at(place, bs, rs, visiting, depth + 1);
            }
        }
    }

    fn properties(
        &mut self,
        place: &Place,
        b: At<'a>,
        r: At<'a>,
        visiting: &mut Walk,
        depth: usize,
    ) {
        let (bprops, breq) = self.flat(true, b);
        let (rprops, rreq) = self.flat(false, r);
        let header = matches!(&place.kind, Kind::Param { location, .. } if location == "header");
        let dir = place.dir();
        // Schemas with hundreds of properties are common (Stripe, Graph): look names up by hash.
        let rby: HashMap<&str, At<'a>> = rprops.iter().rev().map(|(n, a)| (*n, *a)).collect();
        let bnames: HashSet<&str> = bprops.iter().map(|(n, _)| *n).collect();
        let breq: HashSet<&str> = breq.iter().map(String::as_str).collect();
        let rreq: HashSet<&str> = rreq.iter().map(String::as_str).collect();
        for (name, bp) in &bprops {
            let bin = breq.contains(name);
            match rby.get(name).map(|rp| (name, rp)) {
                None => {
                    let np = place.nested(name, *bp);
                    let id = if place.request {
                        if np.read_only {
                            self.seen += 1;
                            continue;
                        }
                        "request-property-removed".to_owned()
                    } else {
                        response_property_id(bin, np.write_only, "removed")
                    };
                    self.emit(&id, Some(loc(*bp)), format!("removed {}", np.describe()));
                }
                Some((_, rp)) => {
                    let rin = rreq.contains(name);
                    // Most properties of a large schema are unchanged: skip
                    // them before building their place.
                    if bin == rin
                        && ["readOnly", "writeOnly", "deprecated"]
                            .iter()
                            .all(|k| flag(bp.node, k) == flag(rp.node, k))
                        && matches!(
                            (stability(bp.node), stability(rp.node)),
                            (Ok(x), Ok(y)) if x == y
                        )
                        && self.known_equal(*bp, *rp)
                    {
                        continue;
                    }
                    let np = place.nested(name, *rp);
                    let skip = (place.request && np.read_only) || (!place.request && np.write_only);
                    if bin != rin && skip {
                        self.seen += 1;
                    } else if bin != rin {
                        let at = Some(loc(*rp));
                        if rin {
                            let with_default = rp.node.get("default").is_some();
                            let id = if place.request && header {
                                "request-header-property-became-required".to_owned()
                            } else if place.request && with_default {
                                "request-property-became-required-with-default".to_owned()
                            } else {
                                format!("{dir}-property-became-required")
                            };
                            self.emit(&id, at, format!("{} became required", np.describe()));
                        } else {
                            self.emit(
                                &format!("{dir}-property-became-optional"),
                                at,
                                format!("{} became optional", np.describe()),
                            );
                        }
                    }
                    let req = if rin { "required" } else { "optional" };
                    for (kw, word) in [("readOnly", "read-only"), ("writeOnly", "write-only")] {
                        let (x, y) = (flag(bp.node, kw), flag(rp.node, kw));
                        if x != y {
                            let id = format!(
                                "{dir}-{req}-property-became-{}{word}",
                                if y { "" } else { "not-" }
                            );
                            self.emit(
                                &id,
                                Some(key_loc(*rp, kw)),
                                format!(
                                    "{} became {}{word}",
                                    np.describe(),
                                    if y { "" } else { "not " }
                                ),
                            );
                        }
                    }
                    self.property_lifecycle(&np, *bp, *rp);
                    self.schema_at(&np, *bp, *rp, visiting, depth + 1);
                }
            }
        }
        for (name, rp) in &rprops {
            if bnames.contains(name) {
                continue;
            }
            let rin = rreq.contains(name);
            let np = place.nested(name, *rp);
            let id = if place.request {
                if np.read_only {
                    self.seen += 1;
                    continue;
                }
                if !rin {
                    "new-optional-request-property"
                } else if header {
                    "new-required-request-header-property"
                } else if rp.node.get("default").is_some() {
                    "new-required-request-property-with-default"
                } else {
                    "new-required-request-property"
                }
                .to_owned()
            } else {
                response_property_id(rin, np.write_only, "added")
            };
            self.emit(&id, Some(loc(*rp)), format!("added {}", np.describe()));
        }
    }
}

/// A schema with a type or properties that became a bare `oneOf`.
fn wrapped_in_one_of(b: &Node, r: &Node) -> bool {
    b.get("oneOf").is_none()
        && b.get("anyOf").is_none()
        && (b.get("type").is_some() || b.get("properties").is_some())
        && r.get("oneOf")
            .and_then(Node::as_seq)
            .is_some_and(|s| !s.is_empty())
        && r.get("type").is_none()
        && r.get("properties").is_none()
}

impl<'a> Cx<'a> {
    /// The properties and required names of a schema; with `--flatten-allof`,
    /// those of its `allOf` members too, as if they were written in it.
    fn flat(&self, base: bool, at: At<'a>) -> (Vec<(&'a str, At<'a>)>, Vec<String>) {
        let spec = if base { self.base } else { self.rev };
        let mut props = spec.entries(spec.get(at, "properties"));
        let mut req = strings(at.node, "required");
        if self.opts.flatten_allof {
            let mut stack: Vec<(At<'a>, usize)> = spec
                .items(spec.get(at, "allOf"))
                .into_iter()
                .map(|m| (m, 0))
                .collect();
            while let Some((m, depth)) = stack.pop() {
                if depth > 16 {
                    continue;
                }
                for (k, v) in spec.entries(spec.get(m, "properties")) {
                    if !props.iter().any(|(p, _)| *p == k) {
                        props.push((k, v));
                    }
                }
                req.extend(strings(m.node, "required"));
                stack.extend(
                    spec.items(spec.get(m, "allOf"))
                        .into_iter()
                        .map(|x| (x, depth + 1)),
                );
            }
        }
        (props, req)
    }

    /// The types of a schema; flattened, the first `allOf` member's when it has none.
    fn flat_types(&self, base: bool, at: At<'a>) -> Vec<&'a str> {
        let own = types(at.node);
        if !own.is_empty() || !self.opts.flatten_allof {
            return own;
        }
        let spec = if base { self.base } else { self.rev };
        spec.items(spec.get(at, "allOf"))
            .into_iter()
            .map(|m| types(m.node))
            .find(|t| !t.is_empty())
            .unwrap_or_default()
    }

    /// Deprecation, sunset dates and stability of a property.
    fn property_lifecycle(&mut self, place: &Place, b: At<'a>, r: At<'a>) {
        let dir = place.dir();
        let what = place.describe();
        let (bd, rd) = (flag(b.node, "deprecated"), flag(r.node, "deprecated"));
        let at = Some(key_loc(r, "deprecated"));
        if bd && !rd {
            self.emit(
                &format!("{dir}-property-reactivated"),
                at,
                format!("{what} is no longer deprecated"),
            );
        } else if !bd && rd {
            let days = self.deprecation_days(stability(r.node).ok().flatten());
            match sunset(r.node) {
                None if days > 0 => {
                    self.emit(
                        &format!("{dir}-property-deprecated-sunset-missing"),
                        at,
                        format!("{what} was deprecated without a sunset date"),
                    );
                }
                None => {
                    self.emit(
                        &format!("{dir}-property-deprecated"),
                        at,
                        format!("{what} was deprecated"),
                    );
                }
                Some(Err(v)) => {
                    self.emit(
                        &format!("{dir}-property-deprecated-sunset-invalid"),
                        Some(key_loc(r, "x-sunset")),
                        format!("the sunset date `{v}` of {what} is not a date"),
                    );
                }
                Some(Ok(d)) if d - self.today < i64::from(days) => {
                    self.emit(
                        &format!("{dir}-property-sunset-date-too-small"),
                        Some(key_loc(r, "x-sunset")),
                        format!(
                            "the sunset date {} of {what} is less than {days} days away",
                            show_date(d)
                        ),
                    );
                }
                Some(Ok(d)) => {
                    self.emit(
                        &format!("{dir}-property-deprecated-with-sunset"),
                        at,
                        format!("{what} was deprecated with sunset date {}", show_date(d)),
                    );
                }
            }
        }
        if let (Ok(bs), Ok(rs)) = (stability(b.node), stability(r.node)) {
            let rank = |s: Option<&str>| {
                ["draft", "alpha", "beta", "stable"]
                    .iter()
                    .position(|x| Some(*x) == s)
                    .unwrap_or(3)
            };
            let (bi, ri) = (rank(bs), rank(rs));
            if bi != ri && bi >= self.min_stability() {
                let word = if ri < bi { "decreased" } else { "increased" };
                self.emit(
                    &format!("{dir}-property-stability-{word}"),
                    Some(key_loc(r, "x-stability-level")),
                    format!("the stability of {what} {word}"),
                );
            }
        } else if let Err(v) = stability(r.node) {
            self.emit("api-invalid-stability-level", Some(key_loc(r, "x-stability-level")), format!("`x-stability-level` of {what} is `{v}`, not one of draft, alpha, beta or stable"));
        }
    }
}

/// `response-required-property-added`, `response-optional-write-only-property-removed`, ….
fn response_property_id(required: bool, write_only: bool, verb: &str) -> String {
    let req = if required { "required" } else { "optional" };
    let wo = if write_only { "write-only-" } else { "" };
    format!("response-{req}-{wo}property-{verb}")
}

fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

fn ref_suffix(n: &Node) -> String {
    n.get_str("$ref")
        .map(|r| format!(" `{}`", ref_name(r)))
        .unwrap_or_default()
}

fn raw_items<'a>(at: At<'a>, kw: &str) -> Vec<At<'a>> {
    at.node
        .seq_at(kw)
        .iter()
        .map(|node| At {
            file: at.file,
            node,
            key: None,
        })
        .collect()
}

impl<'a> super::spec::Spec<'a> {
    /// A schema that is only a wrapper around one `allOf` member (the
    /// other members and its own keywords annotate, constrain nothing):
    /// that member, dereferenced. Any other schema as it is.
    fn unwrap_all_of(&self, at: At<'a>) -> At<'a> {
        let mut cur = at;
        for _ in 0..MAX_DEPTH {
            let Some(map) = cur.node.as_map() else { break };
            let own_ok = map.iter().all(|(k, _)| match k.as_str() {
                Some("allOf" | "readOnly" | "writeOnly") => true,
                Some(k) => is_annotation(k),
                None => false,
            });
            if !own_ok {
                break;
            }
            let members: Vec<At<'a>> = raw_items(cur, "allOf")
                .into_iter()
                .filter(|m| !annotation_only(self.deref(*m).node))
                .collect();
            let [only] = members.as_slice() else { break };
            cur = At {
                key: cur.key,
                ..self.deref(*only)
            };
        }
        cur
    }
}

fn is_annotation(k: &str) -> bool {
    matches!(
        k,
        "title"
            | "description"
            | "example"
            | "examples"
            | "deprecated"
            | "externalDocs"
            | "$comment"
    ) || k.starts_with("x-")
}

/// Whether a subschema only annotates (title, description, examples) and constrains nothing.
fn annotation_only(n: &Node) -> bool {
    n.as_map()
        .is_some_and(|m| m.iter().all(|(k, _)| k.as_str().is_some_and(is_annotation)))
}

/// The type a schema without `type` describes by its keywords: `object`
/// for `properties`, `additionalProperties` or `patternProperties`, `array`
/// for `items` or `prefixItems`; none when it has alternatives (`oneOf`,
/// `anyOf`) or keywords of both.
fn implied_types(n: &Node) -> Vec<&'static str> {
    if n.get("oneOf").is_some() || n.get("anyOf").is_some() {
        return Vec::new();
    }
    let object = ["properties", "additionalProperties", "patternProperties"]
        .iter()
        .any(|k| n.get(k).is_some());
    let array = ["items", "prefixItems"].iter().any(|k| n.get(k).is_some());
    match (object, array) {
        (true, false) => vec!["object"],
        (false, true) => vec!["array"],
        _ => Vec::new(),
    }
}

/// The non-null types of a schema.
fn types(n: &Node) -> Vec<&str> {
    let mut out: Vec<&str> = match n.get("type") {
        Some(t) => match &t.value {
            Value::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
            _ => t.as_str().into_iter().collect(),
        },
        None => Vec::new(),
    };
    out.retain(|t| *t != "null");
    out.sort_unstable();
    out.dedup();
    out
}

fn nullable(n: &Node) -> bool {
    flag(n, "nullable")
        || flag(n, "x-nullable")
        || match n.get("type") {
            Some(t) => match &t.value {
                Value::Seq(items) => items.iter().any(|i| i.as_str() == Some("null")),
                _ => t.as_str() == Some("null"),
            },
            None => false,
        }
}

fn same_set(a: &[&str], b: &[&str]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn subset(a: &[&str], b: &[&str]) -> bool {
    a.iter().all(|x| b.contains(x))
}

/// Whether values valid in `from` (types and format) may be invalid in
/// `to`, as oasdiff decides it; also whether the types changed beyond `to`
/// covering `from`. A type list dropped altogether (any type) breaks nothing.
fn type_breaks(
    from: &[&str],
    to: &[&str],
    from_format: &str,
    to_format: &str,
    type_diff: bool,
    format_diff: bool,
    strongly: bool,
) -> (bool, bool) {
    let td = type_diff && !covered(from, to);
    if td && to.is_empty() {
        return (td, false);
    }
    let added: Vec<&str> = to.iter().filter(|t| !from.contains(t)).copied().collect();
    let deleted: Vec<&str> = from.iter().filter(|t| !to.contains(t)).copied().collect();
    let breaking = (td && !type_contained(&added, &deleted, strongly))
        || (format_diff && !format_contained(to, to_format, from_format));
    (td, breaking)
}

fn is_subtype(sub: &str, sup: &str) -> bool {
    sub == sup || (sub == "integer" && sup == "number")
}

/// Every type of `sub` is one of, or a subtype of one of, `sup`'s.
fn covered(sub: &[&str], sup: &[&str]) -> bool {
    !sub.is_empty() && sub.iter().all(|t| sup.iter().any(|s| is_subtype(t, s)))
}

fn type_contained(to: &[&str], from: &[&str], strongly: bool) -> bool {
    if to.len() == 1 && from.len() == 1 && is_subtype(from[0], to[0]) {
        return true;
    }
    if !strongly {
        return to.is_empty() || (to.len() == 1 && to[0] == "string");
    }
    false
}

/// Whether values of format `from` are all valid in format `to`, for a schema of types `ty`.
fn format_contained(ty: &[&str], to: &str, from: &str) -> bool {
    if to.is_empty() {
        return true;
    }
    if ty.len() != 1 {
        return false;
    }
    match ty[0] {
        "number" => to == "double" && from == "float",
        // An integer without a format is, for every JSON client, at most
        // 64 bits: stating `int64` narrows nothing that can be sent.
        "integer" => {
            (to == "int64" && matches!(from, "" | "int32"))
                || (to == "bigint" && matches!(from, "int32" | "int64"))
        }
        "string" => to == "date-time" && matches!(from, "date" | "time"),
        _ => false,
    }
}

fn is_json(media: &str) -> bool {
    let m = media.split(';').next().unwrap_or("").trim();
    m == "application/json" || m.ends_with("+json")
}

fn scalars(n: &Node, key: &str) -> Option<Vec<String>> {
    let s = n.get(key)?.as_seq()?;
    Some(s.iter().map(show).collect())
}

fn strings(n: &Node, key: &str) -> Vec<String> {
    n.seq_at(key)
        .iter()
        .filter_map(Node::as_str)
        .map(str::to_owned)
        .collect()
}

/// A short text for a value: its scalar text, or a compact form of a collection.
fn show(n: &Node) -> String {
    match &n.value {
        Value::Scalar(s) => s.text.to_string(),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
