//! Meta's WhatsApp Cloud API for Blazz: the Graph API client (`graph`),
//! Meta's errors and what Blazz does about each (`error`), webhook calls
//! (`webhook`), message bodies in Meta's shape (`outbound`, `template`),
//! per-number throughput (`pacer`), and `CloudProvider`, which puts Cloud
//! API numbers behind the provider boundary. With the `fake` feature,
//! `fake::FakeGraph` serves the same contract on a local port for tests.

pub mod config;
mod connection;
pub mod error;
pub mod graph;
pub mod outbound;
pub mod pacer;
pub mod provider;
pub mod template;
pub mod webhook;

#[cfg(any(test, feature = "fake"))]
pub mod fake;

#[cfg(test)]
mod tests;

pub use config::{CloudCredentials, CloudOptions, GraphConfig};
pub use connection::CloudConnection;
pub use error::{code_of, CloudError, ErrorAction, GraphError};
pub use graph::{Graph, MediaInfo, PhoneNumberInfo, SendResponse};
pub use outbound::{
    Button, CloudBody, ListRow, ListSection, MediaKind, MediaRef, SendBody, SendRequest,
};
pub use provider::{receipt_event, CloudProvider};
pub use template::{
    ButtonParam, CreatedTemplate, HeaderParam, Param, ParamValue, Template, TemplateDraft,
    TemplateMessage,
};
pub use webhook::{Change, MessageChange, StatusChange, TemplateStatusChange};
