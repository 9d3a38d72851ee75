//! Files written for the user: never onto an input, never two outputs of one
//! run onto one file, and never half a file in place of an older one.
//!
//! ```
//! use cochran::output::{check_paths, write_atomically};
//! let dir = std::env::temp_dir().join("cochran_output_doc");
//! std::fs::create_dir_all(&dir).unwrap();
//! let (data, plot) = (dir.join("data.csv"), dir.join("plot.svg"));
//! std::fs::write(&data, "study,yi,vi\n").unwrap();
//! assert!(check_paths(&[&data], &[&data]).is_err());
//! assert!(check_paths(&[&data], &[&plot, &plot]).is_err());
//! check_paths(&[&data], &[&plot])?;
//! write_atomically(&plot, |out| {
//!     out.write_all(b"<svg/>").map_err(|e| cochran::ErrorKind::Write(e).into())
//! })?;
//! assert_eq!(std::fs::read(&plot).unwrap(), b"<svg/>");
//! # Ok::<(), cochran::Error>(())
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Refuses outputs that are one of the inputs (through links too) or that
/// are the same file as another output.
pub fn check_paths(inputs: &[&Path], outputs: &[&Path]) -> Result<()> {
    for (i, output) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same_file(input, output)) {
            return Err(ErrorKind::InvalidSetting(format!(
                "the output `{}` is the input `{}`: writing it would destroy the data; choose \
                 another path",
                output.display(),
                input.display()
            ))
            .into());
        }
        if let Some(other) = outputs[..i].iter().find(|other| same_file(other, output)) {
            return Err(ErrorKind::InvalidSetting(format!(
                "two outputs of one run go to the same file (`{}` and `{}`): the second would \
                 replace the first; choose another path",
                other.display(),
                output.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// Whether two paths name one file: the same path once links and `..` are
/// resolved, or (on Unix) the same device and inode.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (a.dev(), a.ino()) == (b.dev(), b.ino());
        }
    }
    resolved(a) == resolved(b)
}

/// The path with its folder resolved; the file itself resolved if it exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    match path.file_name() {
        Some(name) => folder.join(name),
        None => folder,
    }
}

/// Writes `path` through a temporary file in its folder, renamed over it
/// once complete: a failure (a full disk) leaves the older file as it was.
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    let located = |e: std::io::Error| Error::from(ErrorKind::Write(e)).in_file(path);
    let temporary = temporary_path(path);
    let file = std::fs::File::create(&temporary).map_err(located)?;
    let mut out = std::io::BufWriter::new(file);
    let written = write(&mut out).and_then(|value| {
        let file = out.into_inner().map_err(|e| located(e.into_error()))?;
        file.sync_all().map_err(located)?;
        Ok(value)
    });
    let renamed = written.and_then(|value| {
        std::fs::rename(&temporary, path).map_err(located)?;
        Ok(value)
    });
    if renamed.is_err() {
        std::fs::remove_file(&temporary).ok();
    }
    renamed.map_err(|e| e.in_file(path))
}

/// `folder/.name.cochran-PID.tmp`: beside the target, so that the rename
/// stays on one file system.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.cochran-{}.tmp", std::process::id()))
}
