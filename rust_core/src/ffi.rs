//! The C ABI plumbing: error codes, the per-thread last error, the panic landing pad and
//! byte buffers handed to the caller.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub type RcStatus = i32;

/// Error codes of the C ABI. Keep in step with `include/rust_core.h` and `server/core.py`.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Ok = 0,
    Panic = 1,
    InvalidArgument = 2,
    BeatmapParse = 3,
    TooLarge = 4,
    SuspiciousBeatmap = 5,
    Conversion = 6,
    MsgpackDecode = 7,
    MsgpackEncode = 8,
    Frame = 9,
}

/// An error an export reports: a code for the caller to branch on, a message for people.
#[derive(Debug, Clone)]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
}

impl CoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for CoreError {}

thread_local! {
    static LAST_ERROR: RefCell<Option<CoreError>> = const { RefCell::new(None) };
}

fn set_last_error(err: CoreError) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(err));
}

fn clear_last_error() {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = None);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Run an export's body: a returned error or a panic becomes a status code, with the
/// message kept as this thread's last error. Nothing unwinds across the C boundary.
pub fn landing_pad<F>(body: F) -> RcStatus
where
    F: FnOnce() -> Result<(), CoreError>,
{
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ErrorCode::Ok as RcStatus,
        Ok(Err(err)) => {
            let code = err.code as RcStatus;
            set_last_error(err);
            code
        }
        Err(payload) => {
            set_last_error(CoreError::new(ErrorCode::Panic, panic_message(payload.as_ref())));
            ErrorCode::Panic as RcStatus
        }
    }
}

/// A byte buffer owned by the core until the caller hands it back to `rc_buf_free`.
#[repr(C)]
pub struct RcBuf {
    pub data: *mut u8,
    pub len: usize,
    pub cap: usize,
}

impl RcBuf {
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        Self { data: bytes.as_mut_ptr(), len: bytes.len(), cap: bytes.capacity() }
    }
}

/// Store `bytes` in the caller's out-pointer.
///
/// # Safety
/// `out` must be null or point to a writable `RcBuf`.
pub unsafe fn write_buf(out: *mut RcBuf, bytes: Vec<u8>) -> Result<(), CoreError> {
    if out.is_null() {
        return Err(CoreError::invalid("null output buffer"));
    }
    out.write(RcBuf::from_vec(bytes));
    Ok(())
}

/// Borrow (pointer, length) input as a slice; a null pointer is only valid with length 0.
///
/// # Safety
/// `data` must point to `len` readable bytes that outlive the returned slice.
pub unsafe fn input_slice<'a>(data: *const u8, len: usize) -> Result<&'a [u8], CoreError> {
    if data.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(CoreError::invalid("null input pointer with non-zero length"));
    }
    Ok(std::slice::from_raw_parts(data, len))
}

/// # Safety
/// `buf` must be null or an `RcBuf` the core returned and that was not freed before.
#[no_mangle]
pub unsafe extern "C" fn rc_buf_free(buf: *mut RcBuf) {
    if buf.is_null() {
        return;
    }
    let b = &mut *buf;
    if !b.data.is_null() {
        drop(Vec::from_raw_parts(b.data, b.len, b.cap));
    }
    b.data = std::ptr::null_mut();
    b.len = 0;
    b.cap = 0;
}

/// # Safety
/// `out` must point to a writable `RcBuf`.
#[no_mangle]
pub unsafe extern "C" fn rc_last_error_message(out: *mut RcBuf) -> RcStatus {
    let message = LAST_ERROR.with(|slot| slot.borrow().as_ref().map(|e| e.message.clone()));
    match write_buf(out, message.unwrap_or_default().into_bytes()) {
        Ok(()) => ErrorCode::Ok as RcStatus,
        Err(err) => err.code as RcStatus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_status_and_message() {
        let status = landing_pad(|| -> Result<(), CoreError> { panic!("boom") });
        assert_eq!(status, ErrorCode::Panic as i32);
        let msg = LAST_ERROR.with(|s| s.borrow().as_ref().unwrap().message.clone());
        assert_eq!(msg, "boom");
    }

    #[test]
    fn ok_clears_previous_error() {
        landing_pad(|| Err(CoreError::invalid("x")));
        assert_eq!(landing_pad(|| Ok(())), 0);
        assert!(LAST_ERROR.with(|s| s.borrow().is_none()));
    }
}
