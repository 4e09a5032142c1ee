//! File operations shared by the commands that write the requirements folder.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::exit;
use crate::project::display_path;

/// Writes a file through a temporary file in the same folder and a rename, so that readers
/// see the old or the new content, never a partial one. An existing file keeps its
/// permissions; a new one gets mode 644.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    let permissions = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions(),
        Err(_) => std::os::unix::fs::PermissionsExt::from_mode(0o644),
    };
    std::fs::set_permissions(file.path(), permissions)?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Copies the regular files of a folder tree, such as requirements.in and the files it
/// includes. An unreadable source folder is invalid input.
pub fn copy_folder(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|err| {
        exit::invalid(format!("cannot read the requirements folder {}: {err}", display_path(from)))
    })?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", from.display()))?;
        // Follows symbolic links, so that a linked include reaches the copy as a file.
        let file_type = std::fs::metadata(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?
            .file_type();
        let destination = to.join(entry.file_name());
        if file_type.is_dir() {
            std::fs::create_dir_all(&destination)?;
            copy_folder(&entry.path(), &destination)?;
        } else if file_type.is_file() {
            std::fs::copy(entry.path(), &destination)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock.txt");
        write_atomically(&path, b"old\n").unwrap();
        write_atomically(&path, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn copy_folder_includes_subfolders() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("extra")).unwrap();
        std::fs::write(from.path().join("requirements.in"), "-r extra/base.in\n").unwrap();
        std::fs::write(from.path().join("extra/base.in"), "six==1.16.0\n").unwrap();
        copy_folder(from.path(), to.path()).unwrap();
        assert_eq!(std::fs::read_to_string(to.path().join("extra/base.in")).unwrap(), "six==1.16.0\n");
    }

    #[test]
    fn missing_source_folder_is_invalid_input() {
        let to = tempfile::tempdir().unwrap();
        let err = copy_folder(Path::new("/nonexistent/requirements"), to.path()).unwrap_err();
        assert_eq!(exit::category_of(&err), exit::Category::Invalid);
    }
}
