//! Helpers shared by the per-workload resilience rules (probes, replicas, disruption budgets, spreading, autoscaling).
