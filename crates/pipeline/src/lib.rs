//! loglake's jobs as library functions; the binaries only parse flags and call them.
//!
//! [`upload_raw`] (`lake upload`), [`run_daily`] (`etl-daily`), [`run_hourly`] (`etl-hourly`),
//! and the feature extraction that turns parsed lines into curated rows ([`push_access_row`],
//! user-agent families from uap-core in [`AgentCache`]).

mod agent;
mod anonymize;
mod daily;
mod features;
mod hourly;
mod upload;

pub use agent::{classify_agent, Agent, AgentCache};
pub use anonymize::IpAnonymizer;
pub use daily::{run_daily, DailyOptions, DailyReport, ObjectReport, Progress, Shard};
pub use features::{is_static, push_access_row, push_reject_row, referrer_host, Features, Reason};
pub use hourly::{run_hourly, AggregateReport};
pub use upload::{upload_raw, PipelineError, UploadAction, UploadResult};
