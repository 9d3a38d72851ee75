//! The (restricted) likelihood of the three-level model and its derivatives,
//! one small block per cluster.
//!
//! Cluster j's marginal covariance is Mⱼ = Dⱼ + σ²₁ J with Dⱼ = diag(vᵢ + σ²₂),
//! so Mⱼ⁻¹ = diag(w) − c w wᵀ with wᵢ = 1/(vᵢ + σ²₂) and c = σ²₁ / (1 + σ²₁ Σw)
//! (Sherman–Morrison): every product below is a pass over the cluster's effects,
//! and a whole evaluation costs O(k p²) with no k × k matrix.

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use crate::model::linalg::{Cholesky, product};

/// The effects grouped by cluster, contiguous, with their model-matrix rows.
#[derive(Debug, Clone)]
pub(crate) struct Blocks {
    /// Cluster j holds positions `starts[j]..starts[j + 1]`.
    pub starts: Vec<usize>,
    pub y: Vec<f64>,
    pub v: Vec<f64>,
    /// Row-major k × p.
    pub x: Vec<f64>,
    pub p: usize,
    /// The position of each grouped effect among the effects as given.
    pub order: Vec<usize>,
}

impl Blocks {
    pub fn k(&self) -> usize {
        self.y.len()
    }

    pub fn clusters(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn range(&self, j: usize) -> std::ops::Range<usize> {
        self.starts[j]..self.starts[j + 1]
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }
}

/// Restricted (REML) or full (ML) likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Likelihood {
    Restricted,
    Full,
}

/// The likelihood, its score and information at one (σ²₁, σ²₂), with the
/// generalised least-squares fit that goes with it.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    pub log_likelihood: f64,
    pub score: [f64; 2],
    /// The expected (Fisher) information.
    pub information: [[f64; 2]; 2],
    /// The observed information (the negative Hessian).
    pub observed: [[f64; 2]; 2],
    pub beta: Vec<f64>,
    /// (Xᵀ M⁻¹ X)⁻¹, row-major.
    pub covariance: Vec<f64>,
}

/// Clusters per parallel chunk: fixed, so the sums' order (and so every
/// digit of the result) does not depend on the number of threads.
const CLUSTERS_PER_CHUNK: usize = 2048;

/// The first pass's sums: p × p matrices row-major.
#[derive(Debug, Clone)]
struct Sums {
    xwx: Vec<f64>,
    xwy: Vec<f64>,
    /// Σ bⱼ bⱼᵀ with bⱼ = Xⱼᵀ Mⱼ⁻¹ 1.
    q_cluster: Vec<f64>,
    /// Xᵀ M⁻² X.
    q_within: Vec<f64>,
    /// Σ sⱼ bⱼ bⱼᵀ with sⱼ = 1ᵀ Mⱼ⁻¹ 1.
    r_cluster_cluster: Vec<f64>,
    /// Σ bⱼ (Xⱼᵀ Mⱼ⁻² 1)ᵀ.
    r_cluster_within: Vec<f64>,
    /// Xᵀ M⁻³ X.
    r_within_within: Vec<f64>,
    /// [ln det M, tr(M⁻¹J), tr(M⁻¹), tr(M⁻¹JM⁻¹J), tr(M⁻¹JM⁻¹), tr(M⁻¹M⁻¹)].
    scalars: [f64; 6],
    /// Working space for one cluster (t, u, Σ wᵢuᵢ), not a sum.
    scratch: Vec<f64>,
}

impl Sums {
    fn new(p: usize) -> Self {
        let z = || vec![0.0; p * p];
        Sums {
            xwx: z(),
            xwy: vec![0.0; p],
            q_cluster: z(),
            q_within: z(),
            r_cluster_cluster: z(),
            r_cluster_within: z(),
            r_within_within: z(),
            scalars: [0.0; 6],
            scratch: vec![0.0; 3 * p],
        }
    }

    fn merge(mut self, other: Sums) -> Sums {
        for (a, b) in [
            (&mut self.xwx, &other.xwx),
            (&mut self.xwy, &other.xwy),
            (&mut self.q_cluster, &other.q_cluster),
            (&mut self.q_within, &other.q_within),
            (&mut self.r_cluster_cluster, &other.r_cluster_cluster),
            (&mut self.r_cluster_within, &other.r_cluster_within),
            (&mut self.r_within_within, &other.r_within_within),
        ] {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
        self.scalars
            .iter_mut()
            .zip(other.scalars)
            .for_each(|(a, b)| *a += b);
        self
    }
}

/// The second pass's sums, which need β: residual quadratic forms and the
/// pieces of yᵀ P Zₐ P Z_b P y for the observed information.
#[derive(Debug, Clone)]
struct ResidualSums {
    /// [eᵀM⁻¹e, Σ(1ᵀM⁻¹e)², ‖M⁻¹e‖², rJᵀM⁻¹rJ, rJᵀM⁻¹rI, rIᵀM⁻¹rI] with
    /// rJ = J M⁻¹e and rI = M⁻¹e.
    scalars: [f64; 6],
    /// Xᵀ M⁻¹ rJ and Xᵀ M⁻¹ rI.
    g_cluster: Vec<f64>,
    g_within: Vec<f64>,
    /// Working space for one cluster's t = Σ wᵢxᵢ, not a sum.
    scratch: Vec<f64>,
}

impl ResidualSums {
    fn new(p: usize) -> Self {
        ResidualSums {
            scalars: [0.0; 6],
            g_cluster: vec![0.0; p],
            g_within: vec![0.0; p],
            scratch: vec![0.0; p],
        }
    }

    fn merge(mut self, other: ResidualSums) -> ResidualSums {
        self.scalars
            .iter_mut()
            .zip(other.scalars)
            .for_each(|(a, b)| *a += b);
        for (a, b) in [
            (&mut self.g_cluster, &other.g_cluster),
            (&mut self.g_within, &other.g_within),
        ] {
            a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
        }
        self
    }
}

/// m += scale · a bᵀ.
fn add_outer(m: &mut [f64], a: &[f64], b: &[f64], scale: f64) {
    let p = a.len();
    for r in 0..p {
        let ar = scale * a[r];
        for c in 0..p {
            m[r * p + c] += ar * b[c];
        }
    }
}

/// tr(A B) for row-major p × p matrices.
fn trace_product(a: &[f64], b: &[f64], p: usize) -> f64 {
    (0..p)
        .map(|r| (0..p).map(|c| a[r * p + c] * b[c * p + r]).sum::<f64>())
        .sum()
}

fn quadratic(a: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let p = x.len();
    (0..p)
        .map(|r| x[r] * (0..p).map(|c| a[r * p + c] * y[c]).sum::<f64>())
        .sum()
}

/// A parallel sum over chunks of clusters, added in chunk order.
fn sum_chunks<T: Send>(
    clusters: usize,
    zero: impl Fn() -> T + Sync,
    add: impl Fn(&mut T, usize) + Sync,
    merge: impl Fn(T, T) -> T,
) -> T {
    let chunks = clusters.div_ceil(CLUSTERS_PER_CHUNK);
    let parts: Vec<T> = crate::parallel::map(0..chunks, |chunk| {
        let mut part = zero();
        let end = ((chunk + 1) * CLUSTERS_PER_CHUNK).min(clusters);
        (chunk * CLUSTERS_PER_CHUNK..end).for_each(|j| add(&mut part, j));
        part
    });
    parts.into_iter().fold(zero(), merge)
}

impl Blocks {
    /// Everything at (σ²₁, σ²₂); `None` when Xᵀ M⁻¹ X is singular.
    pub fn evaluate(&self, sigma2: [f64; 2], likelihood: Likelihood) -> Option<Evaluation> {
        let p = self.p;
        let sums = sum_chunks(
            self.clusters(),
            || Sums::new(p),
            |sums, j| self.accumulate(j, sigma2, sums),
            Sums::merge,
        );
        let factor = Cholesky::new(&sums.xwx, p, 1e-13).ok()?;
        let beta = factor.solve(&sums.xwy);
        let h = factor.inverse();
        let residuals = sum_chunks(
            self.clusters(),
            || ResidualSums::new(p),
            |r, j| self.accumulate_residuals(j, sigma2, &beta, r),
            ResidualSums::merge,
        );
        let [rss, quad_cluster, quad_within, jj, ji, ii] = residuals.scalars;
        let [
            log_det,
            mut trace_c,
            mut trace_w,
            mut i_cc,
            mut i_cw,
            mut i_ww,
        ] = sums.scalars;
        let restricted = likelihood == Likelihood::Restricted;
        let (k, pf) = (self.k() as f64, p as f64);
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        let log_likelihood = if restricted {
            -0.5 * ((k - pf) * ln_2pi + log_det + factor.log_determinant() + rss)
        } else {
            -0.5 * (k * ln_2pi + log_det + rss)
        };
        if restricted {
            // P = M⁻¹ − M⁻¹X H XᵀM⁻¹ in the traces.
            trace_c -= trace_product(&h, &sums.q_cluster, p);
            trace_w -= trace_product(&h, &sums.q_within, p);
            let hc = product(&h, &sums.q_cluster, p);
            let hw = product(&h, &sums.q_within, p);
            i_cc +=
                -2.0 * trace_product(&h, &sums.r_cluster_cluster, p) + trace_product(&hc, &hc, p);
            i_cw +=
                -2.0 * trace_product(&h, &sums.r_cluster_within, p) + trace_product(&hc, &hw, p);
            i_ww += -2.0 * trace_product(&h, &sums.r_within_within, p) + trace_product(&hw, &hw, p);
        }
        let information = [[0.5 * i_cc, 0.5 * i_cw], [0.5 * i_cw, 0.5 * i_ww]];
        // yᵀ P Zₐ P Z_b P y = rₐᵀ P r_b, P's projection taken out of rₐᵀ M⁻¹ r_b.
        let (gc, gw) = (&residuals.g_cluster, &residuals.g_within);
        let quad = [
            [jj - quadratic(&h, gc, gc), ji - quadratic(&h, gc, gw)],
            [ji - quadratic(&h, gc, gw), ii - quadratic(&h, gw, gw)],
        ];
        let observed =
            std::array::from_fn(|a| std::array::from_fn(|b| quad[a][b] - information[a][b]));
        Some(Evaluation {
            log_likelihood,
            score: [
                0.5 * (quad_cluster - trace_c),
                0.5 * (quad_within - trace_w),
            ],
            information,
            observed,
            beta,
            covariance: h,
        })
    }

    /// Cluster j's part of the first pass.
    fn accumulate(&self, j: usize, sigma2: [f64; 2], sums: &mut Sums) {
        if self.p == 1 {
            self.accumulate_one(j, sigma2, sums)
        } else {
            self.accumulate_any(j, sigma2, sums)
        }
    }

    /// The first pass for any number of coefficients.
    fn accumulate_any(&self, j: usize, sigma2: [f64; 2], sums: &mut Sums) {
        let p = self.p;
        let range = self.range(j);
        let (mut total, mut total2, mut total3) = (0.0, 0.0, 0.0);
        let mut determinant = LogProduct::default();
        let mut scratch = std::mem::take(&mut sums.scratch);
        scratch.iter_mut().for_each(|x| *x = 0.0);
        // t = Σ wᵢ xᵢ.
        let (t, rest) = scratch.split_at_mut(p);
        let (u, wu) = rest.split_at_mut(p);
        for i in range.clone() {
            let shifted = self.v[i] + sigma2[1];
            let w = 1.0 / shifted;
            total += w;
            total2 += w * w;
            total3 += w * w * w;
            determinant.push(shifted);
            for (t, x) in t.iter_mut().zip(self.row(i)) {
                *t += w * x;
            }
        }
        let c = sigma2[0] / (1.0 + sigma2[0] * total);
        let shrink = 1.0 - c * total;
        let s = total * shrink;
        // U = M⁻¹X row by row: uᵢ = wᵢ (xᵢ − c t).
        for i in range {
            let (x, w) = (self.row(i), 1.0 / (self.v[i] + sigma2[1]));
            for m in 0..p {
                u[m] = w * (x[m] - c * t[m]);
                sums.xwy[m] += u[m] * self.y[i];
                wu[m] += w * u[m];
            }
            add_outer(&mut sums.xwx, x, u, 1.0);
            add_outer(&mut sums.q_within, u, u, 1.0);
            add_outer(&mut sums.r_within_within, u, u, w);
        }
        // UᵀM⁻¹U = Σ wᵢ uᵢuᵢᵀ − c (Σ wᵢuᵢ)(Σ wᵢuᵢ)ᵀ; bⱼ = (1 − cS) t; Uᵀa = (1 − cS) Σ wᵢuᵢ.
        add_outer(&mut sums.r_within_within, wu, wu, -c);
        add_outer(&mut sums.q_cluster, t, t, shrink * shrink);
        add_outer(&mut sums.r_cluster_cluster, t, t, s * shrink * shrink);
        add_outer(&mut sums.r_cluster_within, t, wu, shrink * shrink);
        let scalars = [
            {
                determinant.push(1.0 + sigma2[0] * total);
                determinant.ln()
            },
            s,
            total - c * total2,
            s * s,
            shrink * shrink * total2,
            total2 - 2.0 * c * total3 + c * c * total2 * total2,
        ];
        sums.scalars
            .iter_mut()
            .zip(scalars)
            .for_each(|(a, b)| *a += b);
        sums.scratch = scratch;
    }

    /// [`accumulate`](Self::accumulate) for one coefficient (the pooled
    /// effect, the common case), in scalars: the sums stay in registers.
    fn accumulate_one(&self, j: usize, sigma2: [f64; 2], sums: &mut Sums) {
        let range = self.range(j);
        let (mut total, mut total2, mut total3, mut t) = (0.0, 0.0, 0.0, 0.0);
        let mut determinant = LogProduct::default();
        for i in range.clone() {
            let shifted = self.v[i] + sigma2[1];
            let w = 1.0 / shifted;
            total += w;
            total2 += w * w;
            total3 += w * w * w;
            determinant.push(shifted);
            t += w * self.x[i];
        }
        let c = sigma2[0] / (1.0 + sigma2[0] * total);
        let shrink = 1.0 - c * total;
        let s = total * shrink;
        let (mut xwx, mut q_within, mut r_ww, mut xwy, mut wu) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in range {
            let (x, w) = (self.x[i], 1.0 / (self.v[i] + sigma2[1]));
            let u = w * (x - c * t);
            xwx += x * u;
            q_within += u * u;
            r_ww += w * u * u;
            xwy += u * self.y[i];
            wu += w * u;
        }
        sums.xwx[0] += xwx;
        sums.xwy[0] += xwy;
        sums.q_within[0] += q_within;
        sums.r_within_within[0] += r_ww - c * wu * wu;
        sums.q_cluster[0] += shrink * shrink * t * t;
        sums.r_cluster_cluster[0] += s * shrink * shrink * t * t;
        sums.r_cluster_within[0] += shrink * shrink * t * wu;
        determinant.push(1.0 + sigma2[0] * total);
        let scalars = [
            determinant.ln(),
            s,
            total - c * total2,
            s * s,
            shrink * shrink * total2,
            total2 - 2.0 * c * total3 + c * c * total2 * total2,
        ];
        sums.scalars
            .iter_mut()
            .zip(scalars)
            .for_each(|(a, b)| *a += b);
    }

    /// Cluster j's part of the second pass, at the fit's β.
    fn accumulate_residuals(&self, j: usize, sigma2: [f64; 2], beta: &[f64], r: &mut ResidualSums) {
        if self.p == 1 {
            self.accumulate_residuals_one(j, sigma2, beta[0], r)
        } else {
            self.accumulate_residuals_any(j, sigma2, beta, r)
        }
    }

    /// The second pass for any number of coefficients.
    fn accumulate_residuals_any(
        &self,
        j: usize,
        sigma2: [f64; 2],
        beta: &[f64],
        r: &mut ResidualSums,
    ) {
        let p = self.p;
        let range = self.range(j);
        let (mut total, mut we) = (0.0, 0.0);
        let mut t = std::mem::take(&mut r.scratch);
        t.iter_mut().for_each(|x| *x = 0.0);
        for i in range.clone() {
            let w = 1.0 / (self.v[i] + sigma2[1]);
            total += w;
            we += w * (self.y[i] - dot(self.row(i), beta));
            for (t, x) in t.iter_mut().zip(self.row(i)) {
                *t += w * x;
            }
        }
        let c = sigma2[0] / (1.0 + sigma2[0] * total);
        let shrink = 1.0 - c * total;
        // pe = M⁻¹e: peᵢ = wᵢ (eᵢ − c Σ w e).
        let (mut rss, mut sum_pe, mut sum_pe2, mut wpe, mut wpe2) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in range {
            let x = self.row(i);
            let w = 1.0 / (self.v[i] + sigma2[1]);
            let e = self.y[i] - dot(x, beta);
            let pe = w * (e - c * we);
            rss += e * pe;
            sum_pe += pe;
            sum_pe2 += pe * pe;
            wpe += w * pe;
            wpe2 += w * pe * pe;
            for m in 0..p {
                r.g_within[m] += x[m] * w * pe;
            }
        }
        for m in 0..p {
            // Xᵀ M⁻¹ pe = Σ xᵢwᵢpeᵢ − c (Σ wᵢpeᵢ) t; Xᵀ M⁻¹ (J pe) = (1ᵀpe)(1 − cS) t.
            r.g_within[m] -= c * wpe * t[m];
            r.g_cluster[m] += sum_pe * shrink * t[m];
        }
        let s = total * shrink;
        let scalars = [
            rss,
            sum_pe * sum_pe,
            sum_pe2,
            sum_pe * sum_pe * s,
            sum_pe * wpe * shrink,
            wpe2 - c * wpe * wpe,
        ];
        r.scalars.iter_mut().zip(scalars).for_each(|(a, b)| *a += b);
        r.scratch = t;
    }
}

impl Blocks {
    /// [`accumulate_residuals`](Self::accumulate_residuals) for one
    /// coefficient, in scalars.
    fn accumulate_residuals_one(
        &self,
        j: usize,
        sigma2: [f64; 2],
        beta: f64,
        r: &mut ResidualSums,
    ) {
        let range = self.range(j);
        let (mut total, mut we, mut t) = (0.0, 0.0, 0.0);
        for i in range.clone() {
            let w = 1.0 / (self.v[i] + sigma2[1]);
            total += w;
            we += w * (self.y[i] - self.x[i] * beta);
            t += w * self.x[i];
        }
        let c = sigma2[0] / (1.0 + sigma2[0] * total);
        let shrink = 1.0 - c * total;
        let (mut rss, mut sum_pe, mut sum_pe2, mut wpe, mut wpe2, mut g_within) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for i in range {
            let (x, w) = (self.x[i], 1.0 / (self.v[i] + sigma2[1]));
            let e = self.y[i] - x * beta;
            let pe = w * (e - c * we);
            rss += e * pe;
            sum_pe += pe;
            sum_pe2 += pe * pe;
            wpe += w * pe;
            wpe2 += w * pe * pe;
            g_within += x * w * pe;
        }
        r.g_within[0] += g_within - c * wpe * t;
        r.g_cluster[0] += sum_pe * shrink * t;
        let s = total * shrink;
        let scalars = [
            rss,
            sum_pe * sum_pe,
            sum_pe2,
            sum_pe * sum_pe * s,
            sum_pe * wpe * shrink,
            wpe2 - c * wpe * wpe,
        ];
        r.scalars.iter_mut().zip(scalars).for_each(|(a, b)| *a += b);
    }
}

/// ln of a product of positive numbers with one logarithm: mantissas are
/// multiplied and binary exponents added, so the product neither overflows
/// nor underflows. (A logarithm per effect was most of an evaluation's cost.)
#[derive(Debug, Clone, Copy)]
struct LogProduct {
    mantissa: f64,
    exponent: i64,
}

impl Default for LogProduct {
    fn default() -> Self {
        LogProduct {
            mantissa: 1.0,
            exponent: 0,
        }
    }
}

impl LogProduct {
    /// Multiplies by x > 0 (finite).
    fn push(&mut self, x: f64) {
        let (m, e) = split(x);
        self.mantissa *= m;
        self.exponent += e;
        // Mantissas lie in [1, 2): renormalise long before overflow.
        if self.mantissa > 1e250 {
            let (m, e) = split(self.mantissa);
            self.mantissa = m;
            self.exponent += e;
        }
    }

    fn ln(self) -> f64 {
        self.mantissa.ln() + self.exponent as f64 * std::f64::consts::LN_2
    }
}

/// x = m · 2^e with m in [1, 2), for normal x; subnormal x is scaled first.
fn split(x: f64) -> (f64, i64) {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if x < f64::MIN_POSITIVE {
        let (m, e) = split(x * TWO_POW_64);
        return (m, e - 64);
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mantissa = f64::from_bits((bits & !(0x7ff_u64 << 52)) | (1023_u64 << 52));
    (mantissa, exponent)
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar passes for one coefficient agree with the general ones.
    #[test]
    fn the_scalar_passes_agree_with_the_general_ones() {
        let blocks = Blocks {
            starts: vec![0, 3, 4, 7],
            y: vec![0.3, 0.5, -0.1, 0.9, 0.2, 0.4, 0.0],
            v: vec![0.02, 0.05, 0.03, 0.1, 0.04, 0.02, 0.06],
            x: vec![1.0, 2.0, 0.5, 1.5, -1.0, 3.0, 1.0],
            p: 1,
            order: (0..7).collect(),
        };
        let sigma2 = [0.07, 0.03];
        let (mut one, mut any) = (Sums::new(1), Sums::new(1));
        let (mut r_one, mut r_any) = (ResidualSums::new(1), ResidualSums::new(1));
        for j in 0..blocks.clusters() {
            blocks.accumulate_one(j, sigma2, &mut one);
            blocks.accumulate_any(j, sigma2, &mut any);
            blocks.accumulate_residuals_one(j, sigma2, 0.25, &mut r_one);
            blocks.accumulate_residuals_any(j, sigma2, &[0.25], &mut r_any);
        }
        let close = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .all(|(a, b)| (a - b).abs() <= 1e-13 * a.abs().max(1.0))
        };
        for (a, b) in [
            (&one.xwx, &any.xwx),
            (&one.xwy, &any.xwy),
            (&one.q_cluster, &any.q_cluster),
            (&one.q_within, &any.q_within),
            (&one.r_cluster_cluster, &any.r_cluster_cluster),
            (&one.r_cluster_within, &any.r_cluster_within),
            (&one.r_within_within, &any.r_within_within),
            (&r_one.g_cluster, &r_any.g_cluster),
            (&r_one.g_within, &r_any.g_within),
        ] {
            assert!(close(a, b), "{a:?} vs {b:?}");
        }
        assert!(close(&one.scalars, &any.scalars));
        assert!(close(&r_one.scalars, &r_any.scalars));
    }

    #[test]
    fn a_log_product_is_the_sum_of_logarithms() {
        let values = [3.5, 1e-300, 7e300, 0.25, 5e-320, 1.0, 123.456];
        let mut product = LogProduct::default();
        values.iter().for_each(|&x| product.push(x));
        let sum: f64 = values.iter().map(|x| x.ln()).sum();
        assert!(
            (product.ln() - sum).abs() < 1e-12 * sum.abs(),
            "{} vs {sum}",
            product.ln()
        );
    }
}
