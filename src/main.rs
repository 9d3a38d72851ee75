//! The `cochran` command line: parses arguments, calls the library, prints.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use cochran::plot::ImageFormat;
use cochran::{Analysis, AnalysisOptions, Error, Measure, Method, Test, report};

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
    Analyze(AnalyzeArgs),
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    /// The CSV file: a header line, then one row per study.
    file: PathBuf,
    /// Effect-size measure: MD, SMD, ROM (two groups, continuous); MC, SMCC, SMCR
    /// (before/after); OR, RR, RD (two groups, binary); GEN (yi with vi or sei).
    #[arg(long, short)]
    measure: String,
    /// FE (alias EE, CE) for the common-effect model, or a tau^2 estimator:
    /// DL, HE, HS, SJ, ML, REML, EB, PM.
    #[arg(long, default_value = "REML")]
    method: String,
    /// z, or knha for Knapp-Hartung (t with k - 1 df).
    #[arg(long, default_value = "z")]
    test: String,
    /// Confidence level in percent.
    #[arg(long, default_value_t = 95.0)]
    level: f64,
    /// Analyse subgroups defined by this column (default: a `subgroup` column, if any).
    #[arg(long)]
    by: Option<String>,
    /// Pre/post correlation for before/after studies without an `r` value.
    #[arg(long, allow_hyphen_values = true)]
    r: Option<f64>,
    /// Treat a missing required value as an error instead of excluding the study.
    #[arg(long)]
    strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write a forest plot to this file (.png or .svg).
    #[arg(long, value_name = "PATH")]
    forest: Option<PathBuf>,
    /// Also write a funnel plot to this file (.png or .svg).
    #[arg(long, value_name = "PATH")]
    funnel: Option<PathBuf>,
    /// Shade the p < 0.10, 0.05 and 0.01 regions of the funnel plot.
    #[arg(long, requires = "funnel")]
    contours: bool,
    /// Title of the plots.
    #[arg(long)]
    title: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Csv,
}

fn main() -> ExitCode {
    let Command::Analyze(args) = Cli::parse().command;
    let analysis = match analyze(&args) {
        Ok(analysis) => analysis,
        Err(error) => return fail(&error, if error.is_input_error() { 2 } else { 1 }),
    };
    if let Err(error) = write_plots(&analysis, &args) {
        return fail(&error, if error.is_input_error() { 2 } else { 1 });
    }
    // Failing to write the result is the machine's fault, not the input's.
    match print(&analysis, args.format) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error, 1),
    }
}

fn fail(error: &Error, code: u8) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(code)
}

fn analyze(args: &AnalyzeArgs) -> Result<Analysis, Error> {
    let mut options = AnalysisOptions::new(args.measure.parse::<Measure>()?)
        .method(args.method.parse::<Method>()?)
        .test(args.test.parse::<Test>()?)
        .level(args.level)
        .strict(args.strict);
    if let Some(r) = args.r {
        options = options.r(r);
    }
    if let Some(column) = &args.by {
        options = options.group_by(column.as_str());
    }
    Analysis::from_csv(&args.file, &options)
}

fn print(analysis: &Analysis, format: Format) -> Result<(), Error> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    match format {
        Format::Text => out
            .write_all(report::text(analysis).as_bytes())
            .map_err(io_error)?,
        Format::Json => {
            report::write_json(analysis, &mut out)?;
            writeln!(out).map_err(io_error)?;
        }
        Format::Csv => report::write_csv(analysis, &mut out)?,
    }
    out.flush().map_err(io_error)
}

/// PNG output is drawn at twice the nominal size so that it prints sharply.
fn write_plots(analysis: &Analysis, args: &AnalyzeArgs) -> Result<(), Error> {
    let scale_for = |path: &PathBuf| match ImageFormat::from_path(path) {
        Ok(ImageFormat::Png) => 2.0,
        _ => 1.0,
    };
    if let Some(path) = &args.forest {
        let mut plot = analysis.forest_plot().scale(scale_for(path));
        if let Some(title) = &args.title {
            plot = plot.title(title);
        }
        plot.save(path)?;
    }
    if let Some(path) = &args.funnel {
        let mut plot = analysis
            .funnel_plot()
            .contours(args.contours)
            .scale(scale_for(path));
        if let Some(title) = &args.title {
            plot = plot.title(title);
        }
        plot.save(path)?;
    }
    Ok(())
}

fn io_error(e: std::io::Error) -> Error {
    cochran::ErrorKind::Io(e).into()
}
