//! Zipped spreadsheets (.xlsx, .xlsm, .xlsb, .ods) are inflated once,
//! counting, before the reader sees them: a part that inflates beyond
//! [`MAX_PART_BYTES`], or parts beyond [`MAX_INFLATED_BYTES`] together, are
//! refused after reading no more than the limit. A table of shared strings
//! that declares more strings than it holds is refused too: the reader
//! reserves memory for the declared count.

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use zip::ZipArchive;

use super::super::limits::{MAX_INFLATED_BYTES, MAX_PART_BYTES, MAX_PARTS, too_large};
use crate::error::{Error, ErrorKind, Result};

/// Checks the archive; returns the names of its parts.
pub(super) fn check(bytes: &[u8]) -> Result<Vec<String>> {
    let mut archive = open(bytes)?;
    if archive.len() > MAX_PARTS {
        return Err(too_large(
            format!("the spreadsheet's {} parts", archive.len()),
            MAX_PARTS as u64,
            "parts",
        ));
    }
    let mut names = Vec::with_capacity(archive.len());
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut part = archive.by_index(index).map_err(damaged)?;
        let name = part.name().map_err(damaged)?.into_owned();
        let inflated = inflated_size(&mut part, &name)?;
        total += inflated;
        if total > MAX_INFLATED_BYTES {
            return Err(too_large(
                "the spreadsheet's parts, inflated,",
                MAX_INFLATED_BYTES,
                "bytes",
            ));
        }
        names.push(name);
    }
    for name in names.iter().filter(|n| is_shared_strings(n)) {
        let part = archive.by_name(name).map_err(damaged)?;
        check_shared_strings(part)?;
    }
    Ok(names)
}

fn open(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>> {
    ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Error::new(ErrorKind::Unreadable(format!(
            "not a spreadsheet this reader knows (.xlsx, .xlsm, .xlsb, .xls, .ods): {e}"
        )))
    })
}

fn damaged(e: impl std::fmt::Display) -> Error {
    ErrorKind::Unreadable(format!("the spreadsheet's zip container is damaged: {e}")).into()
}

/// Inflates a part into nothing, counting, and stops past the limit.
fn inflated_size(part: &mut impl Read, name: &str) -> Result<u64> {
    let mut limited = part.take(MAX_PART_BYTES + 1);
    let size = std::io::copy(&mut limited, &mut std::io::sink()).map_err(damaged)?;
    if size > MAX_PART_BYTES {
        return Err(too_large(
            format!("the part `{name}` of the spreadsheet, inflated,"),
            MAX_PART_BYTES,
            "bytes",
        ));
    }
    Ok(size)
}

fn is_shared_strings(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with("sharedstrings.xml")
}

/// The declared count of unique strings (`uniqueCount`) may not exceed the
/// strings the table holds.
fn check_shared_strings(part: impl Read) -> Result<()> {
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    let mut declared: Option<u64> = None;
    let mut held = 0u64;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).map_err(damaged)? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "sst" => {
                    let count = e
                        .try_get_attribute("uniqueCount")
                        .map_err(damaged)?
                        .map(|a| a.value.trim().to_string());
                    declared = match count {
                        None => None,
                        Some(text) => Some(text.parse::<u64>().map_err(|_| {
                            damaged(format!("shared strings declare a count of `{text}`"))
                        })?),
                    };
                }
                "si" => held += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    match declared {
        Some(declared) if declared > held => Err(ErrorKind::Unreadable(format!(
            "the spreadsheet is damaged: its table of shared strings declares {declared} \
             strings and holds {held}"
        ))
        .into()),
        _ => Ok(()),
    }
}
