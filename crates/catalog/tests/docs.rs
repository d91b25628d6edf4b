//! docs/data-model.md is generated from the table definitions and must match them.

#[test]
fn data_model_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-model.md");
    let want = loglake_catalog::data_model_markdown();
    if std::env::var_os("LOGLAKE_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/data-model.md is stale: run `LOGLAKE_BLESS=1 cargo test -p loglake-catalog --test docs`"
    );
}
