//! The `blazz` command line.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use blazz_domain::{JobState, Role};
use blazz_store::{jobs, workspaces};
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, LogFormat};
use crate::services::{self, accounts::NewAccount};

#[derive(Parser, Debug)]
#[command(
    name = "blazz",
    version,
    about = "Self-hosted, multi-tenant WhatsApp business messaging"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct Global {
    /// A TOML configuration file (settings in BLAZZ_* variables win).
    #[arg(long, global = true, env = "BLAZZ_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where SQLite and local files live (default ./data).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Log lines as text (default) or JSON objects.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web app, the API and the background workers.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect and replay background jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Manage the master keys that encrypt provider credentials at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user who owns a new workspace.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The new workspace's name (its slug is derived from it).
        #[arg(long)]
        workspace: String,
        /// Read the password from standard input instead of --password.
        #[arg(long, conflicts_with = "password")]
        password_stdin: bool,
        #[arg(long, env = "BLAZZ_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token and print it (it is shown only this once).
    Create {
        /// The workspace's slug.
        #[arg(long)]
        workspace: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// queued, running, done or dead.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Replay a dead job.
    Retry { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Re-encrypt every stored secret under a new master key; running
    /// instances keep working. With a key file, the new key is generated
    /// into it. With secrets.master_key configured, give the new key (see
    /// the README), else everything is re-sealed under the configured key.
    Rotate {
        /// The new key, base64 of 32 bytes. Prefer BLAZZ_SECRETS__NEW_KEY:
        /// other users can see process arguments.
        #[arg(long)]
        new_key: Option<String>,
        /// Secrets re-sealed per transaction.
        #[arg(long, default_value_t = 500)]
        batch: i64,
        /// Keep keys that no secret uses any more in the key file.
        #[arg(long)]
        keep_old_keys: bool,
    },
    /// Print a new random key (base64 of 32 bytes) for secrets.master_key.
    Generate,
    /// The current key, and how many secrets each key seals.
    Status,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: blazz_domain::role::UnknownRole| e.to_string())
}

fn load_config(global: &Global) -> anyhow::Result<Config> {
    let mut config = Config::load(global.config.as_deref())?;
    if let Some(dir) = &global.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(f) = global.log_format {
        config.log_format = f;
    }
    Ok(config)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = load_config(&cli.global)?;
    crate::telemetry::init(config.log_format);
    match cli.command {
        Command::Serve { addr } => {
            if let Some(addr) = addr {
                config.addr = addr;
            }
            crate::server::serve(config).await
        }
        Command::Migrate => {
            let url = config.database_url();
            if blazz_store::Dialect::from_url(&url)? == blazz_store::Dialect::Sqlite {
                std::fs::create_dir_all(&config.data_dir)?;
            }
            let db = blazz_store::Db::connect(&url).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            name,
            workspace,
            password_stdin,
            password,
        }) => {
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s.trim_end_matches(['\r', '\n']).to_string()
            } else {
                password.context("give --password, --password-stdin or BLAZZ_NEW_USER_PASSWORD")?
            };
            let db = crate::server::open_db(&config).await?;
            let new = NewAccount {
                email: &email,
                name: &name,
                password: &password,
                workspace_name: &workspace,
            };
            let (user, ws) = services::accounts::create(&db, new, false)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created user {} ({}) owning workspace {} ({})",
                user.email, user.id, ws.slug, ws.id
            );
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            workspace,
            role,
            name,
        }) => {
            let db = crate::server::open_db(&config).await?;
            let mut conn = db.pool.acquire().await?;
            let ws = workspaces::find_by_slug(&mut conn, &workspace)
                .await?
                .with_context(|| format!("no workspace has the slug {workspace:?}"))?;
            drop(conn);
            let (_, secret) = services::tokens::create(
                &db,
                ws.id,
                &services::cli_actor(),
                None,
                &name,
                role,
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{secret}");
            Ok(())
        }
        Command::Jobs(JobsCommand::List { state, limit }) => {
            let db = crate::server::open_db(&config).await?;
            let state = state
                .map(|s| s.parse::<JobState>())
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let mut conn = db.pool.acquire().await?;
            for j in jobs::list(&mut conn, None, state, None, limit.clamp(1, 10_000)).await? {
                println!(
                    "{}\t{}\t{}\tattempts {}/{}\t{}",
                    j.id,
                    j.name,
                    j.state,
                    j.attempts,
                    j.max_attempts,
                    j.last_error.unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Jobs(JobsCommand::Retry { id }) => {
            let db = crate::server::open_db(&config).await?;
            let mut conn = db.write().await?;
            if jobs::retry_dead(&mut conn, id, None).await? {
                println!("job {id} queued again");
                Ok(())
            } else {
                anyhow::bail!("job {id} does not exist or is not dead")
            }
        }
        Command::Keys(cmd) => keys(cmd, config).await,
        Command::Bench(cmd) => crate::bench::run(cmd, config).await,
    }
}

async fn keys(cmd: KeysCommand, config: Config) -> anyhow::Result<()> {
    use crate::secrets::{self, rotate};
    match cmd {
        KeysCommand::Generate => {
            let key = secrets::Key::generate();
            eprintln!("key id {}", key.id());
            println!("{}", key.to_base64().as_str());
            Ok(())
        }
        KeysCommand::Status => {
            let db = crate::server::open_db(&config).await?;
            for k in rotate::status(&db, &config).await? {
                let mut notes = Vec::new();
                if k.current {
                    notes.push("current");
                }
                if !k.held {
                    notes.push("NOT HELD: these secrets cannot be opened");
                }
                println!("{}\t{} secrets\t{}", k.key_id, k.secrets, notes.join(", "));
            }
            Ok(())
        }
        KeysCommand::Rotate {
            new_key,
            batch,
            keep_old_keys,
        } => {
            let given = new_key
                .map(crate::config::Secret::new)
                .or_else(|| config.secrets.new_key.clone());
            let new_key = given
                .map(|k| secrets::Key::from_base64(k.expose(), "the new key"))
                .transpose()?;
            let db = crate::server::open_db(&config).await?;
            let options = rotate::Options {
                new_key,
                batch,
                keep_old_keys,
            };
            let done = rotate::rotate(&db, &config, options).await?;
            println!(
                "{} secrets re-sealed; every readable secret is now under key {}",
                done.resealed, done.key_id
            );
            if !done.dropped.is_empty() {
                println!(
                    "keys no secret uses any more were dropped from {}: {}",
                    secrets::key_file_path(&config.data_dir).display(),
                    done.dropped.join(", ")
                );
            }
            if done.swap_needed {
                println!(
                    "now set secrets.master_key to the new key (key id {}) on every instance and \
                     keep the previous one in secrets.old_keys until `blazz keys status` shows \
                     it seals nothing",
                    done.key_id
                );
            } else if done.from_config {
                println!(
                    "keys in secrets.old_keys that `blazz keys status` shows sealing nothing can be removed"
                );
            }
            if !done.unreadable.is_empty() {
                for (id, why) in done.unreadable.iter().take(10) {
                    eprintln!("secret {id}: {why}");
                }
                anyhow::bail!(
                    "{} secrets could not be opened and keep their old keys (no key was dropped)",
                    done.unreadable.len()
                );
            }
            if done.left > 0 {
                anyhow::bail!(
                    "{} secrets were still under another key after the last pass (something kept \
                     writing with an old key); run `blazz keys rotate` again",
                    done.left
                );
            }
            Ok(())
        }
    }
}
