//! What scripts do with a [`Record`]: everything they do with a map.
//!
//! `type_of(vm)` is "map", so scripts and error messages see what they saw
//! before records were lazy. Property access (`vm.alias`) falls back to the
//! indexer in Rhai, so one getter and one setter cover `vm.alias`,
//! `vm["alias"]` and writes through nested paths (`vm.tags.role = "x"`
//! reads `tags`, changes it, and writes it back). The rest decode the
//! record and ask Rhai's own map functions, so printing, comparing and
//! `keys()` answer exactly as for a map.

use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, NativeCallContext};

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
