//! Any bytes as delimited text: a table or an error, never a panic.
#![no_main]

use cochran::data::{Table, TableSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let spec = TableSpec::numeric(&["yi", "vi", "sei", "n1", "events1"]);
    let _ = Table::from_reader(bytes, None, &spec);
});
