//! Which offset of each partition may be committed.
//!
//! Records of one partition are written concurrently and finish in any order. The committable
//! position of a partition is the offset of its oldest unfinished record, or one past the newest
//! record seen when nothing is unfinished: an offset is committed only once every earlier record
//! of that partition is written (or dead-lettered / skipped by policy).
//!
//! Every record passes through here a few times (received, its units settled, each unit done), so
//! the maps hash with foldhash and a topic name is shared (`Arc<str>`), not copied per record.
//!
//! A partition's state is forgotten when the partition is revoked, and begins anew (a new epoch)
//! if it is assigned again. Records of an earlier epoch may still be in the pipeline then (being
//! written, or in a partial batch); whatever happens to them no longer counts: a record of the new
//! epoch at the same offset is finished only by its own writes.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A map keyed by partition, hashed quickly (keys are not attacker-chosen: topics come from the
/// configuration and the broker).
pub type PartitionMap<V> = HashMap<TopicPartition, V, foldhash::fast::RandomState>;

/// A Kafka topic-partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        TopicPartition { topic: topic.into(), partition }
    }
}

/// Units of work a pending record still waits for; `LEFT` = it stays unfinished for good.
type Units = u32;
const LEFT: Units = Units::MAX;

#[derive(Debug, Default)]
struct PartitionState {
    /// Which registration of the partition this is (see [`RecordId::epoch`]).
    epoch: u32,
    /// Unfinished records, by offset, with their remaining units (0 until settled).
    pending: BTreeMap<i64, Units>,
    /// One past the highest offset registered.
    next: Option<i64>,
    /// The position last handed out for commit.
    committed: Option<i64>,
}

impl PartitionState {
    fn position(&self) -> Option<i64> {
        self.pending.first_key_value().map(|(o, _)| *o).or(self.next)
    }
}

#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: PartitionMap<PartitionState>,
    /// The epoch the next new partition state gets.
    next_epoch: u32,
}

impl OffsetTracker {
    /// A record was received and its work started; returns the partition's epoch.
    pub fn register(&mut self, tp: &TopicPartition, offset: i64) -> u32 {
        let state = match self.partitions.get_mut(tp) {
            Some(s) => s,
            None => {
                let epoch = self.next_epoch;
                self.next_epoch = self.next_epoch.wrapping_add(1);
                self.partitions.entry(tp.clone()).or_insert(PartitionState { epoch, ..Default::default() })
            }
        };
        state.pending.insert(offset, 0);
        state.next = Some(state.next.map_or(offset + 1, |n| n.max(offset + 1)));
        state.epoch
    }

    /// The record's work is finished (written, or skipped by policy).
    pub fn complete(&mut self, tp: &TopicPartition, offset: i64) {
        if let Some(state) = self.partitions.get_mut(tp) {
            state.pending.remove(&offset);
        }
    }

    /// The record's pending units, if it is of the partition's current epoch.
    fn pending_mut(&mut self, record: &RecordId) -> Option<&mut Units> {
        let state = self.partitions.get_mut(&record.tp)?;
        if state.epoch != record.epoch {
            return None;
        }
        state.pending.get_mut(&record.offset)
    }

    /// Whether the record still counts: its partition is assigned and has not been revoked since
    /// the record was received.
    pub fn is_current(&self, record: &RecordId) -> bool {
        self.partitions.get(&record.tp).is_some_and(|s| s.epoch == record.epoch)
    }

    /// Forgets a partition (revoked): nothing more is committed for it from here.
    pub fn forget(&mut self, tp: &TopicPartition) {
        self.partitions.remove(tp);
    }

    /// Positions that moved since the last call, to be committed now. A position is the next
    /// offset to consume, as Kafka expects in a commit.
    pub fn take_commits(&mut self) -> Vec<(TopicPartition, i64)> {
        let mut out = Vec::new();
        for (tp, state) in &mut self.partitions {
            if let Some(pos) = state.position()
                && state.committed != Some(pos)
            {
                state.committed = Some(pos);
                out.push((tp.clone(), pos));
            }
        }
        out.sort();
        out
    }

    /// The committable position of one partition.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions.get(tp).and_then(PartitionState::position)
    }

    /// Records started and not yet finished, over all partitions.
    pub fn in_flight(&self) -> usize {
        self.partitions.values().map(|s| s.pending.len()).sum()
    }
}

/// A record, as the offset tracker and the write units know it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordId {
    pub tp: TopicPartition,
    pub offset: i64,
    /// The registration of its partition it belongs to, set by [`Progress::register`].
    pub epoch: u32,
}

/// What is finished, shared by the pipeline loop (which starts records), the write tasks (which
/// finish them) and the rebalance callback (which waits for the writes of revoked partitions
/// before committing them).
#[derive(Debug, Default)]
pub struct Progress {
    /// Received records and the units of work each still waits for; a record is finished when
    /// its last unit is.
    tracker: OffsetTracker,
    /// Rows and dead letters being written, per partition.
    writing: PartitionMap<usize>,
}

/// [`Progress`] behind a lock; every critical section is a few map operations, never I/O.
#[derive(Debug, Default, Clone)]
pub struct SharedProgress(Arc<Mutex<Progress>>);

impl SharedProgress {
    pub fn lock(&self) -> MutexGuard<'_, Progress> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Progress {
    /// A record was received and its work started: it joins its partition's current epoch.
    pub fn register(&mut self, record: &mut RecordId) {
        record.epoch = self.tracker.register(&record.tp, record.offset);
    }

    /// How many units of work a record waits for; none means it is finished now.
    pub fn settle(&mut self, record: RecordId, units: usize) {
        if units == 0 {
            if self.tracker.is_current(&record) {
                self.tracker.complete(&record.tp, record.offset);
            }
        } else if let Some(n) = self.tracker.pending_mut(&record)
            && *n != LEFT
        {
            *n = n.saturating_add(Units::try_from(units).unwrap_or(LEFT - 1)).min(LEFT - 1);
        }
    }

    /// One unit of a record is finished; the record is when its last unit is.
    pub fn unit_done(&mut self, record: &RecordId) {
        match self.tracker.pending_mut(record) {
            Some(n) if *n == 1 => self.tracker.complete(&record.tp, record.offset),
            Some(n) if *n > 1 && *n != LEFT => *n -= 1,
            // Not settled, left unfinished, or its partition was revoked (since).
            _ => {}
        }
    }

    /// The record stays unfinished for good (held or abandoned): its partition is not committed
    /// past it.
    pub fn leave_unfinished(&mut self, record: &RecordId) {
        if let Some(n) = self.tracker.pending_mut(record) {
            *n = LEFT;
        }
    }

    pub fn writing_started(&mut self, tp: &TopicPartition) {
        match self.writing.get_mut(tp) {
            Some(n) => *n += 1,
            None => {
                self.writing.insert(tp.clone(), 1);
            }
        }
    }

    pub fn writing_finished(&mut self, tp: &TopicPartition) {
        if let Some(n) = self.writing.get_mut(tp) {
            *n -= 1;
            if *n == 0 {
                self.writing.remove(tp);
            }
        }
    }

    /// Rows and dead letters of the partition still being written.
    pub fn writing(&self, tp: &TopicPartition) -> usize {
        self.writing.get(tp).copied().unwrap_or(0)
    }

    /// Forgets revoked partitions: nothing more is committed for them from here. Writes still
    /// running for them finish unobserved.
    pub fn forget(&mut self, tps: &[TopicPartition]) {
        for tp in tps {
            self.tracker.forget(tp);
        }
    }

    pub fn tracker(&self) -> &OffsetTracker {
        &self.tracker
    }

    pub fn tracker_mut(&mut self) -> &mut OffsetTracker {
        &mut self.tracker
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn advances_only_over_finished_prefix() {
        let mut t = OffsetTracker::default();
        for o in 10..15 {
            t.register(&tp(0), o);
        }
        assert_eq!(t.position(&tp(0)), Some(10));
        t.complete(&tp(0), 12);
        t.complete(&tp(0), 11);
        assert_eq!(t.position(&tp(0)), Some(10));
        t.complete(&tp(0), 10);
        assert_eq!(t.position(&tp(0)), Some(13));
        t.complete(&tp(0), 13);
        t.complete(&tp(0), 14);
        assert_eq!(t.position(&tp(0)), Some(15));
        assert_eq!(t.take_commits(), vec![(tp(0), 15)]);
        assert_eq!(t.take_commits(), vec![]);
    }

    #[test]
    fn partitions_are_independent_and_forgettable() {
        let mut t = OffsetTracker::default();
        t.register(&tp(0), 0);
        t.register(&tp(1), 5);
        t.complete(&tp(1), 5);
        assert_eq!(t.take_commits(), vec![(tp(0), 0), (tp(1), 6)]);
        t.forget(&tp(0));
        assert_eq!(t.position(&tp(0)), None);
        assert_eq!(t.in_flight(), 0);
    }

    fn registered(p: &mut Progress, part: i32, offset: i64) -> RecordId {
        let mut r = RecordId { tp: tp(part), offset, epoch: u32::MAX };
        p.register(&mut r);
        r
    }

    #[test]
    fn a_record_finishes_with_its_last_unit() {
        let mut p = Progress::default();
        let r: Vec<RecordId> = (0..3).map(|o| registered(&mut p, 0, o)).collect();
        p.settle(r[0].clone(), 2);
        p.settle(r[1].clone(), 0);
        p.settle(r[2].clone(), 1);
        p.unit_done(&r[2]);
        p.unit_done(&r[0]);
        assert_eq!(p.tracker().position(&tp(0)), Some(0), "offset 0 still has a unit running");
        p.unit_done(&r[0]);
        assert_eq!(p.tracker().position(&tp(0)), Some(3));
    }

    #[test]
    fn an_unfinished_record_holds_its_partition_and_forget_drops_it() {
        let mut p = Progress::default();
        let r7 = registered(&mut p, 0, 7);
        let r8 = registered(&mut p, 0, 8);
        p.settle(r7.clone(), 1);
        p.settle(r8.clone(), 1);
        p.leave_unfinished(&r7);
        p.unit_done(&r7);
        p.unit_done(&r8);
        assert_eq!(p.tracker().position(&tp(0)), Some(7));
        p.writing_started(&tp(0));
        p.writing_started(&tp(0));
        p.writing_finished(&tp(0));
        assert_eq!(p.writing(&tp(0)), 1);
        p.forget(&[tp(0)]);
        assert_eq!(p.tracker().position(&tp(0)), None);
        p.writing_finished(&tp(0));
        p.writing_finished(&tp(0));
        assert_eq!(p.writing(&tp(0)), 0, "a count never goes below zero");
    }

    /// A partition revoked and assigned again starts a new epoch: the writes of the records
    /// received before (still running, or kept in a partial batch) finish nothing of the new one.
    #[test]
    fn records_of_an_earlier_assignment_finish_nothing_after_a_reassignment() {
        let mut p = Progress::default();
        // Offset 5 feeds two tables.
        let old = registered(&mut p, 0, 5);
        p.settle(old.clone(), 2);
        p.forget(&[tp(0)]);
        assert!(!p.tracker().is_current(&old));
        let new = registered(&mut p, 0, 5);
        assert_ne!(new.epoch, old.epoch);
        p.settle(new.clone(), 2);
        // The old row of table A lands, and so does the new one; table B's new row is not written.
        p.unit_done(&old);
        p.unit_done(&new);
        assert_eq!(p.tracker().position(&tp(0)), Some(5), "offset 5 still waits for its second row");
        p.leave_unfinished(&old);
        p.settle(old.clone(), 0);
        assert_eq!(p.tracker().position(&tp(0)), Some(5), "nothing of an earlier epoch counts");
        p.unit_done(&new);
        assert_eq!(p.tracker().position(&tp(0)), Some(6));
        assert!(p.tracker().is_current(&new));
    }

    proptest! {
        /// Random out-of-order completions never move the position past an unfinished record,
        /// and once everything is finished the position is one past the last offset.
        #[test]
        fn never_passes_an_unfinished_record(n in 1usize..60, order in proptest::collection::vec(any::<prop::sample::Index>(), 1..60)) {
            let mut t = OffsetTracker::default();
            let base = 100i64;
            for o in 0..n as i64 { t.register(&tp(0), base + o); }
            let mut unfinished: BTreeSet<i64> = (0..n as i64).map(|o| base + o).collect();
            for idx in order {
                if unfinished.is_empty() { break; }
                let pick = *unfinished.iter().nth(idx.index(unfinished.len())).unwrap();
                unfinished.remove(&pick);
                t.complete(&tp(0), pick);
                let pos = t.position(&tp(0)).unwrap();
                match unfinished.first() {
                    Some(&lowest) => prop_assert_eq!(pos, lowest),
                    None => prop_assert_eq!(pos, base + n as i64),
                }
                for &u in &unfinished { prop_assert!(pos <= u); }
            }
        }
    }
}
