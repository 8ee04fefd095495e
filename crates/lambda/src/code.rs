//! Function code: unpacking deployment zips (keeping Unix modes, so a `provided` runtime's
//! `bootstrap` stays executable) and the `CodeSha256` digest.

use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::Error;

/// AWS's limit for the unzipped deployment package.
const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;

/// `CodeSha256`: base64 of the SHA-256 of the zip.
pub(crate) fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Unpacks `zip` into `dir` (created; must not exist yet).
pub(crate) fn unzip(zip: &[u8], dir: &Path) -> Result<(), Error> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|err| {
        Error::InvalidParameterValue(format!(
            "Could not unzip uploaded file. Please check your file, then try to upload again. ({err})"
        ))
    })?;
    let total: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
        .sum();
    if total > MAX_UNZIPPED_BYTES {
        return Err(Error::InvalidParameterValue(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|err| Error::io("creating the code folder", err))?;
    // `extract` refuses entries that would escape `dir` and restores Unix permissions.
    archive.extract(dir).map_err(|err| {
        Error::InvalidParameterValue(format!(
            "Could not unzip uploaded file. Please check your file, then try to upload again. ({err})"
        ))
    })
}
