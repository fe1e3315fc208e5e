//! herald's command line: `serve` runs a node; `migrate`, `crowd check`, `send`, `dry-run`,
//! `apikey create` and `user add` are the operator's tools; `completions` and `man` describe
//! the CLI itself.

mod cli;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// The version, the commit it was built from and the cluster backends built in (`build.rs`).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HERALD_COMMIT"),
    "; cluster backends: ",
    env!("HERALD_CLUSTER_BACKENDS"),
    ")"
);

#[derive(Debug, Parser)]
#[command(name = "herald", version = VERSION, about = "Scheduled sends for messaging: one binary, no services needed.")]
struct Cli {
    /// Configuration file (default: config/herald.toml when present).
    #[arg(long, short, global = true, env = "HERALD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: the API, the scheduler and the workers (or the roles given).
    Serve {
        /// Any of api,scheduler,worker.
        #[arg(long, default_value = "api,scheduler,worker")]
        roles: String,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Crowd file tools.
    Crowd {
        #[command(subcommand)]
        command: CrowdCommand,
    },
    /// Send one message through a running node's send API.
    Send(cli::send::SendArgs),
    /// Where a template's crowd would go if it ran now (or --at): counts per screen and a few
    /// rendered messages, through a running node's API. Nothing is sent or recorded.
    DryRun(cli::dry_run::DryRunArgs),
    /// A run's progress; pausing, resuming, cancelling or resending it, through a running node's API.
    Run {
        #[command(subcommand)]
        command: cli::run::RunCommand,
    },
    /// Scheduled jobs (HTTP calls on a cadence) and their run log, through a running node's API.
    Job {
        #[command(subcommand)]
        command: cli::job::JobCommand,
    },
    /// Write every template and job of a running node as one JSON or TOML document (secret
    /// header values masked).
    Export(cli::export::ExportArgs),
    /// Create or update (by name) the templates and jobs of a `herald export` document on a
    /// running node.
    Import(cli::import::ImportArgs),
    /// API key tools.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Admin console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a shell completion script: `herald completions bash > /etc/bash_completion.d/herald`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print herald's man page (roff): `herald man > herald.1 && man ./herald.1`.
    Man,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a console user. The password comes from HERALD_USER_PASSWORD, a prompt, or the
    /// first line of standard input.
    Add { name: String },
    /// Set a user's password (same sources as `add`) and end the user's sessions.
    Passwd { name: String },
    /// List the console users, by name, with whether each is disabled.
    List,
    /// Disable a user: their sessions end and they cannot log in (never the last enabled one).
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
}

#[derive(Debug, Subcommand)]
enum CrowdCommand {
    /// Validate a crowd CSV and print the report (exit 1 if it has bad rows or is unusable).
    Check {
        file: PathBuf,
        /// The column that holds the receiver.
        #[arg(long, default_value = herald_crowd::DEFAULT_RECEIVER_COLUMN)]
        receiver_column: String,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a new API key and print it once.
    Create {
        /// What the key is for, shown in lists.
        #[arg(long, alias = "label", default_value = "cli")]
        name: String,
        /// `admin` (every route) or `send` (only /send, /batchSend and /recall).
        #[arg(long, default_value = "admin")]
        scope: String,
    },
    /// List the keys: id, prefix, name, scope, created, last used, revoked.
    List,
    /// Revoke a key by id; it is refused at once. The last usable admin key stays.
    Revoke { id: i64 },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "herald", &mut std::io::stdout());
            return std::process::ExitCode::SUCCESS;
        }
        Command::Man => return print_man_page(),
        _ => {}
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { roles } => cli::serve::run(cli.config.as_deref(), &roles).await,
            Command::Migrate => cli::admin::migrate(cli.config.as_deref()).await,
            Command::Crowd { command: CrowdCommand::Check { file, receiver_column } } => {
                cli::crowd_check::run(&file, &receiver_column)
            }
            Command::Send(args) => cli::send::run(args).await,
            Command::DryRun(args) => cli::dry_run::run(args).await,
            Command::Run { command } => cli::run::run(command).await,
            Command::Job { command } => cli::job::run(command).await,
            Command::Export(args) => cli::export::run(args).await,
            Command::Import(args) => cli::import::run(args).await,
            Command::Apikey { command: ApikeyCommand::Create { name, scope } } => {
                cli::admin::create_api_key(cli.config.as_deref(), &name, &scope).await
            }
            Command::Apikey { command: ApikeyCommand::List } => cli::admin::list_api_keys(cli.config.as_deref()).await,
            Command::Apikey { command: ApikeyCommand::Revoke { id } } => {
                cli::admin::revoke_api_key(cli.config.as_deref(), id).await
            }
            Command::User { command: UserCommand::Add { name } } => cli::user::add(cli.config.as_deref(), &name).await,
            Command::User { command: UserCommand::Passwd { name } } => {
                cli::user::passwd(cli.config.as_deref(), &name).await
            }
            Command::User { command: UserCommand::List } => cli::user::list(cli.config.as_deref()).await,
            Command::User { command: UserCommand::Disable { name } } => {
                cli::user::set_disabled(cli.config.as_deref(), &name, true).await
            }
            Command::User { command: UserCommand::Enable { name } } => {
                cli::user::set_disabled(cli.config.as_deref(), &name, false).await
            }
            Command::Completions { .. } | Command::Man => unreachable!("answered before the runtime starts"),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn print_man_page() -> std::process::ExitCode {
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the man page: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
