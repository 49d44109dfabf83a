//! Global helpers on arrays and maps, so results can be filtered and shaped
//! the way nushell pipelines do it: `vmapi::list().where(|v| v.state ==
//! "running").select(["alias", "server_uuid"]).sort_by("alias")`.

use std::cmp::Ordering;

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, INT, ImmutableString, Map,
    Module, NativeCallContext,
};

use super::convert::not_data;
use super::record::Record;
use super::record_value::Json;
use super::register::func;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

pub fn register(engine: &mut Engine) {
    func("where", &["rows: Array", "keep: FnPtr"], "Array", WHERE_DOC).register_into_engine(
        engine,
        |ctx: NativeCallContext, rows: Array, keep: FnPtr| filter(&ctx, rows, &keep),
    );
    func(
        "where",
        &["rows: Array", "path: String", "value: ?"],
        "Array",
        WHERE_EQ_DOC,
    )
    .register_into_engine(
        engine,
        |rows: Array, path: ImmutableString, value: Dynamic| {
            rows.into_iter()
                .filter(|row| same(&get_path(row, &path), &value))
                .collect::<Array>()
        },
    );
    func(
        "select",
        &["rows: Array", "paths: Array"],
        "Array",
        SELECT_DOC,
    )
    .register_into_engine(engine, |rows: Array, paths: Array| -> Result<Array> {
        let paths = path_list(&paths)?;
        Ok(rows
            .iter()
            .map(|row| Dynamic::from(pick(row, &paths)))
            .collect())
    });
    func(
        "select",
        &["record: Map", "paths: Array"],
        "Map",
        SELECT_DOC,
    )
    .register_into_engine(engine, |record: Map, paths: Array| -> Result<Map> {
        Ok(pick(&Dynamic::from(record), &path_list(&paths)?))
    });
    func(
        "sort_by",
        &["rows: Array", "path: String"],
        "Array",
        SORT_DOC,
    )
    .register_into_engine(engine, |mut rows: Array, path: ImmutableString| {
        rows.sort_by(|a, b| compare(&get_path(a, &path), &get_path(b, &path)));
        rows
    });
    func("first", &["rows: Array"], "?", FIRST_DOC).register_into_engine(engine, |rows: Array| {
        rows.into_iter().next().unwrap_or(Dynamic::UNIT)
    });
    func("count", &["rows: Array"], "i64", COUNT_DOC)
        .register_into_engine(engine, |rows: Array| rows.len() as INT);
    func(
        "count",
        &["rows: Array", "keep: FnPtr"],
        "i64",
        COUNT_IF_DOC,
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, rows: Array, keep: FnPtr| -> Result<INT> {
            Ok(filter(&ctx, rows, &keep)?.len() as INT)
        },
    );
    // The same for lazy records (maps to scripts), in a module `help()`
    // does not list: it shows the map versions once.
    let mut records = Module::new();
    FuncRegistration::new("select").set_into_module(
        &mut records,
        |record: Record, paths: Array| -> Result<Map> {
            Ok(pick(&Dynamic::from(record), &path_list(&paths)?))
        },
    );
    FuncRegistration::new("get").set_into_module(
        &mut records,
        |record: Record, path: ImmutableString| -> Result<Dynamic> {
            Ok(get_path(&Dynamic::from(record), &path))
        },
    );
    FuncRegistration::new("to_json")
        .set_into_module(&mut records, |v: Record| to_json(&Dynamic::from(v)));
    engine.register_global_module(records.into());
    func("get", &["record: Map", "path: String"], "?", GET_DOC)
        .register_into_engine(engine, |record: Map, path: ImmutableString| {
            get_path(&Dynamic::from(record), &path)
        });
    func(
        "get",
        &["rows: Array", "path: String"],
        "Array",
        GET_ALL_DOC,
    )
    .register_into_engine(engine, |rows: Array, path: ImmutableString| {
        rows.iter()
            .map(|row| get_path(row, &path))
            .collect::<Array>()
    });
    // Rhai's own `to_json` covers maps only; ours takes any value, and the
    // typed overloads win over Rhai's because the global namespace is
    // searched first.
    func("to_json", &["value: Map"], "String", TO_JSON_DOC)
        .register_into_engine(engine, |v: Map| to_json(&Dynamic::from(v)));
    func("to_json", &["value: Array"], "String", TO_JSON_DOC)
        .register_into_engine(engine, |v: Array| to_json(&Dynamic::from(v)));
    func("to_json", &["value: ?"], "String", TO_JSON_DOC)
        .register_into_engine(engine, |v: Dynamic| to_json(&v));
}

const WHERE_DOC: &str = "The rows for which `keep(row)` returns true.\n\
Example: vmapi::list().where(|vm| vm.state != \"running\")";
const WHERE_EQ_DOC: &str = "The rows whose field at `path` equals `value`.\n\
Example: vmapi::list().where(\"tags.smartdc_role\", \"binder\")";
const SELECT_DOC: &str = "Keeps only the fields named in `paths` (dotted paths reach inside).\n\
Example: cnapi::servers().select([\"hostname\", \"status\", \"sysinfo.Boot Time\"])";
const SORT_DOC: &str = "The rows sorted by the field at `path` (missing values first).\n\
Example: vmapi::list().sort_by(\"alias\")";
const FIRST_DOC: &str = "The first row, or () when there are none.";
const COUNT_DOC: &str = "The number of rows.";
const COUNT_IF_DOC: &str = "The number of rows for which `keep(row)` returns true.\n\
Example: vmapi::list().count(|vm| vm.state == \"running\")";
const GET_DOC: &str = "The value at a dotted path (\"params.alias\"), or () when absent.\n\
A key that itself contains dots (\"tag.smartdc_role\") is found too.";
const GET_ALL_DOC: &str = "The value at a dotted path in every row.\n\
Example: vmapi::list().get(\"alias\")";
const TO_JSON_DOC: &str = "The value as one line of JSON.";

fn filter(ctx: &NativeCallContext, rows: Array, keep: &FnPtr) -> Result<Array> {
    let mut kept = Array::new();
    for row in rows {
        let verdict: Dynamic = keep.call_within_context(ctx, (row.clone(),))?;
        match verdict.as_bool() {
            Ok(true) => kept.push(row),
            Ok(false) => {}
            Err(found) => {
                // `where` and `count` share this loop: name the one called.
                return Err(format!(
                    "{}: the function must return true or false, not {found}",
                    ctx.fn_name()
                )
                .into());
            }
        }
    }
    Ok(kept)
}

fn path_list(paths: &Array) -> Result<Vec<String>> {
    paths
        .iter()
        .map(|p| {
            p.read_lock::<ImmutableString>()
                .map(|s| s.to_string())
                .ok_or_else(|| {
                    format!("select: field names must be strings, not {}", p.type_name()).into()
                })
        })
        .collect()
}

fn pick(row: &Dynamic, paths: &[String]) -> Map {
    paths
        .iter()
        .map(|p| (p.as_str().into(), get_path(row, p)))
        .collect()
}

/// The value at `path` in `value`: a key equal to the whole path first
/// (VMAPI filters are keys like `tag.smartdc_role`), then one step per
/// dot, through maps and array indexes.
pub fn get_path(value: &Dynamic, path: &str) -> Dynamic {
    if let Some(map) = value.read_lock::<Map>()
        && let Some(v) = map.get(path)
    {
        return v.clone();
    }
    if let Some(record) = value.read_lock::<Record>() {
        let whole = record.get(path);
        if !whole.is_unit() {
            return whole;
        }
    }
    let mut current = value.clone();
    for part in path.split('.') {
        let next = if let Some(record) = current.read_lock::<Record>() {
            Some(record.get(part))
        } else if let Some(map) = current.read_lock::<Map>() {
            map.get(part).cloned()
        } else if let Some(array) = current.read_lock::<Array>() {
            part.parse::<usize>()
                .ok()
                .and_then(|i| array.get(i).cloned())
        } else {
            None
        };
        match next {
            Some(v) => current = v,
            None => return Dynamic::UNIT,
        }
    }
    current
}

fn same(a: &Dynamic, b: &Dynamic) -> bool {
    compare(a, b) == Ordering::Equal && a.type_name() == b.type_name()
}

/// A total order for sorting rows: () first, then numbers, booleans,
/// strings, and anything else by its text.
fn compare(a: &Dynamic, b: &Dynamic) -> Ordering {
    fn class(v: &Dynamic) -> u8 {
        if v.is_unit() {
            0
        } else if v.is_int() || v.is_float() {
            1
        } else if v.is_bool() {
            2
        } else if v.is_string() {
            3
        } else {
            4
        }
    }
    match (class(a), class(b)) {
        (1, 1) => number(a).total_cmp(&number(b)),
        (2, 2) => a.as_bool().ok().cmp(&b.as_bool().ok()),
        (ca, cb) if ca != cb => ca.cmp(&cb),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn number(v: &Dynamic) -> f64 {
    v.as_int()
        .map(|i| i as f64)
        .or_else(|_| v.as_float())
        .unwrap_or(f64::NAN)
}

fn to_json(value: &Dynamic) -> Result<String> {
    if let Some(what) = not_data(value, "the value") {
        return Err(format!("to_json: {what}").into());
    }
    let json = Json {
        value,
        reindent: false,
    };
    serde_json::to_string(&json).map_err(|e| format!("to_json: {e}").into())
}
