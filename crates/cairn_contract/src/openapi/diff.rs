//! Comparing two versions of a specification: paths, operations,
//! parameters, request bodies, responses and their lifecycle
//! (deprecation, sunset dates, stability levels).
//!
//! Schemas are compared in [`super::schema`]. Each change is named by the
//! id of the check it belongs to ([`super::ids`]); its level comes from
//! that table, so the direction of a change (a request narrowed, a
//! response widened) decides whether it breaks clients.

use std::collections::HashMap;

use cairn_source::Loc;
use cairn_yaml::Node;
use globset::GlobSet;

use super::ids;
use super::load::At;
use super::spec::{Op, Param, Spec, key_loc, loc, path_key, path_params, same_name};
use crate::Change;

/// How to compare.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Minimum days between deprecating a beta operation and its sunset date.
    pub deprecation_days_beta: u32,
    /// Minimum days between deprecating a stable operation and its sunset date.
    pub deprecation_days_stable: u32,
    /// Compare `allOf` subschemas merged into one schema.
    pub flatten_allof: bool,
    /// A prefix removed from the base's paths before matching.
    pub strip_prefix_base: Option<String>,
    /// A prefix removed from the revision's paths before matching.
    pub strip_prefix_revision: Option<String>,
    /// A prefix added to the base's paths before matching.
    pub prefix_base: Option<String>,
    /// A prefix added to the revision's paths before matching.
    pub prefix_revision: Option<String>,
    /// Only paths matching one of these globs are compared.
    pub include_paths: Option<GlobSet>,
    /// Paths matching one of these globs are not compared.
    pub exclude_paths: Option<GlobSet>,
    /// The lowest stability level whose operations are compared: 0 draft,
    /// 1 alpha, 2 beta (the default when `None`), 3 stable.
    pub stability_level: Option<usize>,
    /// Today, as days since 1970-01-01 (sunset dates are compared with it); `None` reads the clock.
    pub today: Option<i64>,
}

/// Stability levels, lowest first.
const STABILITY: &[&str] = &["draft", "alpha", "beta", "stable"];

pub(crate) struct Cx<'a> {
    pub base: Spec<'a>,
    pub rev: Spec<'a>,
    pub opts: &'a Options,
    pub today: i64,
    pub out: Vec<Change>,
    pub path: String,
    /// The base's spelling of the current path (parameter names may differ).
    pub base_path: String,
    pub method: String,
    /// Differences seen so far, reported or not: a schema pair whose
    /// comparison adds none is equal wherever it is used.
    pub seen: usize,
    /// Schema pairs (by node address) known to be equal.
    pub equal: std::collections::HashSet<(usize, usize)>,
    /// Changes found for a schema pair at a place, to repeat where it is used again.
    pub replay: HashMap<super::schema::ReplayKey, super::schema::Replay>,
    /// Comparing event messages (AsyncAPI): ids are renamed from request
    /// and response to received and sent.
    pub event: bool,
}

/// Compares two specifications.
pub fn compare(base: Spec<'_>, rev: Spec<'_>, opts: &Options) -> Vec<Change> {
    let mut cx = Cx::new(base, rev, opts);
    cx.paths();
    cx.webhooks();
    cx.security_schemes();
    finish(cx.out)
}

/// Sorts changes: level (most severe first), path, method, id, text; drops repeats.
pub(crate) fn finish(mut out: Vec<Change>) -> Vec<Change> {
    out.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| {
                method_rank(a.operation.as_deref()).cmp(&method_rank(b.operation.as_deref()))
            })
            .then_with(|| a.id.cmp(b.id))
            .then_with(|| a.text.cmp(&b.text))
    });
    out.dedup();
    out
}

impl<'a> Cx<'a> {
    /// A comparison of `base` with `rev`.
    pub(crate) fn new(base: Spec<'a>, rev: Spec<'a>, opts: &'a Options) -> Cx<'a> {
        let today = opts.today.unwrap_or_else(today_days);
        Cx {
            base,
            rev,
            opts,
            today,
            out: Vec::new(),
            path: String::new(),
            base_path: String::new(),
            method: String::new(),
            seen: 0,
            equal: std::collections::HashSet::new(),
            replay: HashMap::new(),
            event: false,
        }
    }
}

fn method_rank(m: Option<&str>) -> usize {
    m.and_then(|m| {
        super::spec::METHODS
            .iter()
            .position(|x| x.eq_ignore_ascii_case(m))
    })
    .unwrap_or(usize::MAX)
}

impl<'a> Cx<'a> {
    /// Records a change under `id`; an id cairn does not know is dropped.
    pub fn emit(&mut self, id: &str, at: Option<Loc>, text: String) -> bool {
        self.seen += 1;
        let found = if self.event {
            crate::asyncapi::event_id(id)
        } else {
            ids::lookup(id)
        };
        let Some((id, level)) = found else {
            return false;
        };
        self.out.push(Change {
            id,
            level,
            text,
            operation: (!self.method.is_empty()).then(|| self.method.to_ascii_uppercase()),
            path: (!self.path.is_empty()).then(|| self.path.clone()),
            loc: at,
        });
        true
    }

    fn filtered(&self, path: &str) -> bool {
        if let Some(inc) = &self.opts.include_paths
            && !inc.is_match(path)
        {
            return true;
        }
        self.opts
            .exclude_paths
            .as_ref()
            .is_some_and(|e| e.is_match(path))
    }

    fn keyed(&self, spec: Spec<'a>, is_base: bool) -> Vec<(String, &'a str, At<'a>)> {
        let (strip, add) = if is_base {
            (&self.opts.strip_prefix_base, &self.opts.prefix_base)
        } else {
            (&self.opts.strip_prefix_revision, &self.opts.prefix_revision)
        };
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (p, item) in spec.paths() {
            let mut s = p.to_owned();
            if let Some(strip) = strip
                && let Some(rest) = s.strip_prefix(strip.as_str())
            {
                s = rest.to_owned();
            }
            if let Some(add) = add {
                s = format!("{add}{s}");
            }
            if self.filtered(&s) {
                continue;
            }
            let key = path_key(&s);
            if seen.insert(key.clone()) {
                out.push((key, p, item));
            }
        }
        out
    }

    fn paths(&mut self) {
        let base = self.keyed(self.base, true);
        let rev = self.keyed(self.rev, false);
        let rev_by: HashMap<&str, usize> = rev
            .iter()
            .enumerate()
            .map(|(i, (k, _, _))| (k.as_str(), i))
            .collect();
        let base_by: HashMap<&str, usize> = base
            .iter()
            .enumerate()
            .map(|(i, (k, _, _))| (k.as_str(), i))
            .collect();
        for (key, bp, bitem) in &base {
            match rev_by.get(key.as_str()) {
                None => {
                    self.path = (*bp).to_owned();
                    for op in self.base.operations(*bitem) {
                        self.method = op.method.to_owned();
                        if self.invalid_stability(op, true) {
                            continue;
                        }
                        if self.included(op) {
                            self.removed_op(op, true);
                        }
                    }
                }
                Some(&i) => {
                    let (_, rp, ritem) = &rev[i];
                    self.path = (*rp).to_owned();
                    self.path_item(bp, *bitem, rp, *ritem);
                }
            }
        }
        for (key, rp, ritem) in &rev {
            if !base_by.contains_key(key.as_str()) {
                self.path = (*rp).to_owned();
                for op in self.rev.operations(*ritem) {
                    self.method = op.method.to_owned();
                    self.emit(
                        "endpoint-added",
                        Some(loc(op.node)),
                        format!("endpoint added: {} {rp}", op.method.to_ascii_uppercase()),
                    );
                }
            }
        }
        self.method.clear();
        self.path.clear();
    }

    /// Reports an invalid `x-stability-level`; true when it is invalid.
    fn invalid_stability(&mut self, op: Op<'a>, _base: bool) -> bool {
        if let Err(v) = stability(op.node.node) {
            self.emit(
                "api-invalid-stability-level",
                Some(key_loc(op.node, "x-stability-level")),
                format!("`x-stability-level` is `{v}`, not one of draft, alpha, beta or stable"),
            );
            return true;
        }
        false
    }

    pub(crate) fn min_stability(&self) -> usize {
        self.opts.stability_level.unwrap_or(2)
    }

    /// Whether an operation's stability is at or above the level compared.
    fn included(&self, op: Op<'a>) -> bool {
        let level = stability(op.node.node).ok().flatten_level();
        STABILITY.iter().position(|s| *s == level).unwrap_or(3) >= self.min_stability()
    }

    fn removed_op(&mut self, op: Op<'a>, whole_path: bool) {
        let (without, with, before) = if whole_path {
            (
                "api-path-removed-without-deprecation",
                "api-path-removed-with-deprecation",
                "api-path-removed-before-sunset",
            )
        } else {
            (
                "api-removed-without-deprecation",
                "api-removed-with-deprecation",
                "api-removed-before-sunset",
            )
        };
        let what = format!("{} {}", op.method.to_ascii_uppercase(), self.path);
        let at = Some(loc(op.node));
        if !flag(op.node.node, "deprecated") {
            self.emit(
                without,
                at,
                format!("{what} was removed without being deprecated first"),
            );
            return;
        }
        match sunset(op.node.node) {
            None => {
                self.emit(
                    with,
                    at,
                    format!("{what} was removed after being deprecated"),
                );
            }
            Some(Err(v)) => {
                self.emit(
                    "api-path-sunset-parse",
                    Some(key_loc(op.node, "x-sunset")),
                    format!(
                        "the sunset date `{v}` of {what} is not a date (YYYY-MM-DD or RFC 3339)"
                    ),
                );
            }
            Some(Ok(d)) if self.today < d => {
                self.emit(
                    before,
                    at,
                    format!("{what} was removed before its sunset date {}", show_date(d)),
                );
            }
            Some(Ok(_)) => {}
        }
    }

    fn path_item(&mut self, bp: &str, bitem: At<'a>, rp: &str, ritem: At<'a>) {
        bp.clone_into(&mut self.base_path);
        let bops = self.base.operations(bitem);
        let rops = self.rev.operations(ritem);
        for bop in &bops {
            self.method = bop.method.to_owned();
            match rops.iter().find(|r| r.method == bop.method) {
                None => {
                    if self.invalid_stability(*bop, true) {
                        continue;
                    }
                    if self.included(*bop) {
                        self.removed_op(*bop, false);
                    }
                }
                Some(rop) => self.operation(*bop, *rop),
            }
        }
        for rop in &rops {
            if !bops.iter().any(|b| b.method == rop.method) {
                self.method = rop.method.to_owned();
                self.emit(
                    "endpoint-added",
                    Some(loc(rop.node)),
                    format!("endpoint added: {} {rp}", rop.method.to_ascii_uppercase()),
                );
            }
        }
    }

    fn operation(&mut self, b: Op<'a>, r: Op<'a>) {
        let bad_base = self.invalid_stability(b, true);
        let bad_rev = self.invalid_stability(r, false);
        if !bad_base && !bad_rev {
            let bs = stability(b.node.node).ok().flatten_level();
            let rs = stability(r.node.node).ok().flatten_level();
            let bi = STABILITY.iter().position(|s| *s == bs).unwrap_or(3);
            let ri = STABILITY.iter().position(|s| *s == rs).unwrap_or(3);
            if bi != ri && bi >= self.min_stability() {
                let (id, verb) = if ri < bi {
                    ("api-stability-decreased", "decreased")
                } else {
                    ("api-stability-increased", "increased")
                };
                self.emit(
                    id,
                    Some(key_loc(r.node, "x-stability-level")),
                    format!("stability level {verb} from {bs} to {rs}"),
                );
            }
        }
        if bad_rev || !self.included(r) {
            return;
        }
        self.deprecation(b, r);
        self.sunset_changed(b, r);
        self.op_metadata(b, r);
        self.security(b, r);
        self.params(b, r);
        self.request_body(b, r);
        self.responses(b, r);
    }

    fn deprecation(&mut self, b: Op<'a>, r: Op<'a>) {
        let (bd, rd) = (
            flag(b.node.node, "deprecated"),
            flag(r.node.node, "deprecated"),
        );
        if bd == rd {
            return;
        }
        let at = Some(key_loc(r.node, "deprecated"));
        if !rd {
            self.emit(
                "endpoint-reactivated",
                at,
                "endpoint reactivated: it is no longer deprecated".into(),
            );
            return;
        }
        let Ok(st) = stability(r.node.node) else {
            return;
        };
        let days = self.deprecation_days(st);
        match sunset(r.node.node) {
            None if days > 0 => {
                self.emit("api-deprecated-sunset-missing", at, format!("endpoint deprecated without a sunset date; at least {days} days are required"));
            }
            None => {
                self.emit("endpoint-deprecated", at, "endpoint deprecated".into());
            }
            Some(Err(v)) => {
                self.emit(
                    "api-deprecated-sunset-parse",
                    Some(key_loc(r.node, "x-sunset")),
                    format!("the sunset date `{v}` is not a date (YYYY-MM-DD or RFC 3339)"),
                );
            }
            Some(Ok(d)) if d - self.today < i64::from(days) => {
                self.emit(
                    "api-sunset-date-too-small",
                    Some(key_loc(r.node, "x-sunset")),
                    format!("sunset date {} is less than {days} days away", show_date(d)),
                );
            }
            Some(Ok(d)) => {
                self.emit(
                    "endpoint-deprecated-with-sunset",
                    at,
                    format!("endpoint deprecated with sunset date {}", show_date(d)),
                );
            }
        }
    }

    pub(crate) fn deprecation_days(&self, stability: Option<&str>) -> u32 {
        match stability {
            Some("draft" | "alpha") => 0,
            Some("beta") => self.opts.deprecation_days_beta,
            _ => self.opts.deprecation_days_stable,
        }
    }

    fn sunset_changed(&mut self, b: Op<'a>, r: Op<'a>) {
        if !flag(r.node.node, "deprecated") {
            return;
        }
        let (bs, rs) = (b.node.node.get("x-sunset"), r.node.node.get("x-sunset"));
        match (bs, rs) {
            (Some(_), None) => {
                self.emit(
                    "sunset-deleted",
                    Some(loc(r.node)),
                    "the sunset date of a deprecated endpoint was removed".into(),
                );
            }
            (Some(bv), Some(rv)) if !same(bv, rv) => {
                let (Some(Ok(bd)), Some(Ok(rd))) = (sunset(b.node.node), sunset(r.node.node))
                else {
                    let bad = [sunset(r.node.node), sunset(b.node.node)]
                        .into_iter()
                        .flatten()
                        .find_map(Result::err);
                    if let Some(v) = bad {
                        self.emit(
                            "api-path-sunset-parse",
                            Some(key_loc(r.node, "x-sunset")),
                            format!("the sunset date `{v}` is not a date (YYYY-MM-DD or RFC 3339)"),
                        );
                    }
                    return;
                };
                let Ok(st) = stability(r.node.node) else {
                    return;
                };
                let days = self.deprecation_days(st);
                if bd > rd && rd - self.today < i64::from(days) {
                    self.emit(
                        "api-sunset-date-changed-too-small",
                        Some(key_loc(r.node, "x-sunset")),
                        format!(
                            "sunset date moved earlier from {} to {}, less than {days} days away",
                            show_date(bd),
                            show_date(rd)
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    fn op_metadata(&mut self, b: Op<'a>, r: Op<'a>) {
        let (bid, rid) = (
            b.node.node.get_str("operationId"),
            r.node.node.get_str("operationId"),
        );
        match (bid, rid) {
            (None, Some(v)) => {
                self.emit(
                    "api-operation-id-added",
                    Some(key_loc(r.node, "operationId")),
                    format!("operation id `{v}` added"),
                );
            }
            (Some(v), None) => {
                self.emit(
                    "api-operation-id-removed",
                    Some(loc(b.node)),
                    format!("operation id `{v}` removed"),
                );
            }
            (Some(x), Some(y)) if x != y => {
                self.emit(
                    "api-operation-id-removed",
                    Some(key_loc(r.node, "operationId")),
                    format!("operation id changed from `{x}` to `{y}`"),
                );
            }
            _ => {}
        }
        let tags = |o: Op<'a>| -> Vec<String> {
            o.node
                .node
                .seq_at("tags")
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect()
        };
        let (bt, rt) = (tags(b), tags(r));
        for t in &bt {
            if !rt.contains(t) {
                self.emit(
                    "api-tag-removed",
                    Some(key_loc(r.node, "tags")),
                    format!("tag `{t}` removed"),
                );
            }
        }
        for t in &rt {
            if !bt.contains(t) {
                self.emit(
                    "api-tag-added",
                    Some(key_loc(r.node, "tags")),
                    format!("tag `{t}` added"),
                );
            }
        }
    }

    fn params(&mut self, b: Op<'a>, r: Op<'a>) {
        let bparams = self.base.params(b);
        let rparams = self.rev.params(r);
        let _ = b;
        let bpath_text = self.base_path.clone();
        let rpath_text = self.path.clone();
        let bpath = path_params(&bpath_text);
        let rpath = path_params(&rpath_text);
        // Path parameters are matched by their place in the template.
        let key = |p: &Param<'_>, names: &[&str]| -> (String, String) {
            if p.location == "path"
                && let Some(i) = names.iter().position(|n| *n == p.name)
            {
                return ("path".into(), format!("#{i}"));
            }
            (p.location.clone(), p.name.clone())
        };
        let bkeys: Vec<_> = bparams.iter().map(|p| key(p, &bpath)).collect();
        let rkeys: Vec<_> = rparams.iter().map(|p| key(p, &rpath)).collect();
        let find = |keys: &[(String, String)], k: &(String, String)| {
            keys.iter()
                .position(|x| x.0 == k.0 && same_name(&k.0, &x.1, &k.1))
        };
        for (i, bp) in bparams.iter().enumerate() {
            match find(&rkeys, &bkeys[i]) {
                None => self.param_removed(bp, r),
                Some(j) => self.param_changed(bp, &rparams[j]),
            }
        }
        for (j, rp) in rparams.iter().enumerate() {
            if find(&bkeys, &rkeys[j]).is_some() {
                continue;
            }
            let at = Some(loc(rp.node));
            let (loc_, name) = (&rp.location, &rp.name);
            if rp.location == "path" {
                self.emit(
                    "new-request-path-parameter",
                    at,
                    format!("added the path request parameter `{name}`"),
                );
            } else if flag(rp.node.node, "required") {
                self.emit(
                    "new-required-request-parameter",
                    at,
                    format!("added the required {loc_} request parameter `{name}`"),
                );
            } else {
                self.emit(
                    "new-optional-request-parameter",
                    at,
                    format!("added the optional {loc_} request parameter `{name}`"),
                );
            }
        }
    }

    fn param_removed(&mut self, p: &Param<'a>, _r: Op<'a>) {
        let (l, n) = (&p.location, &p.name);
        let at = Some(loc(p.node));
        if !flag(p.node.node, "deprecated") {
            self.emit(
                "request-parameter-removed",
                at,
                format!("removed the {l} request parameter `{n}`"),
            );
            return;
        }
        match sunset(p.node.node) {
            None => {
                self.emit(
                    "request-parameter-removed-with-deprecation",
                    at,
                    format!("removed the deprecated {l} request parameter `{n}`"),
                );
            }
            Some(Err(v)) => {
                self.emit(
                    "request-parameter-sunset-parse",
                    Some(key_loc(p.node, "x-sunset")),
                    format!(
                        "the sunset date `{v}` of the {l} request parameter `{n}` is not a date"
                    ),
                );
            }
            Some(Ok(d)) if self.today < d => {
                self.emit(
                    "request-parameter-removed-before-sunset",
                    at,
                    format!(
                        "removed the {l} request parameter `{n}` before its sunset date {}",
                        show_date(d)
                    ),
                );
            }
            Some(Ok(_)) => {}
        }
    }

    fn param_changed(&mut self, bp: &Param<'a>, rp: &Param<'a>) {
        let (l, n) = (rp.location.clone(), rp.name.clone());
        let (breq, rreq) = (
            flag(bp.node.node, "required"),
            flag(rp.node.node, "required"),
        );
        if !breq && rreq {
            self.emit(
                "request-parameter-became-required",
                Some(key_loc(rp.node, "required")),
                format!("the {l} request parameter `{n}` became required"),
            );
        } else if breq && !rreq && l != "path" {
            self.emit(
                "request-parameter-became-optional",
                Some(key_loc(rp.node, "required")),
                format!("the {l} request parameter `{n}` became optional"),
            );
        }
        self.param_deprecation(bp, rp);
        // Swagger 2.0 and 3.x `x-extensible-enum` on the parameter.
        if let (Some(bs), Some(rs)) = (bp.schema, rp.schema) {
            let place = super::schema::Place::param(&l, &n);
            self.schema(&place, bs, rs);
        } else if let (None, Some(rs)) = (bp.schema, rp.schema) {
            let _ = rs;
        }
    }

    fn param_deprecation(&mut self, bp: &Param<'a>, rp: &Param<'a>) {
        let (l, n) = (&rp.location, &rp.name);
        let (bd, rd) = (
            flag(bp.node.node, "deprecated"),
            flag(rp.node.node, "deprecated"),
        );
        let at = Some(key_loc(rp.node, "deprecated"));
        if bd && !rd {
            self.emit(
                "request-parameter-reactivated",
                at,
                format!("the {l} request parameter `{n}` is no longer deprecated"),
            );
            return;
        }
        if !bd && rd {
            let days = self.deprecation_days(stability(rp.node.node).ok().flatten());
            match sunset(rp.node.node) {
                None if days > 0 => {
                    self.emit(
                        "request-parameter-deprecated-sunset-missing",
                        at,
                        format!(
                            "the {l} request parameter `{n}` was deprecated without a sunset date"
                        ),
                    );
                }
                Some(Err(v)) => {
                    self.emit(
                        "request-parameter-sunset-parse",
                        Some(key_loc(rp.node, "x-sunset")),
                        format!(
                            "the sunset date `{v}` of the {l} request parameter `{n}` is not a date"
                        ),
                    );
                }
                Some(Ok(d)) if d - self.today < i64::from(days) => {
                    self.emit("request-parameter-sunset-date-too-small", Some(key_loc(rp.node, "x-sunset")), format!("the sunset date {} of the {l} request parameter `{n}` is less than {days} days away", show_date(d)));
                }
                None | Some(Ok(_)) => {
                    self.emit(
                        "request-parameter-deprecated",
                        at,
                        format!("the {l} request parameter `{n}` was deprecated"),
                    );
                }
            }
            return;
        }
        if rd {
            match (bp.node.node.get("x-sunset"), rp.node.node.get("x-sunset")) {
                (Some(_), None) => {
                    self.emit("request-parameter-sunset-deleted", Some(loc(rp.node)), format!("the sunset date of the deprecated {l} request parameter `{n}` was removed"));
                }
                (Some(bv), Some(rv)) if !same(bv, rv) => {
                    match (sunset(bp.node.node), sunset(rp.node.node)) {
                        (Some(Ok(bd)), Some(Ok(rd))) => {
                            let days =
                                self.deprecation_days(stability(rp.node.node).ok().flatten());
                            if bd > rd && rd - self.today < i64::from(days) {
                                self.emit("request-parameter-sunset-date-changed-too-small", Some(key_loc(rp.node, "x-sunset")), format!("the sunset date of the {l} request parameter `{n}` moved earlier to {}", show_date(rd)));
                            }
                        }
                        (_, Some(Err(v))) | (Some(Err(v)), _) => {
                            self.emit("request-parameter-sunset-parse", Some(key_loc(rp.node, "x-sunset")), format!("the sunset date `{v}` of the {l} request parameter `{n}` is not a date"));
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn request_body(&mut self, b: Op<'a>, r: Op<'a>) {
        match (self.base.body(b), self.rev.body(r)) {
            (None, None) => {}
            (None, Some(rb)) => {
                if rb.required {
                    self.emit(
                        "request-body-added-required",
                        Some(loc(rb.node)),
                        "added a required request body".into(),
                    );
                } else {
                    self.emit(
                        "request-body-added-optional",
                        Some(loc(rb.node)),
                        "added an optional request body".into(),
                    );
                }
            }
            (Some(bb), None) => {
                self.emit(
                    "request-body-removed",
                    Some(loc(bb.node)),
                    "removed the request body".into(),
                );
            }
            (Some(bb), Some(rb)) => {
                if !bb.required && rb.required {
                    self.emit(
                        "request-body-became-required",
                        Some(key_loc(rb.node, "required")),
                        "the request body became required".into(),
                    );
                } else if bb.required && !rb.required {
                    self.emit(
                        "request-body-became-optional",
                        Some(key_loc(rb.node, "required")),
                        "the request body became optional".into(),
                    );
                }
                for (m, bmt, bs) in &bb.content.media {
                    match rb.content.media.iter().find(|(x, _, _)| x == m) {
                        None => {
                            self.emit(
                                "request-body-media-type-removed",
                                Some(loc(*bmt)),
                                format!("removed the media type `{m}` from the request body"),
                            );
                        }
                        Some((_, rmt, rs)) => match (bs, rs) {
                            (None, Some(_)) => {
                                self.emit(
                                    "request-body-media-type-schema-added",
                                    Some(loc(*rmt)),
                                    format!("added a schema to the request media type `{m}`"),
                                );
                            }
                            (Some(bs), Some(rs)) => {
                                let place = super::schema::Place::body(true, m);
                                self.schema(&place, *bs, *rs);
                            }
                            // A request schema removed accepts more: not reported, like oasdiff.
                            (_, None) => {}
                        },
                    }
                }
                for (m, rmt, _) in &rb.content.media {
                    if !bb.content.media.iter().any(|(x, _, _)| x == m) {
                        self.emit(
                            "request-body-media-type-added",
                            Some(loc(*rmt)),
                            format!("added the media type `{m}` to the request body"),
                        );
                    }
                }
            }
        }
    }

    fn responses(&mut self, b: Op<'a>, r: Op<'a>) {
        let br = self.base.responses(b);
        let rr = self.rev.responses(r);
        for (code, bresp) in &br {
            let success = is_success(code);
            match rr.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)) {
                None => {
                    let id = if success {
                        "response-success-status-removed"
                    } else {
                        "response-non-success-status-removed"
                    };
                    self.emit(
                        id,
                        Some(loc(bresp.node)),
                        format!("removed the {code} response"),
                    );
                }
                Some((_, rresp)) => {
                    for (m, bmt, bs) in &bresp.content.media {
                        match rresp.content.media.iter().find(|(x, _, _)| x == m) {
                            None => {
                                self.emit(
                                    "response-media-type-removed",
                                    Some(loc(*bmt)),
                                    format!(
                                        "removed the media type `{m}` from the {code} response"
                                    ),
                                );
                            }
                            Some((_, _, rs)) => match (bs, rs) {
                                (Some(_), None) => {
                                    self.emit("response-body-media-type-schema-removed", Some(loc(*bmt)), format!("removed the schema of the {code} response media type `{m}`"));
                                }
                                (Some(bs), Some(rs)) => {
                                    let place =
                                        super::schema::Place::body(false, m).with_status(code);
                                    self.schema(&place, *bs, *rs);
                                }
                                // A response schema added only describes more: not reported.
                                (None, _) => {}
                            },
                        }
                    }
                    for (m, rmt, _) in &rresp.content.media {
                        if !bresp.content.media.iter().any(|(x, _, _)| x == m) {
                            self.emit(
                                "response-media-type-added",
                                Some(loc(*rmt)),
                                format!("added the media type `{m}` to the {code} response"),
                            );
                        }
                    }
                    self.response_headers(code, bresp, rresp);
                }
            }
        }
        for (code, rresp) in &rr {
            if !br.iter().any(|(c, _)| c.eq_ignore_ascii_case(code)) {
                let id = if is_success(code) {
                    "response-success-status-added"
                } else {
                    "response-non-success-status-added"
                };
                self.emit(
                    id,
                    Some(loc(rresp.node)),
                    format!("added the {code} response"),
                );
            }
        }
    }

    fn response_headers(
        &mut self,
        code: &str,
        b: &super::spec::Response<'a>,
        r: &super::spec::Response<'a>,
    ) {
        for (name, bh, bs) in &b.headers {
            match r
                .headers
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            {
                None => {
                    let id = if flag(bh.node, "required") {
                        "required-response-header-removed"
                    } else {
                        "optional-response-header-removed"
                    };
                    self.emit(
                        id,
                        Some(loc(*bh)),
                        format!("removed the header `{name}` from the {code} response"),
                    );
                }
                Some((_, rh, rs)) => {
                    if flag(bh.node, "required") && !flag(rh.node, "required") {
                        self.emit(
                            "response-header-became-optional",
                            Some(key_loc(*rh, "required")),
                            format!("the header `{name}` of the {code} response became optional"),
                        );
                    }
                    if let (Some(bs), Some(rs)) = (bs, rs) {
                        let place = super::schema::Place::header(name).with_status(code);
                        self.schema(&place, *bs, *rs);
                    }
                }
            }
        }
        for (name, rh, _) in &r.headers {
            if !b
                .headers
                .iter()
                .any(|(n, _, _)| n.eq_ignore_ascii_case(name))
            {
                self.emit(
                    "response-header-added",
                    Some(loc(*rh)),
                    format!("added the header `{name}` to the {code} response"),
                );
            }
        }
    }

    fn security(&mut self, b: Op<'a>, r: Op<'a>) {
        let (bs, rs) = (requirements(b.node.node), requirements(r.node.node));
        self.requirements_changed(&bs, &rs, r.node, false);
    }

    fn requirements_changed(
        &mut self,
        bs: &[Requirement],
        rs: &[Requirement],
        r: At<'a>,
        global: bool,
    ) {
        let prefix = if global {
            "api-global-security"
        } else {
            "api-security"
        };
        let key = |q: &Requirement| {
            q.iter()
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        // Requirements are alternatives: pair the unchanged ones first, so
        // that two requirements with the same schemes and different scopes
        // (`[{oauth: [read]}, {oauth: [write]}]`) are not compared crosswise.
        let mut used = vec![false; rs.len()];
        let mut left = Vec::new();
        for bq in bs {
            match (0..rs.len()).find(|&j| !used[j] && rs[j] == *bq) {
                Some(j) => used[j] = true,
                None => left.push(bq),
            }
        }
        for bq in left {
            match (0..rs.len()).find(|&j| !used[j] && key(&rs[j]) == key(bq)) {
                None => {
                    self.emit(
                        &format!("{prefix}-removed"),
                        Some(key_loc(r, "security")),
                        format!("removed the security requirement `{}`", key(bq)),
                    );
                }
                Some(j) => {
                    used[j] = true;
                    let rq = &rs[j];
                    for ((scheme, bscopes), (_, rscopes)) in bq.iter().zip(rq) {
                        for sc in bscopes.iter().filter(|s| !rscopes.contains(s)) {
                            self.emit(
                                &format!("{prefix}-scope-removed"),
                                Some(key_loc(r, "security")),
                                format!(
                                    "removed the scope `{sc}` from the security scheme `{scheme}`"
                                ),
                            );
                        }
                        for sc in rscopes.iter().filter(|s| !bscopes.contains(s)) {
                            self.emit(
                                &format!("{prefix}-scope-added"),
                                Some(key_loc(r, "security")),
                                format!("added the scope `{sc}` to the security scheme `{scheme}`"),
                            );
                        }
                    }
                }
            }
        }
        for (j, rq) in rs.iter().enumerate() {
            if !used[j] {
                self.emit(
                    &format!("{prefix}-added"),
                    Some(key_loc(r, "security")),
                    format!("added the security requirement `{}`", key(rq)),
                );
            }
        }
    }

    fn security_schemes(&mut self) {
        let schemes = |spec: Spec<'a>| -> Vec<(&'a str, At<'a>)> {
            let comp = spec
                .get(spec.root, "components")
                .and_then(|c| spec.get(c, "securitySchemes"));
            let sw = spec.get(spec.root, "securityDefinitions");
            spec.entries(comp.or(sw))
        };
        let (b, r) = (schemes(self.base), schemes(self.rev));
        for (n, bn) in &b {
            match r.iter().find(|(x, _)| x == n) {
                None => {
                    self.emit(
                        "api-security-component-removed",
                        Some(loc(*bn)),
                        format!("removed the security scheme `{n}`"),
                    );
                }
                Some((_, rn)) => {
                    if bn.node.get_str("type") != rn.node.get_str("type") {
                        self.emit(
                            "api-security-component-type-changed",
                            Some(key_loc(*rn, "type")),
                            format!("the type of the security scheme `{n}` changed"),
                        );
                    }
                }
            }
        }
        for (n, rn) in &r {
            if !b.iter().any(|(x, _)| x == n) {
                self.emit(
                    "api-security-component-added",
                    Some(loc(*rn)),
                    format!("added the security scheme `{n}`"),
                );
            }
        }
        let (bg, rg) = (
            requirements(self.base.root.node),
            requirements(self.rev.root.node),
        );
        let root = self.rev.root;
        self.requirements_changed(&bg, &rg, root, true);
    }

    fn webhooks(&mut self) {
        let (b, r) = (self.base.webhooks(), self.rev.webhooks());
        for (n, bn) in &b {
            self.path = (*n).to_owned();
            match r.iter().find(|(x, _)| x == n) {
                None => {
                    self.emit(
                        "webhook-removed",
                        Some(loc(*bn)),
                        format!("removed the webhook `{n}`"),
                    );
                }
                Some((_, rn)) => self.path_item(n, *bn, n, *rn),
            }
        }
        for (n, rn) in &r {
            if !b.iter().any(|(x, _)| x == n) {
                self.path = (*n).to_owned();
                self.emit(
                    "webhook-added",
                    Some(loc(*rn)),
                    format!("added the webhook `{n}`"),
                );
            }
        }
        self.path.clear();
    }
}

/// A security requirement: scheme names (sorted) with their scopes.
type Requirement = Vec<(String, Vec<String>)>;

fn requirements(node: &Node) -> Vec<Requirement> {
    node.seq_at("security")
        .iter()
        .map(|req| {
            let mut q: Requirement = req
                .as_map()
                .unwrap_or(&[])
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.as_str()?.to_owned(), {
                        let mut scopes: Vec<String> = v
                            .as_seq()
                            .unwrap_or(&[])
                            .iter()
                            .filter_map(Node::as_str)
                            .map(str::to_owned)
                            .collect();
                        scopes.sort();
                        scopes.dedup();
                        scopes
                    }))
                })
                .collect();
            q.sort();
            q
        })
        .collect()
}

trait FlattenLevel {
    fn flatten_level(self) -> &'static str;
}

impl FlattenLevel for Option<Option<&str>> {
    fn flatten_level(self) -> &'static str {
        match self.flatten() {
            Some("draft") => "draft",
            Some("alpha") => "alpha",
            Some("beta") => "beta",
            _ => "stable",
        }
    }
}

/// Whether a status code is a success (2xx).
fn is_success(code: &str) -> bool {
    code.starts_with('2')
}

/// A boolean flag that is true only when written as true.
pub(crate) fn flag(node: &Node, key: &str) -> bool {
    node.get(key).and_then(Node::as_bool).unwrap_or(false)
}

/// The `x-stability-level` of a node: `Ok(None)` when absent, `Err(value)` when invalid.
pub(crate) fn stability(node: &Node) -> Result<Option<&str>, String> {
    let Some(v) = node.get("x-stability-level") else {
        return Ok(None);
    };
    if v.is_null() {
        return Ok(None);
    }
    match v.as_str() {
        Some(s) if STABILITY.contains(&s) => Ok(Some(s)),
        Some(s) => Err(s.to_owned()),
        None => Err(format!("{:?}", v.type_name())),
    }
}

/// The `x-sunset` date of a node, as days since 1970-01-01.
pub(crate) fn sunset(node: &Node) -> Option<Result<i64, String>> {
    let v = node.get("x-sunset")?;
    let s = v.as_str().unwrap_or_default();
    Some(parse_date(s).ok_or_else(|| s.to_owned()))
}

/// Parses `YYYY-MM-DD` or an RFC 3339 timestamp into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = if s.len() > 10 {
        let (d, rest) = s.split_at(10);
        // An RFC 3339 time must follow: `T` or a space, then hh:mm:ss and a zone.
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let ok = rest.len() >= 9
            && rest.as_bytes()[2] == b':'
            && rest.as_bytes()[5] == b':'
            && (rest.ends_with('Z') || rest.ends_with('z') || rest[8..].contains(['+', '-']));
        if !ok {
            return None;
        }
        d
    } else {
        s
    };
    let mut it = date.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of days since 1970-01-01.
pub fn show_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn today_days() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(0)
}

/// Whether two nodes hold the same content, positions aside.
pub(crate) fn same(a: &Node, b: &Node) -> bool {
    use cairn_yaml::Value;
    match (&a.value, &b.value) {
        (Value::Scalar(x), Value::Scalar(y)) => {
            x.text == y.text
                || (x.plain && y.plain && a.as_f64().is_some() && a.as_f64() == b.as_f64())
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| same(k, k2) && same(v, v2)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_garbage() {
        let d = parse_date("2026-11-25").unwrap();
        assert_eq!(show_date(d), "2026-11-25");
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2025-01-01T00:00:00Z"), parse_date("2025-01-01"));
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("next year"), None);
        assert_eq!(parse_date("2025-01-01T00:00"), None);
    }
}
