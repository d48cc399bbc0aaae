//! The control plane's memory settings, shared by `portcullis` and `bench-control-plane`
//! (which declare mimalloc as their global allocator).

/// mimalloc options by their place in `mi_option_e` (the same in mimalloc 2.x and 3.x;
/// `libmimalloc-sys` names only some of them).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps resident only what is in use: arenas are committed as they fill (committed up front
/// they cost over 20 MiB idle), and freed memory goes back to the system after 10 ms rather
/// than mimalloc 3's default second, since a reload's translation is large and short-lived.
/// Call it first thing in `main`, in a binary whose global allocator is mimalloc.
pub fn keep_resident_memory_low() {
    // SAFETY: sets integer options, which mimalloc reads atomically; they only decide when
    // pages are committed and given back.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10);
    }
}
