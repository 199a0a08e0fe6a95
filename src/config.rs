//! Connection settings, read from the same `DATABASES` entry Django uses.
//!
//! The shop configures its database once, in Django's settings; the engine must reach the same
//! database the same way `mysqlclient` would: `HOST` starting with `/` is a socket, an empty
//! `HOST` means the local server's default socket, `OPTIONS` (`unix_socket`, `read_default_file`,
//! `connect_timeout`, `init_command`) apply, and explicit settings win over an option file.
//!
//! The password lives in a [`Secret`], whose `Debug` never shows it, so a config can be logged.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// A string that never appears in `Debug` or `Display` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// One `DATABASES` entry as Django holds it (scalar `OPTIONS` only, as strings).
#[derive(Debug, Clone, Default)]
pub struct DjangoDatabase {
    pub engine: String,
    pub name: String,
    pub user: String,
    pub password: Secret,
    pub host: String,
    pub port: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct MysqlConfig {
    /// TCP host, used when `socket` is `None`.
    pub host: String,
    pub port: u16,
    pub socket: Option<PathBuf>,
    pub user: String,
    pub password: Secret,
    pub database: String,
    pub connect_timeout: Duration,
    /// `OPTIONS["init_command"]`, run on every new connection as Django does.
    pub init_command: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub enum DbConfig {
    Mysql(MysqlConfig),
    Sqlite(SqliteConfig),
}

/// Sockets a Debian/Ubuntu/RHEL/macOS server listens on by default, tried in order when `HOST`
/// is empty, like libmysqlclient does.
const DEFAULT_SOCKETS: &[&str] = &[
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/tmp/mysql.sock",
];

impl DbConfig {
    pub fn from_django(db: &DjangoDatabase) -> Result<Self> {
        let engine = db.engine.to_ascii_lowercase();
        if engine.contains("sqlite") {
            if db.name.is_empty() || db.name == ":memory:" || db.name.starts_with("file::memory:") {
                return Err(Error::Config(format!(
                    "sqlite database {:?} is not a file; forneria-ops opens the database file \
                     with its own connection, so NAME must be a path",
                    db.name
                )));
            }
            return Ok(DbConfig::Sqlite(SqliteConfig {
                path: PathBuf::from(&db.name),
            }));
        }
        if !engine.contains("mysql") {
            return Err(Error::Config(format!(
                "database engine {:?} is not supported; forneria-ops works with MySQL/MariaDB \
                 and SQLite",
                db.engine
            )));
        }
        Ok(DbConfig::Mysql(MysqlConfig::from_django(db)?))
    }

    /// `user@host:port/db` or the SQLite path: what error messages call the database.
    pub fn target(&self) -> String {
        match self {
            DbConfig::Mysql(m) => m.target(),
            DbConfig::Sqlite(s) => s.path.display().to_string(),
        }
    }

    /// The database (schema) name, or the SQLite file name.
    pub fn database_name(&self) -> String {
        match self {
            DbConfig::Mysql(m) => m.database.clone(),
            DbConfig::Sqlite(s) => s.path.display().to_string(),
        }
    }
}

impl MysqlConfig {
    fn from_django(db: &DjangoDatabase) -> Result<Self> {
        let mut cfg = MysqlConfig {
            host: String::new(),
            port: 3306,
            socket: None,
            user: String::new(),
            password: Secret::default(),
            database: String::new(),
            connect_timeout: Duration::from_secs(10),
            init_command: None,
        };
        // Option file first: explicit settings below override it, as with mysqlclient.
        if let Some(file) = db.options.get("read_default_file") {
            cfg.apply_option_file(Path::new(file))?;
        }
        if !db.name.is_empty() {
            cfg.database = db.name.clone();
        }
        if let Some(name) = db.options.get("db").or(db.options.get("database")) {
            cfg.database = name.clone();
        }
        if !db.user.is_empty() {
            cfg.user = db.user.clone();
        }
        if !db.password.is_empty() {
            cfg.password = db.password.clone();
        }
        if db.host.starts_with('/') {
            cfg.socket = Some(PathBuf::from(&db.host));
        } else if !db.host.is_empty() {
            cfg.host = db.host.clone();
        }
        if !db.port.is_empty() {
            cfg.port = parse_port(&db.port)?;
        }
        if let Some(sock) = db.options.get("unix_socket") {
            cfg.socket = Some(PathBuf::from(sock));
        }
        if let Some(t) = db.options.get("connect_timeout") {
            let secs: f64 = t.parse().map_err(|_| {
                Error::Config(format!("OPTIONS connect_timeout {t:?} is not a number"))
            })?;
            cfg.connect_timeout = Duration::from_secs_f64(secs.max(0.1));
        }
        cfg.init_command = db.options.get("init_command").cloned();
        if cfg.database.is_empty() {
            return Err(Error::Config(
                "DATABASES NAME is empty; name the shop's database".into(),
            ));
        }
        if cfg.socket.is_none() && (cfg.host.is_empty() || cfg.host == "localhost") {
            cfg.socket = DEFAULT_SOCKETS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists());
            if cfg.host.is_empty() {
                cfg.host = "127.0.0.1".into();
            }
        }
        Ok(cfg)
    }

    /// Reads the `[client]` (and `[mysql]`/`[mariadb-client]`) groups of a my.cnf-style file.
    fn apply_option_file(&mut self, path: &Path) -> Result<()> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io("reading option file", path, e))?;
        let mut in_client = false;
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                let group = line.trim_matches(|c| c == '[' || c == ']').trim();
                in_client = matches!(
                    group,
                    "client" | "mysql" | "mariadb-client" | "client-mariadb"
                );
                continue;
            }
            if !in_client {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().replace('-', "_");
            let value = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            match key.as_str() {
                "user" => self.user = value,
                "password" => self.password = Secret::new(value),
                "host" => self.host = value,
                "port" => self.port = parse_port(&value)?,
                "socket" => self.socket = Some(PathBuf::from(value)),
                "database" => self.database = value,
                _ => {}
            }
        }
        Ok(())
    }

    pub fn target(&self) -> String {
        match &self.socket {
            Some(sock) => format!("{}@{}/{}", self.user, sock.display(), self.database),
            None => format!(
                "{}@{}:{}/{}",
                self.user, self.host, self.port, self.database
            ),
        }
    }
}

fn parse_port(port: &str) -> Result<u16> {
    port.trim()
        .parse()
        .map_err(|_| Error::Config(format!("PORT {port:?} is not a port number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mysql(host: &str, options: &[(&str, &str)]) -> DjangoDatabase {
        DjangoDatabase {
            engine: "django.db.backends.mysql".into(),
            name: "forneria".into(),
            user: "forneria_user".into(),
            password: Secret::new("s3cret-pw"),
            host: host.into(),
            port: "3307".into(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let cfg = DbConfig::from_django(&mysql("db.example", &[])).unwrap();
        let shown = format!("{cfg:?} {}", cfg.target());
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn host_with_slash_is_a_socket_and_tcp_host_keeps_port() {
        let DbConfig::Mysql(sock) = DbConfig::from_django(&mysql("/tmp/x.sock", &[])).unwrap()
        else {
            panic!("mysql expected")
        };
        assert_eq!(sock.socket.as_deref(), Some(Path::new("/tmp/x.sock")));
        let DbConfig::Mysql(tcp) = DbConfig::from_django(&mysql("db.example", &[])).unwrap() else {
            panic!("mysql expected")
        };
        assert_eq!(
            (tcp.host.as_str(), tcp.port, tcp.socket),
            ("db.example", 3307, None)
        );
    }

    #[test]
    fn explicit_settings_override_the_option_file() {
        let dir = tempfile::tempdir().unwrap();
        let cnf = dir.path().join("my.cnf");
        std::fs::write(
            &cnf,
            "[client]\nuser = fromfile\npassword = \"filepw\"\nsocket=/run/file.sock\n[mysqld]\nuser=ignored\n",
        )
        .unwrap();
        let mut db = mysql("", &[("read_default_file", cnf.to_str().unwrap())]);
        db.user.clear();
        let DbConfig::Mysql(cfg) = DbConfig::from_django(&db).unwrap() else {
            panic!("mysql expected")
        };
        assert_eq!(cfg.user, "fromfile");
        assert_eq!(cfg.password.expose(), "s3cret-pw");
        assert_eq!(cfg.socket.as_deref(), Some(Path::new("/run/file.sock")));
    }

    #[test]
    fn unsupported_engine_and_memory_sqlite_are_config_errors() {
        let mut pg = mysql("", &[]);
        pg.engine = "django.db.backends.postgresql".into();
        assert!(matches!(DbConfig::from_django(&pg), Err(Error::Config(_))));
        let mem = DjangoDatabase {
            engine: "django.db.backends.sqlite3".into(),
            name: ":memory:".into(),
            ..Default::default()
        };
        assert!(matches!(DbConfig::from_django(&mem), Err(Error::Config(_))));
    }
}
