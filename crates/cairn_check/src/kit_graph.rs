//! Helpers shared by the architecture and resilience rules that read the dependency graph.
