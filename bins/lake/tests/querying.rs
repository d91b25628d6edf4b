//! docs/querying.md cannot rot: every runnable snippet (DuckDB, pandas/pyarrow, polars,
//! delta-rs, Spark SQL in PySpark local mode) runs against a lake built by the real jobs.

use std::process::Command;

use loglake_testkit::TempDir;

mod common;

#[test]
fn every_runnable_snippet_of_querying_md_runs() {
    let dir = TempDir::new();
    common::lake(&dir.0);
    let root = loglake_testkit::workspace_root();
    let python = root.join(".venv/bin/python");
    assert!(python.exists(), "needs .venv: run `bash scripts/test-env.sh` (or scripts/test.sh)");
    let out = Command::new(python)
        .arg(root.join("scripts/run-doc-snippets.py"))
        .arg(root.join("docs/querying.md"))
        .arg(&dir.0)
        .arg("6")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("6 snippet(s) ran, 3 cloud-only not run"), "{text}");
}
