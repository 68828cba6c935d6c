//! Path confinement: every file a dataset names stays inside the folder it was given.
//!
//! A dataset file is data, not code, and may come from anywhere: a Karpathy `filename` of
//! `../../home/me/.ssh/id_rsa`, a VQA `data_subtype` of `/etc`, or a symlink inside the
//! images folder that points out of it must not make mafs read that file. [`DataRoot`] is the
//! one gate every reader goes through (the Karpathy and VQA loaders; new readers such as
//! COCO, WebDataset or parquet tables must use it too):
//!
//! ```
//! use mafs_data::paths::DataRoot;
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("a.jpg"), b"x").unwrap();
//! let root = DataRoot::new(dir.path()).unwrap();
//! assert!(root.resolve("a.jpg").is_ok());
//! assert!(root.resolve("../a.jpg").is_err()); // `..` is refused by name
//! assert!(root.resolve("/etc/passwd").is_err()); // so is an absolute path
//! ```
//!
//! The rules, in order: the name must be relative, without `..` components and without NUL
//! bytes; the joined path is canonicalised (symlinks resolved) and must lie under the
//! canonical root. A name whose file does not exist is returned joined but unresolved, so the
//! reader reports it as missing with the record that named it.

use std::path::{Component, Path, PathBuf};

use crate::DataError;
use crate::error::RecordRef;

/// Why a dataset-supplied name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathViolation {
    /// The name is an absolute path (or has a Windows drive prefix).
    Absolute,
    /// The name has a `..` component.
    ParentDir,
    /// The name is empty or contains a NUL byte.
    Malformed,
    /// The file resolves (through a symlink) to this path outside the root.
    Escapes(PathBuf),
}

impl std::fmt::Display for PathViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathViolation::Absolute => write!(f, "it is an absolute path"),
            PathViolation::ParentDir => write!(f, "it contains a `..` component"),
            PathViolation::Malformed => write!(f, "it is empty or contains a NUL byte"),
            PathViolation::Escapes(to) => {
                write!(f, "it resolves to {} (a symlink out of it)", to.display())
            }
        }
    }
}

/// A folder that dataset-named files must stay inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoot {
    given: PathBuf,
    canonical: PathBuf,
}

impl DataRoot {
    /// The root at `dir`, which must be an existing folder.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] naming the folder when it cannot be resolved.
    pub fn new(dir: &Path) -> Result<Self, DataError> {
        let canonical =
            std::fs::canonicalize(dir).map_err(|e| DataError::io(dir, "open images folder", e))?;
        if !canonical.is_dir() {
            return Err(DataError::io(
                dir,
                "open images folder",
                std::io::Error::other("not a directory"),
            ));
        }
        Ok(Self {
            given: dir.to_path_buf(),
            canonical,
        })
    }

    /// The folder as given.
    pub fn path(&self) -> &Path {
        &self.given
    }

    /// The folder with symlinks resolved.
    pub fn canonical(&self) -> &Path {
        &self.canonical
    }

    /// Checks a dataset-supplied relative name without touching the file system.
    ///
    /// # Errors
    ///
    /// The [`PathViolation`] of the name.
    pub fn check_name(name: &Path) -> Result<(), PathViolation> {
        let text = name.as_os_str();
        if text.is_empty() || text.as_encoded_bytes().contains(&0) {
            return Err(PathViolation::Malformed);
        }
        for c in name.components() {
            match c {
                Component::Prefix(_) | Component::RootDir => return Err(PathViolation::Absolute),
                Component::ParentDir => return Err(PathViolation::ParentDir),
                Component::CurDir | Component::Normal(_) => {}
            }
        }
        Ok(())
    }

    /// The path of the file `name` (relative to the root) names: under the canonical root when
    /// it exists, the root joined with `name` when it does not (the reader then reports it
    /// missing).
    ///
    /// # Errors
    ///
    /// The [`PathViolation`] when `name` is absolute, has `..`, is malformed, or resolves
    /// outside the root.
    pub fn resolve(&self, name: impl AsRef<Path>) -> Result<PathBuf, PathViolation> {
        let name = name.as_ref();
        Self::check_name(name)?;
        let joined = self.canonical.join(name);
        match std::fs::canonicalize(&joined) {
            Ok(real) if real.starts_with(&self.canonical) => Ok(real),
            Ok(real) => Err(PathViolation::Escapes(real)),
            // Missing (or a dangling symlink): nothing can be read through it.
            Err(_) => Ok(self.given.join(name)),
        }
    }
}

/// `root/name` under [`DataRoot`]'s rules, for readers that report a refused name as
/// [`DataError::PathEscapes`] naming the record (the COCO and parquet readers).
///
/// # Errors
/// [`DataError::PathEscapes`] naming the record, the path and the folder.
pub fn inside(root: &Path, name: &str, record: &RecordRef) -> Result<PathBuf, DataError> {
    let escapes = || DataError::PathEscapes {
        record: record.clone(),
        path: name.to_string(),
        root: root.to_path_buf(),
    };
    if DataRoot::check_name(Path::new(name)).is_err() {
        return Err(escapes());
    }
    let joined = root.join(name);
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
    fn names_that_leave_the_root_are_refused() {
        let base = tempfile::tempdir().unwrap();
        let images = base.path().join("images");
        std::fs::create_dir_all(images.join("val2014")).unwrap();
        std::fs::write(images.join("val2014/a.jpg"), b"x").unwrap();
        std::fs::write(base.path().join("secret.txt"), b"s").unwrap();
        let root = DataRoot::new(&images).unwrap();
        let ok = root.resolve("val2014/a.jpg").unwrap();
        assert!(ok.starts_with(root.canonical()) && ok.is_file());
        assert_eq!(
            root.resolve("./val2014/a.jpg").unwrap(),
            ok,
            "`.` is harmless"
        );
        assert_eq!(root.resolve("../secret.txt"), Err(PathViolation::ParentDir));
        assert_eq!(
            root.resolve("val2014/../../secret.txt"),
            Err(PathViolation::ParentDir)
        );
        let abs = base.path().join("secret.txt");
        assert_eq!(root.resolve(&abs), Err(PathViolation::Absolute));
        assert_eq!(root.resolve(""), Err(PathViolation::Malformed));
        assert_eq!(root.resolve("a\0b"), Err(PathViolation::Malformed));
        // missing files come back joined, for a "not found" error naming the record
        assert_eq!(root.resolve("nope.jpg").unwrap(), images.join("nope.jpg"));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused_and_inside_allowed() {
        let base = tempfile::tempdir().unwrap();
        let images = base.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        std::fs::write(base.path().join("secret.txt"), b"s").unwrap();
        std::fs::write(images.join("real.png"), b"x").unwrap();
        std::os::unix::fs::symlink(base.path().join("secret.txt"), images.join("out.png")).unwrap();
        std::os::unix::fs::symlink(base.path(), images.join("up")).unwrap();
        std::os::unix::fs::symlink(images.join("real.png"), images.join("alias.png")).unwrap();
        let root = DataRoot::new(&images).unwrap();
        assert!(matches!(
            root.resolve("out.png"),
            Err(PathViolation::Escapes(_))
        ));
        assert!(matches!(
            root.resolve("up/secret.txt"),
            Err(PathViolation::Escapes(_))
        ));
        let alias = root.resolve("alias.png").unwrap();
        assert!(alias.ends_with("real.png"));
        let msg = PathViolation::Escapes(PathBuf::from("/x")).to_string();
        assert!(msg.contains("/x"), "{msg}");
    }

    #[test]
    fn inside_refuses_escapes_naming_the_record() {
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
    fn inside_refuses_a_symbolic_link_out_of_the_folder() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.png"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let r = RecordRef::new("t.parquet", 0, None);
        assert!(inside(dir.path(), "link/secret.png", &r).is_err());
    }
}
