//! Secrets kept out of what is written for others to read: run transcripts
//! and `-v` logs. A transcript exists to be sent to support, and SAPI
//! metadata carries the datacenter's secrets (UFDS passwords, service
//! credentials, private keys).
//!
//! Three rules:
//! - by key: a value whose key looks secret (`*_PW`, `*PASSWORD*`,
//!   `*_SECRET*`, `*TOKEN*`, and `*_KEY` when the value is key material);
//! - by shape: PEM blocks anywhere, and the password of a credentials string
//!   `login:password:host:port` (SAPI's `rabbitmq`);
//! - by value: every secret the datacenter's answers carried (learned from
//!   SAPI's answers, see `learn`) wherever it appears in free text — a
//!   script that prints a password has no key beside it. In either case,
//!   and in part: a script that prints `pw.to_upper()` or half of it has
//!   printed the secret all the same.
//!
//! The learned secrets are process-wide because every writer (the
//! transcript, the log) must hide what any client read.

use std::collections::HashSet;
use std::sync::{LazyLock, RwLock};

use serde_json::Value;

/// What a secret is replaced by.
pub const MARK: &str = "[redacted]";

/// Secrets shorter than this are hidden where their key or shape shows
/// them, not wherever the text appears: too many words would go with them.
/// For the same reason it is the shortest piece of a longer secret that is
/// hidden wherever it appears.
const MIN_LEARNED: usize = 8;

/// A run of [`MIN_LEARNED`] bytes of a learned secret, its ASCII letters
/// in lower case.
type Piece = [u8; MIN_LEARNED];

/// Every piece of every learned secret. Text that holds one holds part of
/// a secret, whatever its case: looking each of the text's own pieces up
/// here keeps redaction linear in the text, however many secrets there are.
static LEARNED: LazyLock<RwLock<HashSet<Piece>>> = LazyLock::new(Default::default);

/// Whether a key names a secret, whatever its value.
fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "pw"
        || k.ends_with("_pw")
        || k.contains("password")
        || k.contains("passwd")
        || k.starts_with("secret")
        || k.contains("_secret")
        || k.contains("token")
}

/// `*_KEY` names a secret only when it holds key material: a PEM block or a
/// long run of base64 or hex (not a UUID, not an `ssh-rsa …` public key).
fn key_material(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if !(k.ends_with("_key") || k == "key") {
        return false;
    }
    let v = value.trim();
    v.contains("-----BEGIN ")
        || (v.len() >= 16
            && uuid::Uuid::parse_str(v).is_err()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-')))
}

/// `login:password:host:port` → the password's span.
fn credentials_password(value: &str) -> Option<(usize, usize)> {
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() != 4
        || value.chars().any(char::is_whitespace)
        || parts.iter().any(|p| p.is_empty())
        || parts[3].parse::<u16>().is_err()
    {
        return None;
    }
    let start = parts[0].len() + 1;
    Some((start, start + parts[1].len()))
}

fn is_secret_value(key: &str, value: &str) -> bool {
    !value.is_empty() && (secret_key(key) || key_material(key, value))
}

/// Remembers the secrets in a datacenter's answer (SAPI metadata), so that
/// they are hidden wherever they reappear.
pub fn learn(value: &Value) {
    let mut found = Vec::new();
    collect(None, value, &mut found);
    let pieces: Vec<Piece> = found.iter().flat_map(|s| pieces(s)).collect();
    if pieces.is_empty() {
        return;
    }
    if let Ok(mut learned) = LEARNED.write() {
        learned.extend(pieces);
    }
}

/// The pieces of `secret`, line by line: a private key's armor
/// (`-----BEGIN RSA PRIVATE KEY-----`) is no secret, and its words must not
/// be hidden everywhere. A secret shorter than [`MIN_LEARNED`] has none.
fn pieces(secret: &str) -> impl Iterator<Item = Piece> + '_ {
    secret
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.as_bytes().windows(MIN_LEARNED))
        .filter_map(|window| Piece::try_from(window).ok())
        .map(|mut piece| {
            piece.make_ascii_lowercase();
            piece
        })
}

fn collect(key: Option<&str>, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| collect(Some(k), v, found)),
        Value::Array(items) => items.iter().for_each(|v| collect(key, v, found)),
        Value::String(s) => {
            if key.is_some_and(|k| is_secret_value(k, s)) {
                found.push(s.clone());
            } else if let Some((a, b)) = credentials_password(s) {
                found.push(s[a..b].to_string());
            }
            found.extend(pem_blocks(s).into_iter().map(|(a, b)| s[a..b].to_string()));
        }
        Value::Number(n) if key.is_some_and(secret_key) => found.push(n.to_string()),
        _ => {}
    }
}

/// A copy of `value` with every secret replaced by [`MARK`].
pub fn json(value: &Value) -> Value {
    redact_value(None, value)
}

fn redact_value(key: Option<&str>, value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_value(Some(k), v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact_value(key, v)).collect()),
        Value::String(s) if key.is_some_and(|k| is_secret_value(k, s)) => Value::from(MARK),
        Value::Number(_) if key.is_some_and(secret_key) => Value::from(MARK),
        Value::String(s) => Value::from(text(s)),
        other => other.clone(),
    }
}

/// `text` with PEM blocks, credentials' passwords and every learned secret
/// (in any case, whole or any piece of it) replaced by [`MARK`].
pub fn text(text: &str) -> String {
    let mut out = text.to_string();
    for (a, b) in pem_blocks(&out).into_iter().rev() {
        out.replace_range(a..b, MARK);
    }
    if let Some((a, b)) = credentials_password(&out) {
        out.replace_range(a..b, MARK);
    }
    let Ok(learned) = LEARNED.read() else {
        return out;
    };
    let spans = learned_spans(&out, &learned);
    replace_spans(&out, &spans)
}

/// The byte spans of `text` made of learned pieces, in order; pieces that
/// touch or overlap make one span, so a whole secret is one [`MARK`].
fn learned_spans(text: &str, learned: &HashSet<Piece>) -> Vec<(usize, usize)> {
    if learned.is_empty() {
        return Vec::new();
    }
    let lower = text.as_bytes().to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (at, window) in lower.windows(MIN_LEARNED).enumerate() {
        if !learned.contains(window) {
            continue;
        }
        let (start, end) = whole_chars(text, at, at + MIN_LEARNED);
        match spans.last_mut() {
            Some((_, last)) if *last >= start => *last = end,
            _ => spans.push((start, end)),
        }
    }
    spans
}

/// `start..end` widened to whole characters: a piece of a secret that is
/// not ASCII may cut one, and the whole character goes.
fn whole_chars(text: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    (start, end)
}

/// `text` with each of `spans` (in order, apart) replaced by [`MARK`].
fn replace_spans(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for &(start, end) in spans {
        out.push_str(&text[from..start]);
        out.push_str(MARK);
        from = end;
    }
    out.push_str(&text[from..]);
    out
}

/// The `-v` log's writer: each line as it is written, redacted (unless
/// `redact` is false: `run --no-redact`).
#[derive(Clone)]
pub struct LogWriter {
    file: std::sync::Arc<std::sync::Mutex<std::fs::File>>,
    redact: bool,
}

impl LogWriter {
    pub fn new(file: std::fs::File, redact: bool) -> LogWriter {
        LogWriter {
            file: std::sync::Arc::new(std::sync::Mutex::new(file)),
            redact,
        }
    }
}

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if self.redact {
            file.write_all(text(&String::from_utf8_lossy(buf)).as_bytes())?;
        } else {
            file.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        self.clone()
    }
}

/// The byte spans of `-----BEGIN …-----` … `-----END …-----` blocks; one
/// without its end runs to the end of the text.
fn pem_blocks(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("-----BEGIN ") {
        let start = from + at;
        let end = text[start..]
            .find("-----END ")
            .and_then(|e| {
                let tail = start + e + "-----END ".len();
                text[tail..].find("-----").map(|d| tail + d + "-----".len())
            })
            .unwrap_or(text.len());
        spans.push((start, end));
        from = end;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_pem_blocks_and_credentials_go() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        let metadata = json!({
            "ufds_ldap_root_pw": "r00t-secret",
            "UFDS_ADMIN_PASSWORD": "x",
            "api_token": "t",
            "AWS_SECRET_ACCESS_KEY": "s",
            "manta_private_key": "MIIEowIBAAKCAQEAw6",
            "ufds_admin_key_fp": "aa:bb:cc",
            "ssh_key": "ssh-rsa AAAAB3Nza admin@headnode",
            "moray_key": "a1b2c3d4-0000-4000-8000-000000000000",
            "note": format!("here: {pem} done"),
            "rabbitmq": "guest:guest:10.99.99.20:5672",
            "pkg_5": "sdc_1024:1024:2048:10240:300:1000:10:4769a8f9",
            "ZK_SERVERS": [{"host": "10.99.99.11", "port": 2181}],
            "datacenter_name": "coal",
        });
        let out = json(&metadata);
        for key in [
            "ufds_ldap_root_pw",
            "UFDS_ADMIN_PASSWORD",
            "api_token",
            "AWS_SECRET_ACCESS_KEY",
            "manta_private_key",
        ] {
            assert_eq!(out[key], MARK, "{key}");
        }
        assert_eq!(out["ufds_admin_key_fp"], "aa:bb:cc");
        assert_eq!(out["ssh_key"], "ssh-rsa AAAAB3Nza admin@headnode");
        assert_eq!(out["moray_key"], metadata["moray_key"]);
        assert_eq!(out["note"], format!("here: {MARK} done"));
        assert_eq!(out["rabbitmq"], format!("guest:{MARK}:10.99.99.20:5672"));
        assert_eq!(out["pkg_5"], metadata["pkg_5"]);
        assert_eq!(out["ZK_SERVERS"], metadata["ZK_SERVERS"]);
        assert_eq!(out["datacenter_name"], "coal");
    }

    #[test]
    fn learned_secrets_go_from_free_text() {
        learn(&json!({"metadata": {
            "ufds_admin_pw": "Learned-Admin-Pw-1",
            "rabbitmq": "rabbit:Learned-Rabbit-Pw:10.0.0.1:5672",
            "short_pw": "abc",
        }}));
        let said = text("pw Learned-Admin-Pw-1 and Learned-Rabbit-Pw, not abc");
        assert_eq!(said, format!("pw {MARK} and {MARK}, not abc"));
        assert_eq!(json(&json!({"why": "Learned-Admin-Pw-1"}))["why"], MARK);
        let open = text("-----BEGIN PRIVATE KEY-----\nMIIE");
        assert_eq!(open, MARK);
    }

    #[test]
    fn a_learned_secret_goes_in_any_case_and_in_part() {
        let secret = "Mixed-Case-Secret-0123456789";
        let key =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAw6\n-----END RSA PRIVATE KEY-----";
        learn(&json!({"ufds_ldap_root_pw": secret, "manta_private_key": key}));
        let (first, second) = secret.split_at(secret.len() / 2);
        for shown in [
            secret.to_uppercase(),
            secret.to_lowercase(),
            first.to_string(),
            second.to_string(),
        ] {
            assert_eq!(
                text(&format!("pw {shown}.")),
                format!("pw {MARK}."),
                "{shown}"
            );
        }
        // What a secret shares with ordinary words is shorter than a piece.
        for ordinary in [
            "a case: the secret, 0123456 and mixed-up words",
            "coal: 3 servers, the manatee primary on headnode",
            "no RSA PRIVATE KEY in sdc's metadata",
        ] {
            assert_eq!(text(ordinary), ordinary);
        }
    }

    #[test]
    fn a_piece_that_cuts_a_character_takes_all_of_it() {
        learn(&json!({"ldap_pw": "éléphant-rose-9"}));
        // `ũ` ends in the same byte as `é`: the piece starts inside it.
        assert_eq!(text("ũléphant-rose-9"), MARK);
    }
}
