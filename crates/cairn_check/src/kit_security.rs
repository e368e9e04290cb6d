//! Helpers shared by the security, resource-range and cost rules.
