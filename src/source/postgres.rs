//! Reading PenguiFlow's events from PostgreSQL (`--store postgres://...`), read-only by
//! construction: the session is set `default_transaction_read_only`, every read is one
//! `REPEATABLE READ READ ONLY` transaction (one snapshot while the service keeps writing), and
//! a statement timeout bounds every query. Rows stream through a portal in batches, ordered by
//! `ts, id`, with the trace, kind, node and time filters in the SQL; a trace id prefix is a range
//! on the `(trace_id, ts, id)` index.
//!
//! The URL is libpq's: `postgres[ql]://[user[:password]@][host][:port][/dbname][?param=...]`,
//! with `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE` and `~/.pgpass`
//! (or `PGPASSFILE`) for what it leaves out. The password never leaves this module: the store
//! is named by its URL with the password masked.

use std::sync::Arc;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Config, IsolationLevel, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::decode::Names;
use super::store::{BATCH, RowSender, StoreQuery, StoreRecords, StoredRow};
use super::{ReadStats, Record, SharedReport};
use crate::error::Error;
use crate::event::{InputName, Timestamp, input_name};

/// True when `--store` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(store: &str) -> bool {
    let lower = store.get(..13).unwrap_or(store).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The URL with its password (in the user part or a `password=` parameter) replaced by `***`:
/// the only form in which a store URL is ever shown.
pub fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The user part ends at the last `@` (as the driver reads it: a password may hold `/`,
    // `?` or `@`); the host part at the first `/` or `?` after it.
    let (user_info, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let user_info = user_info.map(|info| match info.split_once(':') {
        Some((user, _password)) => format!("{user}:***@"),
        None => format!("{info}@"),
    });
    let tail = match after.split_once('?') {
        Some((path, query)) => {
            let parameters: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if names_password(key) => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", parameters.join("&"))
        }
        None => after.to_string(),
    };
    format!("{scheme}://{}{tail}", user_info.unwrap_or_default())
}

/// A query parameter that holds a password, however it is spelled or encoded
/// (`password`, `PASSWORD`, `sslpassword`, `pass%77ord`).
fn names_password(key: &str) -> bool {
    let decoded = percent_decode(key).to_ascii_lowercase();
    decoded.contains("pass") || decoded.contains("secret")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[index + 1..index + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The secret texts a URL holds (its password, raw and decoded, and password parameters), to
/// scrub from any message that might quote them (a driver's parse error, say).
fn secrets_in(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    if let Some(at) = rest.rfind('@')
        && let Some((_, password)) = rest[..at].split_once(':')
        && !password.is_empty()
    {
        secrets.push(password.to_string());
        secrets.push(percent_decode(password));
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && names_password(key)
                && !value.is_empty()
            {
                secrets.push(value.to_string());
                secrets.push(percent_decode(value));
            }
        }
    }
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    secrets.dedup();
    secrets
}

/// `text` with every secret of `url` replaced by `***`.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let mut text = text.to_string();
    for secret in secrets_in(url) {
        text = text.replace(&secret, "***");
    }
    text
}

/// How the connection is encrypted, as `sslmode` asks (libpq's meanings).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tls {
    /// `disable`: plain.
    Off,
    /// `prefer` (the default) and `require`: encrypted when the server offers it (`require`:
    /// or fail), the certificate not checked, as libpq does.
    Unverified,
    /// `verify-ca` / `verify-full`: the certificate checked against the system's roots or
    /// `sslrootcert`; `verify-full` also checks the host name.
    Verified {
        full: bool,
        root_cert: Option<String>,
    },
}

/// What to connect to: the driver's config, the encryption, and the name to show.
struct Target {
    config: Config,
    tls: Tls,
    name: String,
}

fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Parses the URL, taking out what the driver does not know (`sslmode=verify-*`,
/// `sslrootcert`), and fills in what it leaves out as libpq would.
fn target(url: &str) -> Result<Target, Error> {
    let name = masked(url);
    let usage = |message: String| Error::Usage(format!("--store {name}: {}", scrub(&message, url)));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut ssl_mode = environment("PGSSLMODE");
    let mut root_cert = environment("PGSSLROOTCERT");
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => ssl_mode = Some(value.to_string()),
            Some(("sslrootcert", value)) => root_cert = Some(value.to_string()),
            _ => kept.push(pair),
        }
    }
    let ssl_mode = ssl_mode.unwrap_or_else(|| "prefer".to_string());
    let (tls, driver_mode) = match ssl_mode.as_str() {
        "disable" => (Tls::Off, "disable"),
        "allow" | "prefer" => (Tls::Unverified, "prefer"),
        "require" => (Tls::Unverified, "require"),
        "verify-ca" | "verify-full" => (
            Tls::Verified {
                full: ssl_mode == "verify-full",
                root_cert,
            },
            "require",
        ),
        other => {
            return Err(usage(format!(
                "sslmode={other}: expected disable, allow, prefer, require, verify-ca or verify-full"
            )));
        }
    };
    kept.push(match driver_mode {
        "disable" => "sslmode=disable",
        "prefer" => "sslmode=prefer",
        _ => "sslmode=require",
    });
    // A host without a port takes PGPORT, as libpq does (the driver would put 5432).
    let base = match environment("PGPORT") {
        Some(port) => with_default_port(base, &port),
        None => base.to_string(),
    };
    let url = format!("{base}?{}", kept.join("&"));
    let mut config: Config = url
        .parse()
        .map_err(|error: postgres::Error| usage(error.to_string()))?;
    if config.get_hosts().is_empty() {
        config.host(&environment("PGHOST").unwrap_or_else(|| "localhost".to_string()));
    }
    if config.get_ports().is_empty() {
        let port = environment("PGPORT").map_or(Ok(5432), |port| port.parse::<u16>());
        config.port(port.map_err(|_| usage("PGPORT is not a port number".into()))?);
    }
    if config.get_user().is_none() {
        let user = environment("PGUSER")
            .or_else(|| environment("USER"))
            .ok_or_else(|| usage("no user: put it in the URL or set PGUSER".into()))?;
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        let database = environment("PGDATABASE")
            .unwrap_or_else(|| config.get_user().unwrap_or_default().to_string());
        config.dbname(&database);
    }
    if config.get_password().is_none()
        && let Some(password) = environment("PGPASSWORD").or_else(|| pgpass(&config))
    {
        config.password(password);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("flowtrace");
    Ok(Target { config, tls, name })
}

/// `base` (a URL without its query) with `:port` after a host that has none.
fn with_default_port(base: &str, port: &str) -> String {
    let Some((scheme, rest)) = base.split_once("://") else {
        return base.to_string();
    };
    let host_start = rest.rfind('@').map_or(0, |at| at + 1);
    let host_end = rest[host_start..]
        .find('/')
        .map_or(rest.len(), |end| host_start + end);
    let host = &rest[host_start..host_end];
    if host.is_empty() || host.contains(':') || host.contains(',') {
        return base.to_string();
    }
    format!(
        "{scheme}://{}{host}:{port}{}",
        &rest[..host_start],
        &rest[host_end..]
    )
}

/// The password `~/.pgpass` (or `PGPASSFILE`) holds for this host, port, database and user:
/// the first line whose fields match (`*` matches anything), as libpq reads it.
fn pgpass(config: &Config) -> Option<String> {
    let path = environment("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| environment("HOME").map(|home| std::path::Path::new(&home).join(".pgpass")))?;
    // As libpq: a password file others may read is not used.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            eprintln!(
                "flowtrace: {} is readable by others: not used (chmod 0600 it)",
                path.display()
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first()? {
        postgres::config::Host::Tcp(host) => host.clone(),
        postgres::config::Host::Unix(_) => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let wanted = [
        host.as_str(),
        port.as_str(),
        config.get_dbname().unwrap_or_default(),
        config.get_user().unwrap_or_default(),
    ];
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            let matches = fields.len() == 5
                && fields[..4]
                    .iter()
                    .zip(wanted)
                    .all(|(field, wanted)| field == "*" || field == wanted);
            matches.then(|| fields[4].clone())
        })
}

/// One `.pgpass` line's fields: `:` separates them, `\:` and `\\` escape.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields
                .last_mut()
                .expect("one field at least")
                .extend(chars.next()),
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

/// Accepts any server certificate: `sslmode=prefer|require` encrypt without checking it, as
/// libpq does (`verify-ca`/`verify-full` check it).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the certificate's chain must lead to a trusted root; any host name.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error as TlsError};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn tls_connector(tls: &Tls, name: &str) -> Result<MakeRustlsConnect, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Usage(format!("--store {name}: TLS: {error}")))?;
    let config = match tls {
        Tls::Off | Tls::Unverified => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
        Tls::Verified { root_cert, full } => {
            let mut roots = rustls::RootCertStore::empty();
            match root_cert {
                Some(path) => {
                    let pem = std::fs::read(path).map_err(|error| {
                        Error::Usage(format!("--store {name}: sslrootcert {path}: {error}"))
                    })?;
                    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
                        let cert: rustls::pki_types::CertificateDer<'static> =
                            cert.map_err(|error| {
                                Error::Usage(format!("--store {name}: sslrootcert {path}: {error}"))
                            })?;
                        let _ = roots.add(cert);
                    }
                }
                None => {
                    for cert in rustls_native_certs::load_native_certs().certs {
                        let _ = roots.add(cert);
                    }
                }
            }
            if *full {
                builder.with_root_certificates(roots).with_no_client_auth()
            } else {
                // verify-ca: the chain is checked, the host name is not (libpq's meaning).
                let chain = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|error| Error::Usage(format!("--store {name}: TLS: {error}")))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(chain)))
                    .with_no_client_auth()
            }
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Connects (TLS as `sslmode` says); returns the client and the store's masked name. Readers
/// make the session read-only next; `import` writes through it.
pub(crate) fn connect(url: &str) -> Result<(Client, String), Error> {
    connect_unscrubbed(url).map_err(|error| match error {
        Error::Postgres { store, message } => Error::Postgres {
            store,
            message: scrub(&message, url),
        },
        other => other,
    })
}

fn connect_unscrubbed(url: &str) -> Result<(Client, String), Error> {
    let target = target(url)?;
    let name = target.name.clone();
    let failed = |error: postgres::Error| explain(&name, &error, Duration::ZERO);
    let client = match target.tls {
        Tls::Off => target.config.connect(NoTls).map_err(failed)?,
        ref tls => target
            .config
            .connect(tls_connector(tls, &name)?)
            .map_err(failed)?,
    };
    Ok((client, name))
}

/// How far back in ids each poll of a followed store looks for rows committed late.
const FOLLOW_LOOKBACK_IDS: i64 = 10_000;

/// The columns of the events table that vary between deployments.
#[derive(Debug, Clone, Copy)]
struct Columns {
    /// `id BIGSERIAL` (both variants of the spec have it; a hand-made table may not).
    id: bool,
    /// `trace_id` compares byte by byte (a C or POSIX collation): a prefix is a plain range.
    c_order: bool,
}

/// An open PostgreSQL store: a read-only session, the table checked.
pub struct PgStore {
    client: Client,
    name: InputName,
    /// `--store-timeout`, for the errors that name it.
    timeout: Duration,
    query: StoreQuery,
    table: String,
    columns: Columns,
}

impl PgStore {
    /// Connects read-only (see the module) and checks the table; every failure is an error
    /// naming the store (password masked) and what to do.
    pub fn open(query: StoreQuery, timeout: Duration) -> Result<PgStore, Error> {
        let (mut client, name) = connect(&query.path.to_string_lossy())?;
        let failed = |error: postgres::Error| explain(&name, &error, timeout);
        // The session cannot write, and no statement runs past the timeout.
        client
            .batch_execute(&format!(
                "SET default_transaction_read_only = on; SET statement_timeout = {}",
                // The server takes at most i32::MAX milliseconds (about 24 days).
                timeout.as_millis().clamp(1, i32::MAX as u128)
            ))
            .map_err(failed)?;
        let table = query.table.clone();
        let mut store = PgStore {
            client,
            name: input_name(&name),
            timeout,
            query,
            table: quoted_table(&table),
            columns: Columns {
                id: true,
                c_order: true,
            },
        };
        store.columns = store.check_table(&table, timeout)?;
        Ok(store)
    }

    /// The store as `flowtrace` names it (password masked).
    pub fn name(&self) -> &str {
        self.name
    }

    fn check_table(&mut self, table: &str, timeout: Duration) -> Result<Columns, Error> {
        let name = self.name.to_string();
        let failed = |error: postgres::Error| explain(&name, &error, timeout);
        let quoted = self.table.clone();
        let mut transaction = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(failed)?;
        // The catalog shows a table and its columns whatever the user may read; whether they
        // may read it is asked apart, so "no such table" and "permission denied" are told apart.
        let found = transaction
            .query_opt(
                "SELECT has_table_privilege(c.oid, 'SELECT'), \
                   array(SELECT attname::text FROM pg_attribute \
                         WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped), \
                   (SELECT CASE WHEN co.collname = 'default' \
                                THEN (SELECT datcollate FROM pg_database \
                                      WHERE datname = current_database()) \
                                ELSE co.collname END::text \
                    FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation \
                    WHERE a.attrelid = c.oid AND a.attname = 'trace_id') \
                 FROM pg_class c WHERE c.oid = to_regclass($1)",
                &[&quoted],
            )
            .map_err(failed)?;
        let Some(found) = found else {
            let tables: Vec<String> = transaction
                .query(
                    "SELECT CASE WHEN n.nspname = current_schema() THEN c.relname::text \
                     ELSE n.nspname || '.' || c.relname END FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p', 'v', 'm') \
                       AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                       AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
                     ORDER BY 1 LIMIT 50",
                    &[],
                )
                .map_err(failed)?
                .iter()
                .map(|row| row.get(0))
                .collect();
            return Err(Error::MissingTable {
                path: name.clone(),
                table: table.to_string(),
                tables,
            });
        };
        let readable: bool = found.get(0);
        let columns: Vec<String> = found.get(1);
        let collation: Option<String> = found.get(2);
        let c_order = collation
            .as_deref()
            .is_none_or(|name| matches!(name, "C" | "POSIX" | "ucs_basic"));
        if !readable {
            return Err(Error::Postgres {
                store: name.clone(),
                message: format!(
                    "permission denied: this user may not read `{table}` (GRANT SELECT ON {quoted} \
                     TO the user)"
                ),
            });
        }
        let missing: Vec<String> = ["trace_id", "ts", "kind", "node_name", "node_id", "payload"]
            .into_iter()
            .filter(|wanted| !columns.iter().any(|column| column == wanted))
            .map(str::to_string)
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingColumns {
                path: name.clone(),
                table: table.to_string(),
                missing,
            });
        }
        transaction.commit().map_err(failed)?;
        Ok(Columns {
            id: columns.iter().any(|column| column == "id"),
            c_order,
        })
    }

    /// The SELECT list, in the order `row_record` reads it.
    fn select_list(&self) -> String {
        let id = if self.columns.id {
            "id::int8"
        } else {
            "0::int8"
        };
        format!(
            "{id}, trace_id::text, ts::float8, kind::text, node_name::text, node_id::text, payload::text"
        )
    }

    /// The query's filters as SQL conditions on numbered parameters from `first`.
    fn conditions(&self, first: usize) -> (Vec<String>, Vec<Box<dyn ToSql + Sync + Send>>) {
        let query = &self.query;
        let mut conditions = Vec::new();
        let mut parameters: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let next = |parameters: &mut Vec<Box<dyn ToSql + Sync + Send>>,
                    value: Box<dyn ToSql + Sync + Send>| {
            parameters.push(value);
            format!("${}", first + parameters.len() - 1)
        };
        // Trace ids may be prefixes: each is a range on the (trace_id, ts, id) index, checked
        // exactly with starts_with (a collation could order a range differently).
        // Under another collation (en_US, ICU) punctuation may be ignored in comparisons, so
        // the range's end is the next letter or digit, and a prefix with other characters is
        // matched by starts_with alone (correct, without the index).
        let mut ranges = Vec::new();
        for prefix in query.trace_ids.iter().chain(&query.trace_prefix) {
            let low = next(&mut parameters, Box::new(prefix.clone()));
            let end = if self.columns.c_order {
                prefix_end(prefix)
            } else {
                alphanumeric_end(prefix)
            };
            let range = match end {
                Some(end) => {
                    let high = next(&mut parameters, Box::new(end));
                    format!(
                        "(trace_id >= {low} AND trace_id < {high} AND starts_with(trace_id, {low}))"
                    )
                }
                None if self.columns.c_order => {
                    format!("(trace_id >= {low} AND starts_with(trace_id, {low}))")
                }
                None => format!("starts_with(trace_id, {low})"),
            };
            ranges.push(range);
        }
        if !ranges.is_empty() {
            conditions.push(format!("({})", ranges.join(" OR ")));
        }
        if !query.kinds.is_empty() {
            let kinds = next(&mut parameters, Box::new(query.kinds.clone()));
            conditions.push(format!("kind = ANY({kinds})"));
        }
        if !query.nodes.is_empty() {
            let nodes = next(&mut parameters, Box::new(query.nodes.clone()));
            conditions.push(format!("node_name = ANY({nodes})"));
        }
        // Half a microsecond of slack, as for SQLite: the exact bound is applied again to the
        // decoded events.
        if let Some(since) = query.since {
            let bound = next(&mut parameters, Box::new(since.as_unix_seconds() - 5e-7));
            conditions.push(format!("ts::float8 >= {bound}"));
        }
        if let Some(until) = query.until {
            let bound = next(&mut parameters, Box::new(until.as_unix_seconds() + 5e-7));
            conditions.push(format!("ts::float8 <= {bound}"));
        }
        (conditions, parameters)
    }

    /// The SQL and its parameters for the read (exposed for tests of the plan). `span` is the
    /// first and last id of `find`'s trace, read first (see `trace_span`).
    pub fn select_sql(
        &self,
        span: Option<(i64, i64)>,
    ) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
        let (conditions, mut parameters) = self.conditions(1);
        let where_ = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let columns = self.select_list();
        let table = &self.table;
        let mut sql = format!("SELECT {columns} FROM {table}{where_}");
        if self.query.trace_prefix.is_some() && self.query.sample_rows > 0 {
            // `find`: the trace's rows, and a sample of the flow around them to learn the graph
            // and the queues from: the rows written just before and after the trace's first and
            // last, by the primary key (ids grow with time). Without an `id` column, the
            // table's first rows.
            // The ids are given as values (read first), not derived in the query: the planner
            // then knows the windows are small and reads them by the primary key.
            let rows = (self.query.sample_rows / 40).min(i64::MAX as u64) as i64;
            sql = match (self.columns.id, span) {
                (true, Some((lo, hi))) => {
                    let bounds = [lo - rows, lo + rows, hi - rows, hi + rows];
                    let marks: Vec<String> = bounds
                        .into_iter()
                        .map(|bound| {
                            parameters.push(Box::new(bound));
                            format!("${}", parameters.len())
                        })
                        .collect();
                    format!(
                        "{sql} UNION SELECT {columns} FROM {table} \
                         WHERE id::int8 BETWEEN {} AND {} OR id::int8 BETWEEN {} AND {}",
                        marks[0], marks[1], marks[2], marks[3]
                    )
                }
                // No such trace: no sample to read around.
                (true, None) => sql,
                (false, _) => {
                    let limit = next_parameter(&mut parameters, self.query.sample_rows / 10);
                    format!("{sql} UNION (SELECT {columns} FROM {table} ORDER BY ts LIMIT {limit})")
                }
            };
        }
        (format!("{sql} ORDER BY 3, 1"), parameters)
    }

    /// For `find`: the query of its trace's first and last id (through the trace index), run
    /// before the read; `None` for any other read.
    fn span_query(&self) -> Option<(String, Vec<Box<dyn ToSql + Sync + Send>>)> {
        if self.query.trace_prefix.is_none() || self.query.sample_rows == 0 || !self.columns.id {
            return None;
        }
        let (conditions, parameters) = self.conditions(1);
        let sql = format!(
            "SELECT min(id::int8), max(id::int8) FROM {} WHERE {}",
            self.table,
            conditions.join(" AND ")
        );
        Some((sql, parameters))
    }

    /// PostgreSQL's plan for the read (`EXPLAIN`), one line per step.
    pub fn query_plan(&mut self) -> Result<String, Error> {
        let (name, timeout) = (self.name.to_string(), self.timeout);
        let span = match self.span_query() {
            Some((sql, parameters)) => {
                let row = self
                    .client
                    .query_one(&sql, &references_of(&parameters))
                    .map_err(|error| explain(&name, &error, timeout))?;
                span_of(&row)
            }
            None => None,
        };
        let (sql, parameters) = self.select_sql(span);
        let references: Vec<&(dyn ToSql + Sync)> = parameters
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = self
            .client
            .query(&format!("EXPLAIN {sql}"), &references)
            .map_err(|error| explain(&name, &error, timeout))?;
        Ok(rows
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// Streams the selected rows, in time order, from a reader thread.
    pub(crate) fn into_records(mut self, report: SharedReport) -> StoreRecords {
        StoreRecords::spawn(report, move |sender| self.send_rows(sender))
    }

    /// One snapshot: the rows come through a portal, `BATCH` at a time.
    fn send_rows(&mut self, sender: &RowSender) -> Result<(), Error> {
        let (name, timeout) = (self.name, self.timeout);
        let failed = |error: postgres::Error| explain(name, &error, timeout);
        let span_query = self.span_query();
        // Both forms of the read, built before the transaction borrows the client: with the
        // sample around the trace (its 4 id bounds set once read), and without (no such trace).
        let around = self.select_sql(Some((0, 0)));
        let alone = self.select_sql(None);
        let mut transaction = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(failed)?;
        // In the read's snapshot: `find`'s trace's ids, then the rows.
        let span = match &span_query {
            Some((sql, parameters)) => span_of(
                &transaction
                    .query_one(sql, &references_of(parameters))
                    .map_err(failed)?,
            ),
            None => None,
        };
        let (sql, mut parameters) = match span {
            Some(_) => around,
            None => alone,
        };
        if let Some((lo, hi)) = span {
            let rows = (self.query.sample_rows / 40).min(i64::MAX as u64) as i64;
            let bounds = [lo - rows, lo + rows, hi - rows, hi + rows];
            let start = parameters.len() - bounds.len();
            for (slot, bound) in parameters[start..].iter_mut().zip(bounds) {
                *slot = Box::new(bound);
            }
        }
        let references = references_of(&parameters);
        let portal = transaction.bind(&sql, &references).map_err(failed)?;
        let mut names = Names::default();
        loop {
            let rows = transaction
                .query_portal(&portal, BATCH as i32)
                .map_err(failed)?;
            if rows.is_empty() {
                break;
            }
            let batch = rows
                .iter()
                .map(|row| row_record(row, name, &mut names))
                .collect();
            if sender.send(Ok(batch)).is_err() {
                return Ok(()); // the consumer stopped early
            }
        }
        transaction.commit().map_err(failed)?;
        Ok(())
    }

    /// `--follow`: polls for rows past the highest id seen every `poll`, each poll its own
    /// read-only transaction, from the table's current end (from its start with `from_start`).
    pub(crate) fn poll_rows(
        &mut self,
        from_start: bool,
        poll: Duration,
        report: &SharedReport,
        send: &mut impl FnMut(Record) -> bool,
    ) -> Result<(), Error> {
        let (name, timeout) = (self.name, self.timeout);
        let failed = |error: postgres::Error| explain(name, &error, timeout);
        if !self.columns.id {
            return Err(Error::Usage(format!(
                "cannot follow {name}: its table has no `id` column to tell new rows by"
            )));
        }
        let table = self.table.clone();
        let mut last_id: i64 = if from_start {
            i64::MIN
        } else {
            self.client
                .query_one(
                    &format!("SELECT coalesce(max(id), 0)::bigint FROM {table}"),
                    &[],
                )
                .map_err(failed)?
                .get(0)
        };
        let (mut conditions, parameters) = self.conditions(2);
        conditions.insert(0, "id::int8 > $1".to_string());
        let sql = format!(
            "SELECT {} FROM {table} WHERE {} ORDER BY id",
            self.select_list(),
            conditions.join(" AND ")
        );
        let statement = self.client.prepare(&sql).map_err(failed)?;
        let mut names = Names::default();
        // Ids are handed out at insert, not at commit: a transaction that commits after a
        // later one shows a lower id than rows already read. Each poll looks back
        // FOLLOW_LOOKBACK_IDS ids and gives only the rows not given before.
        let mut given: std::collections::BTreeSet<i64> = std::collections::BTreeSet::new();
        if !from_start {
            // The rows there at the start are history, the look-back's included.
            let floor = last_id.saturating_sub(FOLLOW_LOOKBACK_IDS);
            for row in self
                .client
                .query(
                    &format!("SELECT id::int8 FROM {table} WHERE id::int8 > $1 AND id::int8 <= $2"),
                    &[&floor, &last_id],
                )
                .map_err(failed)?
            {
                given.insert(row.get::<_, Option<i64>>(0).unwrap_or_default());
            }
        }
        while !super::follow::ending() {
            let floor = last_id.saturating_sub(FOLLOW_LOOKBACK_IDS);
            let mut references: Vec<&(dyn ToSql + Sync)> = vec![&floor];
            references.extend(parameters.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)));
            let rows = self.client.query(&statement, &references).map_err(failed)?;
            let mut counts = ReadStats::default();
            let mut stop = false;
            for row in &rows {
                let id = row.get::<_, Option<i64>>(0).unwrap_or_default();
                if !given.insert(id) {
                    continue;
                }
                last_id = last_id.max(id);
                let record = row_record(row, name, &mut names);
                if counts.count_row(&record) && !send(record) {
                    stop = true;
                    break;
                }
            }
            // Only ids within the look-back can come again.
            let keep_from = last_id.saturating_sub(FOLLOW_LOOKBACK_IDS);
            given = given.split_off(&keep_from);
            report
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .stats
                .add(&counts);
            if stop {
                return Ok(());
            }
            std::thread::sleep(poll);
        }
        Ok(())
    }
}

/// One row as a record (`Skipped` when its `ts` cannot be read).
fn row_record(row: &Row, store: InputName, names: &mut Names) -> Record {
    let ts: Option<f64> = row.get(2);
    let Some(ts) = ts.and_then(Timestamp::from_unix_seconds) else {
        return Record::Skipped;
    };
    let Some(kind) = row.get::<_, Option<String>>(3) else {
        return Record::Skipped;
    };
    let payload: Option<String> = row.get(6);
    StoredRow {
        id: row.get::<_, Option<i64>>(0).unwrap_or_default(),
        trace_id: row.get(1),
        ts,
        kind: &kind,
        node_name: row.get(4),
        node_id: row.get(5),
        payload: payload.as_deref().map(str::as_bytes),
    }
    .into_record(store, names)
}

/// Parameters as the driver takes them.
fn references_of(parameters: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    parameters
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// The first and last id a span query found, if the trace is there.
fn span_of(row: &Row) -> Option<(i64, i64)> {
    row.get::<_, Option<i64>>(0)
        .zip(row.get::<_, Option<i64>>(1))
}

/// Adds `value` as the next numbered parameter; returns its `$n`.
fn next_parameter(parameters: &mut Vec<Box<dyn ToSql + Sync + Send>>, value: u64) -> String {
    parameters.push(Box::new(value.min(i64::MAX as u64) as i64));
    format!("${}", parameters.len())
}

/// The first string after every string that starts with `prefix` (for a range scan), or
/// `None` when there is none (a prefix of only `char::MAX`).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The range end of a lower-case alphanumeric prefix under any common collation (digits sort
/// before letters there too): its last character's successor among `0-9a-z`; `None` for any
/// other prefix.
fn alphanumeric_end(prefix: &str) -> Option<String> {
    if prefix.is_empty()
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return None;
    }
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        let next = match last {
            b'0'..=b'8' | b'a'..=b'y' => last + 1,
            b'9' => b'a',
            _ => continue, // z: carry into the character before
        };
        bytes.push(next);
        return String::from_utf8(bytes).ok();
    }
    None
}

/// `--table` as an SQL identifier: `schema.table` or `table`, each part quoted.
pub(crate) fn quoted_table(table: &str) -> String {
    table
        .split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// A driver error as something to act on, naming the store (password masked).
pub(crate) fn explain(store: &str, error: &postgres::Error, timeout: Duration) -> Error {
    use postgres::error::SqlState;
    let message = match error.code() {
        Some(code) if *code == SqlState::INVALID_PASSWORD => {
            "authentication failed: check the user and password (URL, PGPASSWORD or ~/.pgpass)"
                .to_string()
        }
        Some(code) if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => format!(
            "the server refused this user: {}",
            error.as_db_error().map_or("", |db| db.message())
        ),
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => format!(
            "{} (list the databases with `psql -l`)",
            error
                .as_db_error()
                .map_or("no such database", |db| db.message())
        ),
        Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => format!(
            "permission denied: {} (the user needs SELECT on the table)",
            error.as_db_error().map_or("", |db| db.message())
        ),
        Some(code) if *code == SqlState::QUERY_CANCELED => format!(
            "the query ran past --store-timeout {} and was cancelled: narrow it (--since, \
             --trace, --node) or raise --store-timeout",
            if !timeout.as_millis().is_multiple_of(1000) {
                format!("{} ms", timeout.as_millis())
            } else {
                format!("{} s", timeout.as_secs())
            }
        ),
        Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => {
            "the server refused a write in this read-only session".to_string()
        }
        _ => {
            let text = error.to_string();
            let source = std::error::Error::source(error).map(ToString::to_string);
            match source {
                Some(source) if source.contains("Connection refused") => {
                    "connection refused: is the server up, and is this its host and port?"
                        .to_string()
                }
                Some(source) if !text.contains(&source) => format!("{text}: {source}"),
                _ => text,
            }
        }
    };
    Error::Postgres {
        store: store.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_wherever_the_url_holds_them() {
        assert_eq!(
            masked("postgres://app:s3cr3t@db.internal:5432/events?sslmode=require"),
            "postgres://app:***@db.internal:5432/events?sslmode=require"
        );
        assert_eq!(
            masked("postgresql://app@db/events?password=s3cr3t&sslmode=disable"),
            "postgresql://app@db/events?password=***&sslmode=disable"
        );
        assert_eq!(masked("postgres://db/events"), "postgres://db/events");
        // Passwords holding `/`, `?` or `:` (base64 ones do), and password parameters
        // however spelled, as the driver reads them.
        assert_eq!(
            masked("postgres://u:Ab3/Sl4sh?Q=@127.0.0.1:5432/db"),
            "postgres://u:***@127.0.0.1:5432/db"
        );
        assert_eq!(
            masked("postgres://u@h/db?PASSWORD=x1&sslpassword=x2&pass%77ord=x3"),
            "postgres://u@h/db?PASSWORD=***&sslpassword=***&pass%77ord=***"
        );
        assert_eq!(
            scrub(
                "bad value x3 in pass%77ord",
                "postgres://u@h/db?pass%77ord=x3"
            ),
            "bad value *** in pass%77ord"
        );
        // An `@` in the password (URL-encoded or not) stays masked.
        assert_eq!(
            masked("postgres://app:p@ss@db/x"),
            "postgres://app:***@db/x"
        );
    }

    #[test]
    fn a_prefix_range_ends_at_the_next_string() {
        assert_eq!(prefix_end("3f2a9c").as_deref(), Some("3f2a9d"));
        assert_eq!(prefix_end("abz").as_deref(), Some("ab{"));
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn alphanumeric_ranges_carry_like_counting() {
        assert_eq!(alphanumeric_end("5e99").as_deref(), Some("5e9a"));
        assert_eq!(alphanumeric_end("5e9z").as_deref(), Some("5ea"));
        assert_eq!(alphanumeric_end("b2f9-ed"), None);
        assert_eq!(
            with_default_port("postgres://u@h/db", "6543"),
            "postgres://u@h:6543/db"
        );
        assert_eq!(
            with_default_port("postgres://u@h:5/db", "6543"),
            "postgres://u@h:5/db"
        );
    }

    #[test]
    fn pgpass_fields_unescape() {
        assert_eq!(
            split_pgpass(r"db:5432:*:app:pa\:ss\\word"),
            ["db", "5432", "*", "app", r"pa:ss\word"]
        );
    }

    #[test]
    fn tables_are_quoted_per_part() {
        assert_eq!(quoted_table("flow_events"), "\"flow_events\"");
        assert_eq!(quoted_table("ops.flow_events"), "\"ops\".\"flow_events\"");
        assert_eq!(quoted_table("a\"b"), "\"a\"\"b\"");
    }
}
