//! Log output: `RUST_LOG` filters (default `info,keyward::access=warn`: no line per request),
//! `log_format` picks text or JSON lines.

use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,keyward::access=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if result.is_err() {
        // Already initialised (tests); keep the first subscriber.
    }
}
