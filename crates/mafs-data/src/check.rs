//! Validation of a dataset on disk: every record is read, every image decoded, and every
//! bad record listed (nothing is kept in memory but the report).

use std::path::Path;

use crate::DataError;
use crate::karpathy::{KarpathyOptions, load_karpathy};
use crate::report::LoadReport;
use crate::vqa::{ImageLayout, VqaOptions, load_vqa};

/// Checks a Karpathy caption file and, when `images_dir` is given, its images.
///
/// # Errors
///
/// Only file-level errors ([`DataError::Io`], [`DataError::Json`]); bad records are listed
/// in the report.
pub fn check_karpathy(file: &Path, images_dir: Option<&Path>) -> Result<LoadReport, DataError> {
    let opts = KarpathyOptions {
        images_dir: images_dir.map(Path::to_path_buf),
        image_size: None,
        skip_bad: true,
        keep_images: false,
        ..KarpathyOptions::default()
    };
    load_karpathy(file, &opts).map(|(_, r)| r)
}

/// Checks VQA v2 questions and annotations and, when `images_dir` is given, their images.
///
/// # Errors
///
/// Only file-level errors ([`DataError::Io`], [`DataError::Json`]); bad records are listed
/// in the report.
pub fn check_vqa(
    questions: &Path,
    annotations: &Path,
    images_dir: Option<&Path>,
    layout: ImageLayout,
) -> Result<LoadReport, DataError> {
    let opts = VqaOptions {
        images_dir: images_dir.map(Path::to_path_buf),
        layout,
        image_size: None,
        skip_bad: true,
        keep_images: false,
        ..VqaOptions::default()
    };
    load_vqa(questions, Some(annotations), &opts).map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{
        IMAGES_DIR, KARPATHY_FILE, VQA_ANNOTATIONS_FILE, VQA_QUESTIONS_FILE, export,
    };
    use crate::world::{World, WorldConfig};

    #[test]
    fn a_clean_export_checks_clean_and_a_broken_one_lists_every_bad_record() {
        let w = World::new(WorldConfig {
            image_size: 16,
            ..WorldConfig::tiny(4, 0)
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let all = w.all();
        export(&all, dir.path(), "mafs-world").unwrap();
        let images = dir.path().join(IMAGES_DIR);
        let k = dir.path().join(KARPATHY_FILE);
        let rep = check_karpathy(&k, Some(&images)).unwrap();
        assert!(rep.is_clean(), "{rep}");
        assert_eq!(rep.total, all.len());
        let q = dir.path().join(VQA_QUESTIONS_FILE);
        let a = dir.path().join(VQA_ANNOTATIONS_FILE);
        assert!(
            check_vqa(&q, &a, Some(&images), ImageLayout::ById)
                .unwrap()
                .is_clean()
        );
        std::fs::remove_file(images.join(&all[1].filename)).unwrap();
        std::fs::write(images.join(&all[2].filename), b"garbage").unwrap();
        let rep = check_karpathy(&k, Some(&images)).unwrap();
        assert_eq!(rep.skipped.len(), 2, "{rep}");
        assert!(matches!(rep.skipped[0], DataError::MissingImage { .. }));
        assert!(matches!(rep.skipped[1], DataError::BadImage { .. }));
        let rep = check_vqa(&q, &a, Some(&images), ImageLayout::ById).unwrap();
        assert_eq!(rep.skipped.len(), 2, "{rep}");
    }
}
