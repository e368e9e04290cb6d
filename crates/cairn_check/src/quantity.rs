//! Kubernetes resource quantities (`500m`, `0.5`, `1Gi`, `1G`, `1e3`, `128974848`).
//!
//! The grammar is the API server's: an optional sign, a decimal number, and
//! a suffix that is a binary SI suffix (`Ki Mi Gi Ti Pi Ei`), a decimal SI
//! suffix (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-2`).

/// Parses a quantity into its value in base units (cores, bytes).
pub fn parse_quantity(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let (sign, t) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => {
            let exp: i32 = s[1..].parse().ok()?;
            10f64.powi(exp)
        }
        _ => return None,
    };
    Some(sign * n * factor)
}

/// A CPU quantity in millicores.
pub fn parse_cpu_milli(text: &str) -> Option<f64> {
    parse_quantity(text).map(|cores| cores * 1000.0)
}

/// A memory quantity in bytes.
pub fn parse_memory_bytes(text: &str) -> Option<f64> {
    parse_quantity(text)
}

/// A human form of a byte count: `512Mi`, `8Gi`, `1.5Gi`.
pub fn format_bytes(bytes: f64) -> String {
    for (unit, size) in [
        ("Ei", 1024f64.powi(6)),
        ("Pi", 1024f64.powi(5)),
        ("Ti", 1024f64.powi(4)),
        ("Gi", 1024f64.powi(3)),
        ("Mi", 1024f64.powi(2)),
        ("Ki", 1024.0),
    ] {
        if bytes >= size {
            return format!("{}{unit}", trim(bytes / size));
        }
    }
    trim(bytes)
}

/// A human form of millicores: `250m`, `4000m`.
pub fn format_milli(milli: f64) -> String {
    format!("{}m", trim(milli))
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quantity_form() {
        let cases = [
            ("500m", 0.5),
            ("0.5", 0.5),
            (".5", 0.5),
            ("1", 1.0),
            ("+2", 2.0),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("1e-3", 0.001),
            ("1k", 1000.0),
            ("1Ki", 1024.0),
            ("1M", 1e6),
            ("1Mi", 1_048_576.0),
            ("1G", 1e9),
            ("1Gi", 1_073_741_824.0),
            ("0.5Gi", 536_870_912.0),
            ("128974848", 128_974_848.0),
            ("129M", 129e6),
            ("123Mi", 123.0 * 1_048_576.0),
            ("100n", 1e-7),
            ("1u", 1e-6),
        ];
        for (text, want) in cases {
            let got = parse_quantity(text).unwrap_or_else(|| panic!("{text} did not parse"));
            assert!(
                (got - want).abs() <= want.abs() * 1e-12,
                "{text}: {got} != {want}"
            );
        }
        for bad in ["", "abc", "1.2.3", "1Q", "m", "1ee3", "1mi"] {
            assert_eq!(parse_quantity(bad), None, "{bad} should not parse");
        }
        assert_eq!(parse_cpu_milli("0.25"), Some(250.0));
        assert_eq!(format_bytes(8.0 * 1024f64.powi(3)), "8Gi");
        assert_eq!(format_milli(4000.0), "4000m");
    }
}
