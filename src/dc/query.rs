//! Helpers over query-string pairs (`Query`), which are sent literally: a
//! flat key like `tag.smartdc_role` stays one key (restify `allowDots: false`).

use super::Query;

/// Builds a `Query` from string pairs: `query(&[("state", "active")])`.
pub fn query(pairs: &[(&str, &str)]) -> Query {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn has_key(query: &[(String, String)], key: &str) -> bool {
    query.iter().any(|(k, _)| k == key)
}

/// When the caller narrows the answer with `fields=a,b`, the fields our
/// records cannot do without are added, so a narrowed list still decodes.
pub(crate) fn with_required_fields(query: &[(String, String)], required: &[&str]) -> Query {
    query
        .iter()
        .map(|(key, value)| {
            if key != "fields" || value.split(',').any(|f| f.trim() == "*") {
                return (key.clone(), value.clone());
            }
            let mut fields: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect();
            for name in required {
                if !fields.contains(name) {
                    fields.push(name);
                }
            }
            (key.clone(), fields.join(","))
        })
        .collect()
}

/// `query` plus `limit` and `offset` for one page.
pub(crate) fn page(query: &[(String, String)], limit: usize, offset: Option<usize>) -> Query {
    let mut page = query.to_vec();
    page.push(("limit".to_string(), limit.to_string()));
    if let Some(offset) = offset {
        page.push(("offset".to_string(), offset.to_string()));
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_fields_are_added_once() {
        let q = with_required_fields(
            &query(&[("fields", "alias,ram"), ("state", "active")]),
            &["uuid", "alias"],
        );
        assert_eq!(
            q,
            query(&[("fields", "alias,ram,uuid"), ("state", "active")])
        );
    }

    #[test]
    fn star_and_no_fields_are_left_alone() {
        let q = query(&[("fields", "*")]);
        assert_eq!(with_required_fields(&q, &["uuid"]), q);
        assert!(with_required_fields(&[], &["uuid"]).is_empty());
    }
}
