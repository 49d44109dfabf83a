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
    Array, Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, INT, ImmutableString, Map,
    Module, NativeCallContext,
};

use super::record::Record;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Record>("map");
    // In a module of their own: `help()` lists the engine's own functions,
    // and these are the map functions scripts know already.
    let mut module = Module::new();
    let m = &mut module;
    m.set_indexer_get_fn(|r: &mut Record, key: ImmutableString| -> Result<Dynamic> {
        Ok(r.get(&key))
    });
    m.set_indexer_set_fn(
        |r: &mut Record, key: ImmutableString, value: Dynamic| -> Result<()> {
            r.set(&key, value);
            Ok(())
        },
    );
    for name in ["to_string", "to_debug"] {
        FuncRegistration::new(name).set_into_module(
            m,
            move |cx: NativeCallContext, r: &mut Record| {
                cx.call_native_fn::<ImmutableString>(name, (Dynamic::from_map(r.to_map()),))
            },
        );
    }
    FuncRegistration::new("keys").set_into_module(m, |r: &mut Record| -> Array {
        r.to_map()
            .into_keys()
            .map(|k| Dynamic::from(ImmutableString::from(k.as_str())))
            .collect()
    });
    FuncRegistration::new("values").set_into_module(m, |r: &mut Record| -> Array {
        r.to_map().into_values().collect()
    });
    FuncRegistration::new("len").set_into_module(m, |r: &mut Record| r.to_map().len() as INT);
    FuncRegistration::new("is_empty").set_into_module(m, |r: &mut Record| r.to_map().is_empty());
    // `"alias" in vm` calls `contains`.
    FuncRegistration::new("contains").set_into_module(m, |r: &mut Record, key: ImmutableString| {
        r.to_map().contains_key(key.as_str())
    });
    FuncRegistration::new("remove")
        .set_into_module(m, |r: &mut Record, key: ImmutableString| r.remove(&key));
    register_comparisons(m);
    register_map_functions(m);
    engine.register_global_module(module.into());
}

/// Rhai's other map functions, asked of the decoded map: those that
/// change it (`set`, `mixin`, `+=`, `fill_with`, `clear`, `retain`,
/// `drain`) leave the record that map.
fn register_map_functions(m: &mut Module) {
    for name in ["mixin", "+=", "fill_with"] {
        FuncRegistration::new(name).set_into_module(
            m,
            move |cx: NativeCallContext, r: &mut Record, other: Map| {
                change(&cx, r, name, vec![Dynamic::from_map(other)]).map(|_| ())
            },
        );
    }
    FuncRegistration::new("set").set_into_module(
        m,
        |cx: NativeCallContext, r: &mut Record, key: ImmutableString, value: Dynamic| {
            change(&cx, r, "set", vec![key.into(), value]).map(|_| ())
        },
    );
    FuncRegistration::new("clear").set_into_module(m, |cx: NativeCallContext, r: &mut Record| {
        change(&cx, r, "clear", Vec::new()).map(|_| ())
    });
    for name in ["retain", "drain"] {
        FuncRegistration::new(name).set_into_module(
            m,
            move |cx: NativeCallContext, r: &mut Record, keep: FnPtr| {
                change(&cx, r, name, vec![Dynamic::from(keep)])
            },
        );
    }
    FuncRegistration::new("filter").set_into_module(
        m,
        |cx: NativeCallContext, r: &mut Record, keep: FnPtr| {
            cx.call_native_fn::<Dynamic>("filter", (Dynamic::from_map(r.to_map()), keep))
        },
    );
    FuncRegistration::new("+").set_into_module(
        m,
        |cx: NativeCallContext, r: &mut Record, other: Map| {
            cx.call_native_fn::<Dynamic>("+", (Dynamic::from_map(r.to_map()), other))
        },
    );
    FuncRegistration::new("+").set_into_module(
        m,
        |cx: NativeCallContext, map: &mut Map, r: Record| {
            cx.call_native_fn::<Dynamic>("+", (map.clone(), Dynamic::from_map(r.to_map())))
        },
    );
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
fn register_comparisons(m: &mut Module) {
    for op in ["==", "!="] {
        FuncRegistration::new(op).set_into_module(
            m,
            move |cx: NativeCallContext, a: &mut Record, b: Record| {
                compare(&cx, op, a.to_map(), b.to_map())
            },
        );
        FuncRegistration::new(op)
            .set_into_module(m, move |cx: NativeCallContext, a: &mut Record, b: Map| {
                compare(&cx, op, a.to_map(), b)
            });
        FuncRegistration::new(op).set_into_module(
            m,
            move |cx: NativeCallContext, a: &mut Map, b: Record| {
                compare(&cx, op, a.clone(), b.to_map())
            },
        );
    }
}

fn compare(cx: &NativeCallContext, op: &str, a: Map, b: Map) -> Result<bool> {
    cx.call_native_fn::<bool>(op, (Dynamic::from_map(a), Dynamic::from_map(b)))
}
