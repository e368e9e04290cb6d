//! Helpers shared by the security, resource-range, cost and per-workload resilience rules.
