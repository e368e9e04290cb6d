//! Helpers shared by the mesh, observability and ownership rules.
