//! A YAML tree whose every node knows where it came from.
//!
//! [`parse`] turns text into [`Document`]s of [`Node`]s on top of
//! saphyr-parser's event stream. It does what a loader must do and saphyr
//! leaves to us: it expands aliases (within a budget, so an alias bomb is an
//! error, not an out-of-memory), applies merge keys (`<<: *base`), reports
//! duplicate keys, bounds nesting depth, and converts saphyr's character
//! positions into byte ranges. A syntax error loses only the document it is
//! in: parsing resumes at the next `---`.
//!
//! Scalars keep their text; what a scalar *means* (`"3"` as a number, `yes`
//! as a boolean) is asked through [`Node`]'s accessors, because Kubernetes,
//! Compose and `OpenAPI` each resolve scalars a little differently.

mod node;
mod parse;

mod json;
pub use node::{CompactString, Node, Scalar, Value};
pub use parse::{Document, Limits, Parsed, YamlError, YamlErrorKind, parse, parse_with};
