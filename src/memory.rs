//! Giving freed heap memory back to the operating system.
//!
//! glibc's allocator keeps pages freed in the middle of its heaps resident, so after a burst
//! (thousands of objects created at once: watch pages, list responses, queued Events) the
//! process stays at its peak RSS although the memory is free. `malloc_trim(0)` hands those
//! free pages back. The controllers call [`release_free_memory`] once a minute; it takes a few
//! milliseconds on a heap of tens of MiB. On other platforms it does nothing.

/// Returns free heap pages to the operating system (glibc `malloc_trim(0)`).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists under its locks; it takes
    // no pointers from us and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
