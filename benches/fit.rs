//! Cost of one model fit. Run with `cargo bench --bench fit`.
//!
//! The 1,000,000-row end-to-end timing of the command line is in
//! `benches/large_csv.sh`.

use std::hint::black_box;

use cochran::{Analysis, AnalysisOptions, Effect, EffectSet, Measure, MetaAnalysis, Tau2, Test};
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

criterion_group!(benches, small, large);
criterion_main!(benches);
