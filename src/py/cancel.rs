//! Long engine work that Ctrl-C and SIGTERM can stop cleanly.
//!
//! Python runs signal handlers only on the main thread and only between bytecodes, so a call
//! that stays in Rust for minutes would ignore `kill` until it finished. [`run_interruptible`]
//! runs the work on a scoped thread and, every `TICK`, takes the GIL on the calling thread to run
//! pending signal handlers (`Python::check_signals`) and the caller's `tick` (progress output).
//! When either raises, the work's cancel flag is set and the call waits for the engine to clean
//! up (temp files removed, transactions rolled back) before the Python exception propagates.
//! The work itself never touches Python.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::prelude::*;

const TICK: Duration = Duration::from_millis(100);

/// Runs `work(cancel)` off the GIL; returns its result, or the first error raised by a signal
/// handler or by `tick` (after the work has seen the cancel flag and returned).
pub fn run_interruptible<T, W, K>(py: Python<'_>, work: W, mut tick: K) -> PyResult<T>
where
    T: Send,
    W: FnOnce(&AtomicBool) -> T + Send,
    K: FnMut(Python<'_>) -> PyResult<()>,
{
    let cancel = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| work(&cancel));
        let mut raised: Option<PyErr> = None;
        loop {
            let finished = py.detach(|| {
                let deadline = std::time::Instant::now() + TICK;
                while !handle.is_finished() && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                handle.is_finished()
            });
            if finished {
                break;
            }
            if raised.is_none() {
                if let Err(e) = py.check_signals().and_then(|()| tick(py)) {
                    cancel.store(true, Ordering::SeqCst);
                    raised = Some(e);
                }
            }
        }
        let result = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match raised {
            Some(e) => Err(e),
            None => {
                tick(py)?;
                Ok(result)
            }
        }
    })
}
