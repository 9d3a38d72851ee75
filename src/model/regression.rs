//! The kernel of a model matrix with p coefficients (meta-regression, and the
//! traces of the HE and SJ standard errors for any p): what the estimators need of
//! P = A − AX(XᵀAX)⁻¹XᵀA for diagonal weights A, in O(k p²) time and O(p²)
//! memory — never a k × k matrix.
//!
//! With XᵀAX = L Lᵀ and uᵢ = L⁻¹xᵢ, the hat values are hᵢ = aᵢ|uᵢ|² and
//! Pᵢⱼ = aᵢδᵢⱼ − aᵢaⱼ uᵢᵀuⱼ, so every trace is a sum over the studies:
//!
//! ```text
//! tr P         = Σ aᵢ (1 − hᵢ)
//! Σ Pᵢⱼ² dᵢ eⱼ = Σ dᵢ eᵢ aᵢ² (1 − hᵢ)² + Σ dᵢ aᵢ² uᵢᵀ M₋ᵢ uᵢ,   M₋ᵢ = Σ_{j≠i} eⱼ aⱼ² uⱼ uⱼᵀ
//! ```
//!
//! For a study that dominates a direction of the design (hᵢ > ½), 1 − hᵢ and
//! M₋ᵢ are computed from the other studies directly instead of as differences,
//! as the intercept-only kernel does for its dominant study.

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use super::design::Design;
use super::linalg::{Cholesky, quadratic_form};
use super::moments::add;
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};

/// A hat value above this marks a study that dominates a direction.
const DOMINANT_LEVERAGE: f64 = 0.5;

/// The diagonal weights of a fit, computed when needed rather than stored: a
/// million studies would otherwise allocate (and fault in) 8 MB per iteration.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Weights {
    /// 1 / (vᵢ + τ²).
    Inverse(f64),
    /// 1 (ordinary least squares).
    Unit,
}

impl Weights {
    fn of(self, e: &Effect) -> f64 {
        match self {
            Weights::Inverse(tau2) => 1.0 / (e.vi + tau2),
            Weights::Unit => 1.0,
        }
    }
}

/// Weighted least squares of the effects on the design with weights `a`.
pub(crate) struct Projection<'a> {
    design: &'a Design,
    effects: &'a [Effect],
    weights: Weights,
    factor: Cholesky,
    /// The coefficients (XᵀAX)⁻¹XᵀAy.
    pub beta: Vec<f64>,
}

impl<'a> Projection<'a> {
    /// Fits with weights `a` (one per study).
    pub fn new(design: &'a Design, effects: &'a [Effect], weights: Weights) -> Result<Self> {
        let p = design.p();
        let (mut xtax, xtay) = dispatch(
            p,
            Accumulate {
                design,
                effects,
                weights,
            },
        );
        symmetrise(&mut xtax, p);
        let factor = Cholesky::new(&xtax, p, 0.0).map_err(|j| {
            ErrorKind::Numerical(format!(
                "the weighted model matrix is singular at coefficient `{}`",
                design.names()[j]
            ))
        })?;
        let beta = factor.solve(&xtay);
        Ok(Projection {
            design,
            effects,
            weights,
            factor,
            beta,
        })
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.of(&self.effects[i])
    }

    /// (XᵀAX)⁻¹, row-major.
    pub fn covariance(&self) -> Vec<f64> {
        self.factor.inverse()
    }

    /// ln det XᵀAX.
    pub fn log_determinant(&self) -> f64 {
        self.factor.log_determinant()
    }

    /// The sums and tr(PP) in one pass: tr PP = Σ aᵢ²(1 − hᵢ)² + |M|² − Σ aᵢ²hᵢ²
    /// with M = Σ aᵢ² uᵢuᵢᵀ. When a study dominates a direction (hᵢ > ½) that
    /// difference can cancel, and the careful sums of [`sums`](Self::sums) and
    /// [`trace_pp`](Self::trace_pp) are used instead.
    pub fn moments(&self) -> (Sums, f64) {
        let Some((sums, diagonal, h_squares, m)) =
            dispatch(self.design.p(), FastMoments(self, true))
        else {
            return (self.sums(), self.trace_pp());
        };
        let p = self.design.p();
        let mut frobenius = 0.0;
        for row in 0..p {
            for col in 0..=row {
                let v = m[row * p + col];
                frobenius += if row == col { v * v } else { 2.0 * v * v };
            }
        }
        (sums, diagonal + (frobenius - h_squares).max(0.0))
    }

    /// The sums alone (no tr PP): all the score of an estimator needs.
    pub fn score_sums(&self) -> Sums {
        match dispatch(self.design.p(), FastMoments(self, false)) {
            Some((sums, ..)) => sums,
            None => self.sums(),
        }
    }

    /// Σ a, Σ a², yᵀPy, yᵀPPy and tr P.
    pub fn sums(&self) -> Sums {
        let p = self.design.p();
        let (mut x, mut u) = (vec![0.0; p], vec![0.0; p]);
        let mut sums = Sums::default();
        for (i, e) in self.effects.iter().enumerate() {
            let a = self.weight(i);
            fill_row(self.design, i, &mut x);
            let fitted: f64 = x.iter().zip(&self.beta).map(|(x, b)| x * b).sum();
            let r = e.yi - fitted;
            sums.s1 += a;
            sums.s2 += a * a;
            sums.q += a * r * r;
            sums.q2 += a * a * r * r;
            let complement = self.complement(i, &x, &mut u);
            sums.trace_p += a * complement;
            sums.trace_pv += a * complement * e.vi;
        }
        sums
    }

    /// 1 − hᵢ: directly from the other studies when study i dominates.
    fn complement(&self, i: usize, x: &[f64], u: &mut [f64]) -> f64 {
        self.factor.forward(x, u);
        let h = self.weight(i) * u.iter().map(|v| v * v).sum::<f64>();
        if h <= DOMINANT_LEVERAGE {
            return 1.0 - h;
        }
        // Sherman–Morrison: 1 − hᵢ = 1 / (1 + aᵢ xᵢᵀ (Xᵀ A₋ᵢ X)⁻¹ xᵢ).
        let p = self.design.p();
        let mut others = vec![0.0; p * p];
        let mut row = vec![0.0; p];
        for j in (0..self.effects.len()).filter(|&j| j != i) {
            fill_row(self.design, j, &mut row);
            for r in 0..p {
                for c in 0..=r {
                    others[r * p + c] += self.weight(j) * row[r] * row[c];
                }
            }
        }
        symmetrise(&mut others, p);
        match Cholesky::new(&others, p, 1e-14) {
            // Without study i a direction is unidentified: its hat value is 1.
            Err(_) => 0.0,
            Ok(f) => {
                let inverse = f.inverse();
                1.0 / (1.0 + self.weight(i) * quadratic_form(&inverse, x))
            }
        }
    }

    /// Σᵢⱼ Pᵢⱼ² dᵢ eⱼ (tr PP with d = e = 1).
    pub fn weighted_trace(&self, d: impl Fn(usize) -> f64, e: impl Fn(usize) -> f64) -> f64 {
        let p = self.design.p();
        let k = self.effects.len();
        let (mut x, mut u) = (vec![0.0; p], vec![0.0; p]);
        let mut m = vec![0.0; p * p];
        let mut complements = Vec::with_capacity(k);
        for i in 0..k {
            fill_row(self.design, i, &mut x);
            complements.push(self.complement(i, &x, &mut u));
            let scale = e(i) * self.weight(i) * self.weight(i);
            for r in 0..p {
                for c in 0..p {
                    m[r * p + c] += scale * u[r] * u[c];
                }
            }
        }
        let mut total = 0.0;
        for i in 0..k {
            fill_row(self.design, i, &mut x);
            self.factor.forward(&x, &mut u);
            let a = self.weight(i);
            let h = a * u.iter().map(|v| v * v).sum::<f64>();
            let cross = if h <= DOMINANT_LEVERAGE {
                quadratic_form(&m, &u)
                    - e(i) * a * a * (u.iter().map(|v| v * v).sum::<f64>()).powi(2)
            } else {
                self.others_form(i, &u, &e)
            };
            total += d(i) * e(i) * a * a * complements[i].powi(2) + d(i) * a * a * cross.max(0.0);
        }
        total
    }

    /// uᵢᵀ M₋ᵢ uᵢ summed over the other studies directly.
    fn others_form(&self, i: usize, ui: &[f64], e: &impl Fn(usize) -> f64) -> f64 {
        let p = self.design.p();
        let (mut x, mut u) = (vec![0.0; p], vec![0.0; p]);
        let mut total = 0.0;
        for j in (0..self.effects.len()).filter(|&j| j != i) {
            fill_row(self.design, j, &mut x);
            self.factor.forward(&x, &mut u);
            let dot: f64 = ui.iter().zip(&u).map(|(a, b)| a * b).sum();
            total += e(j) * self.weight(j) * self.weight(j) * dot * dot;
        }
        total
    }

    /// tr(PP).
    pub fn trace_pp(&self) -> f64 {
        self.weighted_trace(|_| 1.0, |_| 1.0)
    }
}

/// The sums of one weighted fit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sums {
    pub s1: f64,
    pub s2: f64,
    pub q: f64,
    pub q2: f64,
    pub trace_p: f64,
    /// tr(PV) = Σ aᵢ(1 − hᵢ)vᵢ.
    pub trace_pv: f64,
}

fn fill_row(design: &Design, i: usize, x: &mut [f64]) {
    for (j, v) in x.iter_mut().enumerate() {
        *v = design.x(i, j);
    }
}

fn symmetrise(a: &mut [f64], p: usize) {
    for r in 0..p {
        for c in r + 1..p {
            a[r * p + c] = a[c * p + r];
        }
    }
}

/// A pass over the studies whose rows have a length fixed at compile time, so
/// that a row, its forward substitution and the accumulators live in registers.
/// Up to 8 coefficients the length is exact; beyond, rows are padded with zeros
/// (and the Cholesky factor with the identity) to 16, 32 or 64.
trait RowPass {
    type Output;
    fn run<const P: usize>(self) -> Self::Output;
}

/// The most coefficients a design may have.
pub(crate) const MAX_COEFFICIENTS: usize = 64;

fn dispatch<K: RowPass>(p: usize, pass: K) -> K::Output {
    match p {
        0..=2 => pass.run::<2>(),
        3 => pass.run::<3>(),
        4 => pass.run::<4>(),
        5 => pass.run::<5>(),
        6 => pass.run::<6>(),
        7 => pass.run::<7>(),
        8 => pass.run::<8>(),
        9..=16 => pass.run::<16>(),
        17..=32 => pass.run::<32>(),
        _ => pass.run::<64>(),
    }
}

/// Study i's row of the model matrix, padded with zeros.
fn padded_row<const P: usize>(design: &Design, i: usize) -> [f64; P] {
    std::array::from_fn(|j| if j < design.p() { design.x(i, j) } else { 0.0 })
}

/// XᵀAX and XᵀAy.
struct Accumulate<'a> {
    design: &'a Design,
    effects: &'a [Effect],
    weights: Weights,
}

impl RowPass for Accumulate<'_> {
    type Output = (Vec<f64>, Vec<f64>);

    fn run<const P: usize>(self) -> Self::Output {
        let chunk = |first: usize, effects: &[Effect]| {
            let mut xtax = [[0.0; P]; P];
            let mut xtay = [0.0; P];
            for (i, e) in (first..).zip(effects) {
                let a = self.weights.of(e);
                let x = padded_row::<P>(self.design, i);
                for r in 0..P {
                    let ax = a * x[r];
                    xtay[r] += ax * e.yi;
                    for c in 0..=r {
                        xtax[r][c] += ax * x[c];
                    }
                }
            }
            (xtax, xtay)
        };
        let (xtax, xtay) = chunked(self.effects, chunk)
            .into_iter()
            .reduce(|(a, b), (c, d)| (add_matrices(a, c), add(b, d)))
            .unwrap_or(([[0.0; P]; P], [0.0; P]));
        let p = self.design.p();
        let matrix = (0..p * p).map(|n| xtax[n / p][n % p]).collect();
        (matrix, xtay[..p].to_vec())
    }
}

/// The sums, Σ aᵢ²(1 − hᵢ)², Σ aᵢ²hᵢ² and M = Σ aᵢ²uᵢuᵢᵀ (lower triangle) in one
/// pass (the last three only when the flag asks for the traces); `None` when a
/// study dominates a direction.
struct FastMoments<'p, 'a>(&'p Projection<'a>, bool);

/// One chunk's share of [`FastMoments`].
struct Partial<const P: usize> {
    sums: Sums,
    diagonal: f64,
    h_squares: f64,
    m: [[f64; P]; P],
}

impl RowPass for FastMoments<'_, '_> {
    type Output = Option<(Sums, f64, f64, Vec<f64>)>;

    fn run<const P: usize>(self) -> Self::Output {
        let (projection, traces) = (self.0, self.1);
        let p = projection.design.p();
        let (lower, inverse_diagonal) = projection.factor.padded::<P>();
        let beta: [f64; P] =
            std::array::from_fn(|j| projection.beta.get(j).copied().unwrap_or(0.0));
        let chunk = |first: usize, effects: &[Effect]| -> Option<Partial<P>> {
            let mut part = Partial {
                sums: Sums::default(),
                diagonal: 0.0,
                h_squares: 0.0,
                m: [[0.0; P]; P],
            };
            for (i, e) in (first..).zip(effects) {
                let a = projection.weights.of(e);
                let x = padded_row::<P>(projection.design, i);
                let mut u = [0.0; P];
                for r in 0..P {
                    let mut s = x[r];
                    for c in 0..r {
                        s -= lower[r][c] * u[c];
                    }
                    u[r] = s * inverse_diagonal[r];
                }
                let h = a * u.iter().map(|v| v * v).sum::<f64>();
                if h > DOMINANT_LEVERAGE {
                    return None;
                }
                let fitted: f64 = x.iter().zip(&beta).map(|(x, b)| x * b).sum();
                let r = e.yi - fitted;
                let a2 = a * a;
                let sums = &mut part.sums;
                sums.s1 += a;
                sums.s2 += a2;
                sums.q += a * r * r;
                sums.q2 += a2 * r * r;
                sums.trace_p += a * (1.0 - h);
                sums.trace_pv += a * (1.0 - h) * e.vi;
                if !traces {
                    continue;
                }
                part.diagonal += a2 * (1.0 - h) * (1.0 - h);
                part.h_squares += a2 * h * h;
                for row in 0..P {
                    let scaled = a2 * u[row];
                    for col in 0..=row {
                        part.m[row][col] += scaled * u[col];
                    }
                }
            }
            Some(part)
        };
        let mut total: Option<Partial<P>> = None;
        for part in chunked(projection.effects, chunk) {
            let part = part?;
            total = Some(match total {
                None => part,
                Some(t) => Partial {
                    sums: Sums {
                        s1: t.sums.s1 + part.sums.s1,
                        s2: t.sums.s2 + part.sums.s2,
                        q: t.sums.q + part.sums.q,
                        q2: t.sums.q2 + part.sums.q2,
                        trace_p: t.sums.trace_p + part.sums.trace_p,
                        trace_pv: t.sums.trace_pv + part.sums.trace_pv,
                    },
                    diagonal: t.diagonal + part.diagonal,
                    h_squares: t.h_squares + part.h_squares,
                    m: add_matrices(t.m, part.m),
                },
            });
        }
        let t = total?;
        let matrix = (0..p * p).map(|n| t.m[n / p][n % p]).collect();
        Some((t.sums, t.diagonal, t.h_squares, matrix))
    }
}

/// Studies per chunk of a pass: chunks are summed in parallel and their sums
/// added in chunk order, so results do not depend on the number of threads.
const CHUNK: usize = 8192;

/// `pass(first index, studies)` on consecutive chunks, in parallel when there
/// are several, results in chunk order.
fn chunked<T: Send>(
    effects: &[Effect],
    pass: impl Fn(usize, &[Effect]) -> T + Sync + Send,
) -> Vec<T> {
    if effects.len() <= CHUNK {
        return vec![pass(0, effects)];
    }
    crate::parallel::chunks(effects, CHUNK, pass)
}

fn add_matrices<const P: usize>(a: [[f64; P]; P], b: [[f64; P]; P]) -> [[f64; P]; P] {
    std::array::from_fn(|i| add(a[i], b[i]))
}
