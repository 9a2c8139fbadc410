//! rust_core: the osu! server's native core behind a C ABI.
//!
//! `ffi` holds the plumbing every export uses (landing pad, last error, buffers); each area
//! adds its exports in its own module. The header `include/rust_core.h` is the contract.

pub mod ffi;
pub mod msgpack;
pub mod pp;

use ffi::{landing_pad, RcBuf, RcStatus};

/// Version string: this crate, plus the engines it embeds.
pub fn version_string() -> String {
    format!("rust_core {}; pp: {}", env!("CARGO_PKG_VERSION"), pp::ALGORITHM_VERSION)
}

/// # Safety
/// `out` must point to a writable `rc_buf`.
#[no_mangle]
pub unsafe extern "C" fn rc_core_version(out: *mut RcBuf) -> RcStatus {
    landing_pad(|| {
        ffi::write_buf(out, version_string().into_bytes())?;
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn rc_core_panic_for_test() -> RcStatus {
    landing_pad(|| -> Result<(), ffi::CoreError> {
        panic!("deliberate panic for the wrapper's tests")
    })
}
