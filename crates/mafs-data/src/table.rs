//! Parquet image-text tables, as Hugging Face dataset exports ship them: one row per image,
//! an image column and a caption column, through the `parquet` crate's record API (no arrow:
//! see docs/data.md for what each choice costs to build).
//!
//! Columns are found by name (or given in [`TableOptions`]):
//!
//! | what | column names tried | types |
//! | --- | --- | --- |
//! | image | `image`, `img`, `jpg`, `png`, `image_bytes` | HF's `struct<bytes: binary, path: string>` (bytes first; a `path` alone is read under the images folder) or plain `binary` |
//! | captions | `caption`, `captions`, `sentences`, `text`, `raw` | `string` or `list<string>` |
//! | id | `id`, `image_id`, `img_id`, `imgid`, `cocoid` | integer or numeric string (else the row number) |
//! | split | `split` | `train`, `val`/`validation`, `test`, `restval` (train); else the spec's split |
//! | side text | `side_text` | `string` |
//! | sentence ids | `sentids` | `list<int64>` |
//!
//! Rows are read row group by row group; only the columns above are decoded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::{Field, Row};
use parquet::schema::types::Type;

use crate::error::RecordRef;
use crate::image_io::{ResizeMode, load_image, resize_square};
use crate::report::{LoadReport, skip_or_fail};
use crate::{DataError, Instance, Split};

/// Image column names tried, in order.
pub const IMAGE_COLUMNS: [&str; 5] = ["image", "img", "jpg", "png", "image_bytes"];
/// Caption column names tried, in order.
pub const TEXT_COLUMNS: [&str; 5] = ["caption", "captions", "sentences", "text", "raw"];
/// Id column names tried, in order.
pub const ID_COLUMNS: [&str; 5] = ["id", "image_id", "img_id", "imgid", "cocoid"];

/// Options of the parquet reader.
#[derive(Debug, Clone, PartialEq)]
pub struct TableOptions {
    /// Folder for images given by `path` only (`None`: such rows are bad).
    pub images_dir: Option<PathBuf>,
    /// The image column (`None`: the first of [`IMAGE_COLUMNS`] present).
    pub image_column: Option<String>,
    /// The caption column (`None`: the first of [`TEXT_COLUMNS`] present).
    pub text_column: Option<String>,
    /// Resize images to this square size (`None` keeps the original size).
    pub image_size: Option<u32>,
    /// How images are brought to the size.
    pub resize: ResizeMode,
    /// The split of rows without a `split` column.
    pub split: Split,
    /// Skip bad rows (reported) instead of failing on the first.
    pub skip_bad: bool,
    /// Keep the decoded images; `false` only checks that they decode.
    pub keep_images: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            images_dir: None,
            image_column: None,
            text_column: None,
            image_size: Some(64),
            resize: ResizeMode::CenterCrop,
            split: Split::Test,
            skip_bad: false,
            keep_images: true,
        }
    }
}

fn format_err(path: &Path, message: impl std::fmt::Display) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        format: "parquet table",
        message: message.to_string(),
    }
}

/// The columns a table is read through.
struct Columns {
    image: String,
    text: String,
    projection: Type,
}

fn columns(path: &Path, schema: &Type, opts: &TableOptions) -> Result<Columns, DataError> {
    let fields = schema.get_fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let pick = |given: &Option<String>, tried: &[&str], what: &str| {
        let found = match given {
            Some(g) => names.iter().find(|n| *n == g).map(|n| n.to_string()),
            None => tried
                .iter()
                .find(|t| names.contains(t))
                .map(|t| t.to_string()),
        };
        found.ok_or_else(|| {
            let wanted = given
                .as_ref()
                .map_or_else(|| tried.join(", "), |g| g.clone());
            format_err(
                path,
                format!(
                    "no {what} column (looked for {wanted}; the table has {})",
                    names.join(", ")
                ),
            )
        })
    };
    let image = pick(&opts.image_column, &IMAGE_COLUMNS, "image")?;
    let text = pick(&opts.text_column, &TEXT_COLUMNS, "caption")?;
    let id = ID_COLUMNS.iter().find(|c| names.contains(c));
    let keep: Vec<Arc<Type>> = fields
        .iter()
        .filter(|f| {
            let n = f.name();
            n == image
                || n == text
                || Some(&n) == id
                || ["split", "side_text", "sentids"].contains(&n)
        })
        .cloned()
        .collect();
    let projection = Type::group_type_builder(schema.name())
        .with_fields(keep)
        .build()
        .map_err(|e| format_err(path, e))?;
    Ok(Columns {
        image,
        text,
        projection,
    })
}

fn strings(f: &Field) -> Option<Vec<String>> {
    match f {
        Field::Str(s) => Some(vec![s.clone()]),
        Field::ListInternal(l) => l
            .elements()
            .iter()
            .map(|e| match e {
                Field::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn integer(f: &Field) -> Option<u64> {
    match f {
        Field::Int(v) => u64::try_from(*v).ok(),
        Field::Long(v) => u64::try_from(*v).ok(),
        Field::UInt(v) => Some(u64::from(*v)),
        Field::ULong(v) => Some(*v),
        Field::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// The image of a row: `(bytes, path)`, either possibly absent.
fn image_of(f: &Field) -> (Option<Vec<u8>>, Option<String>) {
    match f {
        Field::Bytes(b) => (Some(b.data().to_vec()), None),
        Field::Group(r) => {
            let mut out = (None, None);
            for (name, v) in r.get_column_iter() {
                match (name.as_str(), v) {
                    ("bytes", Field::Bytes(b)) => out.0 = Some(b.data().to_vec()),
                    ("path", Field::Str(s)) => out.1 = Some(s.clone()),
                    _ => {}
                }
            }
            out
        }
        _ => (None, None),
    }
}

fn parse_split(s: &str, r: &RecordRef) -> Result<Split, DataError> {
    match s {
        "validation" | "valid" | "dev" => Ok(Split::Val),
        "restval" => Ok(Split::Train),
        other => other.parse().map_err(|_| DataError::UnknownSplit {
            split: other.into(),
            context: format!("{r}: column `split`"),
        }),
    }
}

fn row_instance(
    row: &Row,
    index: usize,
    path: &Path,
    cols: &Columns,
    opts: &TableOptions,
) -> Result<Instance, DataError> {
    let get = |name: &str| {
        row.get_column_iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, f)| f)
    };
    let id = ID_COLUMNS
        .iter()
        .find_map(|c| get(c).and_then(integer))
        .unwrap_or(index as u64);
    let r = RecordRef::new(path, index, Some(id));
    let split = match get("split") {
        Some(Field::Str(s)) => parse_split(s, &r)?,
        _ => opts.split,
    };
    let captions = get(&cols.text).and_then(strings).unwrap_or_default();
    if captions.is_empty() {
        return Err(DataError::NoCaptions { record: r });
    }
    let mut clean = Vec::with_capacity(captions.len());
    for (k, c) in captions.iter().enumerate() {
        if c.trim().is_empty() {
            return Err(DataError::EmptyCaption {
                record: r,
                sentence: k,
            });
        }
        clean.push(c.trim().to_string());
    }
    let (bytes, image_path) = get(&cols.image).map(image_of).unwrap_or_default();
    let img = match (bytes, &image_path, &opts.images_dir) {
        (Some(b), _, _) => {
            let name = PathBuf::from(format!("{}:row {index}", path.display()));
            let img = image::load_from_memory(&b)
                .map_err(|e| DataError::BadImage {
                    record: r.clone(),
                    image: name,
                    reason: e.to_string(),
                })?
                .to_rgb8();
            match opts.image_size {
                Some(s) => resize_square(img, s, opts.resize),
                None => img,
            }
        }
        (None, Some(p), Some(dir)) => {
            let full = crate::paths::inside(dir, p, &r)?;
            load_image(&full, opts.image_size, opts.resize, &r)?
        }
        (None, p, _) => {
            return Err(DataError::BadRecord {
                record: r,
                expected: "image bytes, or an image path and --images DIR",
                message: match p {
                    Some(p) => format!("column `{}` has only the path `{p}`", cols.image),
                    None => format!("column `{}` is empty", cols.image),
                },
            });
        }
    };
    let sentids = match get("sentids") {
        Some(Field::ListInternal(l)) => {
            l.elements().iter().map(integer).collect::<Option<Vec<_>>>()
        }
        _ => None,
    }
    .filter(|s| s.len() == clean.len())
    .unwrap_or_else(|| (0..clean.len() as u64).map(|k| id * 16 + k).collect());
    Ok(Instance {
        id,
        split,
        filename: image_path.unwrap_or_else(|| format!("{id}.png")),
        image: opts.keep_images.then_some(img),
        captions: clean,
        sentids,
        side_text: match get("side_text") {
            Some(Field::Str(s)) => Some(s.clone()),
            _ => None,
        },
        questions: Vec::new(),
        corruptions: Vec::new(),
    })
}

/// Loads a parquet image-text table.
///
/// # Errors
///
/// [`DataError::Io`] for the file, [`DataError::Format`] for a file that is not parquet,
/// uses a compression this build does not read (snappy and uncompressed are read), or has
/// no image or caption column; for a row (unless `skip_bad`): [`DataError::NoCaptions`],
/// [`DataError::EmptyCaption`], [`DataError::UnknownSplit`], [`DataError::BadRecord`] (no
/// image), [`DataError::BadImage`], [`DataError::PathEscapes`], [`DataError::MissingImage`].
pub fn load_table(
    path: &Path,
    opts: &TableOptions,
) -> Result<(Vec<Instance>, LoadReport), DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, "read", e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| format_err(path, e))?;
    let schema = reader.metadata().file_metadata().schema();
    let cols = columns(path, schema, opts)?;
    let mut report = LoadReport {
        files: vec![path.to_path_buf()],
        ..LoadReport::default()
    };
    let rows = reader
        .get_row_iter(Some(cols.projection.clone()))
        .map_err(|e| format_err(path, e))?;
    let mut out = Vec::new();
    for (index, row) in rows.enumerate() {
        report.total += 1;
        let row = row.map_err(|e| format_err(path, format!("row {index}: {e}")))?;
        match row_instance(&row, index, path, &cols, opts) {
            Ok(inst) => out.push(inst),
            Err(e) => skip_or_fail(&mut report, opts.skip_bad, e)?,
        }
    }
    report.loaded = out.len();
    Ok((out, report))
}

/// The schema [`write_table`] writes: HF's image struct, a list of captions.
pub const SCHEMA: &str = "message mafs_image_text {
  required int64 id;
  required binary split (UTF8);
  optional group image {
    optional binary bytes;
    optional binary path (UTF8);
  }
  optional group captions (LIST) {
    repeated group list {
      optional binary element (UTF8);
    }
  }
  optional group sentids (LIST) {
    repeated group list {
      optional int64 element;
    }
  }
  optional binary side_text (UTF8);
}";

/// `(values, definition levels, repetition levels)` of a list column.
fn list_levels<T: Clone>(lists: &[&[T]]) -> (Vec<T>, Vec<i16>, Vec<i16>) {
    let (mut v, mut d, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for l in lists {
        if l.is_empty() {
            d.push(1);
            r.push(0);
        }
        for (k, x) in l.iter().enumerate() {
            v.push(x.clone());
            d.push(3);
            r.push(i16::from(k > 0));
        }
    }
    (v, d, r)
}

/// One row as [`write_rows`] writes it (any part may be empty, to make broken fixtures).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableRow {
    /// `id`.
    pub id: u64,
    /// `split`.
    pub split: String,
    /// `image.bytes` (encoded JPEG or PNG).
    pub image_bytes: Option<Vec<u8>>,
    /// `image.path`.
    pub image_path: Option<String>,
    /// `captions`.
    pub captions: Vec<String>,
    /// `sentids`.
    pub sentids: Vec<u64>,
    /// `side_text`.
    pub side_text: Option<String>,
}

/// The row of an instance, its image encoded as PNG and its file name as `path`.
///
/// # Errors
/// [`DataError::BadRecord`] for an instance without an image, [`DataError::ImageWrite`].
pub fn row_of(inst: &Instance, index: usize) -> Result<TableRow, DataError> {
    let Some(img) = &inst.image else {
        return Err(DataError::BadRecord {
            record: RecordRef::new("<instances>", index, Some(inst.id)),
            expected: "an instance with an image",
            message: "the image is missing".into(),
        });
    };
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| DataError::ImageWrite {
            path: PathBuf::from(&inst.filename),
            reason: e.to_string(),
        })?;
    Ok(TableRow {
        id: inst.id,
        split: inst.split.as_str().to_string(),
        image_bytes: Some(png),
        image_path: Some(inst.filename.clone()),
        captions: inst.captions.clone(),
        sentids: inst.sentids.clone(),
        side_text: inst.side_text.clone(),
    })
}

/// Writes `instances` as a snappy-compressed parquet table (PNG bytes in the image struct,
/// its file name as `path`), 256 rows to a row group, atomically.
///
/// # Errors
/// [`DataError::Io`], [`DataError::ImageWrite`], [`DataError::Format`] (the writer's), and
/// [`DataError::BadRecord`] for an instance without an image.
pub fn write_table(instances: &[Instance], path: &Path) -> Result<(), DataError> {
    let rows = instances
        .iter()
        .enumerate()
        .map(|(k, i)| row_of(i, k))
        .collect::<Result<Vec<_>, _>>()?;
    write_rows(&rows, path)
}

/// Writes rows in the [`SCHEMA`] layout, snappy-compressed, 256 rows to a row group,
/// atomically (a temporary file renamed when complete).
///
/// # Errors
/// [`DataError::Io`], [`DataError::Format`] (the writer's).
pub fn write_rows(rows: &[TableRow], path: &Path) -> Result<(), DataError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, "create directory", e))?;
    let perr = |e: parquet::errors::ParquetError| format_err(path, e);
    let ioerr = |e: std::io::Error| DataError::io(path, "write", e);
    let schema = Arc::new(parquet::schema::parser::parse_message_type(SCHEMA).map_err(perr)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let tmp = mafs_core::atomic::temp_file_in(dir).map_err(ioerr)?;
    let mut w =
        SerializedFileWriter::new(tmp.reopen().map_err(ioerr)?, schema, props).map_err(perr)?;
    for chunk in rows.chunks(256) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id as i64).collect();
        let splits: Vec<ByteArray> = chunk
            .iter()
            .map(|r| ByteArray::from(r.split.as_str()))
            .collect();
        let opt = |v: Vec<Option<ByteArray>>, present: i16| {
            let def = v
                .iter()
                .map(|x| if x.is_some() { present } else { present - 1 })
                .collect::<Vec<i16>>();
            (v.into_iter().flatten().collect::<Vec<_>>(), def)
        };
        let bytes = opt(
            chunk
                .iter()
                .map(|r| r.image_bytes.clone().map(ByteArray::from))
                .collect(),
            2,
        );
        let paths = opt(
            chunk
                .iter()
                .map(|r| r.image_path.as_deref().map(ByteArray::from))
                .collect(),
            2,
        );
        let sides = opt(
            chunk
                .iter()
                .map(|r| r.side_text.as_deref().map(ByteArray::from))
                .collect(),
            1,
        );
        let caps: Vec<Vec<ByteArray>> = chunk
            .iter()
            .map(|r| {
                r.captions
                    .iter()
                    .map(|c| ByteArray::from(c.as_str()))
                    .collect()
            })
            .collect();
        let caps = list_levels(&caps.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let sids: Vec<Vec<i64>> = chunk
            .iter()
            .map(|r| r.sentids.iter().map(|&s| s as i64).collect())
            .collect();
        let sids = list_levels(&sids.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let mut rg = w.next_row_group().map_err(perr)?;
        let mut column = 0;
        while let Some(mut col) = rg.next_column().map_err(perr)? {
            match column {
                0 => col.typed::<Int64Type>().write_batch(&ids, None, None),
                1 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&splits, None, None),
                2 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&bytes.0, Some(&bytes.1), None),
                3 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&paths.0, Some(&paths.1), None),
                4 => {
                    col.typed::<ByteArrayType>()
                        .write_batch(&caps.0, Some(&caps.1), Some(&caps.2))
                }
                5 => col
                    .typed::<Int64Type>()
                    .write_batch(&sids.0, Some(&sids.1), Some(&sids.2)),
                _ => col
                    .typed::<ByteArrayType>()
                    .write_batch(&sides.0, Some(&sides.1), None),
            }
            .map_err(perr)?;
            col.close().map_err(perr)?;
            column += 1;
        }
        rg.close().map_err(perr)?;
    }
    w.close().map_err(perr)?;
    tmp.as_file().sync_all().map_err(ioerr)?;
    tmp.persist(path).map_err(|e| ioerr(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{World, WorldConfig};

    #[test]
    fn a_written_table_reads_back_field_for_field() {
        let world = World::new(WorldConfig::tiny(5, 2)).unwrap();
        let all = world.all();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        write_table(&all, &p).unwrap();
        let opts = TableOptions {
            image_size: None,
            ..TableOptions::default()
        };
        let (back, rep) = load_table(&p, &opts).unwrap();
        assert!(rep.is_clean(), "{rep}");
        let strip = |v: &[Instance]| -> Vec<Instance> {
            v.iter()
                .map(|i| Instance {
                    questions: Vec::new(),
                    corruptions: Vec::new(),
                    ..i.clone()
                })
                .collect()
        };
        assert_eq!(back, strip(&all));
    }

    #[test]
    fn a_file_that_is_not_parquet_or_lacks_columns_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("junk.parquet");
        std::fs::write(&p, b"not parquet at all").unwrap();
        let e = load_table(&p, &TableOptions::default()).unwrap_err();
        assert!(matches!(e, DataError::Format { .. }), "{e}");
        assert!(e.to_string().contains("junk.parquet"), "{e}");
        let world = World::new(WorldConfig::tiny(2, 2)).unwrap();
        let good = dir.path().join("good.parquet");
        write_table(&world.all(), &good).unwrap();
        let opts = TableOptions {
            text_column: Some("alt".into()),
            ..TableOptions::default()
        };
        let e = load_table(&good, &opts).unwrap_err();
        assert!(
            e.to_string().contains("no caption column (looked for alt"),
            "{e}"
        );
    }
}
