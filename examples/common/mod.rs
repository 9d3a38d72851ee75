//! Where the examples write their images: `target/images/`, or the folder
//! given as the first argument (`cargo run --example NAME -- docs/images`
//! refreshes the README's figures).

/// The path for image `name` in the examples' output folder (created), said
/// as it is written.
pub fn image(name: &str) -> Result<String, cochran::Error> {
    let folder = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/images".to_string());
    std::fs::create_dir_all(&folder).map_err(cochran::ErrorKind::Io)?;
    let path = format!("{folder}/{name}");
    println!("writing {path}");
    Ok(path)
}
