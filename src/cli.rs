//! The command line: a stable contract that scripts and our tests use.

use crate::api::deliveries;
use crate::config::{self, LogFormat, Settings};
use crate::db::api_keys::{self, RevokeOutcome};
use crate::db::{Db, accounts, bootstrap, outbox, profiles};
use crate::domain::time;
use crate::startup::{Application, open_database};
use crate::telemetry;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use figment::Figment;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// How long `healthcheck` waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Parser)]
#[command(
    name = "postgate",
    version,
    about = "Self-hosted Upload-Post profiles API and connect page"
)]
pub struct Cli {
    /// TOML configuration file (also POSTGATE_CONFIG).
    #[arg(long, global = true, env = "POSTGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH, a file path, or postgres://... (also POSTGATE_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Data directory for the embedded SQLite database (also POSTGATE_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve (creates a first API account on an empty database).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage API accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect and resend webhook deliveries.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Exit 0 if a running server is ready (`GET /readyz` answers 200), else 1: a container
    /// health check that needs no curl.
    Healthcheck {
        /// The server's base URL (default: this configuration's listen address, with
        /// 0.0.0.0 as loopback).
        #[arg(long, value_name = "URL")]
        url: Option<Url>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (also POSTGATE_LISTEN), e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Base URL of the links Postgate hands out (also POSTGATE_PUBLIC_URL).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Connect every platform to the built-in emulator (also POSTGATE_SANDBOX=true): try the
    /// whole connect flow without platform credentials. Refused in production.
    #[arg(long)]
    pub sandbox: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create an API account with its default profile and first key (printed once).
    Create {
        #[arg(long)]
        name: String,
        /// Plan name from the plan table (default: the configured default plan).
        #[arg(long)]
        plan: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Print exactly one JSON object: {"account_id", "api_key", "plan"}.
        #[arg(long)]
        json: bool,
    },
    /// List API accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Move an account to another plan; profiles over the new limit become blocked, never deleted.
    SetPlan { account_id: String, plan: String },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Issue another key for an account (printed once).
    Create {
        account_id: String,
        #[arg(long)]
        json: bool,
    },
    /// List keys by prefix; the secret part is never stored.
    List {
        #[arg(long, value_name = "ACCOUNT_ID")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key at once.
    Revoke { key_prefix: String },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// An account's webhook deliveries, newest first.
    Deliveries {
        account_id: String,
        /// Only `pending`, `delivered` or `failed` ones.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Send a delivered or failed delivery again (same id and body); a running server
    /// picks it up within a second.
    Redeliver { delivery_id: String },
}

impl Cli {
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut overrides = Figment::new();
        if let Some(url) = &self.database_url {
            overrides = overrides.merge(("database_url", url));
        }
        if let Some(dir) = &self.data_dir {
            overrides = overrides.merge(("data_dir", dir));
        }
        if let Command::Serve(args) = &self.command {
            if let Some(listen) = &args.listen {
                overrides = overrides.merge(("listen", listen));
            }
            if let Some(url) = &args.public_url {
                overrides = overrides.merge(("public_url", url));
            }
            if args.sandbox {
                overrides = overrides.merge(("sandbox", true));
            }
        }
        Ok(Settings::load(&Settings::figment(
            self.config.as_deref(),
            overrides,
        ))?)
    }
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = cli.settings()?;
    match cli.command {
        Command::Serve(_) => {
            telemetry::init(&settings.log.filter, settings.log.format);
            serve(settings)
        }
        Command::Healthcheck { url } => {
            healthcheck(url.unwrap_or_else(|| config::local_url(settings.server.listen)))
        }
        command => {
            // Commands print their results on stdout; keep stderr for real problems.
            telemetry::init("warn", LogFormat::Pretty);
            // One command, one connection.
            settings.database.pool_size = 1;
            let db = open_database(&settings)?;
            match command {
                Command::Migrate => {
                    println!(
                        "Database is up to date ({}).",
                        settings.database.url.redacted()
                    );
                    Ok(())
                }
                Command::Accounts(cmd) => accounts_command(&settings, &db, cmd),
                Command::Keys(cmd) => keys_command(&db, cmd),
                Command::Webhooks(cmd) => webhooks_command(&db, cmd),
                Command::Serve(_) | Command::Healthcheck { .. } => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        let db_settings = settings.clone();
        let db = tokio::task::spawn_blocking(move || open_database(&db_settings)).await??;
        let app = Application::build(&settings, db.clone())?;
        let plan = settings.plans.default_plan().name.clone();
        let created = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            Ok(bootstrap::first_account(&mut *db.conn()?, &plan)?)
        })
        .await??;
        let base = app.public_url().as_str().trim_end_matches('/').to_owned();
        tracing::info!(address = %app.addr(), public_url = %base, database = %settings.database.url.backend(), "Postgate is listening");
        if let Some(created) = created {
            println!("Postgate is listening on http://{}", app.addr());
            println!();
            println!(
                "Created the first API account \"{}\" on plan \"{}\". Its API key is shown only once:",
                created.account.name, created.account.plan
            );
            println!();
            println!("    {}", created.api_key.full);
            println!();
            println!("Try it:");
            println!();
            println!(
                "    curl -H 'Authorization: Apikey {}' {base}/api/uploadposts/me",
                created.api_key.full
            );
            println!();
        }
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    });
    // Work left behind at the shutdown deadline may still hold a blocking thread (a database
    // call): the process does not wait for it.
    runtime.shutdown_background();
    served
}

/// Asks the server at `base` whether it is ready; no database of its own.
fn healthcheck(base: Url) -> anyhow::Result<()> {
    let url = base.join("readyz")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime
        .block_on(async {
            reqwest::Client::builder()
                .timeout(HEALTHCHECK_TIMEOUT)
                .build()?
                .get(url.clone())
                .send()
                .await
                .map(|r| r.status())
        })
        .with_context(|| format!("{url} did not answer"))?;
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    println!("ready: {url} answered {status}");
    Ok(())
}

fn accounts_command(settings: &Settings, db: &Db, cmd: AccountsCommand) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match cmd {
        AccountsCommand::Create {
            name,
            plan,
            email,
            json,
        } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("--name must not be empty");
            }
            let plan = match plan {
                Some(p) => settings
                    .plans
                    .get(&p)
                    .with_context(|| unknown_plan(settings, &p))?,
                None => settings.plans.default_plan(),
            };
            let created = accounts::create(&mut conn, name, email.as_deref(), &plan.name)?;
            if json {
                println!(
                    "{}",
                    json!({"account_id": created.account.id, "api_key": created.api_key.full, "plan": plan.name})
                );
            } else {
                println!(
                    "Created account {} ({name}) on plan {}.",
                    created.account.id, plan.name
                );
                println!(
                    "API key (shown only once, store it now): {}",
                    created.api_key.full
                );
            }
        }
        AccountsCommand::List { json } => {
            let all = accounts::list(&mut conn)?;
            if json {
                let rows: Vec<_> = all
                    .iter()
                    .map(|s| {
                        let limit = settings
                            .plans
                            .get(&s.account.plan)
                            .map(|p| p.profiles.as_json());
                        json!({
                            "account_id": s.account.id,
                            "name": s.account.name,
                            "email": s.account.email,
                            "plan": s.account.plan,
                            "profiles": s.profiles,
                            "profile_limit": limit,
                            "active_keys": s.active_keys,
                            "created_at": time::rfc3339(s.account.created_at),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<36}  {:<20}  {:<12}  {:>8}  {:>4}  CREATED",
                    "ID", "NAME", "PLAN", "PROFILES", "KEYS"
                );
                for s in &all {
                    println!(
                        "{:<36}  {:<20}  {:<12}  {:>8}  {:>4}  {}",
                        s.account.id,
                        s.account.name,
                        s.account.plan,
                        s.profiles,
                        s.active_keys,
                        time::rfc3339(s.account.created_at)
                    );
                }
            }
        }
        AccountsCommand::SetPlan { account_id, plan } => {
            let plan = settings
                .plans
                .get(&plan)
                .with_context(|| unknown_plan(settings, &plan))?;
            if !accounts::set_plan(&mut conn, &account_id, &plan.name)? {
                bail!("no account with id {account_id}");
            }
            let count = profiles::count(&mut conn, &account_id)?;
            let blocked = plan.profiles.blocked_among(count);
            println!(
                "Account {account_id} is now on plan {} ({count} profiles, limit {}, {blocked} blocked).",
                plan.name, plan.profiles
            );
        }
    }
    Ok(())
}

fn keys_command(db: &Db, cmd: KeysCommand) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match cmd {
        KeysCommand::Create { account_id, json } => {
            if accounts::find(&mut conn, &account_id)?.is_none() {
                bail!("no account with id {account_id}");
            }
            let key = api_keys::issue(&mut conn, &account_id)?;
            if json {
                println!(
                    "{}",
                    json!({"account_id": account_id, "api_key": key.full, "prefix": key.prefix})
                );
            } else {
                println!(
                    "API key for {account_id} (shown only once, store it now): {}",
                    key.full
                );
            }
        }
        KeysCommand::List { account, json } => {
            let keys = api_keys::list(&mut conn, account.as_deref())?;
            let ts = |t: Option<chrono::NaiveDateTime>| t.map(time::rfc3339);
            if json {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        json!({
                            "prefix": k.prefix,
                            "account_id": k.account_id,
                            "created_at": time::rfc3339(k.created_at),
                            "last_used_at": ts(k.last_used_at),
                            "revoked_at": ts(k.revoked_at),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<14}  {:<36}  {:<20}  {:<20}  REVOKED",
                    "PREFIX", "ACCOUNT", "CREATED", "LAST USED"
                );
                for k in &keys {
                    println!(
                        "{:<14}  {:<36}  {:<20}  {:<20}  {}",
                        k.prefix,
                        k.account_id,
                        time::rfc3339(k.created_at),
                        ts(k.last_used_at).unwrap_or_else(|| "-".into()),
                        ts(k.revoked_at).unwrap_or_else(|| "-".into())
                    );
                }
            }
        }
        KeysCommand::Revoke { key_prefix } => match api_keys::revoke(&mut conn, &key_prefix)? {
            RevokeOutcome::Revoked { account_id } => {
                println!("Revoked key {key_prefix} of account {account_id}.")
            }
            RevokeOutcome::AlreadyRevoked => println!("Key {key_prefix} was already revoked."),
            RevokeOutcome::NotFound => bail!("no key with prefix {key_prefix}"),
        },
    }
    Ok(())
}

fn webhooks_command(db: &Db, cmd: WebhooksCommand) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match cmd {
        WebhooksCommand::Deliveries {
            account_id,
            state,
            limit,
            json,
        } => {
            let rows = outbox::list(&mut conn, &account_id, state.as_deref(), None, limit)?;
            if json {
                let rows: Vec<_> = rows.iter().map(deliveries::view).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<28}  {:<30}  {:<9}  {:>8}  {:<20}  LAST ERROR",
                    "DELIVERY", "EVENT", "STATE", "ATTEMPTS", "CREATED"
                );
                for d in &rows {
                    println!(
                        "{:<28}  {:<30}  {:<9}  {:>8}  {:<20}  {}",
                        d.id,
                        d.event,
                        d.state,
                        d.attempts,
                        time::rfc3339(d.created_at),
                        d.last_error.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        WebhooksCommand::Redeliver { delivery_id } => {
            if !outbox::redeliver(&mut conn, None, &delivery_id)?.without_wake() {
                bail!("no delivery with id {delivery_id}");
            }
            let d = outbox::find(&mut conn, &delivery_id)?;
            println!(
                "Delivery {delivery_id} is {}.",
                d.map_or_else(|| "gone".to_owned(), |d| d.state)
            );
        }
    }
    Ok(())
}

fn unknown_plan(settings: &Settings, name: &str) -> String {
    format!(
        "unknown plan {name:?} (known: {})",
        settings.plans.names().collect::<Vec<_>>().join(", ")
    )
}
