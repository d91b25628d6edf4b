//! The deploy/ files stay true: the IAM policy is least-privilege for what the jobs do, and the
//! scheduler files only use flags `etl-daily` has.

use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(loglake_testkit::workspace_root().join(path)).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn etl_policy_writes_only_the_tables_and_reads_raw() {
    let policy: Value = serde_json::from_str(&read("deploy/iam/loglake-etl-policy.json")).unwrap();
    let mut writable = Vec::new();
    let mut readable = Vec::new();
    for st in policy["Statement"].as_array().unwrap() {
        assert_eq!(st["Effect"], "Allow");
        let actions = strings(&st["Action"]);
        let resources = strings(&st["Resource"]);
        assert!(
            actions.iter().all(|a| a.starts_with("s3:") && !a.contains('*')),
            "no wildcards: {actions:?}"
        );
        assert!(resources.iter().all(|r| r.starts_with("arn:aws:s3:::my-logs-bucket")), "{resources:?}");
        let writes = actions.iter().any(|a| a.starts_with("s3:Put") || a.starts_with("s3:Delete"));
        for r in &resources {
            if writes {
                writable.push(r.clone());
            }
            if actions.iter().any(|a| a == "s3:GetObject") {
                readable.push(r.clone());
            }
        }
    }
    writable.sort();
    assert_eq!(
        writable,
        ["arn:aws:s3:::my-logs-bucket/lake/agg/*", "arn:aws:s3:::my-logs-bucket/lake/curated/*"]
    );
    assert!(readable.iter().any(|r| r.ends_with("/lake/raw/*")), "{readable:?}");
}

#[test]
fn scheduler_files_use_real_flags() {
    let help = loglake_testkit::cli_command(env!("CARGO_BIN_EXE_etl-daily")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for file in ["deploy/systemd/loglake-run-day", "deploy/airflow/loglake_dag.py"] {
        let text = read(file);
        let mut checked = 0;
        for line in text.lines().filter(|l| l.contains("etl-daily") || l.contains("_etl_daily(")) {
            for flag in line
                .split(|c: char| c == '"' || c == '\'' || c.is_whitespace())
                .filter(|w| w.starts_with("--"))
            {
                let flag = flag.trim_end_matches([',', ')', '`', '.', ';']);
                assert!(help.contains(flag), "{file} uses {flag}, which etl-daily --help does not list");
                checked += 1;
            }
        }
        assert!(checked >= 2, "{file}: no etl-daily flags found ({checked})");
    }
}
