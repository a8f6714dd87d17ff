//! `keyward serve`: run the HTTP server until interrupted.

use clap::Args;

use super::CliResult;
use crate::config::Settings;
use crate::startup::Application;

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Listen here instead of the `bind` setting (e.g. 0.0.0.0:8000).
    #[arg(long)]
    pub bind: Option<String>,
}

pub fn run(mut settings: Settings, args: ServeArgs) -> CliResult {
    if let Some(bind) = args.bind {
        settings.bind = bind;
    }
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone()).await?;
        tracing::info!(bind = %settings.bind, port = app.port(), workers = settings.worker_count(), "keyward listening");
        app.run_until_stopped().await?;
        Ok(())
    })
}
