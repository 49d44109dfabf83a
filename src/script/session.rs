//! A session: one Rhai engine on its own thread, with one scope kept across
//! evaluations, so variables and functions defined by one input are there
//! for the next (the REPL, `-c` and `FILE.rhai` all use it).
//!
//! The engine has its own thread because host functions block on the tokio
//! runtime, and blocking on a runtime thread panics.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rhai::{AST, Dynamic, Engine, Scope};

use super::ctx::ScriptCtx;
use super::error_text;

enum Request {
    Eval {
        source: Option<String>,
        code: String,
        reply: mpsc::Sender<Result<Dynamic, String>>,
    },
    Set {
        name: String,
        value: Dynamic,
    },
}

pub struct Session {
    ctx: Arc<ScriptCtx>,
    requests: Option<mpsc::Sender<Request>>,
    names: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

/// Interrupts a session's evaluation from another thread (a signal handler).
#[derive(Clone)]
pub struct Interrupter(Arc<ScriptCtx>);

impl Interrupter {
    pub fn interrupt(&self) {
        self.0.trigger();
    }
}

/// Rhai builds, compares and drops nested values recursively, a frame per
/// level: with the default 2 MiB, `a = [a]` 3000 times (debug build) aborted
/// the process on a stack overflow. This is address space, committed only
/// as deep values use it.
const ENGINE_STACK: usize = 256 << 20;

const ENGINE_GONE: &str = "the script engine stopped unexpectedly; restart tritonsh";

impl Session {
    pub fn new(ctx: Arc<ScriptCtx>) -> Session {
        let (requests, inbox) = mpsc::channel();
        let names = Arc::new(Mutex::new(Vec::new()));
        let thread_ctx = ctx.clone();
        let thread_names = names.clone();
        let thread = std::thread::Builder::new()
            .name("rhai-engine".into())
            .stack_size(ENGINE_STACK)
            .spawn(move || serve(thread_ctx, inbox, thread_names))
            .ok();
        Session {
            ctx,
            requests: Some(requests),
            names,
            thread,
        }
    }

    pub fn ctx(&self) -> &Arc<ScriptCtx> {
        &self.ctx
    }

    /// Evaluates `code`; an error is one line with its line and column.
    pub fn eval(&self, code: &str) -> Result<Dynamic, String> {
        self.eval_source(None, code)
    }

    /// Evaluates the script `code` read from `source` (a file name, shown
    /// in errors).
    pub fn eval_source(&self, source: Option<&str>, code: &str) -> Result<Dynamic, String> {
        // Armed here, before the engine sees the code, so a Ctrl-C that
        // arrives at once is not lost.
        self.ctx.arm();
        let (reply, answer) = mpsc::channel();
        let request = Request::Eval {
            source: source.map(str::to_string),
            code: code.to_string(),
            reply,
        };
        self.send(request)?;
        answer.recv().map_err(|_| ENGINE_GONE.to_string())?
    }

    /// Defines (or replaces) the variable `name` for later evaluations.
    pub fn set_var(&self, name: &str, value: Dynamic) -> Result<(), String> {
        self.send(Request::Set {
            name: name.to_string(),
            value,
        })
    }

    /// Cancels the evaluation under way (Ctrl-C).
    pub fn interrupt(&self) {
        self.ctx.trigger();
    }

    /// A handle that can interrupt this session from another thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(self.ctx.clone())
    }

    /// Names for completion: functions (`help`, `vmapi::list`, functions the
    /// user defined) and variables in scope, sorted, without duplicates.
    pub fn names(&self) -> Vec<String> {
        self.names.lock().map(|n| n.clone()).unwrap_or_default()
    }

    fn send(&self, request: Request) -> Result<(), String> {
        self.requests
            .as_ref()
            .ok_or(ENGINE_GONE)?
            .send(request)
            .map_err(|_| ENGINE_GONE.to_string())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.ctx.trigger();
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(ctx: Arc<ScriptCtx>, inbox: mpsc::Receiver<Request>, names: Arc<Mutex<Vec<String>>>) {
    let engine = super::engine::build(ctx);
    let mut scope = Scope::new();
    // Only functions are kept in here: statements are cleared after each run.
    let mut functions = AST::empty();
    publish_names(&engine, &scope, &functions, &names);
    for request in inbox {
        match request {
            Request::Eval {
                source,
                code,
                reply,
            } => {
                let result = eval(
                    &engine,
                    &mut scope,
                    &mut functions,
                    source.as_deref(),
                    &code,
                );
                publish_names(&engine, &scope, &functions, &names);
                let _ = reply.send(result);
            }
            Request::Set { name, value } => {
                scope.set_or_push(name, value);
                publish_names(&engine, &scope, &functions, &names);
            }
        }
    }
}

fn eval(
    engine: &Engine,
    scope: &mut Scope,
    functions: &mut AST,
    source: Option<&str>,
    code: &str,
) -> Result<Dynamic, String> {
    let mut ast = engine
        .compile_with_scope(scope, code)
        .map_err(|e| error_text::parse_error(&e, source))?;
    if let Some(source) = source {
        ast.set_source(source);
    }
    let mut program = functions.merge(&ast);
    let result = engine.eval_ast_with_scope::<Dynamic>(scope, &program);
    program.clear_statements();
    *functions = program;
    result
        .map(Dynamic::flatten)
        .map_err(|e| error_text::eval_error(&e, source))
}

fn publish_names(engine: &Engine, scope: &Scope, functions: &AST, names: &Mutex<Vec<String>>) {
    let mut all: Vec<String> = engine
        .gen_fn_signatures(true)
        .into_iter()
        .filter_map(|sig| sig.split('(').next().map(str::to_string))
        .filter(|name| name.chars().next().is_some_and(|c| c.is_alphabetic()))
        .collect();
    all.extend(functions.iter_functions().map(|f| f.name.to_string()));
    all.extend(scope.iter_raw().map(|(name, _, _)| name.to_string()));
    all.sort();
    all.dedup();
    if let Ok(mut slot) = names.lock() {
        *slot = all;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dc::{Datacenter, Endpoints, MutationGate};
    use crate::script::ctx::OutputOptions;
    use crate::script::lazy_dc::LazyDatacenter;

    fn session() -> (tokio::runtime::Runtime, Session) {
        // Nothing listens there: these tests never reach a datacenter.
        session_at("http://127.0.0.1:9")
    }

    fn session_at(url: &str) -> (tokio::runtime::Runtime, Session) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let output = OutputOptions {
            json: false,
            color: false,
            width: 80,
        };
        let endpoints = Endpoints::all_at(url).unwrap_or_else(|e| panic!("endpoints: {e}"));
        let dc = LazyDatacenter::new(
            MutationGate::default(),
            crate::dc::identity::DatacenterId::lab(std::path::Path::new("/nowhere")),
            None,
            Box::new(move |gate| {
                Datacenter::new(endpoints.clone(), gate).map_err(|e| e.to_string())
            }),
        );
        let ctx = Arc::new(ScriptCtx::new(rt.handle().clone(), dc, output));
        (rt, Session::new(ctx))
    }

    #[test]
    fn scope_and_functions_persist_between_evaluations() {
        let (_rt, s) = session();
        assert_eq!(
            s.eval("let x = 40; fn two() { 2 }").map(|v| v.is_unit()),
            Ok(true)
        );
        assert_eq!(s.eval("x + two()").map(|v| v.as_int().ok()), Ok(Some(42)));
        let names = s.names();
        assert!(names.contains(&"x".to_string()), "{names:?}");
        assert!(names.contains(&"two".to_string()), "{names:?}");
        assert!(names.contains(&"help".to_string()), "{names:?}");
    }

    #[test]
    fn errors_are_one_line_with_position() {
        let (_rt, s) = session();
        let err = s
            .eval("let a = 1;\nlet b = a + nope;")
            .err()
            .unwrap_or_default();
        assert_eq!(err, "line 2, col 13: Variable not found: nope");
        let err = s.eval("let = ;").err().unwrap_or_default();
        assert!(err.starts_with("line 1, col 5: syntax error"), "{err}");
        let err = s
            .eval("fn f() { throw \"boom\" }\nf()")
            .err()
            .unwrap_or_default();
        assert_eq!(err, "line 2, col 1: boom (in f(), at line 1, col 10)");
    }

    #[test]
    fn interrupt_stops_a_pure_rhai_loop() {
        let (_rt, s) = session();
        let stopper = s.interrupter();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            stopper.interrupt();
        });
        let err = s.eval("loop { }").err().unwrap_or_default();
        assert!(err.ends_with("interrupted"), "{err}");
        let _ = t.join();
        // The next evaluation is not interrupted.
        assert_eq!(s.eval("1 + 1").map(|v| v.as_int().ok()), Ok(Some(2)));
    }

    #[test]
    fn host_errors_carry_the_api_message_and_position() {
        let (_rt, s) = session();
        let err = s
            .eval("let x = 1;\nvmapi::list()")
            .err()
            .unwrap_or_default();
        assert!(err.starts_with("line 2, col 8: VMAPI GET /vms"), "{err}");
        assert!(err.contains("127.0.0.1:9"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn help_lists_modules_and_documents_functions() {
        let (_rt, s) = session();
        let all = s.eval("help()").map(|v| v.to_string()).unwrap_or_default();
        for expected in ["VMAPI: VMs", "jobs::", "where(rows, keep)"] {
            assert!(all.contains(expected), "{expected} missing from:\n{all}");
        }
        assert!(all.lines().count() < 60, "help() is a screenful: {all}");
        let module = s
            .eval("help(\"vmapi\")")
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert!(module.contains("vmapi::list([filters])"), "{module}");
        let module = s
            .eval("help(\"sapi::\")")
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert!(module.contains("sapi::service(uuid_or_name)"), "{module}");
        let one = s
            .eval("help(\"vmapi::list\")")
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert!(one.contains("vmapi::list(filters: Map) -> Array"), "{one}");
        assert!(one.contains("tag.smartdc_role"), "{one}");
        let err = s.eval("help(\"vmapi::lst\")").err().unwrap_or_default();
        assert!(
            err.contains("no function named vmapi::lst (help() lists them)"),
            "{err}"
        );
        assert!(
            s.names().contains(&"vmapi::list".to_string())
                || s.names().contains(&"list".to_string())
        );
    }

    #[test]
    fn interrupt_reaches_a_call_waiting_on_the_network() {
        // Accepts connections (the kernel's backlog does) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = silent.local_addr().map(|a| a.port()).unwrap_or_default();
        let (_rt, s) = session_at(&format!("http://127.0.0.1:{port}"));
        let stopper = s.interrupter();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stopper.interrupt();
        });
        // try/catch cannot swallow an interrupt.
        let err = s
            .eval("try { vmapi::list() } catch (e) { \"caught\" }")
            .err()
            .unwrap_or_default();
        let _ = t.join();
        assert!(err.ends_with("interrupted"), "{err}");
        drop(silent);
    }

    #[test]
    fn set_var_defines_a_variable() {
        let (_rt, s) = session();
        let args: rhai::Array = vec!["a".into()];
        assert_eq!(s.set_var("ARGS", args.into()), Ok(()));
        assert_eq!(
            s.eval("ARGS[0]").map(|v| v.to_string()),
            Ok("a".to_string())
        );
    }
}
