//! The marginal posterior of τ on an adaptive Gauss–Kronrod quadrature.
//!
//! Given τ, the overall effect μ integrates out in closed form (a normal prior
//! for μ enters as one more observation), leaving a one-dimensional density
//! p(τ | y) ∝ p(τ) L(τ). It is integrated over u ∈ [0, 1) with τ = s·u/(1 − u)
//! (or τ = a·u under a prior bounded at a), splitting the piece with the
//! largest Kronrod–Gauss discrepancy until the total discrepancy is below
//! [`TOLERANCE`] of the integral. The nodes, weighted by their posterior
//! probability, then carry every other posterior quantity: μ, a new study's
//! effect and the studies' shrunken effects are normal mixtures over them.

use std::f64::consts::PI;

use super::prior::{MuPrior, TauPrior};
use crate::error::{ErrorKind, Result};

/// Largest summed |Kronrod − Gauss| discrepancy, relative to the integral.
/// The discrepancy bounds the Gauss rule's error; the Kronrod rule used is
/// far more accurate on the smooth pieces this leaves.
pub(crate) const TOLERANCE: f64 = 1e-8;
/// Most pieces the interval is split into.
const MAX_PIECES: usize = 400;

/// Kronrod nodes on [−1, 1] (the positive half and 0; QUADPACK's qk15).
const KRONROD_NODES: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const KRONROD_WEIGHTS: [f64; 8] = [
    0.022_935_322_010_529_224,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_18,
    0.140_653_259_715_525_92,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_83,
];
/// Weights of the 7-point Gauss rule on Kronrod nodes 1, 3, 5 and 7.
const GAUSS_WEIGHTS: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// The studies and the prior for μ: the likelihood of τ with μ integrated out.
#[derive(Debug, Clone)]
pub(crate) struct Likelihood {
    pub(crate) y: Vec<f64>,
    pub(crate) v: Vec<f64>,
    /// The prior for μ as a pseudo-observation: (mean, precision), or
    /// precision 0 for the uniform prior.
    prior_mean: f64,
    prior_precision: f64,
    constant: f64,
}

/// What the data say given τ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conditional {
    /// log L(τ), μ integrated out (improper μ prior: up to its constant).
    pub(crate) log_likelihood: f64,
    /// E(μ | τ, y).
    pub(crate) mean: f64,
    /// Var(μ | τ, y).
    pub(crate) var: f64,
}

impl Likelihood {
    pub(crate) fn new(y: Vec<f64>, v: Vec<f64>, mu_prior: MuPrior) -> Self {
        let k = y.len() as f64;
        let log_2pi = (2.0 * PI).ln();
        let (prior_mean, prior_precision, constant) = match mu_prior {
            MuPrior::Uniform => (0.0, 0.0, -(k - 1.0) / 2.0 * log_2pi),
            MuPrior::Normal { mean, sd } => (mean, 1.0 / (sd * sd), -k / 2.0 * log_2pi - sd.ln()),
        };
        Likelihood {
            y,
            v,
            prior_mean,
            prior_precision,
            constant,
        }
    }

    pub(crate) fn at(&self, tau: f64) -> Conditional {
        let t2 = tau * tau;
        let (mut sw, mut swy, mut log_v) = (
            self.prior_precision,
            self.prior_precision * self.prior_mean,
            0.0,
        );
        for (y, v) in self.y.iter().zip(&self.v) {
            let total = v + t2;
            sw += 1.0 / total;
            swy += y / total;
            log_v += total.ln();
        }
        let mean = swy / sw;
        let q = self
            .y
            .iter()
            .zip(&self.v)
            .map(|(y, v)| (y - mean).powi(2) / (v + t2))
            .sum::<f64>()
            + self.prior_precision * (self.prior_mean - mean).powi(2);
        Conditional {
            log_likelihood: self.constant - 0.5 * log_v - 0.5 * sw.ln() - 0.5 * q,
            mean,
            var: 1.0 / sw,
        }
    }

    /// d log L / dτ at τ > 0: with μ integrated out, the derivative in τ² is
    /// −½ Σ wᵢ + ½ Σ wᵢ² / Σ w + ½ Σ wᵢ² rᵢ² (the mean's own derivative
    /// drops out because it minimises the quadratic form).
    pub(crate) fn slope(&self, tau: f64) -> f64 {
        let c = self.at(tau);
        let t2 = tau * tau;
        let sw = 1.0 / c.var;
        let (mut w_sum, mut w2_sum, mut w2r2) = (0.0, 0.0, 0.0);
        for (y, v) in self.y.iter().zip(&self.v) {
            let w = 1.0 / (v + t2);
            w_sum += w;
            w2_sum += w * w;
            w2r2 += (w * (y - c.mean)).powi(2);
        }
        2.0 * tau * 0.5 * (-w_sum + w2_sum / sw + w2r2)
    }
}

/// How u ∈ [0, 1) maps onto τ.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Map {
    /// τ = s·u / (1 − u).
    Unbounded(f64),
    /// τ = a·u.
    Bounded(f64),
}

impl Map {
    fn tau(self, u: f64) -> (f64, f64) {
        match self {
            Map::Unbounded(s) => (s * u / (1.0 - u), s / ((1.0 - u) * (1.0 - u))),
            Map::Bounded(a) => (a * u, a),
        }
    }

    pub(crate) fn u(self, tau: f64) -> f64 {
        match self {
            Map::Unbounded(s) => tau / (s + tau),
            Map::Bounded(a) => (tau / a).min(1.0),
        }
    }
}

/// One quadrature node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    pub(crate) tau: f64,
    /// log p(τ) + log L(τ), the unnormalised log posterior density of τ.
    pub(crate) log_density: f64,
    /// log dτ/du.
    log_jacobian: f64,
    pub(crate) conditional: Conditional,
}

impl Node {
    /// The node at u: τ, the log posterior density there, the Jacobian and
    /// what the data say given τ.
    fn at(likelihood: &Likelihood, prior: &TauPrior, map: Map, u: f64) -> Node {
        let (tau, jacobian) = map.tau(u);
        let conditional = likelihood.at(tau);
        Node {
            tau,
            log_density: prior.log_density(tau, &likelihood.v) + conditional.log_likelihood,
            log_jacobian: jacobian.ln(),
            conditional,
        }
    }
}

#[derive(Debug, Clone)]
struct Piece {
    lower: f64,
    upper: f64,
    nodes: [Node; 15],
    /// The Kronrod and Gauss rule weights of the nodes (0 where Gauss has none).
    kronrod: [f64; 15],
    gauss: [f64; 15],
}

impl Piece {
    fn new(lower: f64, upper: f64, point: &impl Fn(f64) -> Node) -> Piece {
        let centre = 0.5 * (lower + upper);
        let half = 0.5 * (upper - lower);
        let mut nodes = Vec::with_capacity(15);
        let mut kronrod = [0.0; 15];
        let mut gauss = [0.0; 15];
        for (i, (&x, &w)) in KRONROD_NODES.iter().zip(&KRONROD_WEIGHTS).enumerate() {
            let g = if i % 2 == 1 {
                GAUSS_WEIGHTS[i / 2]
            } else {
                0.0
            };
            let points: &[f64] = if x == 0.0 { &[0.0] } else { &[-x, x] };
            for &offset in points {
                kronrod[nodes.len()] = w * half;
                gauss[nodes.len()] = g * half;
                nodes.push(point(centre + half * offset));
            }
        }
        Piece {
            lower,
            upper,
            nodes: nodes.try_into().expect("15 nodes"),
            kronrod,
            gauss,
        }
    }

    /// The node's integrand, exp(log density + log Jacobian − shift).
    fn value(node: &Node, shift: f64) -> f64 {
        (node.log_density + node.log_jacobian - shift).exp()
    }

    /// (Kronrod sum, |Kronrod − Gauss|) of the integrand.
    fn sums(&self, shift: f64) -> (f64, f64) {
        let (mut k, mut g) = (0.0, 0.0);
        for ((node, kw), gw) in self.nodes.iter().zip(&self.kronrod).zip(&self.gauss) {
            let value = Piece::value(node, shift);
            k += kw * value;
            g += gw * value;
        }
        (k, (k - g).abs())
    }

    fn max_log(&self) -> f64 {
        self.nodes
            .iter()
            .map(|n| n.log_density + n.log_jacobian)
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// The posterior of τ on its quadrature.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    pub(crate) likelihood: Likelihood,
    pub(crate) prior: TauPrior,
    pub(crate) map: Map,
    pieces: Vec<Piece>,
    /// Every piece's share of the posterior probability, in order.
    masses: Vec<f64>,
    /// The shift taken out of the log densities before exponentiating.
    shift: f64,
    /// ∫ exp(log density − shift) dτ.
    total: f64,
}

impl Grid {
    pub(crate) fn new(likelihood: Likelihood, prior: TauPrior) -> Result<Grid> {
        let upper = prior.upper();
        let map = if upper.is_finite() {
            Map::Bounded(upper)
        } else {
            // A scale between the studies' standard errors: where the
            // likelihood of τ changes.
            let mut v = likelihood.v.clone();
            v.sort_by(f64::total_cmp);
            Map::Unbounded(v[v.len() / 2].sqrt())
        };
        let point = |u: f64| Node::at(&likelihood, &prior, map, u);
        let mut pieces: Vec<Piece> = (0..4)
            .map(|i| Piece::new(i as f64 / 4.0, (i + 1) as f64 / 4.0, &point))
            .collect();
        let mut shift = pieces
            .iter()
            .map(Piece::max_log)
            .fold(f64::NEG_INFINITY, f64::max);
        if !shift.is_finite() {
            return Err(not_finite());
        }
        loop {
            let sums: Vec<(f64, f64)> = pieces.iter().map(|p| p.sums(shift)).collect();
            let total: f64 = sums.iter().map(|s| s.0).sum();
            let error: f64 = sums.iter().map(|s| s.1).sum();
            if !(total.is_finite() && total > 0.0) {
                return Err(not_finite());
            }
            if error <= TOLERANCE * total || pieces.len() >= MAX_PIECES {
                let masses = sums.iter().map(|s| s.0 / total).collect();
                return Ok(Grid {
                    likelihood,
                    prior,
                    map,
                    pieces,
                    masses,
                    shift,
                    total,
                });
            }
            let worst = (0..sums.len())
                .max_by(|&a, &b| sums[a].1.total_cmp(&sums[b].1))
                .expect("pieces");
            let old = pieces.remove(worst);
            let middle = 0.5 * (old.lower + old.upper);
            let halves = [
                Piece::new(old.lower, middle, &point),
                Piece::new(middle, old.upper, &point),
            ];
            shift = halves.iter().map(Piece::max_log).fold(shift, f64::max);
            pieces.splice(worst..worst, halves);
        }
    }

    /// log ∫ p(τ) L(τ) dτ: the marginal likelihood when both priors are proper.
    pub(crate) fn log_evidence(&self) -> f64 {
        self.shift + self.total.ln()
    }

    /// Every node with its posterior probability (negligible ones left out).
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (f64, &Node)> + '_ {
        self.pieces.iter().flat_map(move |piece| {
            piece
                .nodes
                .iter()
                .zip(&piece.kronrod)
                .map(move |(node, w)| (w * Piece::value(node, self.shift) / self.total, node))
                .filter(|(p, _)| *p > 1e-14)
        })
    }

    /// The unnormalised log posterior density of τ.
    pub(crate) fn log_density(&self, tau: f64) -> f64 {
        self.prior.log_density(tau, &self.likelihood.v) + self.likelihood.at(tau).log_likelihood
    }

    /// The posterior density of τ.
    pub(crate) fn density(&self, tau: f64) -> f64 {
        (self.log_density(tau) - self.shift).exp() / self.total
    }

    /// P(τ ≤ t | y): the pieces below t and a Kronrod rule on the part of
    /// the piece t falls in.
    pub(crate) fn cdf(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let u = self.map.u(t);
        if u >= 1.0 {
            return 1.0;
        }
        let mut below = 0.0;
        for (piece, mass) in self.pieces.iter().zip(&self.masses) {
            if piece.upper <= u {
                below += mass;
            } else {
                if u > piece.lower {
                    let point = |x: f64| Node::at(&self.likelihood, &self.prior, self.map, x);
                    let part = Piece::new(piece.lower, u, &point);
                    below += part.sums(self.shift).0 / self.total;
                }
                break;
            }
        }
        below.min(1.0)
    }

    /// The derivative of the log posterior density of τ.
    pub(crate) fn slope(&self, tau: f64) -> f64 {
        self.prior.log_density_slope(tau, &self.likelihood.v) + self.likelihood.slope(tau)
    }

    /// The node at which the posterior density of τ is highest.
    pub(crate) fn highest(&self) -> &Node {
        self.pieces
            .iter()
            .flat_map(|p| p.nodes.iter())
            .max_by(|a, b| a.log_density.total_cmp(&b.log_density))
            .expect("nodes")
    }
}

/// The data leave no τ a density double precision can hold: effects so
/// far apart (an effect of 1e15 beside ones of 0.1) that the likelihood
/// underflows wherever the prior has mass. The input's fault, not the machine's.
fn not_finite() -> crate::Error {
    ErrorKind::InvalidValue(
        "the posterior density of τ is zero or not finite everywhere: the effects lie too far \
         apart for their variances (check for an effect on another scale or a typing error)"
            .into(),
    )
    .into()
}
