//! The spanned YAML loader: never panics, every position is inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let parsed = cairn_yaml::parse(text);
    for d in &parsed.documents {
        let mut stack = vec![&d.root];
        while let Some(n) = stack.pop() {
            assert!(n.pos.start <= n.pos.end && n.pos.end as usize <= text.len());
            match &n.value {
                cairn_yaml::Value::Seq(items) => stack.extend(items),
                cairn_yaml::Value::Map(entries) => {
                    for (k, v) in entries {
                        stack.push(k);
                        stack.push(v);
                    }
                }
                cairn_yaml::Value::Scalar(_) => {}
            }
        }
    }
});
