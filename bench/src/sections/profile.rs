//! Section 5: where the time goes. One apply, plan and destroy of N keys
//! with the provider and with the floor, each provider process writing one
//! line per RPC (tfplugin's `TFPLUGIN_RPC_PROFILE`): per method, the calls,
//! the wall and CPU time on the provider's side of the socket and the bytes
//! each way; next to Terraform's own CPU for the command, and for the same
//! command on terraform_data.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Bench, progress};
use crate::error::{IoContext, Result};
use crate::report;
use crate::terraform::{Launch, Series, Verb};

/// One line of the provider's profile.
#[derive(Debug, Deserialize)]
struct Line {
    pid: u32,
    method: String,
    wall_us: u64,
    cpu_us: u64,
    request_bytes: u64,
    response_bytes: u64,
    process_cpu_us: u64,
}

/// One RPC method's totals over a command.
#[derive(Debug, Default, Serialize)]
pub struct MethodFigures {
    pub calls: u64,
    pub wall_us: u64,
    pub cpu_us: u64,
    pub request_bytes: u64,
    pub response_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct CommandProfile {
    pub series: Series,
    pub verb: &'static str,
    pub wall_s: f64,
    pub terraform_cpu_s: Option<f64>,
    /// The provider processes' whole CPU, start-up and shutdown included.
    pub provider_processes_cpu_s: Option<f64>,
    pub provider_processes: usize,
    pub methods: BTreeMap<String, MethodFigures>,
}

#[derive(Debug, Serialize)]
pub struct ProfileReport {
    pub n: usize,
    pub commands: Vec<CommandProfile>,
}

pub fn run(bench: &mut Bench) -> Result<ProfileReport> {
    let n = bench.options.verbs_n;
    let app_id = bench.emulator.create_app("bench-profile")?;
    let mut commands = Vec::new();
    for series in [Series::Provider, Series::Floor, Series::Data] {
        let dir = bench.harness.workdir(series, n, &app_id, "profile")?;
        for verb in [Verb::Apply, Verb::Plan, Verb::Destroy] {
            let file = dir
                .path
                .join(format!("{}.rpc.jsonl", verb.name().replace(' ', "-")));
            let profile = (series != Series::Data).then_some(file.as_path());
            let outcome = bench
                .harness
                .run_with(&dir, verb, Launch::Direct, profile)?;
            let lines = match profile {
                Some(path) => read_lines(path)?,
                None => Vec::new(),
            };
            let command = summarise(
                series,
                verb,
                outcome.seconds(),
                outcome.finished.cpu,
                &lines,
            );
            progress(
                "profile",
                format!(
                    "{series} {} x{n}: {:.2} s, {} RPCs",
                    verb.name(),
                    command.wall_s,
                    command.methods.values().map(|m| m.calls).sum::<u64>()
                ),
            );
            commands.push(command);
        }
    }
    Ok(ProfileReport { n, commands })
}

fn read_lines(path: &Path) -> Result<Vec<Line>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // A command that started no provider leaves no file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(|| format!("reading {}", path.display())),
    };
    Ok(parse_lines(&text))
}

/// Skips a line that does not parse (a process killed mid-write).
fn parse_lines(text: &str) -> Vec<Line> {
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn summarise(
    series: Series,
    verb: Verb,
    wall_s: f64,
    cpu: Option<crate::process::CpuTimes>,
    lines: &[Line],
) -> CommandProfile {
    let mut methods: BTreeMap<String, MethodFigures> = BTreeMap::new();
    let mut processes: BTreeMap<u32, u64> = BTreeMap::new();
    for line in lines {
        let figures = methods.entry(line.method.clone()).or_default();
        figures.calls += 1;
        figures.wall_us += line.wall_us;
        figures.cpu_us += line.cpu_us;
        figures.request_bytes += line.request_bytes;
        figures.response_bytes += line.response_bytes;
        let latest = processes.entry(line.pid).or_default();
        *latest = (*latest).max(line.process_cpu_us);
    }
    CommandProfile {
        series,
        verb: verb.name(),
        wall_s,
        terraform_cpu_s: cpu.map(|c| c.own.as_secs_f64()),
        provider_processes_cpu_s: cpu.map(|c| c.children.as_secs_f64()),
        provider_processes: processes.len(),
        methods,
    }
}

fn per_call(total: u64, calls: u64, scale: f64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        total as f64 / calls as f64 / scale
    }
}

impl ProfileReport {
    pub fn render(&self) -> String {
        let mut totals = Vec::new();
        let mut rpcs = Vec::new();
        for command in &self.commands {
            let calls: u64 = command.methods.values().map(|m| m.calls).sum();
            let rpc_cpu: u64 = command.methods.values().map(|m| m.cpu_us).sum();
            let ms =
                |s: Option<f64>| s.map_or_else(|| "—".to_owned(), |s| format!("{:.0}", s * 1e3));
            totals.push(vec![
                command.verb.to_owned(),
                command.series.name().to_owned(),
                format!("{:.2} s", command.wall_s),
                ms(command.terraform_cpu_s),
                ms(command.provider_processes_cpu_s),
                if calls == 0 {
                    "—".to_owned()
                } else {
                    format!("{:.0}", rpc_cpu as f64 / 1e3)
                },
                calls.to_string(),
                command.terraform_cpu_s.filter(|_| calls > 0).map_or_else(
                    || "—".to_owned(),
                    |s| format!("{:.3}", s * 1e3 / calls as f64),
                ),
            ]);
            for (method, m) in &command.methods {
                rpcs.push(vec![
                    command.verb.to_owned(),
                    command.series.name().to_owned(),
                    method.clone(),
                    m.calls.to_string(),
                    format!("{:.3}", per_call(m.wall_us, m.calls, 1e3)),
                    format!("{:.3}", per_call(m.cpu_us, m.calls, 1e3)),
                    format!("{:.0}", per_call(m.request_bytes, m.calls, 1.0)),
                    format!("{:.0}", per_call(m.response_bytes, m.calls, 1.0)),
                ]);
            }
        }
        format!(
            "5. Where the time goes, N = {} (one run; the provider writes one line per RPC)\n{}\n\n  \
             Per RPC method, on the provider's side of the socket\n{}",
            self.n,
            report::table(
                &[
                    "verb",
                    "series",
                    "wall",
                    "terraform CPU ms",
                    "provider processes CPU ms",
                    "in RPCs ms",
                    "RPCs",
                    "terraform CPU ms / RPC",
                ],
                &totals
            ),
            report::table(
                &[
                    "verb",
                    "series",
                    "method",
                    "calls",
                    "wall ms/call",
                    "CPU ms/call",
                    "request B",
                    "response B",
                ],
                &rpcs
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_summed_per_method_and_per_process() {
        let text = "\
{\"pid\":1,\"method\":\"ReadResource\",\"wall_us\":100,\"cpu_us\":40,\"request_bytes\":900,\"response_bytes\":950,\"process_cpu_us\":5000}
{\"pid\":1,\"method\":\"ReadResource\",\"wall_us\":300,\"cpu_us\":60,\"request_bytes\":1100,\"response_bytes\":1050,\"process_cpu_us\":6000}
not json
{\"pid\":2,\"method\":\"GetProviderSchema\",\"wall_us\":10,\"cpu_us\":5,\"request_bytes\":5,\"response_bytes\":20000,\"process_cpu_us\":3000}
";
        let lines = parse_lines(text);
        assert_eq!(lines.len(), 3);
        let command = summarise(Series::Provider, Verb::Plan, 1.0, None, &lines);
        assert_eq!(command.provider_processes, 2);
        let read = &command.methods["ReadResource"];
        assert_eq!((read.calls, read.wall_us, read.cpu_us), (2, 400, 100));
        assert_eq!(per_call(read.request_bytes, read.calls, 1.0), 1000.0);
        let text = ProfileReport {
            n: 2,
            commands: vec![command],
        }
        .render();
        assert!(text.contains("ReadResource") && text.contains("GetProviderSchema"));
    }
}
