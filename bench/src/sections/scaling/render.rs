//! The scaling report as text: its tables, fits and targets.

use super::*;

impl ScalingReport {
    pub(super) fn point(&self, n: usize, verb: Verb, series: Series) -> Option<&Measured> {
        self.points
            .iter()
            .find(|m| m.n == n && m.verb == verb.name() && m.series == series)
    }

    /// (N, value) of one series and verb, in N order, where measured.
    pub(super) fn curve(
        &self,
        verb: Verb,
        series: Series,
        pick: impl Fn(&Measured) -> Option<f64>,
    ) -> Vec<(f64, f64)> {
        self.ns
            .iter()
            .filter_map(|&n| {
                let value = pick(self.point(n, verb, series)?)?;
                Some((n as f64, value))
            })
            .collect()
    }

    pub(super) fn fit(&self, verb: Verb, series: Series) -> Option<LinearFit> {
        self.fits
            .iter()
            .find(|f| f.verb == verb.name() && f.series == series)
            .and_then(|f| f.fit)
    }

    pub(super) fn ratios(&self, verb: Verb) -> Option<&SlopeRatios> {
        self.slope_ratios.iter().find(|r| r.verb == verb.name())
    }

    /// The provider's worst flatness ratio over both verbs.
    pub(super) fn provider_flatness(&self) -> Option<f64> {
        self.memory
            .iter()
            .filter(|f| f.process == Series::Provider.name())
            .filter_map(|f| f.ratio)
            .max_by(f64::total_cmp)
    }

    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        for (verb, limit) in TARGET_SLOPE_RATIO {
            let ratios = self.ratios(verb);
            targets.push(Target::at_most(
                format!(
                    "scaling {}: provider slope / terraform_data slope",
                    verb.name()
                ),
                ratios.and_then(|r| r.provider_over_data),
                limit,
                "×",
            ));
            targets.push(Target::at_most(
                format!("scaling {}: provider slope / floor slope", verb.name()),
                ratios.and_then(|r| r.provider_over_floor),
                TARGET_FLOOR_SLOPE_RATIO,
                "×",
            ));
            targets.push(Target::at_least(
                format!(
                    "scaling {}: provider as linear as terraform_data (R², limit = its R² - \
                     {R_SQUARED_ALLOWANCE})",
                    verb.name()
                ),
                self.fit(verb, Series::Provider).map(|f| f.r_squared),
                self.fit(verb, Series::Data)
                    .map_or(f64::NAN, |f| f.r_squared - R_SQUARED_ALLOWANCE),
                "",
            ));
        }
        targets.push(Target::at_most(
            format!(
                "scaling: provider peak RSS, N = {} / N = {} (apply and plan)",
                self.ns.last().copied().unwrap_or_default(),
                self.ns.first().copied().unwrap_or_default()
            ),
            self.provider_flatness(),
            TARGET_FLAT_RSS,
            "×",
        ));
        targets.push(Target::at_most(
            format!(
                "refresh of {} parallel_app: list calls per refresh (most of any)",
                self.refresh.as_ref().map_or(0, |r| r.apps)
            ),
            self.refresh
                .as_ref()
                .and_then(|r| r.max_list_calls_per_refresh)
                .map(|calls| calls as f64),
            1.0,
            "",
        ));
        targets
    }

    pub fn render(&self) -> String {
        let median = |n, verb, series| self.point(n, verb, series).and_then(|m| m.wall_s.median);
        let mut time_rows = Vec::new();
        for verb in VERBS {
            for &n in &self.ns {
                let [p, f, d] = SERIES.map(|s| median(n, verb, s));
                let ratio =
                    |a: Option<f64>, b: Option<f64>| report::ratio(a.zip(b).map(|(a, b)| a / b));
                time_rows.push(vec![
                    verb.name().to_owned(),
                    n.to_string(),
                    report::seconds(p),
                    report::seconds(f),
                    report::seconds(d),
                    ratio(p, f),
                    ratio(f, d),
                    ratio(p, d),
                ]);
            }
        }
        let fit_rows: Vec<Vec<String>> = self
            .fits
            .iter()
            .map(|f| {
                let last = f
                    .last_segment_s
                    .map_or_else(|| "—".into(), |s| format!("{:.2} ms", s * 1e3));
                let cpu = f
                    .terraform_cpu_fit
                    .map_or_else(|| "—".into(), |c| format!("{:.2} ms", c.slope * 1e3));
                match f.fit {
                    Some(fit) => vec![
                        f.verb.to_owned(),
                        f.series.name().to_owned(),
                        format!("{:.2} ms", fit.slope * 1e3),
                        format!("{:.2} s", fit.intercept),
                        format!("{:.4}", fit.r_squared),
                        last,
                        cpu,
                    ],
                    None => vec![
                        f.verb.to_owned(),
                        f.series.name().to_owned(),
                        "—".into(),
                        "—".into(),
                        "—".into(),
                        last,
                        cpu,
                    ],
                }
            })
            .collect();
        let ratio_rows: Vec<Vec<String>> = self
            .slope_ratios
            .iter()
            .map(|r| {
                vec![
                    r.verb.to_owned(),
                    report::ratio(r.provider_over_floor),
                    report::ratio(r.floor_over_data),
                    report::ratio(r.provider_over_data),
                    report::ratio(r.cpu_provider_over_floor),
                    report::ratio(r.cpu_floor_over_data),
                    report::ratio(r.cpu_provider_over_data),
                ]
            })
            .collect();
        let mb = |kib: Option<f64>| {
            kib.map_or_else(|| "—".to_owned(), |k| format!("{:.1}", k * 1024.0 / MB))
        };
        let mut memory_rows = Vec::new();
        for verb in VERBS {
            for &n in &self.ns {
                let provider = |series| {
                    mb(self
                        .point(n, verb, series)
                        .and_then(|m| m.provider_peak_rss_kib.median))
                };
                let terraform = |series| {
                    mb(self
                        .point(n, verb, series)
                        .and_then(|m| m.terraform_peak_rss_kib.median))
                };
                let processes = self
                    .point(n, verb, Series::Provider)
                    .map_or(0, |m| m.provider_processes);
                memory_rows.push(vec![
                    verb.name().to_owned(),
                    n.to_string(),
                    provider(Series::Provider),
                    processes.to_string(),
                    provider(Series::Floor),
                    terraform(Series::Provider),
                    terraform(Series::Floor),
                    terraform(Series::Data),
                ]);
            }
        }
        let flat_rows: Vec<Vec<String>> = self
            .memory
            .iter()
            .map(|f| {
                let opt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"));
                vec![
                    f.process.clone(),
                    f.verb.to_owned(),
                    opt(f.at_smallest_mb),
                    opt(f.at_largest_mb),
                    report::ratio(f.ratio),
                ]
            })
            .collect();
        let plot = match (&self.plot_path, &self.plot_error) {
            (Some(path), _) => {
                let memory = self.memory_plot_path.as_deref().unwrap_or("—");
                if self.plot_labelled {
                    format!("Plots: {path} (time), {memory} (peak RSS)")
                } else {
                    format!(
                        "Plots: {path} (time), {memory} (peak RSS); no font found, so no \
                         text: red = parallel_api_key, orange = floor, blue = terraform_data; \
                         time: apply left, plan right, thin dashed = fits; memory: provider \
                         processes left, Terraform right, solid = apply, dashed = plan; one row \
                         per Terraform version; axes from 0, grid at round steps"
                    )
                }
            }
            (None, Some(error)) => format!("Plots not written: {error}"),
            (None, None) => "Plots not written".to_owned(),
        };
        let refresh = match (&self.refresh, &self.refresh_error) {
            (Some(r), _) => r.render(),
            (None, Some(e)) => format!("  Refresh of parallel_app failed: {e}"),
            (None, None) => String::new(),
        };
        let mut text = format!(
            "3. Scaling, N = {} (zero latency, -parallelism=10, median of {} run(s); the provider \
             and the floor run through the peak-RSS wrapper)\n{}\n\n  Fits t = a + b·N (wall; last column: \
             the same fit of Terraform's own CPU)\n{}\n\n  Slope ratios (b over b; wall, then \
             Terraform's CPU)\n{}\n\n  Peak RSS, MB (median of the runs; provider: the \
             largest of the processes Terraform launched for the command)\n{}\n\n  Does it stay \
             flat? (peak at the largest N / at the smallest; target for the provider ≤ \
             {TARGET_FLAT_RSS:.2}×)\n{}\n\n{refresh}\n  {plot}",
            self.ns
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            self.runs,
            report::table(
                &[
                    "verb",
                    "N",
                    "parallel_api_key",
                    "floor",
                    "terraform_data",
                    "provider/floor",
                    "floor/data",
                    "provider/data",
                ],
                &time_rows
            ),
            report::table(
                &[
                    "verb",
                    "series",
                    "b (per resource)",
                    "a (fixed)",
                    "R²",
                    "slope between the two largest N",
                    "Terraform CPU b",
                ],
                &fit_rows
            ),
            report::table(
                &[
                    "verb",
                    "provider/floor",
                    "floor/data",
                    "provider/data",
                    "CPU: provider/floor",
                    "floor/data",
                    "provider/data",
                ],
                &ratio_rows
            ),
            report::table(
                &[
                    "verb",
                    "N",
                    "parallel_api_key",
                    "its processes",
                    "floor",
                    "terraform (provider)",
                    "terraform (floor)",
                    "terraform (terraform_data)",
                ],
                &memory_rows
            ),
            report::table(
                &["process", "verb", "smallest N", "largest N", "ratio"],
                &flat_rows
            ),
        );
        if self.non_empty_plans > 0 {
            text.push_str(&format!(
                "\n  NOTE: {} plan(s) right after apply proposed changes.",
                self.non_empty_plans
            ));
        }
        text
    }
}
