//! Paths a dataset names (an image's `file_name`, a parquet row's `image.path`) are joined to
//! the images folder the user gave, and must stay inside it: absolute paths, `..` and
//! symbolic links leading out are refused. Every reader of this crate goes through
//! [`inside`], so the rule is one function.

use std::path::{Component, Path, PathBuf};

use crate::DataError;
use crate::error::RecordRef;

/// `root/name`, refused with [`DataError::PathEscapes`] when `name` is absolute, has a `..`
/// (or a Windows prefix) component, or resolves (through symbolic links) outside `root`.
///
/// # Errors
/// [`DataError::PathEscapes`] naming the record, the path and the folder.
pub fn inside(root: &Path, name: &str, record: &RecordRef) -> Result<PathBuf, DataError> {
    let escapes = || DataError::PathEscapes {
        record: record.clone(),
        path: name.to_string(),
        root: root.to_path_buf(),
    };
    let rel = Path::new(name);
    if name.is_empty()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(escapes());
    }
    let joined = root.join(rel);
    // A symbolic link inside the folder may still point out of it.
    if let (Ok(real), Ok(real_root)) = (joined.canonicalize(), root.canonicalize())
        && !real.starts_with(&real_root)
    {
        return Err(escapes());
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_and_escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = RecordRef::new("captions.json", 2, Some(7));
        let ok = inside(dir.path(), "train2014/a.jpg", &r).unwrap();
        assert_eq!(ok, dir.path().join("train2014/a.jpg"));
        for bad in ["../a.jpg", "/etc/passwd", "x/../../a.jpg", ""] {
            let e = inside(dir.path(), bad, &r).unwrap_err();
            assert!(matches!(e, DataError::PathEscapes { .. }), "{bad}: {e}");
            assert!(
                e.to_string().contains("captions.json: record 2 (id 7)"),
                "{e}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_folder_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.png"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let r = RecordRef::new("t.parquet", 0, None);
        assert!(inside(dir.path(), "link/secret.png", &r).is_err());
    }
}
