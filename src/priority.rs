//! Background work below request handling: bcrypt threads, and the ffmpeg processes started from
//! such a thread (a child inherits its thread's scheduling policy).

/// Puts the calling thread below every other: on Linux `SCHED_IDLE` (it runs only on a core nothing
/// else wants), elsewhere the lowest priority of the normal policy.
pub fn lowest_priority() {
    #[cfg(target_os = "linux")]
    let lowered = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        thread_priority::ThreadPriority::Min,
        thread_priority::ThreadSchedulePolicy::Normal(thread_priority::NormalThreadSchedulePolicy::Idle),
    );
    #[cfg(not(target_os = "linux"))]
    let lowered = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min);
    if let Err(e) = lowered {
        tracing::debug!(error = ?e, "could not lower the thread's priority");
    }
}
