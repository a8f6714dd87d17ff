//! `keyward createsuperuser`: prompts for what is not given; `--no-input` with
//! `--password-stdin` for scripts.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use super::{CliResult, connect, connect_for_migrations};
use crate::auth::{PasswordHasher, policy};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::models::user;
use crate::db::{DbError, migrations};
use crate::prepare::PrepareError;
use crate::superuser;
use crate::validation;

#[derive(Debug, Args)]
pub struct CreateSuperuserArgs {
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Never prompt: fail when something is missing.
    #[arg(long)]
    pub no_input: bool,
}

pub fn run(settings: &Settings, args: CreateSuperuserArgs) -> CliResult {
    let interactive = !args.no_input && std::io::stdin().is_terminal();
    let username = match args.username {
        Some(name) => name.trim().to_owned(),
        None if interactive => prompt("Username: ")?,
        None => return Err("--username is required with --no-input or without a terminal".into()),
    };
    let username = validation::normalize_username(&username);
    if username.is_empty() || validation::username_problem(&username).is_some() {
        return Err("username: 1-150 letters, digits and @/./+/-/_ only".into());
    }
    let email = match args.email {
        Some(email) => email.trim().to_owned(),
        None if interactive => prompt("Email address (optional): ")?,
        None => String::new(),
    };
    // Optional, as in Django, but when given it must be an address (signup's rule).
    if !email.is_empty() && !crate::api::valid_email(&email) {
        return Err(format!("email: {}", crate::api::INVALID_EMAIL).into());
    }
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if interactive {
        let first = rpassword::prompt_password("Password: ")?;
        if rpassword::prompt_password("Password (again): ")? != first {
            return Err("the two passwords differ".into());
        }
        first
    } else {
        return Err("give the password with --password-stdin (or run in a terminal)".into());
    };
    let problems = policy::violations(&password, &username, &email, settings.password_min_length);
    if !problems.is_empty() {
        return Err(format!("password refused: {}", problems.join(" ")).into());
    }

    migrations::run_pending(&mut *connect_for_migrations(settings)?)?;
    let mut conn = connect(settings)?;
    if user::username_taken(&mut conn, &username)? {
        return Err(format!("a user named {username:?} already exists").into());
    }
    let unique_emails = settings.login_field_set()?.unique_emails();
    if unique_emails && user::email_taken(&mut conn, &email, None)? {
        return Err(format!("email: {}", validation::EMAIL_TAKEN).into());
    }
    let hasher = PasswordHasher::new(settings.bcrypt_cost);
    match superuser::create(
        &mut conn,
        &hasher,
        &username,
        &email,
        &password,
        Clock::default().now(),
    ) {
        Ok(_) => {
            println!("Superuser {username:?} created.");
            Ok(())
        }
        Err(PrepareError::Database(DbError::Conflict(_))) => {
            Err(format!("a user named {username:?} already exists").into())
        }
        Err(other) => Err(other.into()),
    }
}

fn prompt(label: &str) -> std::io::Result<String> {
    print!("{label}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}
