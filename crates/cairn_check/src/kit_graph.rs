//! Helpers shared by the architecture rules and the resilience rules that read call policies (timeouts, retries, circuit breakers).
