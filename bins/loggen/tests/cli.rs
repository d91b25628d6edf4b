//! The `loggen` binary: flags, file names, determinism, errors.

use std::path::PathBuf;
use std::process::Command;

fn loggen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loggen"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("loggen-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn same_seed_same_bytes_on_stdout() {
    let run = || {
        let out =
            loggen().args(["-n", "500", "--seed", "7", "--start", "2020-05-31T00:00:00"]).output().unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), 500);
    let first = String::from_utf8_lossy(&a[..a.iter().position(|&c| c == b'\n').unwrap()]).into_owned();
    assert!(first.contains("[31/May/2020:00:"), "{first}");
    assert!(first.contains(" HTTP/1.0\" "), "{first}");
}

#[test]
fn files_are_named_like_the_original() {
    let dir = tmp("names");
    let status = loggen()
        .args(["-n", "10", "-o", "GZ", "-p", "web", "--files", "2", "--tz", "+0200,-0700", "--seed", "1"])
        .args(["--start", "2020-05-31", "-s", "0"])
        .arg("--out-dir")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    // local time of each file's first line: +0200 and -0700 around 2020-05-31T00:00Z
    assert!(names[0].starts_with("web_access_log_20200530-17"), "{names:?}");
    assert!(names[1].starts_with("web_access_log_20200531-02"), "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".log.gz")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn clf_lines_have_no_referer_or_agent() {
    let out = loggen().args(["-n", "3", "-l", "CLF", "--seed", "2"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert_eq!(line.matches('"').count(), 2, "{line}");
    }
}

#[test]
fn bad_arguments_fail_with_one_line_and_exit_2() {
    for args in
        [&["--bad-ratio", "2"][..], &["--tz", "+2500"], &["--start", "2020-02-30"], &["-n", "0", "-o", "LOG"]]
    {
        let out = loggen().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}
