//! Job kinds that belong to the queue itself.

use serde::{Deserialize, Serialize};

use super::{Job, JobError};
use crate::state::AppState;

/// Does nothing: used by `blazz bench queue` and to check a queue is alive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Noop {
    pub n: u64,
}

impl Job for Noop {
    const NAME: &'static str = "noop";

    async fn run(self, _state: AppState) -> Result<(), JobError> {
        Ok(())
    }
}
