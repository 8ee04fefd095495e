//! The conformance case format (`../shared/conformance/README.md`): one recorded AWS run per
//! JSON file under `cases/<category>/<id>.json`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// One case.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// Unique id.
    pub id: String,
    /// Category (the folder name).
    #[serde(default)]
    pub category: String,
    /// `execution`, `create_error` or `validate`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// What the case needs besides Step Functions (`lambda`, `sqs`, `activities`...).
    #[serde(default)]
    pub needs: Vec<String>,
    /// `STANDARD` or `EXPRESS`.
    #[serde(default = "default_type")]
    pub state_machine_type: String,
    /// `async` (StartExecution) or `sync` (StartSyncExecution).
    #[serde(default)]
    pub start: Option<String>,
    /// The definition as JSON.
    #[serde(default)]
    pub definition: Value,
    /// The exact definition text, when it matters.
    #[serde(default)]
    pub definition_string: Option<String>,
    /// The input as JSON.
    #[serde(default)]
    pub input: Value,
    /// The exact input text, when given.
    #[serde(default)]
    pub input_string: Option<String>,
    /// No input was sent (AWS then uses `{}`).
    #[serde(default)]
    pub input_omitted: bool,
    /// AWS's recorded results.
    #[serde(default)]
    pub expected: Value,
    /// Values LocalStack replaced in `expected`.
    #[serde(default)]
    pub placeholders: Vec<Value>,
    /// `strict` or `multiset`.
    #[serde(default)]
    pub event_order: Option<String>,
    /// Things the test did while the execution ran (`StopExecution`...).
    #[serde(default)]
    pub actions: Vec<Value>,
    /// The file the case came from.
    #[serde(skip)]
    pub path: PathBuf,
}

fn default_kind() -> String {
    "execution".into()
}

fn default_type() -> String {
    "STANDARD".into()
}

impl Case {
    /// Reads a case from its JSON.
    pub fn from_json(json: Value, path: &Path) -> Result<Case, String> {
        let mut case: Case =
            serde_json::from_value(json).map_err(|e| format!("{}: {e}", path.display()))?;
        case.path = path.to_owned();
        Ok(case)
    }

    /// The definition text to create the state machine with.
    pub fn definition_text(&self) -> String {
        match (&self.definition_string, &self.definition) {
            (Some(text), _) => text.clone(),
            (None, Value::String(text)) => text.clone(),
            (None, json) => json.to_string(),
        }
    }

    /// The execution input as JSON (`{}` when omitted), or why it is not JSON.
    pub fn input_json(&self) -> Result<Value, String> {
        if self.input_omitted {
            return Ok(Value::Object(Default::default()));
        }
        match &self.input_string {
            Some(text) => serde_json::from_str(text).map_err(|e| format!("input is not JSON: {e}")),
            None => Ok(self.input.clone()),
        }
    }

    /// Whether the test stopped the execution while it ran.
    pub fn stops(&self) -> bool {
        self.actions
            .iter()
            .any(|a| a.get("op").and_then(Value::as_str) == Some("StopExecution"))
    }
}

/// Loads every `*.json` case under `root` whose id or category contains `only`, sorted by
/// category then id.
pub fn load_cases(root: &Path, only: Option<&str>) -> Result<Vec<Case>, String> {
    let mut files = Vec::new();
    collect_json(root, &mut files)?;
    let mut cases = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let case = Case::from_json(json, &file)?;
        if let Some(only) = only
            && !case.id.contains(only)
            && !case.category.contains(only)
        {
            continue;
        }
        cases.push(case);
    }
    cases.sort_by(|a, b| (&a.category, &a.id).cmp(&(&b.category, &b.id)));
    Ok(cases)
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}
