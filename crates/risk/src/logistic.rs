//! A small dense logistic regression, fitted by Newton's method (IRLS) with an L2
//! penalty, and the incident model built on it.

use crate::RiskError;
use serde::{Deserialize, Serialize};

/// A fitted logistic regression on standardized inputs:
/// `logit = bias + Σ weights[j] · (x[j] − mean[j]) / std[j]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub names: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub weights: Vec<f64>,
    pub bias: f64,
    /// Newton iterations used.
    pub iterations: usize,
}

/// One feature's part of a logit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: String,
    pub value: f64,
    /// `weight · (value − mean) / std`.
    pub contribution: f64,
}

/// Why a probability is what it is: `logit = bias + Σ contributions` (the bias is the
/// logit of a bucket at the training means), sorted by decreasing `|contribution|`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub probability: f64,
    pub logit: f64,
    pub bias: f64,
    pub contributions: Vec<Contribution>,
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + exp(z))` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

impl Logistic {
    /// Fits `P(y | x)` by Newton's method on the L2-penalized log loss
    /// `Σ ln(1 + exp(−s·logit)) + l2/2 · ‖weights‖²` (bias not penalized) over
    /// standardized features (a constant feature gets std 1 and weight 0), from the
    /// all-zero weights and the prior log-odds as bias, with step halving when a step
    /// does not decrease the loss; stops when no coefficient moves by more than 1e-9 or
    /// after 100 iterations. Deterministic: no randomness, fixed summation order.
    pub fn fit<R: AsRef<[f64]>>(
        names: &[&str],
        rows: &[R],
        labels: &[bool],
        l2: f64,
    ) -> Result<Logistic, RiskError> {
        let d = names.len();
        if rows.is_empty() {
            return Err(RiskError::NoTrainingData);
        }
        if rows.len() != labels.len() || rows.iter().any(|r| r.as_ref().len() != d) {
            return Err(RiskError::BadModel(
                "rows, labels and names disagree".into(),
            ));
        }
        let positives = labels.iter().filter(|&&y| y).count();
        if positives == 0 || positives == labels.len() {
            return Err(RiskError::OneClass {
                positives,
                total: labels.len(),
            });
        }
        let n = rows.len() as f64;
        let mut mean = vec![0.0; d];
        for r in rows {
            for (m, x) in mean.iter_mut().zip(r.as_ref()) {
                *m += x;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut std = vec![0.0; d];
        for r in rows {
            for ((s, x), m) in std.iter_mut().zip(r.as_ref()).zip(&mean) {
                *s += (x - m) * (x - m);
            }
        }
        for s in std.iter_mut() {
            *s = (*s / n).sqrt();
            if !(*s > 1e-12 && s.is_finite()) {
                *s = 1.0;
            }
        }
        let p = d + 1; // theta[0] = bias
        let prior = positives as f64 / n;
        let mut theta = vec![0.0; p];
        theta[0] = (prior / (1.0 - prior)).ln();
        let mut z = vec![0.0; p];
        let standardize = |r: &[f64], z: &mut [f64]| {
            z[0] = 1.0;
            for j in 0..d {
                z[j + 1] = (r[j] - mean[j]) / std[j];
            }
        };
        let loss = |theta: &[f64], z: &mut [f64]| {
            let mut l = 0.0;
            for (r, &y) in rows.iter().zip(labels) {
                standardize(r.as_ref(), z);
                let t: f64 = theta.iter().zip(z.iter()).map(|(a, b)| a * b).sum();
                l += softplus(if y { -t } else { t });
            }
            l + 0.5 * l2 * theta[1..].iter().map(|w| w * w).sum::<f64>()
        };
        let mut current = loss(&theta, &mut z);
        let mut iterations = 0;
        for _ in 0..100 {
            iterations += 1;
            let mut g = vec![0.0; p];
            let mut h = vec![0.0; p * p];
            for (r, &y) in rows.iter().zip(labels) {
                standardize(r.as_ref(), &mut z);
                let t: f64 = theta.iter().zip(z.iter()).map(|(a, b)| a * b).sum();
                let pr = sigmoid(t);
                let resid = pr - f64::from(u8::from(y));
                let wgt = pr * (1.0 - pr);
                for a in 0..p {
                    g[a] += resid * z[a];
                    let wa = wgt * z[a];
                    for b in a..p {
                        h[a * p + b] += wa * z[b];
                    }
                }
            }
            for a in 0..p {
                for b in 0..a {
                    h[a * p + b] = h[b * p + a];
                }
            }
            for j in 1..p {
                g[j] += l2 * theta[j];
                h[j * p + j] += l2;
            }
            for j in 0..p {
                h[j * p + j] += 1e-10;
            }
            let Some(step) = solve(&mut h, &g, p) else {
                break;
            };
            let mut scale = 1.0;
            let mut accepted = false;
            for _ in 0..30 {
                let cand: Vec<f64> = theta
                    .iter()
                    .zip(&step)
                    .map(|(t, s)| t - scale * s)
                    .collect();
                let l = loss(&cand, &mut z);
                if l <= current {
                    theta = cand;
                    current = l;
                    accepted = true;
                    break;
                }
                scale /= 2.0;
            }
            let moved = step.iter().fold(0.0f64, |m, s| m.max((scale * s).abs()));
            if !accepted || moved < 1e-9 {
                break;
            }
        }
        Ok(Logistic {
            names: names.iter().map(|s| (*s).to_owned()).collect(),
            mean,
            std,
            weights: theta[1..].to_vec(),
            bias: theta[0],
            iterations,
        })
    }

    pub fn logit(&self, x: &[f64]) -> f64 {
        self.bias
            + self
                .weights
                .iter()
                .zip(x)
                .zip(self.mean.iter().zip(&self.std))
                .map(|((w, x), (m, s))| w * (x - m) / s)
                .sum::<f64>()
    }

    pub fn probability(&self, x: &[f64]) -> f64 {
        sigmoid(self.logit(x))
    }

    /// The weights in the features' own units (`weights[j] / std[j]`) and the matching
    /// intercept: `logit = intercept + Σ raw[j] · x[j]`.
    pub fn raw_coefficients(&self) -> (f64, Vec<f64>) {
        let raw: Vec<f64> = self
            .weights
            .iter()
            .zip(&self.std)
            .map(|(w, s)| w / s)
            .collect();
        let intercept = self.bias - raw.iter().zip(&self.mean).map(|(r, m)| r * m).sum::<f64>();
        (intercept, raw)
    }

    pub fn explain(&self, x: &[f64]) -> Explanation {
        let mut contributions: Vec<Contribution> = self
            .names
            .iter()
            .enumerate()
            .map(|(j, name)| Contribution {
                feature: name.clone(),
                value: x[j],
                contribution: self.weights[j] * (x[j] - self.mean[j]) / self.std[j],
            })
            .collect();
        contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        let logit = self.logit(x);
        Explanation {
            probability: sigmoid(logit),
            logit,
            bias: self.bias,
            contributions,
        }
    }

    pub(crate) fn check(&self) -> Result<(), RiskError> {
        let d = self.names.len();
        if self.mean.len() != d || self.std.len() != d || self.weights.len() != d {
            return Err(RiskError::BadModel(
                "feature, mean, std and weight counts differ".into(),
            ));
        }
        if self
            .mean
            .iter()
            .chain(&self.std)
            .chain(&self.weights)
            .chain([&self.bias])
            .any(|x| !x.is_finite())
            || self.std.iter().any(|s| *s <= 0.0)
        {
            return Err(RiskError::BadModel(
                "non-finite or non-positive numbers".into(),
            ));
        }
        Ok(())
    }
}

/// Solves `h · x = g` (h symmetric positive definite, `p × p`, overwritten) by Gaussian
/// elimination with partial pivoting; `None` if singular.
fn solve(h: &mut [f64], g: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut b = g.to_vec();
    for col in 0..p {
        let piv =
            (col..p).max_by(|&a, &c| h[a * p + col].abs().total_cmp(&h[c * p + col].abs()))?;
        if h[piv * p + col].abs() < 1e-300 {
            return None;
        }
        if piv != col {
            for k in 0..p {
                h.swap(col * p + k, piv * p + k);
            }
            b.swap(col, piv);
        }
        for r in col + 1..p {
            let f = h[r * p + col] / h[col * p + col];
            if f != 0.0 {
                for k in col..p {
                    h[r * p + k] -= f * h[col * p + k];
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; p];
    for r in (0..p).rev() {
        let s: f64 = (r + 1..p).map(|k| h[r * p + k] * x[k]).sum();
        x[r] = (b[r] - s) / h[r * p + r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_small_system() {
        let mut h = vec![4.0, 1.0, 1.0, 3.0];
        let x = solve(&mut h, &[1.0, 2.0], 2).unwrap();
        assert!((x[0] - 1.0 / 11.0).abs() < 1e-12 && (x[1] - 7.0 / 11.0).abs() < 1e-12);
    }

    #[test]
    fn one_class_is_refused() {
        let rows = vec![vec![1.0], vec![2.0]];
        assert_eq!(
            Logistic::fit(&["x"], &rows, &[true, true], 1.0).unwrap_err(),
            RiskError::OneClass {
                positives: 2,
                total: 2
            }
        );
    }
}
