//! Typed views over an OpenAPI document: paths, operations, parameters,
//! request bodies and responses, the same for Swagger 2.0 and OpenAPI 3.x.
//!
//! Swagger 2.0 is read into the 3.x shape here, not by rewriting the tree:
//! a `body` parameter becomes the request body (one media type per
//! `consumes` entry), a response's `schema` becomes its content (one per
//! `produces` entry), and a non-body parameter or a header is its own
//! schema. Every view keeps the node it came from, so positions survive.

use cairn_source::{FileId, Loc};
use cairn_yaml::Node;

use super::load::{At, Docs};

/// The HTTP methods an OpenAPI path item can hold, in display order.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One version of a specification.
#[derive(Clone, Copy)]
pub struct Spec<'a> {
    /// Every file read.
    pub docs: &'a Docs,
    /// The root document.
    pub root: At<'a>,
    /// Whether it is Swagger 2.0.
    pub swagger2: bool,
}

/// An operation: a method on a path.
#[derive(Clone, Copy)]
pub struct Op<'a> {
    /// Lower-case method.
    pub method: &'static str,
    /// The operation object.
    pub node: At<'a>,
    /// The path item that holds it.
    pub item: At<'a>,
}

/// A request parameter, path-level and operation-level merged.
#[derive(Clone)]
pub struct Param<'a> {
    /// `in`: path, query, header, cookie (or Swagger's formData).
    pub location: String,
    /// `name`.
    pub name: String,
    /// The parameter object (after `$ref`).
    pub node: At<'a>,
    /// Its schema: `schema`, or (Swagger 2.0) the parameter itself. A parameter
    /// described by `content` has none here: like oasdiff, its media types are not compared as a schema.
    pub schema: Option<At<'a>>,
}

/// A request body or a response's content: media type to schema.
#[derive(Clone)]
pub struct Content<'a> {
    /// `(media type, the media type object or Swagger body node, its schema)`.
    pub media: Vec<(String, At<'a>, Option<At<'a>>)>,
}

/// A request body.
#[derive(Clone)]
pub struct Body<'a> {
    /// The request body object, or the Swagger 2.0 body parameter.
    pub node: At<'a>,
    /// `required`.
    pub required: bool,
    /// Its media types.
    pub content: Content<'a>,
}

/// A response.
#[derive(Clone)]
pub struct Response<'a> {
    /// The response object.
    pub node: At<'a>,
    /// Its media types.
    pub content: Content<'a>,
    /// `(header name, header object, its schema)`.
    pub headers: Vec<(String, At<'a>, Option<At<'a>>)>,
}

impl<'a> Spec<'a> {
    /// The specification whose root document is `file`.
    pub fn new(docs: &'a Docs, file: FileId) -> Option<Spec<'a>> {
        let root = docs.root(file)?;
        let swagger2 = root
            .node
            .get("swagger")
            .and_then(Node::as_str)
            .is_some_and(|v| v.starts_with('2'));
        Some(Spec {
            docs,
            root,
            swagger2,
        })
    }

    /// `at`, after following `$ref`s.
    pub fn deref(&self, at: At<'a>) -> At<'a> {
        self.docs.deref(at)
    }

    /// The child `key` of `at` (not dereferenced).
    pub fn get(&self, at: At<'a>, key: &str) -> Option<At<'a>> {
        at.node.entry(key).map(|(k, node)| At {
            file: at.file,
            node,
            key: Some(k.pos),
        })
    }

    /// The child `key` of `at`, dereferenced.
    pub fn get_d(&self, at: At<'a>, key: &str) -> Option<At<'a>> {
        self.get(at, key).map(|c| self.deref(c))
    }

    /// The entries of the mapping `at` (dereferenced), values dereferenced.
    pub fn entries(&self, at: Option<At<'a>>) -> Vec<(&'a str, At<'a>)> {
        let Some(at) = at else { return Vec::new() };
        let at = self.deref(at);
        at.node
            .as_map()
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str()?,
                    self.deref(At {
                        file: at.file,
                        node: v,
                        key: Some(k.pos),
                    }),
                ))
            })
            .collect()
    }

    /// The items of the sequence `at` (dereferenced), each dereferenced.
    pub fn items(&self, at: Option<At<'a>>) -> Vec<At<'a>> {
        let Some(at) = at else { return Vec::new() };
        let at = self.deref(at);
        at.node
            .as_seq()
            .unwrap_or(&[])
            .iter()
            .map(|v| {
                self.deref(At {
                    file: at.file,
                    node: v,
                    key: None,
                })
            })
            .collect()
    }

    /// The paths, as written, with their path items.
    pub fn paths(&self) -> Vec<(&'a str, At<'a>)> {
        self.entries(self.get(self.root, "paths"))
            .into_iter()
            .filter(|(k, _)| k.starts_with('/'))
            .collect()
    }

    /// The webhooks (OpenAPI 3.1), by name.
    pub fn webhooks(&self) -> Vec<(&'a str, At<'a>)> {
        self.entries(self.get(self.root, "webhooks"))
    }

    /// The operations of a path item.
    pub fn operations(&self, item: At<'a>) -> Vec<Op<'a>> {
        METHODS
            .iter()
            .filter_map(|m| {
                let node = self.get_d(item, m)?;
                node.node.as_map().map(|_| Op {
                    method: m,
                    node,
                    item,
                })
            })
            .collect()
    }

    /// The parameters of an operation: the path item's, overridden by the operation's.
    pub fn params(&self, op: Op<'a>) -> Vec<Param<'a>> {
        let mut out: Vec<Param<'a>> = Vec::new();
        for list in [
            self.get(op.item, "parameters"),
            self.get(op.node, "parameters"),
        ] {
            for p in self.items(list) {
                let Some(name) = p.node.get_str("name") else {
                    continue;
                };
                let location = p.node.get_str("in").unwrap_or("query").to_owned();
                if location == "body" {
                    continue;
                }
                let schema = if let Some(s) = self.get_d(p, "schema") {
                    Some(s)
                } else if self.swagger2 {
                    Some(p)
                } else {
                    None
                };
                let param = Param {
                    location,
                    name: name.to_owned(),
                    node: p,
                    schema,
                };
                if let Some(old) = out.iter_mut().find(|o| {
                    o.location == param.location && same_name(&o.location, &o.name, &param.name)
                }) {
                    *old = param;
                } else {
                    out.push(param);
                }
            }
        }
        out
    }

    /// The request body of an operation.
    pub fn body(&self, op: Op<'a>) -> Option<Body<'a>> {
        if self.swagger2 {
            let p = [
                self.get(op.item, "parameters"),
                self.get(op.node, "parameters"),
            ]
            .into_iter()
            .flat_map(|l| self.items(l))
            .rfind(|p| p.node.get_str("in") == Some("body"))?;
            let schema = self.get_d(p, "schema");
            let media = self
                .media_list(op, "consumes")
                .into_iter()
                .map(|m| (m, p, schema))
                .collect();
            return Some(Body {
                node: p,
                required: p
                    .node
                    .get("required")
                    .and_then(Node::as_bool)
                    .unwrap_or(false),
                content: Content { media },
            });
        }
        let b = self.get_d(op.node, "requestBody")?;
        Some(Body {
            node: b,
            required: b
                .node
                .get("required")
                .and_then(Node::as_bool)
                .unwrap_or(false),
            content: self.content(self.get(b, "content")),
        })
    }

    /// The responses of an operation, by status code as written.
    pub fn responses(&self, op: Op<'a>) -> Vec<(&'a str, Response<'a>)> {
        self.entries(self.get(op.node, "responses"))
            .into_iter()
            .filter(|(k, _)| !k.starts_with("x-"))
            .map(|(code, r)| {
                let content = if self.swagger2 {
                    let schema = self.get_d(r, "schema");
                    let media = match schema {
                        Some(s) => self
                            .media_list(op, "produces")
                            .into_iter()
                            .map(|m| (m, r, Some(s)))
                            .collect(),
                        None => Vec::new(),
                    };
                    Content { media }
                } else {
                    self.content(self.get(r, "content"))
                };
                let headers = self
                    .entries(self.get(r, "headers"))
                    .into_iter()
                    .map(|(name, h)| {
                        let schema = self.get_d(h, "schema").or_else(|| {
                            if self.swagger2 || h.node.get("type").is_some() {
                                Some(h)
                            } else {
                                self.entries(self.get(h, "content"))
                                    .into_iter()
                                    .next()
                                    .and_then(|(_, mt)| self.get_d(mt, "schema"))
                            }
                        });
                        (name.to_owned(), h, schema)
                    })
                    .collect();
                (
                    code,
                    Response {
                        node: r,
                        content,
                        headers,
                    },
                )
            })
            .collect()
    }

    fn content(&self, at: Option<At<'a>>) -> Content<'a> {
        Content {
            media: self
                .entries(at)
                .into_iter()
                .map(|(m, mt)| (m.to_owned(), mt, self.get_d(mt, "schema")))
                .collect(),
        }
    }

    fn media_list(&self, op: Op<'a>, key: &str) -> Vec<String> {
        let list = op
            .node
            .node
            .get(key)
            .or_else(|| self.root.node.get(key))
            .and_then(Node::as_seq)
            .map(|s| {
                s.iter()
                    .filter_map(Node::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if list.is_empty() {
            vec!["application/json".to_owned()]
        } else {
            list
        }
    }
}

/// Whether two parameter names are the same: header names ignore case.
pub fn same_name(location: &str, a: &str, b: &str) -> bool {
    if location == "header" {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The location of a node: its key when it has one, else the node.
pub fn loc(at: At<'_>) -> Loc {
    Loc::new(at.file, at.key.unwrap_or(at.node.pos))
}

/// The location of `key`'s value in `at`, or of `at` when it has none.
pub fn key_loc(at: At<'_>, key: &str) -> Loc {
    match at.node.entry(key) {
        Some((_, v)) => Loc::new(at.file, v.pos),
        None => loc(at),
    }
}

/// A path template with parameter names blanked (`/pets/{}`), so that
/// renaming a path parameter is not a change.
pub fn path_key(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push('{');
                }
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// The names of the path parameters in a template, in order.
pub fn path_params(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else { break };
        out.push(&after[..j]);
        rest = &after[j + 1..];
    }
    out
}
