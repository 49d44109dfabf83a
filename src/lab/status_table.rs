//! `lab status` for people: the URLs, then one row per instance.

use std::fmt::Write;

use crate::api::Api;
use crate::lab::status::LabStatus;

/// One indented line per API: `  SAPI   http://…`.
pub fn api_lines(status: &LabStatus) -> String {
    let mut out = String::new();
    for api in Api::ALL {
        let _ = writeln!(out, "  {:<7}{}", api.name(), status.urls.get(api));
    }
    out
}

pub fn table(status: &LabStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "datacenter {}.{}",
        status.datacenter_name, status.dns_domain
    );
    out.push_str(&api_lines(status));
    if !status.zk.is_empty() {
        let _ = writeln!(out, "  ZK     {}", status.zk.join(","));
    }
    if let Some(dns) = &status.dns {
        let _ = writeln!(out, "  DNS    {dns}");
    }
    out.push('\n');
    let header = ["ALIAS", "SERVICE", "SERVER", "IP", "STATE", "ZK", "DNS"];
    let states: Vec<String> = status
        .instances
        .iter()
        .map(|i| match &i.fault {
            Some(fault) => format!("{} ({fault})", i.state),
            None => i.state.clone(),
        })
        .collect();
    let rows: Vec<[&str; 7]> = status
        .instances
        .iter()
        .zip(&states)
        .map(|(i, state)| {
            [
                i.alias.as_str(),
                i.service.as_str(),
                i.server.as_str(),
                i.ip.as_str(),
                state.as_str(),
                i.zk_mode.as_deref().unwrap_or(""),
                i.dns.as_deref().unwrap_or(""),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiUrls;
    use crate::lab::status::LabInstance;

    #[test]
    fn one_aligned_row_per_instance() {
        let status = LabStatus {
            urls: ApiUrls(
                [
                    (Api::Sapi, "http://127.9.0.1".into()),
                    (Api::Vmapi, "http://127.9.0.2".into()),
                    (Api::Cnapi, "http://127.9.0.3".into()),
                ]
                .into(),
            ),
            datacenter_name: "coal".into(),
            dns_domain: "joyent.us".into(),
            zk: vec![],
            dns: None,
            instances: vec![LabInstance {
                alias: "binder0".into(),
                service: "binder".into(),
                server: "headnode".into(),
                ip: "127.9.0.4".into(),
                state: "running".into(),
                zk_mode: Some("standalone".into()),
                dns: Some("127.9.0.4:53".into()),
                fault: None,
            }],
        };
        let text = table(&status);
        assert!(text.contains("ALIAS    SERVICE  SERVER    IP         STATE    ZK          DNS"));
        assert!(
            text.contains(
                "binder0  binder   headnode  127.9.0.4  running  standalone  127.9.0.4:53"
            )
        );
    }
}
