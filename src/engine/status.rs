//! What a connector is doing, for the REST API: its state, the failure that stopped it, its
//! partitions, and the switch that pauses it.

use std::sync::RwLock;

use tokio::sync::watch;

use super::offsets::TopicPartition;

/// Kafka Connect's connector and task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Connecting to Cassandra, validating, joining the group.
    Unassigned,
    Running,
    Paused,
    Failed,
    /// Stopped by request.
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Stopped => "STOPPED",
        }
    }
}

/// A partition held at a record that failed without tolerance (`ignoreErrors=None`,
/// `errors.tolerance=none`): nothing at or after `offset` is committed until the connector is
/// resumed or restarted; the other partitions go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub tp: TopicPartition,
    pub offset: i64,
    pub reason: String,
}

/// `standalone --until-end`: records written of those to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainProgress {
    pub written: u64,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub state: State,
    /// Why it failed (the error that stopped it).
    pub trace: Option<String>,
    pub assigned: Vec<TopicPartition>,
    pub records: u64,
    /// Partitions held at a failing record, by partition.
    pub held: Vec<Held>,
    pub drain: Option<DrainProgress>,
}

pub struct ConnectorStatus {
    inner: RwLock<Snapshot>,
    paused: watch::Sender<bool>,
}

impl Default for ConnectorStatus {
    fn default() -> Self {
        ConnectorStatus {
            inner: RwLock::new(Snapshot {
                state: State::Unassigned,
                trace: None,
                assigned: Vec::new(),
                records: 0,
                held: Vec::new(),
                drain: None,
            }),
            paused: watch::Sender::new(false),
        }
    }
}

impl ConnectorStatus {
    pub fn snapshot(&self) -> Snapshot {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut self.inner.write().unwrap_or_else(|e| e.into_inner()));
    }

    pub fn set_state(&self, state: State) {
        self.update(|s| s.state = state);
    }

    pub fn fail(&self, trace: String) {
        self.update(|s| {
            s.state = State::Failed;
            s.trace = Some(trace);
        });
    }

    /// Asks the connector to stop or resume fetching; it keeps its partitions meanwhile.
    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    pub fn subscribe_paused(&self) -> watch::Receiver<bool> {
        self.paused.subscribe()
    }
}
