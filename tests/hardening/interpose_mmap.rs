// The exported `mmap` and `mmap64` both interposers define (the fakexen
// shim, tests/fakexen/src/lib.rs, and tests/hardening_mmap.rs): the libc
// crate binds `mmap` to glibc's `mmap64` symbol, so both names forward to
// one function. Brought in with include!, then `interpose_mmap!(f)`, where
// `f` is an `unsafe fn(addr, len, prot, flags, fd, off) -> *mut c_void`
// with mmap(2)'s contract.
macro_rules! interpose_mmap {
    ($f:path) => {
        interpose_mmap!(@one $f, mmap);
        interpose_mmap!(@one $f, mmap64);
    };
    (@one $f:path, $name:ident) => {
        /// # Safety
        /// As mmap(2) (off_t is 64-bit here: mmap64 is the same call).
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(
            addr: *mut ::core::ffi::c_void,
            len: usize,
            prot: ::core::ffi::c_int,
            flags: ::core::ffi::c_int,
            fd: ::core::ffi::c_int,
            off: libc::off_t,
        ) -> *mut ::core::ffi::c_void {
            // SAFETY: the caller's contract is mmap's, which is $f's.
            unsafe { $f(addr, len, prot, flags, fd, off) }
        }
    };
}
