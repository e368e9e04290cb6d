//! Renderers: they turn a [`System`] and diagnostics into what a person or a
//! program reads. They know nothing of how the model was built; they only
//! format it.
//!
//! - [`text`]: the human summary of `cairn scan`;
//! - [`json`]: the documented, versioned model (`--format json`);
//! - [`context`]: the answer to the brief's `get_microservices_context` request;
//! - [`diagnostic`]: one diagnostic with `file:line:col`, the source line and a hint;
//! - [`map`]: the system as a diagram (Mermaid, DOT, Structurizr DSL, C4-PlantUML).

pub mod context;
pub mod diagnostic;
pub mod json;
pub mod map;
pub mod text;

use cairn_model::System;
use cairn_source::{Diagnostic, SourceMap};

/// What every renderer gets.
pub struct Report<'a> {
    /// The model.
    pub system: &'a System,
    /// Diagnostics, in order.
    pub diagnostics: &'a [Diagnostic],
    /// The files, for paths and source excerpts.
    pub sources: &'a SourceMap,
}
