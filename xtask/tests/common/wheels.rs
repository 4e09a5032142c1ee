//! Tiny wheels built by the tests, so resolvers run against a local find-links folder instead
//! of a public index.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One wheel to build.
pub struct Wheel<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// `Requires-Dist` values, markers allowed.
    pub requires: &'a [&'a str],
    /// Platform tag: `any` or something like `manylinux_2_17_x86_64`.
    pub platform: &'a str,
}

impl Wheel<'_> {
    pub fn pure<'a>(name: &'a str, version: &'a str, requires: &'a [&'a str]) -> Wheel<'a> {
        Wheel { name, version, requires, platform: "any" }
    }

    /// Writes the wheel into `dir` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let distribution = self.name.replace('-', "_");
        let file_name = format!("{distribution}-{}-py3-none-{}.whl", self.version, self.platform);
        let path = dir.join(&file_name);
        let dist_info = format!("{distribution}-{}.dist-info", self.version);

        let mut metadata = format!("Metadata-Version: 2.1\nName: {}\nVersion: {}\n", self.name, self.version);
        for requirement in self.requires {
            metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        let root_is_purelib = self.platform == "any";
        let wheel = format!(
            "Wheel-Version: 1.0\nGenerator: xtask-tests\nRoot-Is-Purelib: {root_is_purelib}\nTag: py3-none-{}\n",
            self.platform
        );
        let module = format!("{distribution}/__init__.py");
        let record = format!("{module},,\n{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n");

        let file = std::fs::File::create(&path).unwrap();
        let mut archive = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        for (name, content) in [
            (module.as_str(), "".to_string()),
            (&format!("{dist_info}/METADATA"), metadata),
            (&format!("{dist_info}/WHEEL"), wheel),
            (&format!("{dist_info}/RECORD"), record),
        ] {
            archive.start_file(name, options).unwrap();
            archive.write_all(content.as_bytes()).unwrap();
        }
        archive.finish().unwrap();
        path
    }
}
