//! The step function itself (work in progress).
use std::sync::Arc;

use baton_asl::StateMachine;
use serde_json::Value;

use crate::{Entropy, Event, ExecutionInfo, Millis, Status, TaskId, Transition};

#[derive(Debug, Clone)]
pub(crate) struct Engine {
    status: Status,
}

impl Engine {
    pub(crate) fn start(
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        now: Millis,
        entropy: Entropy,
    ) -> (Engine, Transition) {
        let _ = (machine, info, input, now, entropy);
        todo!()
    }
    pub(crate) fn handle(&mut self, event: Event, now: Millis, entropy: Entropy) -> Transition {
        let _ = (event, now, entropy);
        todo!()
    }
    pub(crate) fn status(&self) -> &Status {
        &self.status
    }
    pub(crate) fn output(&self) -> Option<&Value> {
        None
    }
    pub(crate) fn error(&self) -> Option<(Option<&str>, Option<&str>)> {
        None
    }
    pub(crate) fn open_tasks(&self) -> Vec<TaskId> {
        Vec::new()
    }
}
