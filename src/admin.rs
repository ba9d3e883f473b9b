//! `videotube admin`: account administration on the server machine, on the store the configuration
//! names (docs/api.md §3.15.1). The first admin is made here.

use anyhow::Context;

use crate::app::open_store;
use crate::config::Config;
use crate::domain::choice::Choice;
use crate::domain::user::Role;
use crate::services::roles::grant_role_on_server;

/// Account administration on the configured store (`MONGODB_URI`, else SQLite in `DATA_DIR`).
#[derive(clap::Parser, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Gives a user a role (user, moderator or admin); prints the user's id and new role
    Grant {
        /// The user's username
        username: String,
        /// user, moderator or admin
        #[arg(value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(Role::invalid)
}

/// Runs the command; what it printed on success, the reason on failure.
pub async fn run(args: Args, config: Config) -> anyhow::Result<String> {
    let store = open_store(&config).await.context("opening the store")?;
    match args.command {
        Command::Grant { username, role } => {
            let grant = grant_role_on_server(&store, &username, role).await.map_err(anyhow::Error::from)?;
            Ok(format!("{} {}", grant.id, grant.role.as_str()))
        }
    }
}
