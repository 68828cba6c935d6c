//! Streaming samples from shards with bounded memory: a reader thread goes through the
//! shards one at a time, member by member, and sends each sample through a queue of
//! `queue` samples; [`WdsStream`] is the receiving iterator, optionally through a shuffle
//! buffer (webdataset's `shuffle(n)`: keep `n` samples, emit a random one, refill). Memory
//! is at most `queue + shuffle + 1` decoded samples, whatever the size of the dataset.
//! Dropping the stream stops the reader at its next sample.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{WdsOptions, read_shard};
use crate::{DataError, Instance};

/// How a stream reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOptions {
    /// The reader's options (size, split, skip_bad).
    pub read: WdsOptions,
    /// Samples decoded ahead of the consumer.
    pub queue: usize,
    /// Shuffle buffer size (0: shard order).
    pub shuffle: usize,
    /// Seed of the shuffle buffer's draws.
    pub seed: u64,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            read: WdsOptions::default(),
            queue: 64,
            shuffle: 0,
            seed: 0,
        }
    }
}

/// An iterator over the samples of some shards, read on a background thread.
pub struct WdsStream {
    rx: Option<Receiver<Result<Instance, DataError>>>,
    reader: Option<JoinHandle<()>>,
    buffer: Vec<Instance>,
    shuffle: usize,
    rng: ChaCha8Rng,
    skipped: Vec<DataError>,
    skip_bad: bool,
}

impl WdsStream {
    /// Starts reading `shards` in the given order (see [`super::shards::epoch_order`] and
    /// [`super::shards::for_rank`]).
    pub fn new(shards: Vec<PathBuf>, opts: StreamOptions) -> Self {
        let (tx, rx) = sync_channel(opts.queue.max(1));
        let read = opts.read.clone();
        let reader = std::thread::spawn(move || {
            for shard in &shards {
                let mut open = true;
                let res = read_shard(shard, &read, &mut |r| {
                    open = tx.send(r).is_ok();
                    open
                });
                if !open {
                    return;
                }
                if let Err(e) = res
                    && tx.send(Err(e)).is_err()
                {
                    return;
                }
            }
        });
        Self {
            rx: Some(rx),
            reader: Some(reader),
            buffer: Vec::with_capacity(opts.shuffle),
            shuffle: opts.shuffle,
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            skipped: Vec::new(),
            skip_bad: opts.read.skip_bad,
        }
    }

    /// The bad samples and shards skipped so far (with `skip_bad`).
    pub fn skipped(&self) -> &[DataError] {
        &self.skipped
    }

    /// The next sample from the reader, bad ones skipped (and kept) with `skip_bad`.
    fn pull(&mut self) -> Option<Result<Instance, DataError>> {
        loop {
            match self.rx.as_ref()?.recv().ok()? {
                Err(e) if self.skip_bad => self.skipped.push(e),
                other => return Some(other),
            }
        }
    }
}

impl Iterator for WdsStream {
    type Item = Result<Instance, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.shuffle == 0 {
            return self.pull();
        }
        while self.buffer.len() < self.shuffle {
            match self.pull() {
                Some(Ok(inst)) => self.buffer.push(inst),
                Some(Err(e)) => return Some(Err(e)),
                None => break,
            }
        }
        if self.buffer.is_empty() {
            return None;
        }
        let k = self.rng.random_range(0..self.buffer.len());
        Some(Ok(self.buffer.swap_remove(k)))
    }
}

impl Drop for WdsStream {
    fn drop(&mut self) {
        // Closing the queue makes the reader's next send fail, which ends it.
        self.rx.take();
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}
