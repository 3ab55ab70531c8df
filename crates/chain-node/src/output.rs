//! Printing results: one JSON object per line with `--json`, short readable text otherwise.

use std::io::Write;

use serde_json::Value;

/// Writes results to stdout in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    /// `json`: one JSON object per line.
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Prints `value` (JSON mode) or `text` (text mode), flushing at once so that programs
    /// reading our stdout line by line see it immediately.
    pub fn emit(&self, value: Value, text: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        let line = if self.json { value.to_string() } else { text() };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// Reports a failure: `{"error":"…"}` on stdout in JSON mode, and always one line on stderr.
    pub fn error(&self, message: &str) {
        let one_line = message.replace('\n', " ");
        if self.json {
            self.emit(serde_json::json!({ "error": one_line }), String::new);
        }
        eprintln!("error: {one_line}");
    }
}
