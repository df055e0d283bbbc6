//! Local files in memory: what the service wrote, for a test to read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Result;
use crate::host::local_files::LocalFiles;

#[derive(Default)]
pub struct FakeFiles(Mutex<HashMap<PathBuf, String>>);

impl FakeFiles {
    /// The text the service keeps at `path`, if any.
    pub fn get(&self, path: &Path) -> Option<String> {
        self.0.lock().unwrap().get(path).cloned()
    }
}

impl LocalFiles for FakeFiles {
    fn read(&self, path: &Path) -> Result<Option<String>> {
        Ok(self.get(path))
    }

    fn write_private(&self, path: &Path, text: &str) -> Result<()> {
        self.0.lock().unwrap().insert(path.into(), text.into());
        Ok(())
    }

    fn remove(&self, path: &Path) -> Result<()> {
        self.0.lock().unwrap().remove(path);
        Ok(())
    }
}
