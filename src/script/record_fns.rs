//! What scripts do with a [`Record`]: everything they do with a map.
//!
//! `type_of(vm)` is "map", so scripts and error messages see what they saw
//! before records were lazy. Property access (`vm.alias`) falls back to the
//! indexer in Rhai, so one getter and one setter cover `vm.alias`,
//! `vm["alias"]` and writes through nested paths (`vm.tags.role = "x"`
//! reads `tags`, changes it, and writes it back). The rest decode the
//! record and ask Rhai's own map functions, so printing, comparing and
//! `keys()` answer exactly as for a map.

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FnPtr, INT, ImmutableString, Map, NativeCallContext,
};

use super::record::Record;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Record>("map");
    engine.register_indexer_get(|r: &mut Record, key: ImmutableString| r.get(&key));
    engine.register_indexer_set(|r: &mut Record, key: ImmutableString, value: Dynamic| {
        r.set(&key, value);
    });
    for name in ["to_string", "to_debug"] {
        engine.register_fn(name, move |cx: NativeCallContext, r: &mut Record| {
            cx.call_native_fn::<ImmutableString>(name, (Dynamic::from_map(r.to_map()),))
        });
    }
    engine.register_fn("keys", |r: &mut Record| -> Array {
        r.to_map()
            .into_keys()
            .map(|k| Dynamic::from(ImmutableString::from(k.as_str())))
            .collect()
    });
    engine.register_fn("values", |r: &mut Record| -> Array {
        r.to_map().into_values().collect()
    });
    engine.register_fn("len", |r: &mut Record| r.to_map().len() as INT);
    engine.register_fn("is_empty", |r: &mut Record| r.to_map().is_empty());
    // `"alias" in vm` calls `contains`.
    engine.register_fn("contains", |r: &mut Record, key: ImmutableString| {
        r.to_map().contains_key(key.as_str())
    });
    engine.register_fn("remove", |r: &mut Record, key: ImmutableString| {
        r.remove(&key)
    });
    register_comparisons(engine);
    register_map_functions(engine);
}

/// Rhai's other map functions, asked of the decoded map: those that
/// change it (`set`, `mixin`, `+=`, `fill_with`, `clear`, `retain`,
/// `drain`) leave the record that map.
fn register_map_functions(engine: &mut Engine) {
    for name in ["mixin", "+=", "fill_with"] {
        engine.register_fn(
            name,
            move |cx: NativeCallContext, r: &mut Record, other: Map| {
                change(&cx, r, name, vec![Dynamic::from_map(other)]).map(|_| ())
            },
        );
    }
    engine.register_fn(
        "set",
        |cx: NativeCallContext, r: &mut Record, key: ImmutableString, value: Dynamic| {
            change(&cx, r, "set", vec![key.into(), value]).map(|_| ())
        },
    );
    engine.register_fn("clear", |cx: NativeCallContext, r: &mut Record| {
        change(&cx, r, "clear", Vec::new()).map(|_| ())
    });
    for name in ["retain", "drain"] {
        engine.register_fn(
            name,
            move |cx: NativeCallContext, r: &mut Record, keep: FnPtr| {
                change(&cx, r, name, vec![Dynamic::from(keep)])
            },
        );
    }
    engine.register_fn(
        "filter",
        |cx: NativeCallContext, r: &mut Record, keep: FnPtr| {
            cx.call_native_fn::<Dynamic>("filter", (Dynamic::from_map(r.to_map()), keep))
        },
    );
    engine.register_fn("+", |cx: NativeCallContext, r: &mut Record, other: Map| {
        cx.call_native_fn::<Dynamic>("+", (Dynamic::from_map(r.to_map()), other))
    });
    engine.register_fn("+", |cx: NativeCallContext, map: &mut Map, r: Record| {
        cx.call_native_fn::<Dynamic>("+", (map.clone(), Dynamic::from_map(r.to_map())))
    });
}

/// Calls Rhai's map function `name` on the record's map, which the record
/// then becomes; the function's own result is returned.
fn change(
    cx: &NativeCallContext,
    r: &mut Record,
    name: &str,
    mut args: Vec<Dynamic>,
) -> Result<Dynamic> {
    let mut map = Dynamic::from_map(r.to_map());
    let mut all: Vec<&mut Dynamic> = std::iter::once(&mut map).chain(args.iter_mut()).collect();
    let out = cx.call_native_fn_raw(name, true, &mut all)?;
    if let Some(changed) = map.try_cast::<Map>() {
        r.replace(changed);
    }
    Ok(out)
}

/// `==` and `!=` between records and maps, in either order.
fn register_comparisons(engine: &mut Engine) {
    for op in ["==", "!="] {
        engine.register_fn(
            op,
            move |cx: NativeCallContext, a: &mut Record, b: Record| {
                compare(&cx, op, a.to_map(), b.to_map())
            },
        );
        engine.register_fn(op, move |cx: NativeCallContext, a: &mut Record, b: Map| {
            compare(&cx, op, a.to_map(), b)
        });
        engine.register_fn(op, move |cx: NativeCallContext, a: &mut Map, b: Record| {
            compare(&cx, op, a.clone(), b.to_map())
        });
    }
}

fn compare(cx: &NativeCallContext, op: &str, a: Map, b: Map) -> Result<bool> {
    cx.call_native_fn::<bool>(op, (Dynamic::from_map(a), Dynamic::from_map(b)))
}
