//! Helpers shared by the manifest, access and network-policy rules.
