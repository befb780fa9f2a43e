//! Medians and straight-line fits: all the statistics the report needs.

use serde::Serialize;

/// Repeated measurements of one quantity.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Samples {
    pub values: Vec<f64>,
}

impl Samples {
    pub fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    /// The median, robust to one slow outlier on a shared machine; `None`
    /// with no samples.
    pub fn median(&self) -> Option<f64> {
        median(&self.values)
    }

    pub fn min(&self) -> Option<f64> {
        self.values.iter().copied().min_by(f64::total_cmp)
    }

    pub fn max(&self) -> Option<f64> {
        self.values.iter().copied().max_by(f64::total_cmp)
    }

    pub fn summary(&self) -> Summary {
        Summary {
            median: self.median(),
            min: self.min(),
            max: self.max(),
            samples: self.values.clone(),
        }
    }
}

/// What results.json records for a measured quantity.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub samples: Vec<f64>,
}

pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    })
}

/// Least-squares line `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LinearFit {
    pub intercept: f64,
    pub slope: f64,
    /// Coefficient of determination: 1 for points exactly on the line.
    pub r_squared: f64,
}

pub fn linear_fit(points: &[(f64, f64)]) -> Option<LinearFit> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let residual: f64 = points
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let r_squared = if syy == 0.0 {
        1.0
    } else {
        1.0 - residual / syy
    };
    Some(LinearFit {
        intercept,
        slope,
        r_squared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn fit_recovers_a_line() {
        let points = [(10.0, 1.1), (100.0, 2.0), (500.0, 6.0), (1000.0, 11.0)];
        let fit = linear_fit(&points).expect("fit");
        assert!((fit.slope - 0.01).abs() < 1e-9);
        assert!((fit.intercept - 1.0).abs() < 1e-9);
        assert!((fit.r_squared - 1.0).abs() < 1e-12);
    }

    #[test]
    fn fit_needs_two_distinct_x() {
        assert!(linear_fit(&[(1.0, 1.0)]).is_none());
        assert!(linear_fit(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }

    #[test]
    fn summary_of_samples() {
        let mut samples = Samples::default();
        for v in [5.0, 1.0, 3.0] {
            samples.push(v);
        }
        let summary = samples.summary();
        assert_eq!(summary.median, Some(3.0));
        assert_eq!(summary.min, Some(1.0));
        assert_eq!(summary.max, Some(5.0));
    }
}
