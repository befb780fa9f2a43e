//! Logs to stderr as hclog JSON lines (`@level`, `@message`, `@timestamp`,
//! then the event's fields), the shape Terraform's plugin client parses and
//! re-emits under TF_LOG at the line's own level.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the logger for the provider of type name `provider` (its lines
/// carry it as `@module`). The level comes from the same variables
/// Terraform reads (`TF_LOG_PROVIDER_<TYPE>` first) so that, by default,
/// nothing is formatted at all. Only the provider's crate and this one log
/// below WARN: the HTTP and gRPC libraries' trace output is noise and could
/// carry request details.
pub fn init(provider: &str, crate_target: &'static str) {
    let own_variable = format!("TF_LOG_PROVIDER_{}", provider.to_ascii_uppercase());
    let level = [own_variable.as_str(), "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .map_or(LevelFilter::WARN, |v| parse_level(&v));
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(level))
        .with_target(crate_target, level)
        .with_target(env!("CARGO_CRATE_NAME"), level);
    // Ignore a second initialisation (tests start several servers).
    let layer = HclogLayer {
        module: provider.to_owned(),
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

fn parse_level(value: &str) -> LevelFilter {
    match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        // Terraform treats any other non-empty value as TRACE.
        _ => LevelFilter::TRACE,
    }
}

struct HclogLayer {
    module: String,
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = format_line(
            event.metadata().level(),
            SystemTime::now(),
            &self.module,
            |visitor| event.record(visitor),
        );
        // One write per line, so concurrent events never interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

fn format_line(
    level: &Level,
    at: SystemTime,
    module: &str,
    record: impl FnOnce(&mut FieldsVisitor),
) -> String {
    let mut visitor = FieldsVisitor::default();
    record(&mut visitor);
    let mut object = serde_json::Map::new();
    object.insert("@level".into(), hclog_level(level).into());
    object.insert("@message".into(), visitor.message.into());
    object.insert(
        "@timestamp".into(),
        humantime::format_rfc3339_micros(at).to_string().into(),
    );
    object.insert("@module".into(), module.into());
    object.extend(visitor.fields);
    let mut line = serde_json::Value::Object(object).to_string();
    line.push('\n');
    line
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

#[derive(Default)]
struct FieldsVisitor {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for FieldsVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.insert(field.name().into(), value.into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().into(), text.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_terraform_names() {
        assert_eq!(parse_level("debug"), LevelFilter::DEBUG);
        assert_eq!(parse_level("JSON"), LevelFilter::TRACE);
        assert_eq!(parse_level("yes"), LevelFilter::TRACE);
        assert_eq!(parse_level("off"), LevelFilter::OFF);
    }

    #[test]
    fn lines_are_hclog_json() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_500_000);
        let line = format_line(&Level::DEBUG, at, "demo", |v| {
            v.message = "planned".into();
            v.fields.insert("type".into(), "demo_key".into());
        });
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(parsed["@level"], "debug");
        assert_eq!(parsed["@message"], "planned");
        assert_eq!(parsed["@module"], "demo");
        assert_eq!(parsed["@timestamp"], "1970-01-01T00:00:01.500000Z");
        assert_eq!(parsed["type"], "demo_key");
        assert!(line.ends_with('\n'));
    }
}
