//! `tritonsh health [-q] [--json]`: every core instance and service, as
//! `sdcadm check-health` reports them, with binder and the one-more-loss
//! verdict per service (see `dc::service_health`). Exits 1 when anything
//! is unhealthy, as sdcadm does.

use std::process::ExitCode;

use serde::Serialize;

use crate::connect::{ConnectOptions, connect};
use crate::dc::service_health::{HealthReport, InstanceHealth, ServiceHealth, Verdict, check};
use crate::render;
use crate::script::OutputOptions;

#[derive(clap::Args, Debug)]
pub struct HealthArgs {
    /// Only what is unhealthy (and nothing at all when all is well).
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// The datacenter of profile NAME (as `tritonsh --profile NAME health`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

pub fn run(args: HealthArgs, json: bool, connect_options: &ConnectOptions) -> ExitCode {
    let report = match gather(connect_options) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("tritonsh health: {e}");
            return ExitCode::from(2);
        }
    };
    let shown = if args.quiet {
        only_unhealthy(&report)
    } else {
        report.clone()
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
    } else {
        print!("{}", text(&shown));
    }
    if report.healthy {
        ExitCode::SUCCESS
    } else {
        let unhealthy = report
            .instances
            .iter()
            .any(|i| i.verdict == Verdict::Unhealthy);
        eprintln!(
            "tritonsh health: {}",
            if unhealthy {
                "some instances appear unhealthy"
            } else {
                "some instances could not be checked (the cause is said first)"
            }
        );
        ExitCode::from(1)
    }
}

fn gather(connect_options: &ConnectOptions) -> Result<HealthReport, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let output = OutputOptions {
        json: false,
        color: false,
        width: 80,
    };
    let (ctx, _) = connect(connect_options, rt.handle().clone(), output)?;
    let dc = ctx.dc.find(false)?;
    rt.block_on(check(&dc)).map_err(|e| e.to_string())
}

fn only_unhealthy(report: &HealthReport) -> HealthReport {
    HealthReport {
        healthy: report.healthy,
        causes: report.causes.clone(),
        services: report
            .services
            .iter()
            .filter(|s| s.healthy < s.total || s.unknown > 0)
            .cloned()
            .collect(),
        instances: report
            .instances
            .iter()
            .filter(|i| !i.healthy)
            .cloned()
            .collect(),
    }
}

/// The services, the instances, then each unhealthy instance's details in
/// sdcadm's `%8s: %s` form.
fn text(report: &HealthReport) -> String {
    let width = render::terminal_width();
    let color = render::color_wanted();
    let mut out = String::new();
    // The cause of every unknown, said once before anything it hides.
    for cause in &report.causes {
        out.push_str(&format!("{cause}\n"));
    }
    if !report.causes.is_empty() {
        out.push('\n');
    }
    if !report.services.is_empty() {
        let rows: Vec<ServiceRow> = report.services.iter().map(ServiceRow::from).collect();
        out.push_str(&table(&rows, width, color));
        out.push_str("\n\n");
    }
    if !report.instances.is_empty() {
        let rows: Vec<InstanceRow> = report.instances.iter().map(InstanceRow::from).collect();
        out.push_str(&table(&rows, width, color));
        out.push('\n');
    }
    for i in report.instances.iter().filter(|i| !i.problems.is_empty()) {
        out.push('\n');
        for (key, value) in [
            ("Instance", i.instance.as_str()),
            ("Service", &i.service),
            ("Hostname", &i.server),
            ("Alias", &i.alias),
        ] {
            out.push_str(&format!("{key:>8}: {value}\n"));
        }
        out.push_str(&format!("{:>8}: {}\n", "Error", i.problems.join("; ")));
    }
    out
}

/// A service's verdict in a few words; `--json` has the counts.
#[derive(Serialize)]
struct ServiceRow<'a> {
    service: &'a str,
    summary: &'a str,
    one_more_loss: &'a str,
}

impl<'a> From<&'a ServiceHealth> for ServiceRow<'a> {
    fn from(s: &'a ServiceHealth) -> ServiceRow<'a> {
        ServiceRow {
            service: &s.service,
            summary: &s.summary,
            one_more_loss: &s.one_more_loss,
        }
    }
}

/// The columns an operator scans; `--json` has every field.
#[derive(Serialize)]
struct InstanceRow<'a> {
    alias: &'a str,
    service: &'a str,
    server: &'a str,
    vm_state: &'a str,
    server_status: &'a str,
    binder: &'a str,
    ping: &'a str,
    health: Verdict,
}

impl<'a> From<&'a InstanceHealth> for InstanceRow<'a> {
    fn from(i: &'a InstanceHealth) -> InstanceRow<'a> {
        InstanceRow {
            alias: &i.alias,
            service: &i.service,
            server: &i.server,
            vm_state: &i.vm_state,
            server_status: &i.server_status,
            binder: &i.binder,
            ping: &i.ping,
            health: i.verdict,
        }
    }
}

fn table<T: Serialize>(rows: &[T], width: usize, color: bool) -> String {
    match rhai::serde::to_dynamic(rows) {
        Ok(value) => render::render(&value, width, color),
        Err(e) => format!("(cannot render: {e})"),
    }
}
