//! Any bytes as a spreadsheet: a table or an error, never a panic, within
//! the reader's limits. Seed the corpus with tests/data/*.xlsx and *.ods.
#![no_main]

use cochran::data::{Table, TableSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let spec = TableSpec::numeric(&["yi", "vi"]);
    let _ = Table::from_spreadsheet_bytes(bytes, &spec);
});
