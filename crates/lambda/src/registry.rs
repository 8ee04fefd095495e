//! The functions: kept in memory, each with its worker pool, and on disk under
//! `<data>/lambda/functions/<name>/` (`function.json` plus the unzipped code in
//! `code-<revision>/` and the zip as `code-<revision>.zip`), so they survive a restart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::model::{CodeSource, FunctionRecord, RuntimeKind, UrlRecord};
use crate::pool::Pool;
use crate::{Error, code, util};

/// The current record format.
pub(crate) const FORMAT: u32 = 1;

/// A function as it runs now. Replaced as a whole when its code or configuration changes;
/// invocations that hold the old one finish on the old workers.
pub(crate) struct Function {
    pub(crate) record: FunctionRecord,
    pub(crate) kind: RuntimeKind,
    /// The code's folder (the task root).
    pub(crate) code_dir: PathBuf,
    /// The function's log file.
    pub(crate) log_path: PathBuf,
    pub(crate) pool: Pool,
    /// For code in a local directory: the newest modification time seen in it when the
    /// workers started, and when it was last looked at.
    watch: Option<Mutex<Watch>>,
}

struct Watch {
    newest: Option<SystemTime>,
    checked: Instant,
}

/// How often a local code directory is looked at for changes (on invocation).
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Folders not looked into for changes: dependencies and caches.
const WATCH_SKIP: &[&str] = &["node_modules", ".git", "__pycache__", ".venv", "venv"];
/// At most this many entries are looked at per check.
const WATCH_MAX_ENTRIES: usize = 5000;

/// New code for a function.
#[derive(Debug)]
pub(crate) enum CodeInput {
    Zip(Vec<u8>),
    Directory(PathBuf),
}

pub(crate) struct Registry {
    dir: PathBuf,
    logs_dir: PathBuf,
    functions: RwLock<BTreeMap<String, Arc<Function>>>,
    /// Serializes changes, so two updates of one function cannot interleave on disk.
    writes: Mutex<()>,
}

impl Registry {
    pub(crate) fn open(dir: &Path, logs_dir: &Path) -> Result<Registry, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|err| Error::io("creating the functions folder", err))?;
        std::fs::create_dir_all(logs_dir)
            .map_err(|err| Error::io("creating the logs folder", err))?;
        let registry = Registry {
            dir: dir.to_owned(),
            logs_dir: logs_dir.to_owned(),
            functions: RwLock::new(BTreeMap::new()),
            writes: Mutex::new(()),
        };
        let entries =
            std::fs::read_dir(dir).map_err(|err| Error::io("reading the functions folder", err))?;
        for entry in entries.flatten() {
            let path = entry.path().join("function.json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            match serde_json::from_str::<FunctionRecord>(&text) {
                Ok(record) => match registry.build(record) {
                    Ok(function) => {
                        registry.remove_stale_code(&function);
                        registry
                            .write_map()
                            .insert(function.record.name.clone(), Arc::new(function));
                    }
                    Err(err) => tracing::warn!(path = %path.display(), %err, "skipping a function"),
                },
                Err(err) => {
                    tracing::warn!(path = %path.display(), %err, "skipping an unreadable function record")
                }
            }
        }
        Ok(registry)
    }

    pub(crate) fn get(&self, name: &str) -> Result<Arc<Function>, Error> {
        self.read_map()
            .get(name)
            .cloned()
            .ok_or_else(|| Error::ResourceNotFound(format!("Function not found: {name}")))
    }

    /// Function `name`, with fresh workers if its code is a local directory that changed
    /// since they started (so edits show on the next invocation, as with LocalStack's hot
    /// reload).
    pub(crate) fn get_current(&self, name: &str) -> Result<Arc<Function>, Error> {
        let function = self.get(name)?;
        let changed = function.watch.as_ref().is_some_and(|watch| {
            let mut watch = watch.lock().unwrap_or_else(|p| p.into_inner());
            if watch.checked.elapsed() < WATCH_INTERVAL {
                return false;
            }
            watch.checked = Instant::now();
            newest_mtime(&function.code_dir) != watch.newest
        });
        if !changed {
            return Ok(function);
        }
        let _guard = self.lock_writes();
        // Another caller may have swapped it meanwhile.
        let current = self.get(name)?;
        if !Arc::ptr_eq(&current, &function) {
            return Ok(current);
        }
        let fresh = Arc::new(self.build(function.record.clone())?);
        self.write_map().insert(name.to_owned(), fresh.clone());
        function.pool.close();
        Ok(fresh)
    }

    pub(crate) fn list(&self) -> Vec<FunctionRecord> {
        self.read_map().values().map(|f| f.record.clone()).collect()
    }

    pub(crate) fn find_by_url_id(&self, url_id: &str) -> Option<Arc<Function>> {
        self.read_map()
            .values()
            .find(|f| f.record.url.as_ref().is_some_and(|u| u.url_id == url_id))
            .cloned()
    }

    /// Creates a function from `record` (its code fields are filled in here) and `code`.
    pub(crate) fn create(
        &self,
        mut record: FunctionRecord,
        code: CodeInput,
    ) -> Result<FunctionRecord, Error> {
        let _guard = self.lock_writes();
        if self.read_map().contains_key(&record.name) {
            return Err(Error::ResourceConflict(format!(
                "Function already exist: {}",
                record.name
            )));
        }
        let folder = self.dir.join(&record.name);
        // A leftover folder without a record (a crash mid-create) is replaced.
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder)
            .map_err(|err| Error::io("creating the function folder", err))?;
        let stored = self.store_code(&record.name, &record.revision_id, code);
        match stored {
            Ok((source, size, sha)) => {
                record.code = source;
                record.code_size = size;
                record.code_sha256 = sha;
            }
            Err(err) => {
                let _ = std::fs::remove_dir_all(&folder);
                return Err(err);
            }
        }
        self.commit(record)
    }

    /// Replaces the code of function `name`.
    pub(crate) fn update_code(&self, name: &str, code: CodeInput) -> Result<FunctionRecord, Error> {
        let _guard = self.lock_writes();
        let mut record = self.get(name)?.record.clone();
        record.revision_id = util::uuid4();
        record.last_modified_ms = util::now_ms();
        let (source, size, sha) = self.store_code(name, &record.revision_id, code)?;
        record.code = source;
        record.code_size = size;
        record.code_sha256 = sha;
        self.commit(record)
    }

    /// Changes function `name` with `change`, then stores it.
    pub(crate) fn update(
        &self,
        name: &str,
        change: impl FnOnce(&mut FunctionRecord) -> Result<(), Error>,
    ) -> Result<FunctionRecord, Error> {
        let _guard = self.lock_writes();
        let mut record = self.get(name)?.record.clone();
        change(&mut record)?;
        record.revision_id = util::uuid4();
        record.last_modified_ms = util::now_ms();
        self.commit(record)
    }

    /// Changes only the URL configuration (no new revision, workers kept).
    pub(crate) fn set_url(
        &self,
        name: &str,
        url: Option<UrlRecord>,
    ) -> Result<FunctionRecord, Error> {
        self.change_in_place(name, |record| record.url = url)
    }

    /// Changes fields that do not affect running code, keeping the workers.
    fn change_in_place(
        &self,
        name: &str,
        change: impl FnOnce(&mut FunctionRecord),
    ) -> Result<FunctionRecord, Error> {
        let _guard = self.lock_writes();
        let current = self.get(name)?;
        let mut record = current.record.clone();
        change(&mut record);
        self.persist(&record)?;
        let function = Function {
            record: record.clone(),
            kind: current.kind,
            code_dir: current.code_dir.clone(),
            log_path: current.log_path.clone(),
            pool: current.pool.clone(),
            watch: current.watch.as_ref().map(|w| {
                let w = w.lock().unwrap_or_else(|p| p.into_inner());
                Mutex::new(Watch {
                    newest: w.newest,
                    checked: w.checked,
                })
            }),
        };
        self.write_map().insert(name.to_owned(), Arc::new(function));
        Ok(record)
    }

    /// Changes the resource policy (no new revision, workers kept).
    pub(crate) fn set_policy(
        &self,
        name: &str,
        change: impl FnOnce(&mut Vec<serde_json::Value>),
    ) -> Result<FunctionRecord, Error> {
        self.change_in_place(name, |record| change(&mut record.policy))
    }

    /// Changes the tags (no new revision, workers kept).
    pub(crate) fn set_tags(
        &self,
        name: &str,
        change: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<FunctionRecord, Error> {
        self.change_in_place(name, |record| change(&mut record.tags))
    }

    pub(crate) fn delete(&self, name: &str) -> Result<(), Error> {
        let _guard = self.lock_writes();
        let function = self
            .write_map()
            .remove(name)
            .ok_or_else(|| Error::ResourceNotFound(format!("Function not found: {name}")))?;
        function.pool.close();
        std::fs::remove_dir_all(self.dir.join(name))
            .map_err(|err| Error::io("deleting the function", err))
    }

    pub(crate) fn shutdown(&self) {
        for function in self.read_map().values() {
            function.pool.close();
        }
    }

    /// Path of the stored zip of a function, if it has one.
    pub(crate) fn zip_path(&self, record: &FunctionRecord) -> Option<PathBuf> {
        match &record.code {
            CodeSource::Zip { folder } => {
                Some(self.dir.join(&record.name).join(format!("{folder}.zip")))
            }
            CodeSource::Directory { .. } => None,
        }
    }

    fn store_code(
        &self,
        name: &str,
        revision: &str,
        code: CodeInput,
    ) -> Result<(CodeSource, u64, String), Error> {
        match code {
            CodeInput::Zip(bytes) => {
                let folder = format!("code-{revision}");
                let dir = self.dir.join(name).join(&folder);
                code::unzip(&bytes, &dir)?;
                std::fs::write(self.dir.join(name).join(format!("{folder}.zip")), &bytes)
                    .map_err(|err| Error::io("storing the zip", err))?;
                let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                Ok((
                    CodeSource::Zip { folder },
                    size,
                    code::sha256_base64(&bytes),
                ))
            }
            CodeInput::Directory(path) => {
                let path = std::fs::canonicalize(&path).map_err(|err| {
                    Error::InvalidParameterValue(format!(
                        "Code directory {} is not usable: {err}",
                        path.display()
                    ))
                })?;
                if !path.is_dir() {
                    return Err(Error::InvalidParameterValue(format!(
                        "Code directory {} is not a directory",
                        path.display()
                    )));
                }
                let text = path.display().to_string();
                let sha = code::sha256_base64(text.as_bytes());
                Ok((CodeSource::Directory { path: text }, 0, sha))
            }
        }
    }

    /// Stores `record`, swaps the running function and retires the old workers and code.
    fn commit(&self, record: FunctionRecord) -> Result<FunctionRecord, Error> {
        self.persist(&record)?;
        let function = Arc::new(self.build(record.clone())?);
        let old = self
            .write_map()
            .insert(record.name.clone(), function.clone());
        if let Some(old) = old {
            old.pool.close();
        }
        self.remove_stale_code(&function);
        Ok(record)
    }

    fn persist(&self, record: &FunctionRecord) -> Result<(), Error> {
        let folder = self.dir.join(&record.name);
        let text = serde_json::to_string_pretty(record)
            .map_err(|err| Error::io("encoding the function", err))?;
        let tmp = folder.join("function.json.tmp");
        std::fs::write(&tmp, text).map_err(|err| Error::io("writing the function", err))?;
        std::fs::rename(&tmp, folder.join("function.json"))
            .map_err(|err| Error::io("writing the function", err))
    }

    fn build(&self, record: FunctionRecord) -> Result<Function, Error> {
        let kind = RuntimeKind::parse(&record.runtime)?;
        let code_dir = match &record.code {
            CodeSource::Zip { folder } => self.dir.join(&record.name).join(folder),
            CodeSource::Directory { path } => PathBuf::from(path),
        };
        let watch = matches!(record.code, CodeSource::Directory { .. }).then(|| {
            Mutex::new(Watch {
                newest: newest_mtime(&code_dir),
                checked: Instant::now(),
            })
        });
        Ok(Function {
            log_path: self.logs_dir.join(format!("{}.log", record.name)),
            kind,
            code_dir,
            pool: Pool::new(),
            record,
            watch,
        })
    }

    /// Removes code folders and zips of earlier revisions. Old workers may still run from a
    /// removed folder; their open files stay valid until they exit.
    fn remove_stale_code(&self, function: &Function) {
        let keep = match &function.record.code {
            CodeSource::Zip { folder } => folder.clone(),
            CodeSource::Directory { .. } => String::new(),
        };
        let Ok(entries) = std::fs::read_dir(self.dir.join(&function.record.name)) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with("code-") || name == keep || name == format!("{keep}.zip") {
                continue;
            }
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }

    fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read_map(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Function>>> {
        self.functions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_map(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<Function>>> {
        self.functions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The newest modification time of the files and folders under `dir` (skipping dependency
/// and cache folders, and stopping after [`WATCH_MAX_ENTRIES`] entries).
fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_owned()];
    let mut seen = 0;
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > WATCH_MAX_ENTRIES {
                return newest;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if let Ok(modified) = meta.modified() {
                newest = newest.max(Some(modified));
            }
            let name = entry.file_name();
            if meta.is_dir() && !WATCH_SKIP.iter().any(|skip| name == *skip) {
                stack.push(entry.path());
            }
        }
    }
    newest
}

/// A record for a new function with defaults as AWS applies them; code fields are placeholders
/// until [`Registry::create`] stores the code.
pub(crate) fn new_record(
    name: String,
    runtime: String,
    handler: String,
    role: String,
) -> FunctionRecord {
    FunctionRecord {
        format: FORMAT,
        name,
        runtime,
        handler,
        role,
        description: String::new(),
        timeout: 3,
        memory_size: 128,
        environment: BTreeMap::new(),
        code: CodeSource::Directory {
            path: String::new(),
        },
        code_size: 0,
        code_sha256: String::new(),
        last_modified_ms: util::now_ms(),
        revision_id: util::uuid4(),
        architectures: vec!["x86_64".into()],
        tags: BTreeMap::new(),
        reserved_concurrency: None,
        url: None,
        policy: Vec::new(),
    }
}
