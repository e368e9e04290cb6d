//! The registry of buf's breaking rules: ids, categories and summaries.

/// One breaking rule as `buf breaking` knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// buf's rule id, such as `FIELD_NO_DELETE`.
    pub id: &'static str,
    /// The categories the rule belongs to in a v2 `buf.yaml`.
    pub categories: &'static [&'static str],
    /// What the rule checks, in one line.
    pub summary: &'static str,
}

const F: &str = "FILE";
const P: &str = "PACKAGE";
const WJ: &str = "WIRE_JSON";
const W: &str = "WIRE";
const C: &str = "CSR";

const fn rule(
    id: &'static str,
    categories: &'static [&'static str],
    summary: &'static str,
) -> RuleInfo {
    RuleInfo {
        id,
        categories,
        summary,
    }
}

/// Every breaking rule, sorted by id.
pub const RULES: &[RuleInfo] = &[
    rule(
        "ENUM_NO_DELETE",
        &[C, F],
        "enums are not deleted from a given file",
    ),
    rule(
        "ENUM_SAME_JSON_FORMAT",
        &[C, F, P, WJ],
        "enums keep the JSON format support they had",
    ),
    rule(
        "ENUM_SAME_TYPE",
        &[F, P],
        "enums stay open or closed as they were",
    ),
    rule(
        "ENUM_VALUE_NO_DELETE",
        &[C, F, P],
        "enum values are not deleted from a given enum",
    ),
    rule(
        "ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED",
        &[C, WJ],
        "enum values are not deleted from a given enum unless the name is reserved",
    ),
    rule(
        "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED",
        &[C, WJ, W],
        "enum values are not deleted from a given enum unless the number is reserved",
    ),
    rule(
        "ENUM_VALUE_SAME_NAME",
        &[C, F, P, WJ],
        "enum values keep the same name",
    ),
    rule(
        "EXTENSION_MESSAGE_NO_DELETE",
        &[C, F, P],
        "extension ranges are not deleted from a given message",
    ),
    rule(
        "EXTENSION_NO_DELETE",
        &[F],
        "extensions are not deleted from a given file",
    ),
    rule(
        "FIELD_NO_DELETE",
        &[C, F, P],
        "fields are not deleted from a given message",
    ),
    rule(
        "FIELD_NO_DELETE_UNLESS_NAME_RESERVED",
        &[C, WJ],
        "fields are not deleted from a given message unless the name is reserved",
    ),
    rule(
        "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
        &[C, WJ, W],
        "fields are not deleted from a given message unless the number is reserved",
    ),
    rule(
        "FIELD_SAME_CARDINALITY",
        &[F, P],
        "fields keep the same cardinality",
    ),
    rule(
        "FIELD_SAME_CPP_STRING_TYPE",
        &[F, P],
        "fields keep the same C++ string type (ctype or (pb.cpp).string_type)",
    ),
    rule(
        "FIELD_SAME_CTYPE",
        &[],
        "deprecated: replaced by FIELD_SAME_CPP_STRING_TYPE",
    ),
    rule(
        "FIELD_SAME_DEFAULT",
        &[C, F, P, WJ, W],
        "fields keep the same default value, if a default is specified",
    ),
    rule(
        "FIELD_SAME_JAVA_UTF8_VALIDATION",
        &[F, P],
        "fields keep the same Java string UTF-8 validation",
    ),
    rule(
        "FIELD_SAME_JSON_NAME",
        &[C, F, P, WJ],
        "fields keep the same json_name",
    ),
    rule(
        "FIELD_SAME_JSTYPE",
        &[F, P],
        "fields keep the same jstype option",
    ),
    rule(
        "FIELD_SAME_LABEL",
        &[],
        "deprecated: replaced by the FIELD_*_CARDINALITY rules",
    ),
    rule(
        "FIELD_SAME_NAME",
        &[C, F, P, WJ],
        "fields keep the same name",
    ),
    rule(
        "FIELD_SAME_ONEOF",
        &[C, F, P, WJ, W],
        "fields stay in (or out of) the same oneof",
    ),
    rule("FIELD_SAME_TYPE", &[C, F, P], "fields keep the same type"),
    rule(
        "FIELD_SAME_UTF8_VALIDATION",
        &[F, P],
        "string fields keep the same utf8_validation feature",
    ),
    rule(
        "FIELD_WIRE_COMPATIBLE_CARDINALITY",
        &[W],
        "fields keep a wire-compatible cardinality",
    ),
    rule(
        "FIELD_WIRE_COMPATIBLE_TYPE",
        &[W],
        "fields keep a wire-compatible type",
    ),
    rule(
        "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
        &[C, WJ],
        "fields keep a wire- and JSON-compatible cardinality",
    ),
    rule(
        "FIELD_WIRE_JSON_COMPATIBLE_TYPE",
        &[C, WJ],
        "fields keep a wire- and JSON-compatible type",
    ),
    rule("FILE_NO_DELETE", &[C, F], "files are not deleted"),
    rule(
        "FILE_SAME_CC_ENABLE_ARENAS",
        &[F, P],
        "files keep the cc_enable_arenas option",
    ),
    rule(
        "FILE_SAME_CC_GENERIC_SERVICES",
        &[F, P],
        "files keep the cc_generic_services option",
    ),
    rule(
        "FILE_SAME_CSHARP_NAMESPACE",
        &[F, P],
        "files keep the csharp_namespace option",
    ),
    rule(
        "FILE_SAME_GO_PACKAGE",
        &[F, P],
        "files keep the go_package option",
    ),
    rule(
        "FILE_SAME_JAVA_GENERIC_SERVICES",
        &[F, P],
        "files keep the java_generic_services option",
    ),
    rule(
        "FILE_SAME_JAVA_MULTIPLE_FILES",
        &[F, P],
        "files keep the java_multiple_files option",
    ),
    rule(
        "FILE_SAME_JAVA_OUTER_CLASSNAME",
        &[F, P],
        "files keep the java_outer_classname option",
    ),
    rule(
        "FILE_SAME_JAVA_PACKAGE",
        &[F, P],
        "files keep the java_package option",
    ),
    rule(
        "FILE_SAME_JAVA_STRING_CHECK_UTF8",
        &[],
        "deprecated: replaced by FIELD_SAME_JAVA_UTF8_VALIDATION",
    ),
    rule(
        "FILE_SAME_OBJC_CLASS_PREFIX",
        &[F, P],
        "files keep the objc_class_prefix option",
    ),
    rule(
        "FILE_SAME_OPTIMIZE_FOR",
        &[F, P],
        "files keep the optimize_for option",
    ),
    rule(
        "FILE_SAME_PACKAGE",
        &[C, F, P, WJ, W],
        "files keep the same package",
    ),
    rule(
        "FILE_SAME_PHP_CLASS_PREFIX",
        &[F, P],
        "files keep the php_class_prefix option",
    ),
    rule(
        "FILE_SAME_PHP_GENERIC_SERVICES",
        &[],
        "deprecated: checks nothing",
    ),
    rule(
        "FILE_SAME_PHP_METADATA_NAMESPACE",
        &[F, P],
        "files keep the php_metadata_namespace option",
    ),
    rule(
        "FILE_SAME_PHP_NAMESPACE",
        &[F, P],
        "files keep the php_namespace option",
    ),
    rule(
        "FILE_SAME_PY_GENERIC_SERVICES",
        &[F, P],
        "files keep the py_generic_services option",
    ),
    rule(
        "FILE_SAME_RUBY_PACKAGE",
        &[F, P],
        "files keep the ruby_package option",
    ),
    rule(
        "FILE_SAME_SWIFT_PREFIX",
        &[F, P],
        "files keep the swift_prefix option",
    ),
    rule("FILE_SAME_SYNTAX", &[C, F, P], "files keep the same syntax"),
    rule(
        "MESSAGE_NO_DELETE",
        &[C, F],
        "messages are not deleted from a given file",
    ),
    rule(
        "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR",
        &[C, F, P],
        "messages do not turn on no_standard_descriptor_accessor",
    ),
    rule(
        "MESSAGE_SAME_JSON_FORMAT",
        &[C, F, P, WJ],
        "messages keep the JSON format support they had",
    ),
    rule(
        "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT",
        &[],
        "deprecated: checks nothing",
    ),
    rule(
        "MESSAGE_SAME_REQUIRED_FIELDS",
        &[C, F, P, WJ, W],
        "messages neither add nor delete required fields",
    ),
    rule(
        "ONEOF_NO_DELETE",
        &[C, F, P],
        "oneofs are not deleted from a given message",
    ),
    rule(
        "PACKAGE_ENUM_NO_DELETE",
        &[P],
        "enums are not deleted from a given package",
    ),
    rule(
        "PACKAGE_EXTENSION_NO_DELETE",
        &[P],
        "extensions are not deleted from a given package",
    ),
    rule(
        "PACKAGE_MESSAGE_NO_DELETE",
        &[P],
        "messages are not deleted from a given package",
    ),
    rule("PACKAGE_NO_DELETE", &[P], "packages are not deleted"),
    rule(
        "PACKAGE_SERVICE_NO_DELETE",
        &[P],
        "services are not deleted from a given package",
    ),
    rule(
        "RESERVED_ENUM_NO_DELETE",
        &[C, F, P, WJ, W],
        "reserved ranges and names are not deleted from a given enum",
    ),
    rule(
        "RESERVED_MESSAGE_NO_DELETE",
        &[C, F, P, WJ, W],
        "reserved ranges and names are not deleted from a given message",
    ),
    rule(
        "RPC_NO_DELETE",
        &[F, P],
        "RPCs are not deleted from a given service",
    ),
    rule(
        "RPC_SAME_CLIENT_STREAMING",
        &[C, F, P, WJ, W],
        "RPCs keep the same client streaming value",
    ),
    rule(
        "RPC_SAME_IDEMPOTENCY_LEVEL",
        &[C, F, P, WJ, W],
        "RPCs keep the same idempotency_level option",
    ),
    rule(
        "RPC_SAME_REQUEST_TYPE",
        &[C, F, P, WJ, W],
        "RPCs keep the same request type",
    ),
    rule(
        "RPC_SAME_RESPONSE_TYPE",
        &[C, F, P, WJ, W],
        "RPCs keep the same response type",
    ),
    rule(
        "RPC_SAME_SERVER_STREAMING",
        &[C, F, P, WJ, W],
        "RPCs keep the same server streaming value",
    ),
    rule(
        "SERVICE_NO_DELETE",
        &[F],
        "services are not deleted from a given file",
    ),
];

/// The `buf.yaml` version a configuration was written in; the rule set and
/// categories differ a little between them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BufVersion {
    /// `version: v1beta1`.
    V1Beta1,
    /// `version: v1`.
    V1,
    /// `version: v2` (and the default).
    #[default]
    V2,
}

/// Looks a rule up by id.
pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    RULES
        .binary_search_by(|r| r.id.cmp(id))
        .ok()
        .map(|i| &RULES[i])
}

/// The position of `id` in [`RULES`]. Evaluated in a `const` block, an
/// unknown id is a compile error.
pub(crate) const fn rule_index(id: &str) -> usize {
    let id = id.as_bytes();
    let mut i = 0;
    while i < RULES.len() {
        let r = RULES[i].id.as_bytes();
        if r.len() == id.len() {
            let mut j = 0;
            while j < r.len() && r[j] == id[j] {
                j += 1;
            }
            if j == r.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("unknown rule id");
}

/// A set of rules as bits indexed by their position in [`RULES`]: what the
/// checks test for every element pair, instead of looking names up.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RuleSet([u64; 2]);

const _: () = assert!(RULES.len() <= 128, "RuleSet holds 128 rules");

impl RuleSet {
    /// The rules named in `ids`; names that are no rule are skipped.
    pub(crate) fn of<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = RuleSet::default();
        for id in ids {
            if let Ok(i) = RULES.binary_search_by(|r| r.id.cmp(id)) {
                set.0[i / 64] |= 1 << (i % 64);
            }
        }
        set
    }

    /// Whether the rule at position `i` of [`RULES`] is in the set.
    #[inline]
    pub(crate) fn has(self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

/// Whether `id` names a rule that exists in `version` of buf's config.
pub(crate) fn exists_in(id: &str, version: BufVersion) -> bool {
    if rule_info(id).is_none() {
        return false;
    }
    match version {
        BufVersion::V2 => !matches!(
            id,
            "FIELD_SAME_CTYPE"
                | "FIELD_SAME_LABEL"
                | "FILE_SAME_JAVA_STRING_CHECK_UTF8"
                | "FILE_SAME_PHP_GENERIC_SERVICES"
        ),
        BufVersion::V1 => !matches!(
            id,
            "EXTENSION_NO_DELETE" | "FIELD_SAME_DEFAULT" | "PACKAGE_EXTENSION_NO_DELETE"
        ),
        BufVersion::V1Beta1 => !matches!(
            id,
            "EXTENSION_NO_DELETE"
                | "FIELD_SAME_DEFAULT"
                | "PACKAGE_EXTENSION_NO_DELETE"
                | "FIELD_WIRE_COMPATIBLE_TYPE"
                | "FIELD_WIRE_JSON_COMPATIBLE_TYPE"
        ),
    }
}

/// Whether rule `id` is in `category` under `version`.
pub(crate) fn in_category(id: &str, category: &str, version: BufVersion) -> bool {
    if !exists_in(id, version) {
        return false;
    }
    let Some(info) = rule_info(id) else {
        return false;
    };
    match (version, id) {
        (BufVersion::V1Beta1, "FIELD_SAME_CARDINALITY" | "FIELD_SAME_TYPE") => {
            matches!(category, "FILE" | "PACKAGE" | "WIRE_JSON" | "WIRE")
        }
        (BufVersion::V1Beta1, "FILE_SAME_PACKAGE") => category == "FILE",
        (BufVersion::V1, "FILE_SAME_PACKAGE") => {
            matches!(category, "FILE" | "PACKAGE" | "WIRE_JSON" | "WIRE")
        }
        _ => info.categories.contains(&category),
    }
}

/// The rules a deprecated rule id stands for in `version`; `None` when `id`
/// is not deprecated.
pub(crate) fn replacements(id: &str, version: BufVersion) -> Option<&'static [&'static str]> {
    Some(match id {
        "FIELD_SAME_CTYPE" => &["FIELD_SAME_CPP_STRING_TYPE"],
        "FIELD_SAME_LABEL" if version == BufVersion::V1Beta1 => &["FIELD_SAME_CARDINALITY"],
        "FIELD_SAME_LABEL" => &[
            "FIELD_SAME_CARDINALITY",
            "FIELD_WIRE_COMPATIBLE_CARDINALITY",
            "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY",
        ],
        "FILE_SAME_JAVA_STRING_CHECK_UTF8" => &["FIELD_SAME_JAVA_UTF8_VALIDATION"],
        "FILE_SAME_PHP_GENERIC_SERVICES" | "MESSAGE_SAME_MESSAGE_SET_WIRE_FORMAT" => &[],
        _ => return None,
    })
}

/// The categories buf knows, for validating `use` and `except`.
pub(crate) const CATEGORIES: &[&str] = &["FILE", "PACKAGE", "WIRE_JSON", "WIRE", "CSR"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sets_hold_exactly_their_rules() {
        let set = RuleSet::of(["FIELD_NO_DELETE", "WIRE_JSON", "ENUM_NO_DELETE"]);
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(
                set.has(i),
                matches!(r.id, "FIELD_NO_DELETE" | "ENUM_NO_DELETE"),
                "{}",
                r.id
            );
            assert_eq!(rule_index(r.id), i);
        }
        assert_eq!(
            const { rule_index("RPC_NO_DELETE") },
            RULES.iter().position(|r| r.id == "RPC_NO_DELETE").unwrap()
        );
    }

    #[test]
    fn registry_is_sorted_and_unique() {
        assert!(RULES.windows(2).all(|w| w[0].id < w[1].id));
    }
}
