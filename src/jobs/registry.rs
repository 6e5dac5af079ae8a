//! Maps stored job names to the code that runs them.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Job, JobError};
use crate::state::AppState;

type Handler =
    Arc<dyn Fn(AppState, &str) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    /// Every job kind Blazz ships.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        r.register::<super::builtin::Noop>();
        r.register::<crate::inbox::send::SendMessage>();
        r.register::<crate::webhooks::deliver::DeliverWebhooks>();
        r.register::<crate::cloud::webhook::ProcessMetaWebhook>();
        r
    }

    pub fn register<J: Job>(&mut self) -> &mut Self {
        let handler: Handler = Arc::new(
            |state: AppState, payload: &str| match serde_json::from_str::<J>(payload) {
                Ok(job) => Box::pin(job.run(state)),
                Err(e) => {
                    let msg = format!("unreadable {} payload: {e}", J::NAME);
                    Box::pin(async move { Err(JobError::Permanent(msg)) })
                }
            },
        );
        self.handlers.insert(J::NAME, handler);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Handler> {
        self.handlers.get(name)
    }
}
