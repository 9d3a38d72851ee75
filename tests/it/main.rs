//! The integration tests, one binary: each file is a module, so a change to
//! the library relinks one test executable, not twenty.

mod bayes;
mod bias;
mod capabilities;
mod cli;
mod clinical;
mod common;
mod few_studies;
mod follow_ups;
mod frame;
mod fuzz;
mod glmm;
mod high_precision;
mod hostile;
mod ingest;
mod mantel_haenszel;
mod meta_regression;
mod metafor_reference;
mod multilevel;
mod multilevel_properties;
mod outcomes;
mod plot;
mod properties;
mod reports;
mod robustness;
mod sensitivity;
mod summary_conversions;
