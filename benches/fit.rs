//! Cost of one model fit. Run with `cargo bench --bench fit`.
//!
//! The 1,000,000-row end-to-end timing of the command line is in
//! `benches/large_csv.sh`; whole-process timings of GOSH, leave-one-out and
//! influence in `benches/sensitivity.sh`.

use std::hint::black_box;

use cochran::effect::{Proportion, TwoByTwo};
use cochran::model::{Glmm, GlmmData, GlmmModel};
use cochran::{
    Analysis, AnalysisOptions, Clusters, Design, Effect, EffectSet, Measure, MetaAnalysis, Rve,
    Tau2, Test, ThreeLevel,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The 13 BCG trials as log risk ratios.
fn bcg() -> Vec<Effect> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/bcg.csv");
    let table = cochran::data::Table::read(path, &EffectSet::table_spec(Measure::Rr)).unwrap();
    EffectSet::from_table(&table, Measure::Rr, &Default::default())
        .unwrap()
        .effects()
}

/// k heterogeneous synthetic effects from a fixed linear congruential sequence.
fn synthetic(k: usize) -> Vec<Effect> {
    let mut state: u64 = 42;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..k)
        .map(|_| {
            let vi = 0.01 + 0.2 * uniform();
            Effect::new(0.3 + (uniform() - 0.5) + (uniform() - 0.5) * vi.sqrt(), vi).unwrap()
        })
        .collect()
}

fn small(c: &mut Criterion) {
    let effects = bcg();
    let mut group = c.benchmark_group("k=13 (BCG)");
    for estimator in Tau2::ALL {
        let model = MetaAnalysis::random(estimator);
        group.bench_function(BenchmarkId::new("fit", estimator), |b| {
            b.iter(|| model.fit(black_box(&effects)).unwrap())
        });
    }
    let knha = MetaAnalysis::random(Tau2::Reml).test(Test::Knha);
    group.bench_function("fit REML knha", |b| {
        b.iter(|| knha.fit(black_box(&effects)).unwrap())
    });
    let reml = MetaAnalysis::random(Tau2::Reml);
    group.bench_function("fit REML + Q-profile interval", |b| {
        b.iter(|| {
            reml.fit(black_box(&effects))
                .unwrap()
                .tau2_interval()
                .unwrap()
        })
    });
    let options = AnalysisOptions::new(Measure::Rr);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/bcg.csv");
    group.bench_function("whole analysis from CSV", |b| {
        b.iter(|| Analysis::from_csv(black_box(path), &options).unwrap())
    });
    group.finish();
}

fn large(c: &mut Criterion) {
    let mut group = c.benchmark_group("REML fit by k");
    group.sample_size(20);
    for k in [1_000, 10_000, 100_000] {
        let effects = synthetic(k);
        let model = MetaAnalysis::random(Tau2::Reml);
        group.bench_with_input(BenchmarkId::from_parameter(k), &effects, |b, e| {
            b.iter(|| model.fit(black_box(e)).unwrap())
        });
    }
    group.finish();
}

/// k synthetic effects with `p - 1` moderators (uniform on [0, 1]) and an intercept.
fn regression_data(k: usize, moderators: usize) -> (Vec<Effect>, Design) {
    let effects = synthetic(k);
    let mut state: u64 = 7;
    let mut builder = Design::builder(k);
    for m in 0..moderators {
        let values: Vec<f64> = (0..k)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect();
        builder = builder.numeric(&format!("x{m}"), &values).unwrap();
    }
    (effects, builder.build().unwrap())
}

fn regression(c: &mut Criterion) {
    let mut group = c.benchmark_group("meta-regression");
    group.sample_size(10);
    let (effects, design) = regression_data(100_000, 5);
    let model = MetaAnalysis::random(Tau2::Reml).moderators(design);
    group.bench_function("REML, 5 moderators, k=100000", |b| {
        b.iter(|| model.fit(black_box(&effects)).unwrap())
    });
    let bcg = bcg();
    let latitude = [
        44.0, 55.0, 42.0, 52.0, 13.0, 44.0, 19.0, 13.0, 27.0, 42.0, 18.0, 33.0, 33.0,
    ];
    let design = Design::builder(13)
        .numeric("ablat", &latitude)
        .unwrap()
        .build()
        .unwrap();
    let model = MetaAnalysis::random(Tau2::Reml).moderators(design);
    group.bench_function("10000 permutations, BCG ~ latitude", |b| {
        b.iter(|| model.permutation_test(black_box(&bcg), 10_000, 1).unwrap())
    });
    group.finish();
}

/// An analysis of k synthetic effects (generic measure, REML).
fn synthetic_analysis(k: usize) -> Analysis {
    let set = EffectSet::from_studies(
        Measure::Gen,
        synthetic(k)
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("S{i}"), cochran::effect::StudyData::Precomputed(*e))),
    )
    .unwrap();
    Analysis::from_effects(set, &AnalysisOptions::new(Measure::Gen)).unwrap()
}

fn sensitivity(c: &mut Criterion) {
    let mut group = c.benchmark_group("sensitivity");
    group.sample_size(10);
    let thousand = synthetic_analysis(1_000);
    group.bench_function("leave-one-out, REML, k=1000", |b| {
        b.iter(|| thousand.leave_one_out().unwrap())
    });
    let ten_thousand = synthetic_analysis(10_000);
    group.bench_function("leave-one-out, REML, k=10000", |b| {
        b.iter(|| ten_thousand.leave_one_out().unwrap())
    });
    group.bench_function("influence, REML, k=10000", |b| {
        b.iter(|| ten_thousand.influence().unwrap())
    });
    let bcg = Analysis::from_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/bcg.csv"),
        &AnalysisOptions::new(Measure::Rr),
    )
    .unwrap();
    group.bench_function("GOSH, REML, k=13 (8,191 subsets)", |b| {
        b.iter(|| bcg.gosh(cochran::sensitivity::Subsets::Default).unwrap())
    });
    group.bench_function("bias tests, REML, k=13", |b| {
        b.iter(|| {
            bcg.small_study_effects(&cochran::bias::BiasOptions::new())
                .unwrap()
        })
    });
    group.finish();
}

/// `clusters` clusters of four synthetic effects, with a shift per cluster.
fn clustered(clusters: usize) -> (Vec<Effect>, Clusters) {
    clustered_by(clusters, 4)
}

/// `clusters` clusters of `size` synthetic effects, with a shift per cluster.
fn clustered_by(clusters: usize, size: usize) -> (Vec<Effect>, Clusters) {
    let mut effects = synthetic(size * clusters);
    let shifts = synthetic(clusters);
    for (i, e) in effects.iter_mut().enumerate() {
        e.yi += shifts[i / size].yi;
    }
    let labels: Vec<String> = (0..size * clusters)
        .map(|i| format!("c{}", i / size))
        .collect();
    (effects, Clusters::new(&labels).unwrap())
}

fn multilevel(c: &mut Criterion) {
    let mut group = c.benchmark_group("three-level model");
    group.sample_size(20);
    let (effects, clusters) = clustered(1_000);
    group.bench_function("REML, 1000 clusters x 4", |b| {
        b.iter(|| {
            ThreeLevel::reml()
                .fit(black_box(&effects), &clusters)
                .unwrap()
        })
    });
    let fit = ThreeLevel::reml().fit(&effects, &clusters).unwrap();
    group.bench_function("CR2 robust tests, 1000 clusters x 4", |b| {
        b.iter(|| black_box(&fit).robust().unwrap())
    });
    let (large_effects, large_clusters) = clustered_by(5, 60);
    let large_fit = ThreeLevel::reml()
        .fit(&large_effects, &large_clusters)
        .unwrap();
    group.bench_function("CR2 robust tests, 5 clusters x 60", |b| {
        b.iter(|| black_box(&large_fit).robust().unwrap())
    });
    group.bench_function("RVE rho 0.8, 1000 clusters x 4", |b| {
        b.iter(|| {
            Rve::new(0.8)
                .unwrap()
                .fit(black_box(&effects), &clusters)
                .unwrap()
        })
    });
    let (effects, clusters) = clustered(250_000);
    group.sample_size(10);
    group.bench_function("REML, 250000 clusters x 4", |b| {
        b.iter(|| {
            ThreeLevel::reml()
                .fit(black_box(&effects), &clusters)
                .unwrap()
        })
    });
    group.finish();
}

/// The bar: 1,000 Bayesian fits of k = 10 within a second.
fn bayes(c: &mut Criterion) {
    use cochran::model::{BayesianMetaAnalysis, MuPrior, TauPrior};
    let effects = synthetic(10);
    let mut group = c.benchmark_group("Bayesian, k=10");
    for (name, prior) in [
        ("half-normal(0.5)", TauPrior::HalfNormal { scale: 0.5 }),
        ("half-cauchy(0.5)", TauPrior::HalfCauchy { scale: 0.5 }),
        ("turner", "turner".parse().unwrap()),
    ] {
        let model = BayesianMetaAnalysis::new(prior);
        group.bench_function(BenchmarkId::new("fit", name), |b| {
            b.iter(|| model.fit(black_box(&effects)).unwrap())
        });
    }
    let normal = BayesianMetaAnalysis::new(TauPrior::HalfNormal { scale: 0.5 })
        .mu_prior(MuPrior::Normal { mean: 0.0, sd: 1.0 });
    group.bench_function("fit half-normal(0.5), normal(0, 1)", |b| {
        b.iter(|| normal.fit(black_box(&effects)).unwrap())
    });
    group.finish();
}

/// k small studies' events from a logit-normal model (τ = 0.8, about one
/// study in eight with no events), by a fixed linear congruential sequence.
fn sparse_arms(k: usize, log_odds: f64, seed: u64) -> Vec<Proportion> {
    let mut state: u64 = seed;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..k)
        .map(|_| {
            let z = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            let p = 1.0 / (1.0 + (-(log_odds + 0.8 * z)).exp());
            let n = (5.0 + 55.0 * uniform()).floor();
            let events = (0..n as usize).filter(|_| uniform() < p).count() as f64;
            Proportion::new(events, n).unwrap()
        })
        .collect()
}

fn glmm(c: &mut Criterion) {
    let mut group = c.benchmark_group("GLMM, k=1000");
    let arms = sparse_arms(1000, -2.0, 7);
    group.bench_function("proportions (PLO), random effects", |b| {
        b.iter(|| {
            Glmm::random()
                .fit(GlmmData::Proportions(black_box(&arms)))
                .unwrap()
        })
    });
    let (treated, control) = (sparse_arms(1000, -2.3, 11), sparse_arms(1000, -1.8, 13));
    let tables: Vec<TwoByTwo> = (treated.iter().zip(&control))
        .map(|(t, c)| TwoByTwo::new(t.events, t.n, c.events, c.n).unwrap())
        .collect();
    let conditional = Glmm::random().model(GlmmModel::ConditionalApproximate);
    group.bench_function("odds ratios (CM.AL), random effects", |b| {
        b.iter(|| {
            conditional
                .fit(GlmmData::Tables(black_box(&tables)))
                .unwrap()
        })
    });
    let exact = Glmm::random().model(GlmmModel::ConditionalExact);
    group.bench_function("odds ratios (CM.EL), random effects", |b| {
        b.iter(|| exact.fit(GlmmData::Tables(black_box(&tables))).unwrap())
    });
    let fixed_study = Glmm::random().model(GlmmModel::FixedStudy);
    group.bench_function("odds ratios (UM.FS), random effects", |b| {
        b.iter(|| {
            fixed_study
                .fit(GlmmData::Tables(black_box(&tables)))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    glmm,
    small,
    large,
    regression,
    sensitivity,
    multilevel,
    bayes
);
criterion_main!(benches);
