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

/// xᵀ A x for a row-major p × p matrix.
pub(crate) fn quadratic_form(a: &[f64], x: &[f64]) -> f64 {
    let p = x.len();
    (0..p)
        .map(|i| x[i] * (0..p).map(|j| a[i * p + j] * x[j]).sum::<f64>())
        .sum()
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
}
