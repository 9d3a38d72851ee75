//! The (restricted) likelihood of the three-level model and its derivatives,
//! one small block per cluster.
//!
//! Cluster j's marginal covariance is Mⱼ = Dⱼ + σ²₁ J with Dⱼ = diag(vᵢ + σ²₂),
//! so Mⱼ⁻¹ = diag(w) − c w wᵀ with wᵢ = 1/(vᵢ + σ²₂) and c = σ²₁ / (1 + σ²₁ Σw)
//! (Sherman–Morrison): every product below is a pass over the cluster's effects,
//! and a whole evaluation costs O(k p²) with no k × k matrix.

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use crate::model::linalg::Cholesky;

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

/// The likelihood, its score and expected information at one (σ²₁, σ²₂), with
/// the generalised least-squares fit that goes with it.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    pub log_likelihood: f64,
    pub score: [f64; 2],
    pub information: [[f64; 2]; 2],
    pub beta: Vec<f64>,
    /// (Xᵀ M⁻¹ X)⁻¹, row-major.
    pub covariance: Vec<f64>,
}

/// p × p accumulators, row-major.
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
    log_det: f64,
    trace_cluster: f64,
    trace_within: f64,
    /// tr(M⁻¹ A M⁻¹ B) for A, B ∈ {J, I}.
    tt_cc: f64,
    tt_cw: f64,
    tt_ww: f64,
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
            log_det: 0.0,
            trace_cluster: 0.0,
            trace_within: 0.0,
            tt_cc: 0.0,
            tt_cw: 0.0,
            tt_ww: 0.0,
        }
    }
}

fn add_outer(m: &mut [f64], a: &[f64], b: &[f64], scale: f64) {
    let p = a.len();
    for r in 0..p {
        for c in 0..p {
            m[r * p + c] += scale * a[r] * b[c];
        }
    }
}

/// tr(A B) for row-major p × p matrices.
fn trace_product(a: &[f64], b: &[f64], p: usize) -> f64 {
    (0..p)
        .map(|r| (0..p).map(|c| a[r * p + c] * b[c * p + r]).sum::<f64>())
        .sum()
}

fn product(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p * p];
    for r in 0..p {
        for m in 0..p {
            let a_rm = a[r * p + m];
            for c in 0..p {
                out[r * p + c] += a_rm * b[m * p + c];
            }
        }
    }
    out
}

/// One cluster's Sherman–Morrison pieces.
struct Block {
    w: Vec<f64>,
    c: f64,
}

impl Block {
    fn new(blocks: &Blocks, j: usize, sigma2: [f64; 2]) -> Self {
        let w: Vec<f64> = blocks.v[blocks.range(j)]
            .iter()
            .map(|v| 1.0 / (v + sigma2[1]))
            .collect();
        let total: f64 = w.iter().sum();
        Block {
            c: sigma2[0] / (1.0 + sigma2[0] * total),
            w,
        }
    }

    /// M⁻¹ z for a vector z of the cluster's length.
    fn apply(&self, z: &[f64]) -> Vec<f64> {
        let wz: f64 = self.w.iter().zip(z).map(|(w, z)| w * z).sum();
        self.w
            .iter()
            .zip(z)
            .map(|(w, z)| w * z - self.c * w * wz)
            .collect()
    }
}

impl Blocks {
    /// Everything at (σ²₁, σ²₂); `None` when Xᵀ M⁻¹ X is singular.
    pub fn evaluate(&self, sigma2: [f64; 2], likelihood: Likelihood) -> Option<Evaluation> {
        let p = self.p;
        let mut sums = Sums::new(p);
        for j in 0..self.clusters() {
            self.accumulate(j, sigma2, &mut sums);
        }
        let factor = Cholesky::new(&sums.xwx, p, 1e-13).ok()?;
        let beta = factor.solve(&sums.xwy);
        let h = factor.inverse();
        // Residual quadratic forms need β: a second pass.
        let (mut rss, mut quad_cluster, mut quad_within) = (0.0, 0.0, 0.0);
        for j in 0..self.clusters() {
            let block = Block::new(self, j, sigma2);
            let e: Vec<f64> = self
                .range(j)
                .map(|i| self.y[i] - dot(self.row(i), &beta))
                .collect();
            let pe = block.apply(&e);
            rss += e.iter().zip(&pe).map(|(a, b)| a * b).sum::<f64>();
            quad_cluster += pe.iter().sum::<f64>().powi(2);
            quad_within += pe.iter().map(|x| x * x).sum::<f64>();
        }
        let restricted = likelihood == Likelihood::Restricted;
        let (k, pf) = (self.k() as f64, p as f64);
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        let log_likelihood = if restricted {
            -0.5 * ((k - pf) * ln_2pi + sums.log_det + factor.log_determinant() + rss)
        } else {
            -0.5 * (k * ln_2pi + sums.log_det + rss)
        };
        let (mut trace_c, mut trace_w) = (sums.trace_cluster, sums.trace_within);
        let (mut i_cc, mut i_cw, mut i_ww) = (sums.tt_cc, sums.tt_cw, sums.tt_ww);
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
        Some(Evaluation {
            log_likelihood,
            score: [
                0.5 * (quad_cluster - trace_c),
                0.5 * (quad_within - trace_w),
            ],
            information: [[0.5 * i_cc, 0.5 * i_cw], [0.5 * i_cw, 0.5 * i_ww]],
            beta,
            covariance: h,
        })
    }

    fn accumulate(&self, j: usize, sigma2: [f64; 2], sums: &mut Sums) {
        let p = self.p;
        let block = Block::new(self, j, sigma2);
        let (w, c) = (&block.w, block.c);
        let range = self.range(j);
        let total: f64 = w.iter().sum();
        let total2: f64 = w.iter().map(|w| w * w).sum();
        let total3: f64 = w.iter().map(|w| w * w * w).sum();
        // t = Σ wᵢ xᵢ.
        let mut t = vec![0.0; p];
        for (wi, i) in w.iter().zip(range.clone()) {
            for (t, x) in t.iter_mut().zip(self.row(i)) {
                *t += wi * x;
            }
        }
        let shrink = 1.0 - c * total;
        let s = total * shrink;
        let b: Vec<f64> = t.iter().map(|t| shrink * t).collect();
        // U = M⁻¹X row by row: uᵢ = wᵢ (xᵢ − c t); Σ wᵢ uᵢ for Uᵀ M⁻¹ U.
        let mut wu = vec![0.0; p];
        let mut ua = vec![0.0; p];
        for (wi, i) in w.iter().zip(range.clone()) {
            let x = self.row(i);
            let u: Vec<f64> = x.iter().zip(&t).map(|(x, t)| wi * (x - c * t)).collect();
            add_outer(&mut sums.xwx, x, &u, 1.0);
            add_outer(&mut sums.q_within, &u, &u, 1.0);
            add_outer(&mut sums.r_within_within, &u, &u, *wi);
            for m in 0..p {
                sums.xwy[m] += u[m] * self.y[i];
                wu[m] += wi * u[m];
                ua[m] += wi * shrink * u[m];
            }
        }
        add_outer(&mut sums.r_within_within, &wu, &wu, -c);
        add_outer(&mut sums.q_cluster, &b, &b, 1.0);
        add_outer(&mut sums.r_cluster_cluster, &b, &b, s);
        add_outer(&mut sums.r_cluster_within, &b, &ua, 1.0);
        sums.log_det += self.v[range]
            .iter()
            .map(|v| (v + sigma2[1]).ln())
            .sum::<f64>()
            + (sigma2[0] * total).ln_1p();
        sums.trace_cluster += s;
        sums.trace_within += total - c * total2;
        sums.tt_cc += s * s;
        sums.tt_cw += shrink * shrink * total2;
        sums.tt_ww += total2 - 2.0 * c * total3 + c * c * total2 * total2;
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}
