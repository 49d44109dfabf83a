//! Listed records stay JSON until a script reads them (issue 10 §1), yet
//! behave as the maps they were: fields, nested paths, writes, `type_of`,
//! comparison, printing, the helpers, tables and `--json`.

mod dc_support;

use std::path::PathBuf;
use std::process::Output;

use dc_support::{Answer, Canned, vm_json};

const VMS: usize = 3;
const INSTANCES: &str = r#"[{"uuid":"i1","service_uuid":"s1","params":{"alias":"moray0","server_uuid":"cn1"},"metadata":{"N":1}}]"#;
/// `status` left out: CNAPI's own default ("unknown") fills it.
const SERVERS: &str =
    r#"[{"uuid":"c1","hostname":"cn1","setup":true,"headnode":false,"sysinfo":{"Boot Time":"1"}}]"#;

/// A VMAPI (and SAPI, CNAPI) answering every request with three VMs, and a
/// private home whose profile points at it.
struct Setup {
    _rt: tokio::runtime::Runtime,
    _server: Canned,
    home: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
        let body = format!("[{}]", (0..VMS).map(vm_json).collect::<Vec<_>>().join(","));
        let server = rt.block_on(Canned::start(move |seen| match seen.path() {
            "/instances" => Answer::json(200, INSTANCES),
            "/servers" => Answer::json(200, SERVERS),
            _ => Answer::json(200, body.clone()),
        }));
        let home =
            std::env::temp_dir().join(format!("tritonsh-lazy-{name}-{}", std::process::id()));
        let config = home.join("config/tritonsh");
        std::fs::create_dir_all(&config).unwrap_or_else(|e| panic!("{e}"));
        let url = server.url();
        std::fs::write(
            config.join("config.toml"),
            format!(
                "default = \"c\"\n[profiles.c]\nsapi_url = \"{url}\"\nvmapi_url = \"{url}\"\ncnapi_url = \"{url}\"\n"
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Setup {
            _rt: rt,
            _server: server,
            home,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_tritonsh"))
            .args(args)
            .env("XDG_CONFIG_HOME", self.home.join("config"))
            .env("XDG_STATE_HOME", self.home.join("state"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("NO_COLOR", "1")
            .env("COLUMNS", "200")
            .env_remove("TRITONSH_LAB")
            .env_remove("TRITONSH_PROFILE")
            .output()
            .unwrap_or_else(|e| panic!("cannot run tritonsh: {e}"))
    }

    /// stdout of a script that must succeed.
    fn eval(&self, script: &str) -> String {
        let out = self.run(&["-c", script]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{script}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[test]
fn fields_nested_paths_and_type_of_read_as_on_a_map() {
    let s = Setup::new("read");
    let out = s.eval(
        r#"let vm = vmapi::list()[1];
        [type_of(vm), vm.alias, vm["alias"], vm.nics[0].ip, vm.tags.smartdc_role,
         vm.max_physical_memory + 1, vm.missing, "alias" in vm, "nope" in vm,
         vm.keys().len(), vm.len(), vm?.nics?[0]?.primary, vmapi::list()[2]["nics"][0]["ip"]]
         .reduce(|a, b| `${a}|${b}`, "")"#,
    );
    assert_eq!(
        out.trim(),
        "|map|vm1|vm1|10.99.99.1|moray|1025||true|false|13|13|true|10.99.99.2"
    );
}

#[test]
fn writes_change_the_record_and_nothing_else() {
    let s = Setup::new("write");
    let out = s.eval(
        r#"let vms = vmapi::list();
        let vm = vms[0];
        vm.alias = "x";
        vm["quota"] = 20;
        vm.tags.smartdc_role = "binder";
        vm.nics[0].ip = "10.0.0.9";
        vms[1].alias = "y";
        let removed = vm.remove("brand");
        [vm.alias, vm.quota, vm.tags.smartdc_role, vm.tags.smartdc_type, vm.nics[0].ip,
         vm.state, vms[0].alias, vms[0].tags.smartdc_role, vms[1].alias, removed, vm.brand,
         type_of(vm)]
         .reduce(|a, b| `${a}|${b}`, "")"#,
    );
    assert_eq!(
        out.trim(),
        "|x|20|binder|core|10.0.0.9|running|vm0|moray|y|joyent-minimal||map"
    );
}

#[test]
fn rhai_map_functions_work_on_records() {
    let s = Setup::new("map-fns");
    let out = s.eval(
        r#"let v = vmapi::list();
        let a = v[0]; a.mixin(#{x: 1});
        let b = v[0]; b += #{y: 2};
        let c = v[0]; c.set("z", 3);
        let d = v[0]; d.clear();
        let e = v[0]; e.retain(|k, v| k == "alias");
        let f = v[0]; let drained = f.drain(|k, v| k != "alias");
        let g = v[0]; g.fill_with(#{alias: "no", fresh: 4});
        [a.x, b.y, c.z, d.len(), e.keys(), drained.len(), f.keys(), g.alias, g.fresh,
         (v[0] + #{w: 5}).w, (#{w: 5} + v[0]).alias, v[0].filter(|k, v| k == "state").keys(),
         v[0].alias, type_of(a)]
         .reduce(|a, b| `${a}|${b}`, "")"#,
    );
    assert_eq!(
        out.trim(),
        r#"|1|2|3|0|["alias"]|12|["alias"]|vm0|4|5|vm0|["state"]|vm0|map"#
    );
    // As on a map: an index must be a string.
    let out = s.run(&["-c", "vmapi::list()[0][1]"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("map"), "{err}");
}

#[test]
fn records_compare_and_print_as_the_maps_they_were() {
    let s = Setup::new("compare");
    let out = s.eval(
        r#"let vms = vmapi::list();
        let copy = #{};
        for k in vms[0].keys() { copy[k] = vms[0][k]; }
        [vms[0] == vmapi::list()[0], vms[0] == vms[1], vms[0] != vms[1], vms[0] == copy,
         copy == vms[0], copy != vms[0], `${vms[0]}` == `${copy}`,
         vms[0].to_string() == copy.to_string(), vms[0].to_debug() == copy.to_debug()]
         .reduce(|a, b| `${a}|${b}`, "")"#,
    );
    assert_eq!(
        out.trim(),
        "|true|false|true|true|true|false|true|true|true"
    );
    let printed = s.eval("print(vmapi::list()[0]); debug(vmapi::list()[0].alias); ()");
    assert!(printed.starts_with("#{\"alias\": \"vm0\""), "{printed}");
    // Inside arrays and maps, as Rhai prints them.
    let out = s.eval(
        r#"let vms = vmapi::list(); let maps = vms.map(|v| { let m = #{}; for k in v.keys() { m[k] = v[k]; } m });
        [`${vms}` == `${maps}`, `${#{a: vms[0]}}` == `${#{a: maps[0]}}`]"#,
    );
    assert_eq!(
        out.split_whitespace().collect::<String>(),
        "truetrue",
        "{out}"
    );
    // A changed record compares by its new value.
    let out = s.eval("let a = vmapi::list()[0]; let b = a; b.alias = \"z\"; [a == b, a.alias]");
    assert!(out.contains("false") && out.contains("vm0"), "{out}");
}

#[test]
fn helpers_tables_and_json_work_on_records() {
    let s = Setup::new("helpers");
    let out = s.eval(
        r#"let vms = vmapi::list();
        [vms.where("tags.smartdc_role", "moray").len(), vms.where(|v| v.alias == "vm2").len(),
         vms.sort_by("alias")[0].alias, vms.get("nics.0.ip")[2], vms[1].get("nics.0.ip"),
         vms.select(["alias", "nics.0.ip"])[1]["nics.0.ip"],
         vms[0].select(["state"]).state, vms.count(|v| v.quota == 10)]
         .reduce(|a, b| `${a}|${b}`, "")"#,
    );
    assert_eq!(
        out.trim(),
        "|3|1|vm0|10.99.99.2|10.99.99.1|10.99.99.1|running|3"
    );
    // `to_json` writes the record as VMAPI sent it.
    assert_eq!(s.eval("to_json(vmapi::list()[0])").trim(), vm_json(0));
    assert_eq!(
        s.eval("vmapi::list()[0].to_json()").trim(),
        vm_json(0),
        "method style"
    );
    let all: serde_json::Value =
        serde_json::from_str(&s.eval("to_json(vmapi::list())")).unwrap_or_default();
    let expected: serde_json::Value = serde_json::from_str(&format!(
        "[{}]",
        (0..VMS).map(vm_json).collect::<Vec<_>>().join(",")
    ))
    .unwrap_or_default();
    assert_eq!(all, expected);
    let out = s.run(&["--json", "-c", "vmapi::list()"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(listed, expected, "--json");
    // A changed record is written with its change.
    let changed: serde_json::Value =
        serde_json::from_str(&s.eval("let vm = vmapi::list()[0]; vm.alias = \"x\"; to_json(vm)"))
            .unwrap_or_default();
    assert_eq!(changed["alias"], "x");
    assert_eq!(changed["nics"][0]["ip"], "10.99.99.0");
    // Tables show records as they show maps.
    let table = s.eval("vmapi::list()");
    assert!(table.lines().count() > VMS, "{table}");
    assert!(table.contains("vm2") && table.contains("alias"), "{table}");
    let record = s.eval("vmapi::list()[0]");
    assert!(record.contains("max_physical_memory"), "{record}");
}

#[test]
fn a_record_changed_into_a_function_is_refused_as_json() {
    let s = Setup::new("not-data");
    let out = s.run(&["-c", "let vm = vmapi::list()[0]; vm.f = || 1; to_json(vm)"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("to_json: the value.f is a Fn, which has no JSON form"),
        "{err}"
    );
}

#[test]
fn sapi_and_cnapi_lists_are_records_too() {
    let s = Setup::new("sapi-cnapi");
    let out = s.eval(
        r#"let i = sapi::instances()[0]; let c = cnapi::servers()[0];
        [type_of(i), i.params.alias, i.metadata.N + 1, i.params["server_uuid"], type_of(c),
         c.status, c.sysinfo["Boot Time"], c.setup, cnapi::servers().where(|s| s.setup).len()]
         .reduce(|a, b| `${a}|${b}`, "")"#,
    );
    assert_eq!(out.trim(), "|map|moray0|2|cn1|map|unknown|1|true|1");
    let json: serde_json::Value =
        serde_json::from_str(&s.eval("to_json(cnapi::servers()[0])")).unwrap_or_default();
    assert_eq!(
        json["status"], "unknown",
        "the typed record's defaults are kept"
    );
}
