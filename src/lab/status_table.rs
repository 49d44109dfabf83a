//! `lab status` for people: the URLs, then one row per instance.

use std::fmt::Write;

use crate::lab::status::LabStatus;

pub fn table(status: &LabStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "datacenter {}.{}",
        status.datacenter_name, status.dns_domain
    );
    let _ = writeln!(out, "  SAPI   {}", status.sapi_url);
    let _ = writeln!(out, "  VMAPI  {}", status.vmapi_url);
    let _ = writeln!(out, "  CNAPI  {}", status.cnapi_url);
    if !status.zk.is_empty() {
        let _ = writeln!(out, "  ZK     {}", status.zk.join(","));
    }
    if let Some(dns) = &status.dns {
        let _ = writeln!(out, "  DNS    {dns}");
    }
    out.push('\n');
    let header = ["ALIAS", "SERVICE", "SERVER", "IP", "STATE", "ZK", "DNS"];
    let rows: Vec<[&str; 7]> = status
        .instances
        .iter()
        .map(|i| {
            [
                i.alias.as_str(),
                i.service.as_str(),
                i.server.as_str(),
                i.ip.as_str(),
                i.state.as_str(),
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
    use crate::lab::status::LabInstance;

    #[test]
    fn one_aligned_row_per_instance() {
        let status = LabStatus {
            sapi_url: "http://127.9.0.1".into(),
            vmapi_url: "http://127.9.0.2".into(),
            cnapi_url: "http://127.9.0.3".into(),
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
