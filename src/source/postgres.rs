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
use crate::event::Timestamp;

/// True when `--store` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

/// The URL with its password (in the user part or a `password=` parameter) replaced by `***`:
/// the only form in which a store URL is ever shown.
pub fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority_end, _) = rest
        .char_indices()
        .find(|(_, c)| matches!(c, '/' | '?'))
        .unwrap_or((rest.len(), ' '));
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let parameters: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key == "password" => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", parameters.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
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
    let usage = |message: String| Error::Usage(format!("--store {name}: {message}"));
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

/// The password `~/.pgpass` (or `PGPASSFILE`) holds for this host, port, database and user:
/// the first line whose fields match (`*` matches anything), as libpq reads it.
fn pgpass(config: &Config) -> Option<String> {
    let path = environment("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| environment("HOME").map(|home| std::path::Path::new(&home).join(".pgpass")))?;
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
        Tls::Verified { root_cert, .. } => {
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
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Connects (TLS as `sslmode` says); returns the client and the store's masked name. Readers
/// make the session read-only next; `import` writes through it.
pub(crate) fn connect(url: &str) -> Result<(Client, String), Error> {
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

/// The columns of the events table that vary between deployments.
#[derive(Debug, Clone, Copy)]
struct Columns {
    /// `id BIGSERIAL` (both variants of the spec have it; a hand-made table may not).
    id: bool,
}

/// An open PostgreSQL store: a read-only session, the table checked.
pub struct PgStore {
    client: Client,
    name: Arc<str>,
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
                timeout.as_millis().max(1)
            ))
            .map_err(failed)?;
        let table = query.table.clone();
        let mut store = PgStore {
            client,
            name: Arc::from(name),
            timeout,
            query,
            table: quoted_table(&table),
            columns: Columns { id: true },
        };
        store.columns = store.check_table(&table, timeout)?;
        Ok(store)
    }

    /// The store as `flowtrace` names it (password masked).
    pub fn name(&self) -> &str {
        &self.name
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
                         WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped) \
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
        })
    }

    /// The SELECT list, in the order `row_record` reads it.
    fn select_list(&self) -> String {
        let id = if self.columns.id { "id" } else { "0::bigint" };
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
        let mut ranges = Vec::new();
        for prefix in query.trace_ids.iter().chain(&query.trace_prefix) {
            let low = next(&mut parameters, Box::new(prefix.clone()));
            let range = match prefix_end(prefix) {
                Some(end) => {
                    let high = next(&mut parameters, Box::new(end));
                    format!(
                        "(trace_id >= {low} AND trace_id < {high} AND starts_with(trace_id, {low}))"
                    )
                }
                None => format!("(trace_id >= {low} AND starts_with(trace_id, {low}))"),
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
            conditions.push(format!("ts >= {bound}"));
        }
        if let Some(until) = query.until {
            let bound = next(&mut parameters, Box::new(until.as_unix_seconds() + 5e-7));
            conditions.push(format!("ts <= {bound}"));
        }
        (conditions, parameters)
    }

    /// The SQL and its parameters for the read (exposed for tests of the plan).
    pub fn select_sql(&self) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
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
            let rows = next_parameter(&mut parameters, self.query.sample_rows / 40);
            sql = if self.columns.id {
                format!(
                    "WITH trace AS ({sql}), span AS (SELECT min(id) AS lo, max(id) AS hi FROM trace) \
                     SELECT * FROM trace UNION SELECT {columns} FROM {table}, span \
                     WHERE id BETWEEN lo - {rows} AND lo + {rows} \
                        OR id BETWEEN hi - {rows} AND hi + {rows}"
                )
            } else {
                format!("{sql} UNION (SELECT {columns} FROM {table} ORDER BY ts LIMIT {rows} * 4)")
            };
        }
        (format!("{sql} ORDER BY 3, 1"), parameters)
    }

    /// PostgreSQL's plan for the read (`EXPLAIN`), one line per step.
    pub fn query_plan(&mut self) -> Result<String, Error> {
        let (sql, parameters) = self.select_sql();
        let references: Vec<&(dyn ToSql + Sync)> = parameters
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let (name, timeout) = (self.name.to_string(), self.timeout);
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
        let (sql, parameters) = self.select_sql();
        let references: Vec<&(dyn ToSql + Sync)> = parameters
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let (name, timeout) = (Arc::clone(&self.name), self.timeout);
        let failed = |error: postgres::Error| explain(&name, &error, timeout);
        let mut transaction = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(failed)?;
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
                .map(|row| row_record(row, &name, &mut names))
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
        let (name, timeout) = (Arc::clone(&self.name), self.timeout);
        let failed = |error: postgres::Error| explain(&name, &error, timeout);
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
        conditions.insert(0, "id > $1".to_string());
        let sql = format!(
            "SELECT {} FROM {table} WHERE {} ORDER BY id",
            self.select_list(),
            conditions.join(" AND ")
        );
        let statement = self.client.prepare(&sql).map_err(failed)?;
        let mut names = Names::default();
        while !super::follow::ending() {
            let mut references: Vec<&(dyn ToSql + Sync)> = vec![&last_id];
            references.extend(parameters.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)));
            let rows = self.client.query(&statement, &references).map_err(failed)?;
            let mut counts = ReadStats::default();
            let mut stop = false;
            for row in &rows {
                let record = row_record(row, &name, &mut names);
                if counts.count_row(&record) && !send(record) {
                    stop = true;
                    break;
                }
            }
            if let Some(last) = rows.last() {
                last_id = last_id.max(last.get(0));
            }
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
fn row_record(row: &Row, store: &Arc<str>, names: &mut Names) -> Record {
    let ts: Option<f64> = row.get(2);
    let Some(ts) = ts.and_then(Timestamp::from_unix_seconds) else {
        return Record::Skipped;
    };
    let kind: String = row.get(3);
    let payload: Option<String> = row.get(6);
    StoredRow {
        id: row.get(0),
        trace_id: row.get(1),
        ts,
        kind: &kind,
        node_name: row.get(4),
        node_id: row.get(5),
        payload: payload.as_deref().map(str::as_bytes),
    }
    .into_record(store, names)
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
            if timeout.as_millis() < 1000 {
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
