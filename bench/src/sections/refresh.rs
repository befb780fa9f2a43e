//! Part of section 3: a refresh of many `parallel_app`s, counting the API
//! calls by endpoint. The API can only list all apps at once, so the
//! provider shares one list among every app refreshed in a run
//! (`toolkit::AppDirectory`): one list per refresh, whatever the count.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Bench, progress};
use crate::emulator::RequestRecord;
use crate::error::{BenchError, Result};
use crate::report;
use crate::terraform::{Launch, Series, Verb};

pub const LIST_ENDPOINT: &str = "GET /service/v1/apps";

/// One Terraform command and the API calls it made.
#[derive(Debug, Serialize)]
pub struct Counted {
    pub verb: &'static str,
    pub wall_s: f64,
    /// Calls per endpoint, IDs in paths replaced by `{id}`.
    pub calls: BTreeMap<String, usize>,
    pub total_calls: usize,
    pub list_calls: usize,
    /// Plans only: whether it proposed changes (it should not).
    pub had_changes: bool,
}

#[derive(Debug, Serialize)]
pub struct RefreshReport {
    pub apps: usize,
    /// The apply that created the apps.
    pub create: Counted,
    /// `plan -refresh-only` and `plan`, `runs` of each.
    pub refreshes: Vec<Counted>,
    /// The most list calls any one refresh made.
    pub max_list_calls_per_refresh: Option<usize>,
    pub min_list_calls_per_refresh: Option<usize>,
}

pub fn run(bench: &mut Bench) -> Result<RefreshReport> {
    let apps = bench.options.refresh_apps;
    let runs = bench.options.runs;
    let main_tf = configuration(apps);
    let dir = bench
        .harness
        .workdir_with(Series::Provider, apps, "refresh-apps", &main_tf)?;
    let create = counted(bench, &dir, Verb::Apply)?;
    progress(
        "scaling",
        format!(
            "apply of {apps} parallel_app: {:.2} s, {} API calls ({} lists)",
            create.wall_s, create.total_calls, create.list_calls
        ),
    );
    let mut refreshes = Vec::new();
    for run in 0..runs {
        for verb in [Verb::RefreshOnly, Verb::Plan] {
            let refresh = counted(bench, &dir, verb)?;
            progress(
                "scaling",
                format!(
                    "run {}/{runs}: {} of {apps} parallel_app: {:.2} s, {} API calls ({} lists)",
                    run + 1,
                    verb.name(),
                    refresh.wall_s,
                    refresh.total_calls,
                    refresh.list_calls
                ),
            );
            refreshes.push(refresh);
        }
    }
    let _ = std::fs::remove_dir_all(&dir.path);
    Ok(RefreshReport {
        apps,
        create,
        max_list_calls_per_refresh: refreshes.iter().map(|r| r.list_calls).max(),
        min_list_calls_per_refresh: refreshes.iter().map(|r| r.list_calls).min(),
        refreshes,
    })
}

fn configuration(apps: usize) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    parallel = {{\n      source = \"{}\"\n    }}\n  }}\n}}\n\n\
         provider \"parallel\" {{}}\n\n\
         resource \"parallel_app\" \"bench\" {{\n  count    = {apps}\n  \
         app_name = \"bench-refresh-${{count.index}}\"\n}}\n",
        crate::terraform::PROVIDER_SOURCE
    )
}

fn counted(bench: &mut Bench, dir: &crate::terraform::Workdir, verb: Verb) -> Result<Counted> {
    bench.emulator.clear_requests()?;
    let outcome = bench.harness.run(dir, verb, Launch::Direct)?;
    let records = bench.emulator.requests()?;
    let calls = by_endpoint(&records);
    let unanswered = records
        .iter()
        .filter(|r| !r.status.is_some_and(|code| (200..300).contains(&code)))
        .count();
    if unanswered > 0 {
        return Err(BenchError::Unexpected(format!(
            "{} of {} parallel_app: {unanswered} API call(s) were not answered with 2xx: {calls:?}",
            verb.name(),
            dir.n
        )));
    }
    Ok(Counted {
        verb: verb.name(),
        wall_s: outcome.seconds(),
        total_calls: records.len(),
        list_calls: calls.get(LIST_ENDPOINT).copied().unwrap_or(0),
        calls,
        had_changes: outcome.had_changes,
    })
}

/// Counts per "METHOD /path", with every UUID in the path as `{id}`.
pub fn by_endpoint(records: &[RequestRecord]) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    for record in records {
        let path: Vec<&str> = record
            .path
            .split('/')
            .map(|segment| if is_uuid(segment) { "{id}" } else { segment })
            .collect();
        *calls
            .entry(format!("{} {}", record.method, path.join("/")))
            .or_default() += 1;
    }
    calls
}

fn is_uuid(segment: &str) -> bool {
    segment.len() == 36
        && segment.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

impl RefreshReport {
    pub fn render(&self) -> String {
        let row = |c: &Counted| {
            vec![
                c.verb.to_owned(),
                format!("{:.2} s", c.wall_s),
                c.list_calls.to_string(),
                c.total_calls.to_string(),
                c.calls
                    .iter()
                    .map(|(endpoint, count)| format!("{endpoint} ×{count}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        };
        let mut rows = vec![row(&self.create)];
        rows.extend(self.refreshes.iter().map(row));
        let changed = self.refreshes.iter().filter(|r| r.had_changes).count();
        let mut text = format!(
            "  Refresh of {} parallel_app (API calls counted by the emulator; the first row \
             is the apply that created them)\n{}\n  list calls per refresh: {}",
            self.apps,
            report::table(
                &["command", "wall", "lists", "API calls", "by endpoint"],
                &rows
            ),
            match (
                self.min_list_calls_per_refresh,
                self.max_list_calls_per_refresh
            ) {
                (Some(min), Some(max)) if min == max => format!("{max} (every refresh)"),
                (Some(min), Some(max)) => format!("{min} to {max}"),
                _ => "—".to_owned(),
            }
        );
        if changed > 0 {
            text.push_str(&format!(
                "\n  NOTE: {changed} refresh(es) proposed changes right after apply."
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(method: &str, path: &str) -> RequestRecord {
        RequestRecord {
            method: method.into(),
            path: path.into(),
            status: Some(200),
            started_ms: 0.0,
            finished_ms: 0.0,
        }
    }

    #[test]
    fn calls_are_counted_per_endpoint_with_ids_folded() {
        let id = "0b6a1c9e-3f0d-4e57-9a8b-1c2d3e4f5a6b";
        let records = [
            record("GET", "/service/v1/apps"),
            record("GET", "/service/v1/apps"),
            record("POST", "/service/v1/apps"),
            record("DELETE", &format!("/service/v1/apps/{id}")),
            record("POST", &format!("/service/v1/apps/{id}/keys")),
        ];
        let calls = by_endpoint(&records);
        assert_eq!(calls[LIST_ENDPOINT], 2);
        assert_eq!(calls["POST /service/v1/apps"], 1);
        assert_eq!(calls["DELETE /service/v1/apps/{id}"], 1);
        assert_eq!(calls["POST /service/v1/apps/{id}/keys"], 1);
        assert!(!is_uuid("keys") && !is_uuid(&id.replace('-', "x")));
    }

    #[test]
    fn the_configuration_counts_apps() {
        let text = configuration(500);
        assert!(text.contains("resource \"parallel_app\" \"bench\""));
        assert!(text.contains("count    = 500"));
    }
}
