//! The tasks the framework trains and evaluates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::HeadsError;

/// A task on top of the fused representation (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// Caption ↔ item retrieval: ITC candidates, ITM re-ranking.
    Retrieval,
    /// Caption generation with a transformer decoder over the fused query tokens.
    Captioning,
    /// Answer classification over an answer vocabulary.
    Vqa,
}

impl TaskKind {
    /// Every task, in a stable order.
    pub const ALL: [TaskKind; 3] = [TaskKind::Retrieval, TaskKind::Captioning, TaskKind::Vqa];

    /// The name used on the command line, in configs and in reports.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Retrieval => "retrieval",
            TaskKind::Captioning => "captioning",
            TaskKind::Vqa => "vqa",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TaskKind {
    type Err = HeadsError;

    /// Parses a task name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        TaskKind::ALL
            .into_iter()
            .find(|t| t.name() == wanted)
            .ok_or_else(|| HeadsError::UnknownTask {
                name: s.to_string(),
                known: TaskKind::ALL.map(TaskKind::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for t in TaskKind::ALL {
            assert_eq!(t.name().parse::<TaskKind>().unwrap(), t);
            assert_eq!(t.to_string(), t.name());
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.name()));
            assert_eq!(serde_json::from_str::<TaskKind>(&json).unwrap(), t);
        }
        assert_eq!(" VQA ".parse::<TaskKind>().unwrap(), TaskKind::Vqa);
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = "caption".parse::<TaskKind>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`caption`"), "{msg}");
        assert!(msg.contains("retrieval, captioning, vqa"), "{msg}");
    }
}
