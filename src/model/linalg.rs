//! Dense algebra for the p × p matrices of a meta-regression (p is small: the
//! number of coefficients). Matrices are row-major `Vec<f64>` of length p².

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

/// The Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric positive
/// definite matrix.
#[derive(Debug, Clone)]
pub(crate) struct Cholesky {
    p: usize,
    lower: Vec<f64>,
    /// 1 / Lᵢᵢ: forward substitution runs once per study and iteration.
    inverse_diagonal: Vec<f64>,
}

impl Cholesky {
    /// Factors `a`; `Err(j)` names the first column whose pivot is not above
    /// `tolerance` times its diagonal entry (a column the earlier ones span).
    pub fn new(a: &[f64], p: usize, tolerance: f64) -> Result<Self, usize> {
        let mut lower = vec![0.0; p * p];
        for j in 0..p {
            let mut pivot = a[j * p + j];
            for m in 0..j {
                pivot -= lower[j * p + m] * lower[j * p + m];
            }
            if pivot.is_nan() || pivot <= tolerance * a[j * p + j] {
                return Err(j);
            }
            let root = pivot.sqrt();
            lower[j * p + j] = root;
            for i in j + 1..p {
                let mut s = a[i * p + j];
                for m in 0..j {
                    s -= lower[i * p + m] * lower[j * p + m];
                }
                lower[i * p + j] = s / root;
            }
        }
        let inverse_diagonal = (0..p).map(|i| 1.0 / lower[i * p + i]).collect();
        Ok(Cholesky {
            p,
            lower,
            inverse_diagonal,
        })
    }

    /// L, row-major.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// u = L⁻¹ x (forward substitution).
    pub fn forward(&self, x: &[f64], u: &mut [f64]) {
        let p = self.p;
        for i in 0..p {
            let mut s = x[i];
            for m in 0..i {
                s -= self.lower[i * p + m] * u[m];
            }
            u[i] = s * self.inverse_diagonal[i];
        }
    }

    /// L and 1/diag(L) padded to P × P with the identity, for fixed-size loops.
    pub fn padded<const P: usize>(&self) -> ([[f64; P]; P], [f64; P]) {
        let p = self.p;
        let lower = std::array::from_fn(|r| {
            std::array::from_fn(|c| match (r < p && c < p, r == c) {
                (true, _) => self.lower[r * p + c],
                (false, true) => 1.0,
                (false, false) => 0.0,
            })
        });
        let inverse = std::array::from_fn(|r| self.inverse_diagonal.get(r).copied().unwrap_or(1.0));
        (lower, inverse)
    }

    /// x = A⁻¹ b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let p = self.p;
        let mut u = vec![0.0; p];
        self.forward(b, &mut u);
        let mut x = vec![0.0; p];
        for i in (0..p).rev() {
            let mut s = u[i];
            for m in i + 1..p {
                s -= self.lower[m * p + i] * x[m];
            }
            x[i] = s / self.lower[i * p + i];
        }
        x
    }

    /// A⁻¹, row-major.
    pub fn inverse(&self) -> Vec<f64> {
        let p = self.p;
        let mut inverse = vec![0.0; p * p];
        let mut unit = vec![0.0; p];
        for j in 0..p {
            unit.iter_mut()
                .enumerate()
                .for_each(|(i, u)| *u = f64::from(u8::from(i == j)));
            for (i, x) in self.solve(&unit).into_iter().enumerate() {
                inverse[i * p + j] = x;
            }
        }
        inverse
    }

    /// ln det A.
    pub fn log_determinant(&self) -> f64 {
        (0..self.p)
            .map(|i| 2.0 * self.lower[i * self.p + i].ln())
            .sum()
    }
}

/// A B for row-major n × n matrices.
pub(crate) fn product(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for r in 0..n {
        for m in 0..n {
            let a_rm = a[r * n + m];
            for c in 0..n {
                out[r * n + c] += a_rm * b[m * n + c];
            }
        }
    }
    out
}

/// xᵀ A x for a row-major p × p matrix.
pub(crate) fn quadratic_form(a: &[f64], x: &[f64]) -> f64 {
    let p = x.len();
    (0..p)
        .map(|i| x[i] * (0..p).map(|j| a[i * p + j] * x[j]).sum::<f64>())
        .sum()
}

/// The inverse square root of a symmetric positive semi-definite n × n matrix
/// (row-major) by cyclic Jacobi rotations; eigenvalues at or below `tolerance`
/// times the largest are treated as 0 (a generalised inverse, as for a cluster
/// whose residuals the model fits exactly).
pub(crate) fn inverse_square_root(a: &[f64], n: usize, tolerance: f64) -> Vec<f64> {
    let (values, vectors, _) = symmetric_eigen(a, n);
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut out = vec![0.0; n * n];
    for (m, &value) in values.iter().enumerate() {
        if value <= tolerance * largest || value <= 0.0 {
            continue;
        }
        let power = value.sqrt().recip();
        for r in 0..n {
            let vr = vectors[r * n + m] * power;
            for c in 0..n {
                out[r * n + c] += vr * vectors[c * n + m];
            }
        }
    }
    out
}

/// Eigenvalues and eigenvectors (columns, row-major) of a symmetric matrix,
/// and the sweeps it took.
fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>, usize) {
    let mut m = a.to_vec();
    let mut vectors: Vec<f64> = (0..n * n)
        .map(|i| f64::from(u8::from(i / n == i % n)))
        .collect();
    // An element is negligible beside its diagonal pair (the relative test of
    // one-sided Jacobi methods), or beside the matrix where that pair is 0;
    // sweeps end when no element is left to rotate. Rounding keeps the
    // off-diagonal sum of squares above any fixed fraction of the diagonal's
    // at larger n, so a test on that sum ran every sweep (100 at n = 60).
    let scale = (0..n).fold(0.0f64, |s, r| s.max(a[r * n + r].abs()));
    let negligible = |apq: f64, app: f64, aqq: f64| {
        apq.abs() <= f64::EPSILON * (app * aqq).abs().sqrt()
            || apq.abs() <= f64::EPSILON * f64::EPSILON * scale
    };
    let mut sweeps = 0;
    while sweeps < 100 {
        sweeps += 1;
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if negligible(apq, m[p * n + p], m[q * n + q]) {
                    continue;
                }
                rotated = true;
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + theta.hypot(1.0));
                let c = 1.0 / t.hypot(1.0);
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (vectors[k * n + p], vectors[k * n + q]);
                    vectors[k * n + p] = c * vkp - s * vkq;
                    vectors[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    ((0..n).map(|r| m[r * n + r]).collect(), vectors, sweeps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_a_small_system() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let c = Cholesky::new(&a, 2, 1e-12).unwrap();
        let x = c.solve(&[2.0, 1.0]);
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-14);
        assert!((2.0 * x[0] + 3.0 * x[1] - 1.0).abs() < 1e-14);
        let inv = c.inverse();
        assert!((inv[0] - 3.0 / 8.0).abs() < 1e-15 && (inv[1] + 2.0 / 8.0).abs() < 1e-15);
        assert!((c.log_determinant() - 8f64.ln()).abs() < 1e-14);
        assert!((quadratic_form(&a, &[1.0, 1.0]) - 11.0).abs() < 1e-15);
        assert_eq!(
            Cholesky::new(&[1.0, 1.0, 1.0, 1.0], 2, 1e-12).unwrap_err(),
            1
        );
    }

    #[test]
    fn the_inverse_square_root_squares_to_the_inverse() {
        let a = [4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0];
        let r = inverse_square_root(&a, 3, 1e-12);
        // r a r = I
        let mut ra = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                ra[i * 3 + j] = (0..3).map(|m| r[i * 3 + m] * a[m * 3 + j]).sum();
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let rar: f64 = (0..3).map(|m| ra[i * 3 + m] * r[m * 3 + j]).sum();
                assert!((rar - f64::from(u8::from(i == j))).abs() < 1e-13, "{rar}");
            }
        }
    }

    #[test]
    fn a_large_cluster_converges_in_few_sweeps() {
        // A = B Bᵀ + I for a pseudo-random 60 × 60 B: a CR2 cluster of 60 effects.
        let n = 60;
        let mut state = 12345u64;
        let b: Vec<f64> = (0..n * n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect();
        let a: Vec<f64> = (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                let dot: f64 = (0..n).map(|k| b[r * n + k] * b[c * n + k]).sum();
                dot + f64::from(u8::from(r == c))
            })
            .collect();
        let (values, vectors, sweeps) = symmetric_eigen(&a, n);
        assert!(sweeps <= 15, "{sweeps} sweeps");
        // A v = λ v for every pair, to rounding of the matrix's scale.
        let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (j, &value) in values.iter().enumerate() {
            for r in 0..n {
                let av: f64 = (0..n).map(|k| a[r * n + k] * vectors[k * n + j]).sum();
                assert!((av - value * vectors[r * n + j]).abs() < 1e-12 * largest);
            }
        }
    }
}
