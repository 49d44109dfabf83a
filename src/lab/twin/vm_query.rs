//! ListVms parameters (apis.md §3.3): strict validation, then one LDAP filter plus paging.
//!
//! Like VMAPI, every simple parameter becomes a clause of an LDAP filter ANDed with `query`
//! and `predicate`; `alias` becomes a prefix match and `state=active` excludes destroyed and
//! failed VMs.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::lab::world::tags;

use super::http::{ApiError, field_error, is_uuid};
use super::ldap::{Attributes, Filter};
use super::vm_attrs::VmAttrs;

const MAX_LIMIT: usize = 1000;

/// Parameter families ListVms accepts (the part of a key before its first `.`).
const KNOWN: &[&str] = &[
    "uuid",
    "uuids",
    "owner_uuid",
    "server_uuid",
    "image_uuid",
    "billing_id",
    "brand",
    "alias",
    "state",
    "ram",
    "predicate",
    "query",
    "docker",
    "create_timestamp",
    "package_name",
    "package_version",
    "fields",
    "tag",
    "internal_metadata",
    "sort",
    "limit",
    "offset",
    "marker",
];

/// What `fields=` may name: VMAPI's VM_FIELDS table, `*` and `role_tags`.
const VM_FIELDS: &[&str] = &[
    "alias",
    "autoboot",
    "billing_id",
    "brand",
    "cpu_cap",
    "cpu_shares",
    "cpu_type",
    "customer_metadata",
    "delegate_dataset",
    "disk_driver",
    "dns_domain",
    "docker",
    "do_not_inventory",
    "firewall_enabled",
    "firewall_rules",
    "fs_allowed",
    "hostname",
    "indestructible_delegated",
    "indestructible_zoneroot",
    "init_name",
    "internal_metadata",
    "kernel_version",
    "limit_priv",
    "locality",
    "maintain_resolvers",
    "max_locked_memory",
    "max_lwps",
    "max_physical_memory",
    "max_swap",
    "mdata_exec_timeout",
    "networks",
    "nic_driver",
    "last_modified",
    "overprovision_cpu",
    "overprovision_memory",
    "owner_uuid",
    "package_name",
    "package_version",
    "quota",
    "ram",
    "resolvers",
    "state",
    "server_uuid",
    "tags",
    "tmpfs",
    "uuid",
    "vcpus",
    "zfs_data_compression",
    "zfs_io_priority",
    "zlog_max_size",
    "zone_state",
    "*",
    "role_tags",
];

const SORTABLE: &[&str] = &[
    "uuid",
    "alias",
    "owner_uuid",
    "server_uuid",
    "image_uuid",
    "billing_id",
    "brand",
    "state",
    "zone_state",
    "create_timestamp",
    "ram",
    "max_physical_memory",
    "quota",
    "cpu_cap",
    "package_name",
    "package_version",
    "last_modified",
    "destroyed",
];

const BRANDS: &[&str] = &["joyent-minimal", "joyent", "lx", "kvm", "sngl", "bhyve"];
const STATES: &[&str] = &["running", "stopped", "active", "destroyed"];

#[derive(Clone, Debug, PartialEq)]
pub struct Sort {
    /// Attribute name (`ram` already mapped to `max_physical_memory`).
    pub field: String,
    pub descending: bool,
}

#[derive(Clone, Debug)]
pub struct VmQuery {
    pub filter: Filter,
    /// None: the full rendering.
    pub fields: Option<Vec<String>>,
    pub limit: usize,
    pub offset: usize,
    /// `(sort value, uuid)` of the last record of the previous page.
    pub marker: Option<(Option<String>, String)>,
    pub sort: Sort,
}

fn invalid(field: &str, message: &str) -> Value {
    field_error(field, "Invalid", message)
}

impl VmQuery {
    /// Validates ListVms query parameters the way VMAPI does (409 ValidationFailed).
    pub fn parse(params: &Map<String, Value>) -> Result<VmQuery, ApiError> {
        let mut errs = Vec::new();
        for key in params.keys() {
            let family = key.split('.').next().unwrap_or("");
            if !KNOWN.contains(&family)
                || (matches!(family, "tag" | "internal_metadata") && key == family)
            {
                errs.push(invalid(key, "Invalid parameter"));
            }
        }
        let mut clauses = Vec::new();
        let text = |k: &str| params.get(k).map(|v| v.as_str().ok_or(()));
        for k in [
            "uuid",
            "owner_uuid",
            "server_uuid",
            "image_uuid",
            "billing_id",
        ] {
            match text(k) {
                Some(Ok(v)) if is_uuid(v) => clauses.push(Filter::Equal(k.into(), v.into())),
                Some(_) => errs.push(invalid(k, "Invalid UUID")),
                None => {}
            }
        }
        match text("uuids") {
            Some(Ok(v)) if v.split(',').all(is_uuid) => clauses.push(Filter::Or(
                v.split(',')
                    .map(|u| Filter::Equal("uuid".into(), u.into()))
                    .collect(),
            )),
            Some(Ok(v)) => errs.push(invalid("uuids", &format!("Invalid values: {v}"))),
            Some(Err(())) => errs.push(invalid("uuids", "Invalid parameter")),
            None => {}
        }
        match text("brand") {
            Some(Ok(v)) if BRANDS.contains(&v) => {
                clauses.push(Filter::Equal("brand".into(), v.into()))
            }
            Some(_) => errs.push(invalid(
                "brand",
                &format!("Must be one of: {}", BRANDS.join(", ")),
            )),
            None => {}
        }
        match text("alias") {
            Some(Ok(v)) if valid_alias(v) => clauses.push(Filter::Substring {
                attr: "alias".into(),
                initial: Some(v.into()),
                any: Vec::new(),
                last: None,
            }),
            Some(_) => errs.push(invalid(
                "alias",
                "String does not match regexp: /^[a-zA-Z0-9][a-zA-Z0-9\\_\\.\\-]*$/",
            )),
            None => {}
        }
        match text("state") {
            Some(Ok("active")) => clauses.push(Filter::Not(Box::new(Filter::Or(vec![
                Filter::Equal("state".into(), "destroyed".into()),
                Filter::Equal("state".into(), "failed".into()),
            ])))),
            Some(Ok(v)) if STATES.contains(&v) => {
                clauses.push(Filter::Equal("state".into(), v.into()))
            }
            Some(_) => errs.push(invalid(
                "state",
                &format!("Must be one of: {}", STATES.join(", ")),
            )),
            None => {}
        }
        match text("ram") {
            Some(Ok(v))
                if v == "0"
                    || (!v.starts_with('0')
                        && !v.is_empty()
                        && v.bytes().all(|b| b.is_ascii_digit())) =>
            {
                clauses.push(Filter::Equal("max_physical_memory".into(), v.into()))
            }
            Some(_) => errs.push(invalid(
                "ram",
                "String does not match regexp: /^0$|^([1-9][0-9]*$)/",
            )),
            None => {}
        }
        match text("docker") {
            Some(Ok("true")) => clauses.push(Filter::Equal("docker".into(), "true".into())),
            Some(Ok("false")) => clauses.push(Filter::Not(Box::new(Filter::Equal(
                "docker".into(),
                "true".into(),
            )))),
            Some(_) => errs.push(invalid("docker", "Invalid parameter")),
            None => {}
        }
        match text("create_timestamp") {
            Some(Ok(v)) => match parse_timestamp(v) {
                Some(ms) => clauses.push(Filter::Equal("create_timestamp".into(), ms.to_string())),
                None => errs.push(invalid(
                    "create_timestamp",
                    &format!("Invalid timestamp: {v}"),
                )),
            },
            Some(Err(())) => errs.push(invalid("create_timestamp", "Invalid parameter")),
            None => {}
        }
        for k in ["package_name", "package_version"] {
            match text(k) {
                Some(Ok(v)) => clauses.push(Filter::Equal(k.into(), v.into())),
                Some(Err(())) => errs.push(invalid(k, "Not a valid string")),
                None => {}
            }
        }
        for (key, value) in params {
            if let Some(tag) = key.strip_prefix("tag.") {
                match value.as_str() {
                    Some(v) => clauses.push(Filter::Or(
                        tags::param_needles(tag, v)
                            .into_iter()
                            .map(|n| Filter::Substring {
                                attr: "tags".into(),
                                initial: None,
                                any: vec![n],
                                last: None,
                            })
                            .collect(),
                    )),
                    None => errs.push(invalid(key, &format!("Invalid tag: {value}"))),
                }
            } else if let Some(k) = key.strip_prefix("internal_metadata.") {
                match value.as_str() {
                    Some(v) if v.len() <= 100 => clauses.push(Filter::Equal(
                        "internal_metadata_search_array".into(),
                        format!("{k}={v}"),
                    )),
                    _ => errs.push(invalid(key, "Invalid parameter")),
                }
            }
        }
        match text("query") {
            Some(Ok(q)) => match Filter::parse(q) {
                Ok(f) => clauses.push(rewrite_ram(f)),
                Err(e) => errs.push(invalid("query", &format!("Invalid query: {e}"))),
            },
            Some(Err(())) => errs.push(invalid("query", "Not a valid string")),
            None => {}
        }
        match text("predicate") {
            Some(Ok(p)) => match predicate_filter(p) {
                Ok(f) => clauses.push(f),
                Err(e) => errs.push(invalid("predicate", &e)),
            },
            Some(Err(())) => errs.push(invalid("predicate", "Unable to parse predicate as JSON")),
            None => {}
        }
        let fields = match text("fields") {
            Some(Ok(v)) if v.split(',').all(|f| VM_FIELDS.contains(&f)) => {
                Some(v.split(',').map(str::to_string).collect())
            }
            Some(Ok(v)) => {
                errs.push(invalid("fields", &format!("Invalid values: {v}")));
                None
            }
            Some(Err(())) => {
                errs.push(invalid("fields", "Invalid parameter"));
                None
            }
            None => None,
        };
        let limit = match number(params.get("limit"), 1, Some(MAX_LIMIT)) {
            Ok(n) => n.unwrap_or(MAX_LIMIT),
            Err(m) => {
                errs.push(invalid("limit", &m));
                MAX_LIMIT
            }
        };
        let offset = match number(params.get("offset"), 0, None) {
            Ok(n) => n.unwrap_or(0),
            Err(m) => {
                errs.push(invalid("offset", &m));
                0
            }
        };
        let sort = match text("sort") {
            None => Sort {
                field: "uuid".into(),
                descending: true,
            },
            Some(Ok(s)) => match parse_sort(s) {
                Some(sort) => sort,
                None => {
                    errs.push(invalid("sort", &format!("Invalid sort param: {s}")));
                    Sort {
                        field: "uuid".into(),
                        descending: true,
                    }
                }
            },
            Some(Err(())) => {
                errs.push(invalid("sort", "Invalid sort param"));
                Sort {
                    field: "uuid".into(),
                    descending: true,
                }
            }
        };
        let marker = match text("marker") {
            None => None,
            Some(Ok(m)) => match parse_marker(m, &sort, params.contains_key("sort")) {
                Ok(mk) => Some(mk),
                Err(e) => {
                    errs.push(invalid("marker", &format!("Invalid marker: {m}. {e}")));
                    None
                }
            },
            Some(Err(())) => {
                errs.push(invalid("marker", "Invalid marker"));
                None
            }
        };
        if !errs.is_empty() {
            return Err(ApiError::validation("Invalid Parameters", errs));
        }
        if offset > 0 && marker.is_some() {
            return Err(ApiError::validation(
                "Invalid Parameters",
                vec![serde_json::json!({
                    "fields": ["offset", "marker"],
                    "code": "ConflictingParameters",
                    "message": "offset and marker cannot be used at the same time"
                })],
            ));
        }
        Ok(VmQuery {
            filter: Filter::And(clauses),
            fields,
            limit,
            offset,
            marker,
            sort,
        })
    }

    /// The value this query sorts a VM by.
    pub fn sort_key(&self, a: &VmAttrs<'_>) -> Option<String> {
        a.values(&self.sort.field).first().map(|c| c.to_string())
    }

    /// Orders two (sort value, uuid) keys in the query's order.
    pub fn compare(&self, a: &(Option<String>, &str), b: &(Option<String>, &str)) -> Ordering {
        let by_field = match (&a.0, &b.0) {
            (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) => p.partial_cmp(&q).unwrap_or(Ordering::Equal),
                _ => x.cmp(y),
            },
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let o = by_field.then_with(|| a.1.cmp(b.1));
        if self.sort.descending { o.reverse() } else { o }
    }
}

fn valid_alias(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// VMAPI's alias rule: `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`, at most 189 characters.
pub fn alias_ok(v: &str) -> bool {
    valid_alias(v) && v.len() <= 189
}

fn parse_timestamp(v: &str) -> Option<i64> {
    if let Ok(ms) = v.parse::<i64>() {
        return Some(ms);
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A number parameter within bounds, with VMAPI's message when out of range.
fn number(v: Option<&Value>, min: usize, max: Option<usize>) -> Result<Option<usize>, String> {
    let Some(v) = v else { return Ok(None) };
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let bounds = match max {
        Some(m) => format!("number must be >= {min} and <= {m}"),
        None => format!("number must be >= {min}"),
    };
    match n {
        Some(n) if n >= min as f64 && max.is_none_or(|m| n <= m as f64) => Ok(Some(n as usize)),
        _ => Err(format!("Not a valid number: {bounds}")),
    }
}

fn parse_sort(s: &str) -> Option<Sort> {
    let (field, descending) = match s.rsplit_once('.') {
        Some((f, o)) if o.eq_ignore_ascii_case("asc") => (f, false),
        Some((f, o)) if o.eq_ignore_ascii_case("desc") => (f, true),
        Some(_) => return None,
        None => (s, true),
    };
    if !SORTABLE.contains(&field) {
        return None;
    }
    let field = if field == "ram" {
        "max_physical_memory"
    } else {
        field
    };
    Some(Sort {
        field: field.to_string(),
        descending,
    })
}

fn parse_marker(
    m: &str,
    sort: &Sort,
    sort_given: bool,
) -> Result<(Option<String>, String), String> {
    let v: Value =
        serde_json::from_str(m).map_err(|_| "Could not parse marker as JSON".to_string())?;
    let Value::Object(obj) = v else {
        return Err("Marker must be an object".to_string());
    };
    let uuid = obj
        .get("uuid")
        .and_then(Value::as_str)
        .ok_or_else(|| "Marker must contain a uuid".to_string())?
        .to_string();
    fn sort_name(k: &str) -> &str {
        if k == "ram" { "max_physical_memory" } else { k }
    }
    for k in obj.keys() {
        if k != "uuid" && !(sort_given && sort_name(k) == sort.field) {
            return Err(format!("key \"{k}\" not in sort"));
        }
    }
    if sort.field == "uuid" {
        return Ok((Some(uuid.clone()), uuid));
    }
    let value = obj
        .iter()
        .find(|(k, _)| sort_name(k) == sort.field)
        .map(|(_, v)| v)
        .ok_or_else(|| format!("Marker must contain the sort key \"{}\"", sort.field))?;
    let value = match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    Ok((value, uuid))
}

/// moray rewrites `(ram` to `(max_physical_memory` in raw queries.
fn rewrite_ram(f: Filter) -> Filter {
    let attr = |a: String| {
        if a == "ram" {
            "max_physical_memory".to_string()
        } else {
            a
        }
    };
    match f {
        Filter::And(v) => Filter::And(v.into_iter().map(rewrite_ram).collect()),
        Filter::Or(v) => Filter::Or(v.into_iter().map(rewrite_ram).collect()),
        Filter::Not(b) => Filter::Not(Box::new(rewrite_ram(*b))),
        Filter::Equal(a, v) => Filter::Equal(attr(a), v),
        Filter::GreaterOrEqual(a, v) => Filter::GreaterOrEqual(attr(a), v),
        Filter::LessOrEqual(a, v) => Filter::LessOrEqual(attr(a), v),
        Filter::Present(a) => Filter::Present(attr(a)),
        Filter::Substring {
            attr: a,
            initial,
            any,
            last,
        } => Filter::Substring {
            attr: attr(a),
            initial,
            any,
            last,
        },
    }
}

/// A JSON predicate (`{"and": [{"eq": ["state", "running"]}, …]}`) as an LDAP filter.
fn predicate_filter(text: &str) -> Result<Filter, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|_| "Unable to parse predicate as JSON".to_string())?;
    if v.as_object().is_some_and(Map::is_empty) {
        return Err("Empty predicate".to_string());
    }
    pred(&v).map_err(|e| format!("Predicate syntax error: {e}"))
}

fn pred(v: &Value) -> Result<Filter, String> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or("expected an object with one key")?;
    let (op, arg) = obj.iter().next().ok_or("empty predicate")?;
    match op.as_str() {
        "and" | "or" => {
            let items = arg
                .as_array()
                .ok_or_else(|| format!("\"{op}\" needs an array"))?;
            let fs = items.iter().map(pred).collect::<Result<Vec<_>, _>>()?;
            Ok(if op == "and" {
                Filter::And(fs)
            } else {
                Filter::Or(fs)
            })
        }
        "eq" | "ne" | "le" | "ge" | "lt" | "gt" => {
            let pair = arg
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| format!("\"{op}\" needs [field, value]"))?;
            let field = pair[0].as_str().ok_or("field must be a string")?;
            let value = match &pair[1] {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => pair[1].to_string(),
                _ => return Err("value must be a string, number or boolean".into()),
            };
            let field = if field == "ram" {
                "max_physical_memory"
            } else {
                field
            };
            let eq = if let Some(tag) = field.strip_prefix("tag.") {
                Filter::Or(
                    tags::param_needles(tag, &value)
                        .into_iter()
                        .map(|n| Filter::Substring {
                            attr: "tags".into(),
                            initial: None,
                            any: vec![n],
                            last: None,
                        })
                        .collect(),
                )
            } else {
                Filter::Equal(field.into(), value.clone())
            };
            match op.as_str() {
                "eq" => Ok(eq),
                "ne" => Ok(Filter::Not(Box::new(eq))),
                "le" => Ok(Filter::LessOrEqual(field.into(), value)),
                "ge" => Ok(Filter::GreaterOrEqual(field.into(), value)),
                _ => Err(format!("\"{op}\" is not a valid LDAP operator")),
            }
        }
        other => Err(format!("unknown operator \"{other}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(v: Value) -> Result<VmQuery, ApiError> {
        VmQuery::parse(v.as_object().unwrap())
    }

    fn errors(e: ApiError) -> Vec<Value> {
        e.body.unwrap()["errors"].as_array().unwrap().clone()
    }

    #[test]
    fn unknown_keys_are_rejected_like_vmapi() {
        let e = q(json!({"role": "x"})).unwrap_err();
        assert_eq!(e.status.as_u16(), 409);
        assert_eq!(
            e.body.unwrap(),
            json!({"code": "ValidationFailed", "message": "Invalid Parameters",
                   "errors": [{"field": "role", "code": "Invalid", "message": "Invalid parameter"}]})
        );
        assert!(q(json!({"tag.smartdc_role": "binder", "internal_metadata.x": "y"})).is_ok());
    }

    #[test]
    fn state_limit_fields_and_uuids_are_validated() {
        let e = errors(q(json!({"state": "provisioning"})).unwrap_err());
        assert_eq!(
            e[0]["message"],
            "Must be one of: running, stopped, active, destroyed"
        );
        let e = errors(q(json!({"limit": "1001"})).unwrap_err());
        assert_eq!(e[0]["field"], "limit");
        assert!(q(json!({"limit": "0"})).is_err());
        assert!(q(json!({"limit": "abc"})).is_err());
        assert_eq!(q(json!({"limit": "1000"})).unwrap().limit, 1000);
        let e = errors(q(json!({"fields": "uuid,nics"})).unwrap_err());
        assert_eq!(e[0]["message"], "Invalid values: uuid,nics");
        assert!(q(json!({"fields": "uuid,alias,state,tags"})).is_ok());
        let e = errors(q(json!({"owner_uuid": "admin"})).unwrap_err());
        assert_eq!(e[0]["message"], "Invalid UUID");
        assert!(q(json!({"alias": "moray*"})).is_err());
        assert!(q(json!({"state": ["running", "stopped"]})).is_err());
    }

    #[test]
    fn malformed_query_and_predicate_are_validation_failures() {
        let e = errors(q(json!({"query": "(&(state=running)"})).unwrap_err());
        assert_eq!(e[0]["field"], "query");
        let e = errors(q(json!({"predicate": "{not json"})).unwrap_err());
        assert_eq!(e[0]["message"], "Unable to parse predicate as JSON");
        assert!(q(json!({"predicate": "{\"eq\": [\"state\", \"running\"]}"})).is_ok());
        assert!(q(json!({"predicate": "{\"xor\": []}"})).is_err());
    }

    #[test]
    fn sort_and_marker_rules() {
        let s = q(json!({"sort": "ram.asc"})).unwrap().sort;
        assert_eq!(
            s,
            Sort {
                field: "max_physical_memory".into(),
                descending: false
            }
        );
        assert!(q(json!({"sort": "nics"})).is_err());
        let m =
            q(json!({"marker": "{\"uuid\":\"3914df2e-0ae5-46da-9f07-7e77e0455e42\"}"})).unwrap();
        assert_eq!(m.marker.unwrap().1, "3914df2e-0ae5-46da-9f07-7e77e0455e42");
        assert!(q(json!({"marker": "{\"alias\":\"x\",\"uuid\":\"u\"}"})).is_err());
        assert!(q(json!({"marker": "{\"alias\":\"x\",\"uuid\":\"u\"}", "sort": "alias"})).is_ok());
        assert!(q(json!({"marker": "{\"uuid\":\"u\"}", "sort": "alias"})).is_err());
        assert!(q(json!({"marker": "nope"})).is_err());
        let e = q(json!({"marker": "{\"uuid\":\"u\"}", "offset": "5"})).unwrap_err();
        assert_eq!(errors(e)[0]["code"], "ConflictingParameters");
    }
}
