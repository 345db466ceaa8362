//! Logging: a `tracing-subscriber` with JSON (default) or text output on stdout and a level
//! filter from `--log-level`, else `RUST_LOG`, else `info`. Text is coloured only on a terminal
//! and without `NO_COLOR`.
use std::ffi::OsStr;
use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("log filter {filter:?} is invalid ({reason}); fix --log-level or RUST_LOG, e.g. `info` or `vpn_operator=debug`")]
    BadFilter { filter: String, reason: String },
    #[error("a global logger is already installed: {0}")]
    AlreadyInitialised(String),
}

/// The filter directives in effect: `--log-level` wins over `RUST_LOG`; `info` when neither is set.
pub fn filter_directives(flag: Option<&str>, rust_log: Option<&str>) -> String {
    [flag, rust_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or("info")
        .to_string()
}

/// Builds the filter for `config`, reading `RUST_LOG` when `--log-level` is not given.
pub fn env_filter(config: &LogConfig) -> Result<EnvFilter, TelemetryError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let directives = filter_directives(config.filter.as_deref(), rust_log.as_deref());
    EnvFilter::try_new(&directives).map_err(|e| TelemetryError::BadFilter {
        filter: directives,
        reason: e.to_string(),
    })
}

/// Whether text logs carry ANSI colour codes: only when they go to a terminal, and not when
/// `NO_COLOR` is set to anything but the empty string (<https://no-color.org>). A file, a pipe or
/// a container log gets plain text.
pub fn use_colour(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Installs the global subscriber. Call once, early in `main`.
pub fn init(config: &LogConfig) -> Result<(), TelemetryError> {
    let filter = env_filter(config)?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Text => {
            // The layer writes to stdout.
            let colour = use_colour(
                std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            );
            registry
                .with(tracing_subscriber::fmt::layer().with_ansi(colour))
                .try_init()
        }
    };
    result.map_err(|e| TelemetryError::AlreadyInitialised(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_then_rust_log_then_info() {
        assert_eq!(filter_directives(Some("debug"), Some("warn")), "debug");
        assert_eq!(
            filter_directives(None, Some("vpn_operator=trace")),
            "vpn_operator=trace"
        );
        assert_eq!(filter_directives(Some(" "), Some("warn")), "warn");
        assert_eq!(filter_directives(None, None), "info");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let set = |v: &'static str| Some(OsStr::new(v));
        assert!(use_colour(true, None));
        assert!(!use_colour(false, None), "a file or a pipe gets no colour");
        assert!(!use_colour(true, set("1")));
        assert!(
            !use_colour(true, set("false")),
            "any non-empty value counts"
        );
        assert!(use_colour(true, set("")), "an empty NO_COLOR is ignored");
        assert!(!use_colour(false, set("")));
        assert!(!use_colour(false, set("1")));
    }

    #[test]
    fn bad_filter_is_reported_with_a_fix() {
        let config = LogConfig {
            format: LogFormat::Json,
            filter: Some("vpn_operator=[[[".into()),
        };
        let err = env_filter(&config).unwrap_err().to_string();
        assert!(err.contains("--log-level"), "{err}");
    }
}
