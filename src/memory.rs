//! Keeping the operator's resident memory close to what it actually uses (glibc only; on other
//! platforms these do nothing).
//!
//! - [`configure_allocator`] fixes glibc's mmap threshold at 128 KiB. By default glibc raises
//!   the threshold to the size of the largest block it has freed (up to 32 MiB): after the
//!   first large list response, every later one (watch pages, cloud lists, HTTP buffers) is
//!   carved out of the heap, and the small long-lived objects allocated between them pin those
//!   heap pages after the burst. With the threshold fixed, large short-lived blocks are mapped
//!   and unmapped on their own (the effect on RSS is measured in docs/PERFORMANCE.md).
//! - [`release_free_memory`] hands free heap pages back to the OS (`malloc_trim(0)`): glibc
//!   keeps pages freed in the middle of its heaps resident. The controllers call it after
//!   dropping caches; it takes a few milliseconds on a heap of tens of MiB.

/// The size from which allocations get their own mapping.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Sets glibc's mmap and trim thresholds (see the module documentation). Call it first thing
/// in `main`, before other threads start.
pub fn configure_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters under its own lock; it takes no
    // pointers. Setting either threshold also turns off glibc's dynamic adjustment of both.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Returns free heap pages to the operating system (glibc `malloc_trim(0)`).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists under its locks; it takes
    // no pointers from us and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
