//! loglake's jobs as library functions; the binaries only parse flags and call them.
//!
//! Today: [`upload_raw`], the "copy the logs to the lake" step (`lake upload`). The daily and
//! hourly ETL jobs arrive with their issues.

mod upload;

pub use upload::{upload_raw, PipelineError, UploadAction, UploadResult};
