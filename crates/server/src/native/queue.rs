//! The native model's waiting line: `depth` jobs may wait beyond those the model can
//! start at once, and a request that is cancelled while it waits gives its place back
//! at once (its [`Place`] is dropped), so a crowd that hangs up does not keep others
//! out.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Jobs waiting for the model: at most `depth` beyond the ones it can start now.
pub struct Queue<T> {
    waiting: Mutex<Waiting<T>>,
    arrived: Condvar,
    depth: usize,
}

struct Waiting<T> {
    jobs: VecDeque<(u64, T)>,
    next: u64,
    /// Jobs the model could start now, as it last said.
    free: usize,
    /// No more jobs come: a blocked [`Queue::take`] returns.
    closed: bool,
}

/// A job's place in the queue; dropping it takes the job out if it still waits.
pub struct Place<T> {
    queue: Arc<Queue<T>>,
    id: u64,
}

impl<T> Queue<T> {
    /// An empty queue holding at most `depth` jobs.
    pub fn new(depth: usize) -> Arc<Self> {
        Arc::new(Queue {
            waiting: Mutex::new(Waiting {
                jobs: VecDeque::new(),
                next: 0,
                free: 0,
                closed: false,
            }),
            arrived: Condvar::new(),
            depth,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        self.waiting.lock().expect("queue lock")
    }

    /// Queue `job` at the back; the job back when the queue is full.
    pub fn push(self: &Arc<Self>, job: T) -> Result<Place<T>, T> {
        let mut waiting = self.lock();
        if waiting.closed || waiting.jobs.len() >= self.depth + waiting.free {
            return Err(job);
        }
        let id = waiting.next;
        waiting.next += 1;
        waiting.jobs.push_back((id, job));
        self.arrived.notify_one();
        Ok(Place {
            queue: self.clone(),
            id,
        })
    }

    /// Up to `free` waiting jobs, first come first; with `block`, waits for at least
    /// one (or the queue's closing). `free` is how many the model can start now: that
    /// many more may queue.
    pub fn take(&self, free: usize, block: bool) -> Vec<T> {
        let mut waiting = self.lock();
        waiting.free = free;
        while block && free > 0 && waiting.jobs.is_empty() && !waiting.closed {
            waiting = self.arrived.wait(waiting).expect("queue lock");
        }
        let n = free.min(waiting.jobs.len());
        waiting.free = free - n;
        waiting.jobs.drain(..n).map(|(_, job)| job).collect()
    }

    /// Refuse new jobs from now on and wake a blocked [`Queue::take`].
    pub fn close(&self) {
        let mut waiting = self.lock();
        waiting.closed = true;
        waiting.free = 0;
        self.arrived.notify_all();
    }

    /// Whether [`Queue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Jobs waiting now.
    pub fn waiting(&self) -> usize {
        self.lock().jobs.len()
    }
}

impl<T> Drop for Place<T> {
    fn drop(&mut self) {
        let mut waiting = self.queue.lock();
        waiting.jobs.retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::Queue;

    #[test]
    fn a_cancelled_job_gives_its_place_back_at_once() {
        let queue = Queue::new(2);
        let first = queue.push(1).ok().unwrap();
        let _second = queue.push(2).ok().unwrap();
        assert_eq!(queue.push(3).err(), Some(3), "full");
        drop(first);
        assert_eq!(queue.waiting(), 1);
        let _third = queue.push(3).ok().unwrap();
        assert_eq!(queue.take(5, false), [2, 3]);
        assert!(queue.take(5, false).is_empty());
    }

    #[test]
    fn room_to_start_is_room_to_queue() {
        let queue = Queue::new(0);
        assert_eq!(queue.push(1).err(), Some(1), "no room, none can start");
        assert!(queue.take(2, false).is_empty());
        let _a = queue.push(1).ok().unwrap();
        let _b = queue.push(2).ok().unwrap();
        assert_eq!(queue.push(3).err(), Some(3));
        assert_eq!(queue.take(1, false), [1]);
        assert_eq!(queue.push(3).err(), Some(3), "the model said it is full");
    }

    #[test]
    fn a_blocked_take_wakes_when_a_job_arrives() {
        let queue = Queue::new(0);
        let taker = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.take(1, true))
        };
        let place = loop {
            match queue.push(7) {
                Ok(place) => break place,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        };
        assert_eq!(taker.join().unwrap(), [7]);
        drop(place);
        assert_eq!(queue.waiting(), 0);
    }
}
