//! loglake's jobs as library functions; the binaries only parse flags and call them.
//!
//! Today: [`upload_raw`] (`lake upload`), [`run_hourly`] (`etl-hourly`), and the feature
//! extraction that turns parsed lines into curated rows ([`push_access_row`]). The daily ETL job
//! arrives with its issue.

mod daily;
mod features;
mod hourly;
mod upload;

pub use daily::{run_daily, DailyOptions, DailyReport, ObjectReport, Progress};
pub use features::{
    classify_agent, is_static, push_access_row, push_reject_row, referrer_host, Agent, Reason,
};
pub use hourly::{run_hourly, AggregateReport};
pub use upload::{upload_raw, PipelineError, UploadAction, UploadResult};
