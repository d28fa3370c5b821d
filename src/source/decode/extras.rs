//! PenguiFlow's default human-readable log line: `configure_logging()` without `structured`
//! uses its `ExtraFormatter`, which writes the message, then (for a failure) the traceback on
//! lines of their own, then ` [key=value, ...]` with the event's payload. Strings are quoted
//! without escaping and cut at 100 characters plus `...`; other values are Python reprs (`None`,
//! `True`, numbers, dicts such as `flow_error={'code': 'NODE_EXCEPTION', ...}`). The bracket is
//! turned into the JSON object the other shapes carry, so one decoder reads them all.

use serde_json::{Map, Value};

/// The payload of an `ExtraFormatter` line as a JSON object, or `None` when the line has no
/// bracket of event fields (a traceback line, the message line before one).
pub fn extras_to_json(line: &str) -> Option<String> {
    let line = line.trim_end();
    let body = line.strip_suffix(']')?;
    let start = body
        .find(" [ts=")
        .map(|at| at + 2)
        .or_else(|| body.strip_prefix("[ts=").map(|_| 1))?;
    let fields = parse_fields(&body[start..])?;
    if !fields.contains_key("event") || !fields.contains_key("ts") {
        return None;
    }
    Some(Value::Object(fields).to_string())
}

/// `key=value, key=value` (the inside of the bracket).
fn parse_fields(mut text: &str) -> Option<Map<String, Value>> {
    let mut fields = Map::new();
    while !text.is_empty() {
        let equals = text.find('=')?;
        let key = &text[..equals];
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        let rest = &text[equals + 1..];
        let (value, len) = value_of(rest)?;
        fields.insert(key.to_string(), value);
        text = rest[len..].strip_prefix(", ").unwrap_or(&rest[len..]);
        if len == rest.len() {
            break;
        }
    }
    Some(fields)
}

/// True when `text` starts the next field: `identifier=`.
fn starts_field(text: &str) -> bool {
    let key_len = text
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    key_len > 0 && text.as_bytes().get(key_len) == Some(&b'=')
}

/// One value and the bytes it took.
fn value_of(text: &str) -> Option<(Value, usize)> {
    if let Some(inner) = text.strip_prefix('"') {
        // Unescaped: the string ends at the first quote followed by the next field or the end.
        let mut from = 0;
        loop {
            let quote = from + inner[from..].find('"')?;
            let after = &inner[quote + 1..];
            if after.is_empty() || after.strip_prefix(", ").is_some_and(starts_field) {
                return Some((Value::String(inner[..quote].to_string()), quote + 2));
            }
            from = quote + 1;
        }
    }
    if text.starts_with('{') {
        let len = balanced(text)?;
        return Some((dict_value(&text[..len]), len));
    }
    let len = field_end(text);
    let token = &text[..len];
    let value = match token {
        "None" => Value::Null,
        "True" => Value::Bool(true),
        "False" => Value::Bool(false),
        _ => match token.parse::<i64>() {
            Ok(number) => Value::from(number),
            Err(_) => match token.parse::<f64>() {
                Ok(number) if number.is_finite() => Value::from(number),
                _ => Value::String(token.to_string()),
            },
        },
    };
    Some((value, len))
}

/// Where an unquoted value ends: before `, identifier=`, or at the end.
fn field_end(text: &str) -> usize {
    let mut at = 0;
    while let Some(comma) = text[at..].find(", ") {
        let next = at + comma;
        if starts_field(&text[next + 2..]) {
            return next;
        }
        at = next + 2;
    }
    text.len()
}

/// The length of a `{...}` repr, quotes respected.
fn balanced(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (index, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(index + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// A dict repr: `flow_error` keeps the fields flowtrace reads (`code`, `message`,
/// `exception_type`); anything else is kept as its text.
fn dict_value(text: &str) -> Value {
    let mut object = Map::new();
    for key in ["code", "message", "exception_type"] {
        if let Some(value) = dict_string(text, key) {
            object.insert(key.to_string(), Value::String(value));
        }
    }
    if object.is_empty() {
        Value::String(text.to_string())
    } else {
        Value::Object(object)
    }
}

/// The string value of `'key': '...'` (or `"..."`) at the top of a dict repr.
fn dict_string(text: &str, key: &str) -> Option<String> {
    let marker = format!("'{key}': ");
    let at = text.find(&marker)? + marker.len();
    let rest = &text[at..];
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &rest[1..];
    let end = inner.find(quote)?;
    Some(inner[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bracket_becomes_the_payload() {
        let line = r#"ValueError: bad, worse [ts=1796162495.97397, event="node_error", node_name="answer", trace_id="abc", latency_ms=0.52, q_depth_in=0, attempt=0, trace_cancelled=False, trace_pending=None, exception="ValueError('bad, worse')"]"#;
        let json: Value = serde_json::from_str(&extras_to_json(line).unwrap()).unwrap();
        assert_eq!(json["event"], "node_error");
        assert_eq!(json["ts"], 1796162495.97397);
        assert_eq!(json["q_depth_in"], 0);
        assert_eq!(json["trace_cancelled"], false);
        assert!(json["trace_pending"].is_null());
        assert_eq!(json["exception"], "ValueError('bad, worse')");
    }

    #[test]
    fn flow_error_reprs_keep_their_code() {
        let line = r#"node_failed [ts=1.5, event="node_failed", flow_error={'code': 'NODE_EXCEPTION', 'message': "Node 'answer' raised ValueError: x", 'exception_type': 'ValueError', 'metadata': {'attempt': 1}}]"#;
        let json: Value = serde_json::from_str(&extras_to_json(line).unwrap()).unwrap();
        assert_eq!(json["flow_error"]["code"], "NODE_EXCEPTION");
        assert_eq!(json["flow_error"]["exception_type"], "ValueError");
        assert_eq!(
            json["flow_error"]["message"],
            "Node 'answer' raised ValueError: x"
        );
    }

    #[test]
    fn other_lines_are_not_events() {
        for line in [
            "Traceback (most recent call last):",
            "node_error",
            "INFO:     10.0.0.1 - \"POST /v1/run\" 200",
            "a list [1, 2, 3]",
            "[ts=1.0, node_name=\"x\"]",
        ] {
            assert_eq!(extras_to_json(line), None, "{line}");
        }
    }
}
