//! The `cochran` command line: parses arguments, calls the library, prints.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use cochran::analysis::Settings;
use cochran::bias::{BiasOptions, K0Estimator, Side};
use cochran::effect::scales::ScaleRegistry;
use cochran::model::{Capability, ModelKind};
use cochran::plot::{ForestPlot, ImageFormat, StudyOrder};
use cochran::report::{BiasReport, RefitsReport, Report};
use cochran::sensitivity::Subsets;
use cochran::{
    Analysis, AnalysisOptions, Error, ErrorKind, Measure, OutcomeAnalysis, Setting, report,
};

/// Saves a plot, at twice the size for PNG, with the title given (if any),
/// and says which file it wrote (on standard error: standard output may be JSON).
macro_rules! save_plot {
    ($plot:expr, $title:expr, $path:expr) => {{
        let mut plot = $plot.scale(png_scale($path));
        if let Some(title) = $title {
            plot = plot.title(title);
        }
        plot.save($path)
            .map(|()| eprintln!("wrote {}", $path.display()))
    }};
}

#[derive(Parser)]
#[command(
    name = "cochran",
    version,
    about = "Meta-analysis of study-level data, with the numbers metafor reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pool the studies of a CSV file (one row per study).
    Analyze(Box<AnalyzeArgs>),
    /// Refit the model without each study in turn (metafor's leave1out); takes
    /// the input options of `analyze`.
    #[command(name = "leave-one-out")]
    LeaveOneOut(Box<AnalyzeArgs>),
    /// Influence diagnostics of each study (metafor's influence): studentised
    /// residual, DFFITS, Cook's distance, covariance ratio, tau^2 and Q without
    /// it, hat, weight; takes the input options of `analyze`.
    Influence(Box<InfluenceArgs>),
    /// Cumulative meta-analysis (metafor's cumul): the studies added one at a
    /// time in the order of a column; takes the input options of `analyze`.
    Cumulative(Box<CumulativeArgs>),
    /// Small-study effects (metafor's regtest, ranktest, trimfill and fsn):
    /// Egger's test, the rank correlation test, trim-and-fill and fail-safe N;
    /// takes the input options of `analyze`, and `--funnel` draws the funnel
    /// with the filled studies.
    Bias(Box<BiasArgs>),
    /// GOSH (metafor's gosh): the model fitted to every subset of the studies
    /// (k <= 20) or to random subsets (--subsets N --seed S); takes the input
    /// options of `analyze`.
    Gosh(Box<GoshArgs>),
    /// List the registered clinical instruments (range, direction, MIC values).
    Scales {
        /// Output format (text or json).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(clap::Args)]
struct CumulativeArgs {
    #[command(flatten)]
    input: AnalyzeArgs,
    /// The column whose values (ascending; ties in input order) order the studies.
    #[arg(long, value_name = "COL")]
    order: String,
}

#[derive(clap::Args)]
struct BiasArgs {
    #[command(flatten)]
    input: AnalyzeArgs,
    /// Trim-and-fill's estimator of the number of missing studies: L0 or R0.
    #[arg(long, default_value = "L0")]
    estimator: String,
    /// The side on which trim-and-fill looks for missing studies (left or
    /// right); by default the side metafor chooses from Egger's slope.
    #[arg(long)]
    side: Option<String>,
    /// The mean effect Orwin's fail-safe N is to bring the result down to
    /// (default half the unweighted mean effect, as metafor).
    #[arg(long, value_name = "EFFECT", allow_hyphen_values = true)]
    fsn_target: Option<f64>,
}

#[derive(clap::Args)]
struct InfluenceArgs {
    #[command(flatten)]
    input: AnalyzeArgs,
    /// Draw the panels of the diagnostics to this file (.png or .svg).
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
    /// Draw the Baujat plot to this file (.png or .svg).
    #[arg(long, value_name = "PATH")]
    baujat: Option<PathBuf>,
}

#[derive(clap::Args)]
struct GoshArgs {
    #[command(flatten)]
    input: AnalyzeArgs,
    /// Fit this many random subsets (every subset when there are no more);
    /// by default every subset up to 20 studies, 1,000,000 random ones up to
    /// 30, and more studies need this option.
    #[arg(long, value_name = "N")]
    subsets: Option<u64>,
    /// Write one CSV row per subset (members, estimate, se, tau2, i2, q) to this file.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Draw the GOSH plot (estimate against I^2) to this file (.png or .svg).
    #[arg(long, value_name = "PATH")]
    plot: Option<PathBuf>,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// The CSV file: a header line, then one row per study.
    file: PathBuf,
    /// Effect-size measure (metafor's escalc names).
    #[arg(long, short, long_help = measure_help())]
    measure: String,
    /// FE (alias EE, CE) for the common-effect model, MH (Mantel-Haenszel) or
    /// PETO for 2x2 tables, GLMM for the generalised linear mixed model of the
    /// counts (PLO, IRLN, OR, IRR; no continuity corrections), or a tau^2
    /// estimator: DL, HE, HS, SJ, ML, REML, EB, PM.
    #[arg(long, default_value = "REML")]
    method: String,
    /// The GLMM's model of two-group tables (with --method GLMM): UM.FS (fixed
    /// study effects, metafor's default), UM.RS, CM.EL or CM.AL.
    #[arg(long)]
    model: Option<String>,
    /// z, knha for Knapp-Hartung (t with k - 1 df), or adhoc for Knapp-Hartung never
    /// narrower than z (metafor's test = "adhoc"; advised with few studies).
    #[arg(long, default_value = "z")]
    test: String,
    /// Confidence level in percent.
    #[arg(long, default_value_t = 95.0, allow_hyphen_values = true)]
    level: f64,
    /// Analyse subgroups defined by this column (default: a `subgroup` column,
    /// if any); `--by outcome` analyses each instrument on its own.
    #[arg(long)]
    by: Option<String>,
    /// With --by: `separate` (each subgroup its own tau^2; the default) or
    /// `common` (one tau^2 from the mixed-effects model, whose QM tests the
    /// subgroup differences; advisable with few studies per subgroup).
    #[arg(long, default_value = "separate")]
    subgroup_tau2: String,
    /// Analyse only the studies of this instrument (the `outcome` column).
    #[arg(long)]
    outcome: Option<String>,
    /// Pre/post correlation for before/after studies without an `r` value: a
    /// number in [-1, 1], or `impute` to derive it from the studies that report
    /// the SD before, after and of the change.
    #[arg(long, allow_hyphen_values = true)]
    r: Option<String>,
    /// Re-run the analysis with each of these correlations (comma-separated)
    /// for the studies without an `r` value.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "R,R,..."
    )]
    r_sensitivity: Vec<f64>,
    /// Borrow an SD that no study statistic recovers from the other studies of
    /// the same instrument and time: their mean, or their maximum (conservative).
    #[arg(long, value_enum)]
    impute_sd: Option<ImputeSd>,
    /// Flip the sign of lower-is-better instruments so that a positive change
    /// always means improvement.
    #[arg(long)]
    improvement_positive: bool,
    /// Convert raw changes to a 0-TARGET range of each instrument before pooling.
    #[arg(long, value_name = "TARGET", allow_hyphen_values = true)]
    rescale: Option<f64>,
    /// Meta-regression on these columns (comma-separated): a numeric column is
    /// one coefficient, any other is categorical (dummies against its first
    /// level in sorted order).
    #[arg(long, value_delimiter = ',', value_name = "COL,COL,...")]
    mods: Vec<String>,
    /// Predict the meta-regression at these moderator values (COL=VALUE,...;
    /// a level for a categorical moderator); repeat for more points.
    #[arg(
        long,
        value_name = "COL=VALUE,...",
        requires = "mods",
        allow_hyphen_values = true
    )]
    predict: Vec<String>,
    /// Add a permutation test of the meta-regression with N permutations
    /// (exact when N reaches the number of distinct ones).
    #[arg(long, value_name = "N", requires = "mods")]
    permutations: Option<usize>,
    /// Seed of the random permutations (or of `gosh`'s random subsets); default 1.
    #[arg(long)]
    seed: Option<u64>,
    /// Fit the meta-regression without an intercept.
    #[arg(long, requires = "mods")]
    no_intercept: bool,
    /// Treat a missing required value as an error instead of excluding the study.
    #[arg(long)]
    strict: bool,
    /// Effects with the same value in this column (usually `study`) are
    /// dependent (several instruments, time points or arms of the same
    /// patients): fit the three-level model, effects nested in clusters.
    #[arg(long, value_name = "COLUMN")]
    cluster: Option<String>,
    /// With --cluster: CR2 cluster-robust tests and intervals with
    /// Satterthwaite degrees of freedom (clubSandwich's coef_test).
    #[arg(long)]
    robust: bool,
    /// The prediction interval's distribution: `metafor` (default: the
    /// test's, normal under z) or `t` (Student's t with k - p degrees of
    /// freedom, metafor's pi.type = "t"; wider with few studies).
    #[arg(long = "pi", value_name = "metafor|t", default_value = "metafor")]
    prediction_interval: String,
    /// Also fit the Bayesian random-effects model (exact numerical
    /// integration): posteriors of mu, tau and a new study's effect, Bayes
    /// factors, shrunken estimates and, for clinical instruments,
    /// P(improvement > MIC). Default prior for tau: half-normal(0.5) on log
    /// and standardised scales, half-normal(half the unit-information SD) on
    /// raw ones.
    #[arg(long)]
    bayes: bool,
    /// With --bayes: the prior for tau: half-normal(S), half-cauchy(S),
    /// half-t(DF, S), uniform, uniform(MAX), jeffreys, log-normal(M, S) or
    /// log-t(M, S, DF) of log tau^2, turner (Turner et al. 2015, binary
    /// outcomes), rhodes (Rhodes et al. 2015, standardised mean differences),
    /// or their settings: turner:OUTCOME:COMPARISON (e.g. turner:pain:pharma-placebo),
    /// rhodes:OUTCOME:COMPARISON (e.g. rhodes:mental-health:nonpharma).
    #[arg(long, value_name = "PRIOR")]
    tau_prior: Option<String>,
    /// With --bayes: the prior for mu: uniform (default) or normal(MEAN, SD).
    #[arg(long, value_name = "PRIOR")]
    mu_prior: Option<String>,
    /// With --bayes: report P(mu > X) and P(a new study's effect > X) for
    /// each X, on the analysis scale (log scale for ratios); implies --bayes.
    #[arg(
        long,
        value_name = "X,X,...",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    above: Vec<f64>,
    /// Also write the Bayesian model's posterior densities of mu (with a new
    /// study's) and tau (with its prior) to this file (.png or .svg); implies --bayes.
    #[arg(long, value_name = "PATH")]
    posterior_plot: Option<PathBuf>,
    /// Also write the Bayesian model's shrunken study estimates beside the
    /// studies' own, with the mean's diamond and a new study's predictive
    /// interval, to this file (.png or .svg); implies --bayes.
    #[arg(long, value_name = "PATH")]
    shrinkage_plot: Option<PathBuf>,
    /// With --cluster: robust variance estimation with correlated-effects
    /// weights and the small-sample correction (robumeta's robu).
    #[arg(long)]
    rve: bool,
    /// The field delimiter: comma, semicolon, tab, pipe or a single character
    /// (default: sniffed from the header line).
    #[arg(long, value_name = "DELIMITER")]
    delimiter: Option<String>,
    /// The decimal mark: point or comma (default: comma with any delimiter
    /// but the comma).
    #[arg(long, value_name = "point|comma")]
    decimal: Option<String>,
    /// Instruments to add to the registry: a CSV file with its columns
    /// (name, aliases, full_name, min, max, better, subscales, note).
    #[arg(long, value_name = "FILE")]
    scales: Option<PathBuf>,
    /// The sheet of a spreadsheet to read (default: the first).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// The file's names for cochran's columns, e.g.
    /// `study=Author,events1=tpos,n1=total1`.
    #[arg(long, value_name = "NAME=HEADER,...")]
    columns: Option<String>,
    /// Follow-ups to analyse (the `time` column): a value, `latest` (each
    /// study's last), or `all` (dependent effects: use --cluster study).
    #[arg(long, value_name = "VALUE|latest|all", allow_hyphen_values = true)]
    time: Option<String>,
    /// Instruments in order of preference (comma-separated): each study keeps
    /// the first it reports, when pooling across instruments.
    #[arg(long, value_delimiter = ',', value_name = "INSTRUMENT,...")]
    prefer: Vec<String>,
    /// The correlation between effects of a cluster assumed by --rve, in [0, 1].
    #[arg(
        long,
        default_value_t = 0.8,
        requires = "rve",
        allow_hyphen_values = true
    )]
    rho: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write a forest plot to this file (.png or .svg); with `--by outcome`,
    /// one file per instrument, named after it.
    #[arg(long, value_name = "PATH")]
    forest: Option<PathBuf>,
    /// Also write a funnel plot to this file (.png or .svg).
    #[arg(long, value_name = "PATH")]
    funnel: Option<PathBuf>,
    /// Also write a bubble plot of a meta-regression on one continuous
    /// moderator to this file (.png or .svg).
    #[arg(long, value_name = "PATH", requires = "mods")]
    bubble: Option<PathBuf>,
    /// Shade the prediction band in the bubble plot.
    #[arg(long, requires = "bubble")]
    prediction_band: bool,
    /// Shade the p < 0.10, 0.05 and 0.01 regions of the funnel plot.
    #[arg(long, requires = "funnel")]
    contours: bool,
    /// Title of the plots.
    #[arg(long)]
    title: Option<String>,
    /// Forest plot: the two groups' column headings, e.g.
    /// `treatment=MSC,control=Placebo`.
    #[arg(long, value_name = "treatment=NAME,control=NAME", requires = "forest")]
    labels: Option<String>,
    /// Forest plot: the words under the axis, left and right of the line of no
    /// effect, e.g. `"Favours control,Favours MSC"`.
    #[arg(long, value_name = "LEFT,RIGHT", requires = "forest")]
    favours: Option<String>,
    /// Forest plot: the axis limits in natural units (ratios for OR, RR), e.g. `0.1,10`.
    #[arg(
        long,
        value_name = "LOW,HIGH",
        value_delimiter = ',',
        allow_hyphen_values = true,
        requires = "forest"
    )]
    xlim: Vec<f64>,
    /// Forest plot: decimals of the effects and intervals (default 2).
    #[arg(long, value_name = "N", requires = "forest")]
    decimals: Option<usize>,
    /// Forest plot: the order of the studies: `estimate`, `weight` (largest
    /// first), `file`, or a column of the file.
    #[arg(long, value_name = "estimate|weight|COLUMN", requires = "forest")]
    sort: Option<String>,
    /// Forest plot: the common-effect and random-effects diamonds together.
    #[arg(long, requires = "forest")]
    both: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImputeSd {
    Mean,
    Max,
}

/// Every measure the library knows, by design.
fn measure_help() -> String {
    format!(
        "Effect-size measure (metafor's escalc names):\n{}",
        Measure::help()
    )
}

fn main() -> ExitCode {
    Setting::use_names(flag);
    match Cli::parse().command {
        Command::Analyze(args) => run(&args),
        Command::LeaveOneOut(args) => run_refits(&args, None),
        Command::Cumulative(args) => run_refits(&args.input, Some(&args.order)),
        Command::Influence(args) => run_influence(&args),
        Command::Bias(args) => run_bias(&args),
        Command::Gosh(args) => run_gosh(&args),
        Command::Scales { format } => match refuse_csv(format, "scales") {
            Ok(()) => outcome_of(print_scales(format), 1, "scales"),
            Err(error) => fail_for(&error, "scales"),
        },
    }
}

/// The flag that sets what the library's messages point to.
fn flag(setting: Setting) -> &'static str {
    match setting {
        Setting::Measure => "--measure",
        Setting::Method => "--method",
        Setting::Test => "--test",
        Setting::Moderators => "--mods",
        Setting::Predict => "--predict",
        Setting::Permutations => "--permutations",
        Setting::Cluster => "--cluster",
        Setting::Robust => "--robust",
        Setting::Rve => "--rve",
        Setting::Strict => "--strict",
        Setting::Time => "--time",
        Setting::Prefer => "--prefer",
        Setting::Outcome => "--outcome",
        Setting::ByOutcome => "--by outcome",
        Setting::Rescale => "--rescale",
        Setting::ImprovementPositive => "--improvement-positive",
        Setting::Scales => "--scales",
        Setting::Correlation => "--r",
        Setting::ImputeCorrelation => "--r impute",
        Setting::CorrelationSensitivity => "--r-sensitivity",
        Setting::FailSafeTarget => "--fsn-target",
        Setting::Subsets => "--subsets",
        Setting::Sheet => "--sheet",
        Setting::Delimiter => "--delimiter",
        Setting::Decimal => "--decimal",
        Setting::Columns => "--columns",
        Setting::Format => "--format",
        Setting::GlmmModel => "--model",
        _ => "an option",
    }
}

fn run(args: &AnalyzeArgs) -> ExitCode {
    let command = "analyze";
    let used = [
        "--forest",
        "--funnel",
        "--bubble",
        "--posterior-plot",
        "--shrinkage-plot",
    ];
    let checked = refuse_unused(args, command, &used).and_then(|()| check_outputs(args, &[]));
    let options = match checked.and_then(|()| options(args)) {
        Ok(options) => options,
        Err(error) => return fail(&error, 2, command),
    };
    let result = if args
        .by
        .as_deref()
        .is_some_and(|b| b.eq_ignore_ascii_case("outcome"))
    {
        Analysis::per_outcome_csv(&args.file, &options).map(Analyses::PerOutcome)
    } else {
        Analysis::from_csv(&args.file, &options).map(|a| Analyses::One(Box::new(a)))
    };
    let analyses = match result {
        Ok(analyses) => analyses,
        Err(error) => return fail_for(&error, command),
    };
    if let Err(error) = analyses.write_plots(args) {
        return fail_for(&error, command);
    }
    // Failing to write the result is the machine's fault, not the input's.
    let printed = analyses.print(args.format);
    // The process ends here: freeing a million studies one by one would only
    // delay the exit (about 0.1 s), the operating system reclaims it at once.
    std::mem::forget(analyses);
    outcome_of(printed, 1, command)
}

/// Leave-one-out (`order` None) or the cumulative analysis in the order of a
/// column, with its forest plot on request.
fn run_refits(args: &AnalyzeArgs, order: Option<&str>) -> ExitCode {
    let command = match order {
        None => "leave-one-out",
        Some(_) => "cumulative",
    };
    let result = refuse_unused(args, command, &["--forest"])
        .and_then(|()| check_outputs(args, &[]))
        .and_then(|()| options(args))
        .and_then(|options| Analysis::from_csv(&args.file, &options))
        .and_then(|analysis| {
            let refits = match order {
                None => {
                    let loo = analysis.leave_one_out()?;
                    if let Some(path) = &args.forest {
                        save_plot!(
                            forest_plot(&analysis, args)?.leave_one_out(&loo),
                            &args.title,
                            path
                        )?;
                    }
                    loo.studies
                }
                Some(column) => {
                    let order = column_order(&analysis, args, column)?;
                    let steps = analysis.cumulative(&order)?;
                    if let Some(path) = &args.forest {
                        save_plot!(
                            forest_plot(&analysis, args)?.cumulative(&steps),
                            &args.title,
                            path
                        )?;
                    }
                    steps.studies
                }
            };
            Ok((analysis, refits))
        });
    let (analysis, refits) = match result {
        Ok(done) => done,
        Err(error) => return fail_for(&error, command),
    };
    let (heading, column) = match order {
        None => (
            "Leave-one-out: the model without each study in turn".to_string(),
            "omitted",
        ),
        Some(c) => (
            format!("Cumulative meta-analysis in the order of `{c}`"),
            "added",
        ),
    };
    let printed = emit(
        args.format,
        &RefitsReport::new(&analysis, &heading, column, &refits),
    );
    outcome_of(printed, 1, command)
}

/// The studies' order by the values of `column` in the file.
fn column_order(
    analysis: &Analysis,
    args: &AnalyzeArgs,
    column: &str,
) -> Result<Vec<usize>, Error> {
    let spec = cochran::data::TableSpec::numeric(&[])
        .with_text(&[column])
        .read_options(settings(args).read_options()?);
    let table = cochran::data::Table::read(&args.file, &spec)?;
    analysis
        .order_by(&table, column)
        .map_err(|e| e.in_file(&args.file))
}

fn run_influence(args: &InfluenceArgs) -> ExitCode {
    let input = &args.input;
    let command = "influence";
    let result = refuse_unused(input, command, &[])
        .and_then(|()| check_outputs(input, &[&args.plot, &args.baujat]))
        .and_then(|()| options(input))
        .and_then(|options| Analysis::from_csv(&input.file, &options))
        .and_then(|analysis| {
            let (influence, baujat) = analysis.influence_and_baujat()?;
            if let Some(path) = &args.plot {
                save_plot!(analysis.influence_plot(&influence), &input.title, path)?;
            }
            if let Some(path) = &args.baujat {
                save_plot!(analysis.baujat_plot(&baujat), &input.title, path)?;
            }
            Ok(influence)
        });
    let influence = match result {
        Ok(influence) => influence,
        Err(error) => return fail_for(&error, command),
    };
    let printed = emit(input.format, &influence);
    outcome_of(printed, 1, command)
}

fn run_bias(args: &BiasArgs) -> ExitCode {
    let input = &args.input;
    let command = "bias";
    let result = refuse_unused(input, command, &["--funnel"])
        .and_then(|()| check_outputs(input, &[]))
        .and_then(|()| refuse_csv(input.format, command))
        .and_then(|()| bias_options(args))
        .and_then(|bias| {
            let analysis = options(input).and_then(|o| Analysis::from_csv(&input.file, &o))?;
            let found = analysis.small_study_effects(&bias)?;
            if let Some(path) = &input.funnel {
                save_plot!(
                    analysis
                        .funnel_plot()
                        .trim_and_fill(&found.trim_and_fill)
                        .contours(input.contours),
                    &input.title,
                    path
                )?;
            }
            Ok((analysis, found))
        });
    let (analysis, found) = match result {
        Ok(done) => done,
        Err(error) => return fail_for(&error, command),
    };
    let printed = emit(input.format, &BiasReport::new(&analysis, &found));
    outcome_of(printed, 1, command)
}

fn run_gosh(args: &GoshArgs) -> ExitCode {
    let input = &args.input;
    let command = "gosh";
    let result = refuse_unused(input, command, &["--seed"])
        .and_then(|()| check_outputs(input, &[&args.plot, &args.out]))
        .and_then(|()| refuse_csv(input.format, command))
        .and_then(|()| {
            let analysis = options(input).and_then(|o| Analysis::from_csv(&input.file, &o))?;
            let subsets = match args.subsets {
                Some(count) => Subsets::Random {
                    count,
                    seed: input.seed.unwrap_or(1),
                },
                None => Subsets::Default,
            };
            let gosh = match &args.out {
                None => analysis.gosh(subsets)?,
                Some(path) => cochran::output::write_atomically(path, |out| {
                    let mut rows = report::GoshCsv::new(out);
                    let gosh = analysis.gosh_each(subsets, |fit| rows.write(fit))?;
                    rows.finish()?;
                    Ok(gosh)
                })?,
            };
            if let Some(path) = &args.plot {
                save_plot!(analysis.gosh_plot(&gosh), &input.title, path)?;
            }
            Ok(gosh)
        });
    let gosh = match result {
        Ok(gosh) => gosh,
        Err(error) => return fail_for(&error, command),
    };
    let printed = emit(input.format, &gosh);
    outcome_of(printed, 1, command)
}

fn bias_options(args: &BiasArgs) -> Result<BiasOptions, Error> {
    let mut options = BiasOptions::new().estimator(args.estimator.parse::<K0Estimator>()?);
    if let Some(side) = &args.side {
        options = options.side(side.parse::<Side>()?);
    }
    if let Some(target) = args.fsn_target {
        options = options.orwin_target(target);
    }
    Ok(options)
}

/// Refuses an output onto an input (the data, the scales) or two outputs
/// onto one file, before anything is computed.
fn check_outputs(args: &AnalyzeArgs, more: &[&Option<PathBuf>]) -> Result<(), Error> {
    let outputs: Vec<&Path> = [
        &args.forest,
        &args.funnel,
        &args.bubble,
        &args.posterior_plot,
        &args.shrinkage_plot,
    ]
    .into_iter()
    .chain(more.iter().copied())
    .filter_map(|p| p.as_deref())
    .collect();
    cochran::output::check_paths(&inputs(args), &outputs)
}

/// The files a run reads: the data and the user's scales.
fn inputs(args: &AnalyzeArgs) -> Vec<&Path> {
    std::iter::once(args.file.as_path())
        .chain(args.scales.as_deref())
        .collect()
}

/// The plot options of `analyze` that a subcommand does not draw are errors,
/// not silently ignored.
fn refuse_unused(args: &AnalyzeArgs, command: &str, used: &[&str]) -> Result<(), Error> {
    let draws = |flag: &str| format!("`cochran {command}` does not draw {flag}");
    let given = [
        ("--forest", args.forest.is_some(), draws("--forest")),
        ("--funnel", args.funnel.is_some(), draws("--funnel")),
        ("--bubble", args.bubble.is_some(), draws("--bubble")),
        (
            "--posterior-plot",
            args.posterior_plot.is_some(),
            draws("--posterior-plot"),
        ),
        (
            "--shrinkage-plot",
            args.shrinkage_plot.is_some(),
            draws("--shrinkage-plot"),
        ),
        (
            "--seed",
            args.seed.is_some() && args.permutations.is_none(),
            format!("`cochran {command}` takes --seed only with --permutations"),
        ),
    ];
    match given
        .into_iter()
        .find(|(flag, set, _)| *set && !used.contains(flag))
    {
        Some((_, _, message)) => Err(cochran::ErrorKind::InvalidSetting(message).into()),
        None => Ok(()),
    }
}

fn refuse_csv(format: Format, command: &str) -> Result<(), Error> {
    match format {
        Format::Csv => Err(no_csv(command)),
        _ => Ok(()),
    }
}

fn no_csv(command: &str) -> Error {
    cochran::ErrorKind::InvalidSetting(format!("`cochran {command}` writes text or JSON, not CSV"))
        .into()
}

/// PNG output is drawn at twice the nominal size so that it prints sharply.
fn png_scale(path: &Path) -> f64 {
    match ImageFormat::from_path(path) {
        Ok(ImageFormat::Png) => 2.0,
        _ => 1.0,
    }
}

/// Prints a result to standard output in the chosen format.
fn emit(format: Format, result: &dyn Report) -> Result<(), Error> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    match format {
        Format::Text => out.write_all(result.text().as_bytes()).map_err(io_error)?,
        Format::Json => {
            result.write_json(&mut out)?;
            writeln!(out).map_err(io_error)?;
        }
        Format::Csv => result.write_csv(&mut out)?,
    }
    out.flush().map_err(io_error)
}

/// Exit code 2 for the input's errors, 1 for the machine's.
fn fail_for(error: &Error, command: &str) -> ExitCode {
    fail(error, if error.is_input_error() { 2 } else { 1 }, command)
}

fn outcome_of(result: Result<(), Error>, code: u8, command: &str) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error, code, command),
    }
}

fn fail(error: &Error, code: u8, command: &str) -> ExitCode {
    eprintln!("error: {}", message(error, command));
    ExitCode::from(code)
}

/// The library's error in the command line's words: what the library calls a
/// capability of a model is a subcommand, a flag or a plot here.
fn message(error: &Error, command: &str) -> String {
    let (what, model) = match error.kind() {
        ErrorKind::Unsupported { what, model } => (what, model),
        ErrorKind::NoPooledEffect { .. } => return format!("{error}: draw it with --bubble"),
        _ => return error.to_string(),
    };
    let with = match model {
        ModelKind::ThreeLevel => "--cluster",
        ModelKind::Glmm => "--method GLMM",
        _ => "this model",
    };
    let flag = match what {
        Capability::ForestPlot => Some("--forest"),
        Capability::FunnelPlot => Some("--funnel"),
        Capability::BubblePlot => Some("--bubble"),
        Capability::BaujatPlot => Some("--baujat"),
        Capability::InfluencePlot | Capability::GoshPlot => Some("--plot"),
        _ => None,
    };
    let option = match what {
        Capability::PermutationTest => Some("--permutations"),
        Capability::Predictions => Some("--predict"),
        Capability::RSensitivity => Some("--r-sensitivity"),
        Capability::Subgroups => Some("--by"),
        Capability::BothModels => Some("--both"),
        Capability::Moderators => Some("--mods"),
        Capability::Bayesian => Some("--bayes"),
        _ => None,
    };
    match (flag, option) {
        (Some(flag), _) => format!(
            "`cochran {command} {with}` does not draw {flag} ({what} is not available for {model})"
        ),
        (_, Some(option)) => format!(
            "{option} is not available with {with} yet ({what} is not available for {model})"
        ),
        _ if *model == ModelKind::Glmm => format!(
            "`cochran {command} {with}` is not available yet ({what} is not available for {model})"
        ),
        _ => format!(
            "`cochran {command}` does not model dependent effects yet ({what} is not available for {model}): drop {with}, or use one effect per study"
        ),
    }
}

fn options(args: &AnalyzeArgs) -> Result<AnalysisOptions, Error> {
    settings(args).options()
}

/// The flags as the library's settings, checked there once for every front end.
fn settings(args: &AnalyzeArgs) -> Settings {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let mut settings = Settings::new(args.measure.as_str());
    settings.method = args.method.clone();
    settings.glmm_model = text(&args.model);
    settings.test = args.test.clone();
    settings.level = Some(args.level);
    settings.strict = args.strict;
    settings.improvement_positive = args.improvement_positive;
    settings.r_sensitivity = args.r_sensitivity.clone();
    settings.subgroup_tau2 = args.subgroup_tau2.clone();
    settings.pi = args.prediction_interval.clone();
    settings.r = text(&args.r);
    settings.impute_sd = match args.impute_sd {
        Some(ImputeSd::Mean) => "mean".into(),
        Some(ImputeSd::Max) => "max".into(),
        None => String::new(),
    };
    settings.rescale = args.rescale;
    settings.mods = args.mods.clone();
    settings.no_intercept = args.no_intercept;
    settings.permutations = args.permutations;
    settings.seed = args.seed;
    settings.predict = args.predict.clone();
    settings.outcome = text(&args.outcome);
    settings.cluster = text(&args.cluster);
    settings.robust = args.robust;
    settings.both = args.both;
    settings.bayes = args.bayes || args.posterior_plot.is_some() || args.shrinkage_plot.is_some();
    settings.tau_prior = text(&args.tau_prior);
    settings.mu_prior = text(&args.mu_prior);
    settings.above = args.above.clone();
    settings.scales = args
        .scales
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    settings.time = text(&args.time);
    settings.prefer = args.prefer.clone();
    settings.rve = args.rve.then_some(args.rho);
    settings.by = text(&args.by);
    settings.delimiter = text(&args.delimiter);
    settings.decimal = text(&args.decimal);
    settings.sheet = text(&args.sheet);
    settings.columns = text(&args.columns);
    settings
}

/// One analysis, or one per instrument.
enum Analyses {
    One(Box<Analysis>),
    PerOutcome(Vec<OutcomeAnalysis>),
}

impl Analyses {
    fn print(&self, format: Format) -> Result<(), Error> {
        match self {
            Analyses::One(a) => emit(format, a.as_ref()),
            Analyses::PerOutcome(o) => emit(format, o),
        }
    }

    fn write_plots(&self, args: &AnalyzeArgs) -> Result<(), Error> {
        let requested = PlotPaths::requested(args);
        match self {
            Analyses::One(a) => {
                write_plots(a, &requested, args, args.title.clone())?;
                write_bubble(a, args)
            }
            Analyses::PerOutcome(outcomes) => {
                let analysed: Vec<(&str, &Analysis)> = outcomes
                    .iter()
                    .filter_map(|o| Some((o.outcome.as_str(), o.analysis.as_deref()?)))
                    .collect();
                let suffixes = unique_suffixes(analysed.iter().map(|(name, _)| *name));
                let paths: Vec<PlotPaths> =
                    suffixes.iter().map(|s| requested.with_suffix(s)).collect();
                let all: Vec<&Path> = paths
                    .iter()
                    .flat_map(PlotPaths::all)
                    .chain(args.bubble.as_deref())
                    .collect();
                cochran::output::check_paths(&inputs(args), &all)?;
                for ((outcome, a), paths) in analysed.iter().zip(&paths) {
                    // Each instrument's plots name it, after the title given.
                    let title = args.title.as_ref().map(|t| format!("{t}: {outcome}"));
                    write_plots(a, paths, args, title)?;
                }
                Ok(())
            }
        }
    }
}

/// The plots of one analysis that were asked for.
struct PlotPaths {
    forest: Option<PathBuf>,
    funnel: Option<PathBuf>,
    posterior: Option<PathBuf>,
    shrinkage: Option<PathBuf>,
}

impl PlotPaths {
    fn requested(args: &AnalyzeArgs) -> Self {
        PlotPaths {
            forest: args.forest.clone(),
            funnel: args.funnel.clone(),
            posterior: args.posterior_plot.clone(),
            shrinkage: args.shrinkage_plot.clone(),
        }
    }

    fn with_suffix(&self, suffix: &str) -> Self {
        let named = |p: &Option<PathBuf>| p.as_deref().map(|p| with_suffix(p, suffix));
        PlotPaths {
            forest: named(&self.forest),
            funnel: named(&self.funnel),
            posterior: named(&self.posterior),
            shrinkage: named(&self.shrinkage),
        }
    }

    fn all(&self) -> impl Iterator<Item = &Path> {
        [&self.forest, &self.funnel, &self.posterior, &self.shrinkage]
            .into_iter()
            .filter_map(|p| p.as_deref())
    }
}

/// The outcomes as file-name suffixes (`Pain score` → `Pain_score`), made
/// unique: a second outcome of the same suffix gets `_2`, and is told.
fn unique_suffixes<'a>(outcomes: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut taken: Vec<String> = Vec::new();
    for outcome in outcomes {
        let safe: String = outcome
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        let mut suffix = safe.clone();
        let mut n = 1;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&suffix)) {
            n += 1;
            suffix = format!("{safe}_{n}");
        }
        if n > 1 {
            eprintln!(
                "note: the plots of outcome `{outcome}` end in `_{suffix}` (`_{safe}` is another \
                 outcome's)"
            );
        }
        taken.push(suffix);
    }
    taken
}

/// `plots/forest.png` for HHS becomes `plots/forest_HHS.png`.
fn with_suffix(path: &Path, safe: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}_{safe}.{}", ext.to_string_lossy()),
        None => format!("{stem}_{safe}"),
    };
    path.with_file_name(name)
}

/// The plots of one analysis, to the paths given.
fn write_plots(
    analysis: &Analysis,
    paths: &PlotPaths,
    args: &AnalyzeArgs,
    title: Option<String>,
) -> Result<(), Error> {
    if let Some(path) = &paths.forest {
        save_plot!(forest_plot(analysis, args)?, &title, path)?;
    }
    let title = title.or_else(|| analysis.outcome.clone());
    if let Some(path) = &paths.funnel {
        save_plot!(analysis.funnel_plot().contours(args.contours), &title, path)?;
    }
    if let Some(path) = &paths.posterior {
        save_plot!(analysis.posterior_plot(), &title, path)?;
    }
    if let Some(path) = &paths.shrinkage {
        save_plot!(analysis.shrinkage_plot(), &title, path)?;
    }
    Ok(())
}

/// The forest plot with the command line's settings.
fn forest_plot<'a>(analysis: &'a Analysis, args: &AnalyzeArgs) -> Result<ForestPlot<'a>, Error> {
    let setting = |message: String| Error::from(cochran::ErrorKind::InvalidSetting(message));
    let mut plot = analysis.forest_plot().both(args.both);
    if let Some(labels) = &args.labels {
        let (treatment, control) = arm_labels(labels).ok_or_else(|| {
            setting(format!(
                "--labels takes `treatment=NAME,control=NAME` (or `NAME,NAME`), found `{labels}`"
            ))
        })?;
        plot = plot.arms(treatment, control);
    }
    if let Some(favours) = &args.favours {
        let (left, right) = favours.split_once(',').ok_or_else(|| {
            setting(format!(
                "--favours takes the words left and right of the line of no effect, \
                 separated by a comma (`Favours control,Favours MSC`), found `{favours}`"
            ))
        })?;
        plot = plot.favours(left.trim(), right.trim());
    }
    match args.xlim[..] {
        [] => {}
        [low, high] => plot = plot.x_limits(low, high),
        _ => return Err(setting("--xlim takes two numbers: LOW,HIGH".to_string())),
    }
    if let Some(decimals) = args.decimals {
        plot = plot.decimals(decimals);
    }
    if let Some(sort) = &args.sort {
        let order = match sort.trim().to_ascii_lowercase().as_str() {
            "file" => StudyOrder::File,
            "estimate" | "effect" => StudyOrder::Estimate,
            "weight" => StudyOrder::Weight,
            _ => StudyOrder::Given(column_order(analysis, args, sort)?),
        };
        plot = plot.sort(order);
    }
    Ok(plot)
}

/// `treatment=MSC,control=Baseline` (either order) or `MSC,Baseline`.
fn arm_labels(text: &str) -> Option<(String, String)> {
    let (first, second) = text.split_once(',')?;
    let named = |part: &str| {
        part.split_once('=')
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
    };
    match (named(first), named(second)) {
        (None, None) => Some((first.trim().to_string(), second.trim().to_string())),
        (Some((k1, v1)), Some((k2, v2))) => match (k1.as_str(), k2.as_str()) {
            ("treatment", "control") => Some((v1, v2)),
            ("control", "treatment") => Some((v2, v1)),
            _ => None,
        },
        _ => None,
    }
}

fn write_bubble(analysis: &Analysis, args: &AnalyzeArgs) -> Result<(), Error> {
    let Some(path) = &args.bubble else {
        return Ok(());
    };
    save_plot!(
        analysis.bubble_plot().prediction_band(args.prediction_band),
        &args.title,
        path
    )
}

fn print_scales(format: Format) -> Result<(), Error> {
    emit(format, ScaleRegistry::shared())
}

fn io_error(e: std::io::Error) -> Error {
    cochran::ErrorKind::Write(e).into()
}
