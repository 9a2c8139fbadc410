//! SignalR framing and the MessagePack-CSharp conventions lazer uses, behind the C ABI.
//!
//! - `framing`: VarInt length prefixes; a stateful splitter per connection.
//! - `envelope`: hub message envelopes parsed without decoding arguments; outgoing
//!   messages built around pre-encoded bytes; the spectator frame relay.
//! - `schema` + `transcode`: lazer's argument types, one declarative table used by both
//!   directions (see `schema.rs` for why the Python side sees plain msgpack maps).
//!
//! Exports are declared in `include/rust_core_msgpack.h`.

pub mod envelope;
pub mod framing;
#[cfg(test)]
mod multiplayer_tests;
pub mod reader;
pub mod schema;
pub mod transcode;
pub mod writer;

use crate::ffi::{input_slice, landing_pad, write_buf, CoreError, RcBuf, RcStatus};
use framing::FrameSplitter;

/// Opaque splitter handle for C (`rc_frame_splitter`).
pub struct RcFrameSplitter(FrameSplitter);

unsafe fn text<'a>(data: *const u8, len: usize, what: &str) -> Result<&'a str, CoreError> {
    std::str::from_utf8(input_slice(data, len)?).map_err(|_| CoreError::invalid(format!("{what} is not UTF-8")))
}

/// # Safety
/// `out` must point to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_splitter_new(max_message_len: usize, out: *mut *mut RcFrameSplitter) -> RcStatus {
    landing_pad(|| {
        if out.is_null() {
            return Err(CoreError::invalid("null output pointer"));
        }
        let splitter = FrameSplitter::new(max_message_len)?;
        out.write(Box::into_raw(Box::new(RcFrameSplitter(splitter))));
        Ok(())
    })
}

/// # Safety
/// `splitter` must be null or a handle from `rc_msgpack_splitter_new` not freed before.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_splitter_free(splitter: *mut RcFrameSplitter) {
    if !splitter.is_null() {
        drop(Box::from_raw(splitter));
    }
}

/// # Safety
/// `splitter` must be a live handle used by one thread at a time; `data` must hold `len`
/// bytes; `payloads` and `lengths` must point to writable `rc_buf`s.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_splitter_feed(
    splitter: *mut RcFrameSplitter,
    data: *const u8,
    len: usize,
    payloads: *mut RcBuf,
    lengths: *mut RcBuf,
) -> RcStatus {
    landing_pad(|| {
        let splitter = splitter.as_mut().ok_or_else(|| CoreError::invalid("null splitter"))?;
        let split = splitter.0.feed(input_slice(data, len)?)?;
        let mut lens = Vec::with_capacity(split.lengths.len() * 4);
        for l in split.lengths {
            lens.extend_from_slice(&l.to_le_bytes());
        }
        if payloads.is_null() || lengths.is_null() {
            return Err(CoreError::invalid("null output buffer"));
        }
        write_buf(payloads, split.payloads)?;
        write_buf(lengths, lens)?;
        Ok(())
    })
}

/// # Safety
/// `splitter` must be a live handle; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_splitter_buffered(splitter: *const RcFrameSplitter, out: *mut usize) -> RcStatus {
    landing_pad(|| {
        let splitter = splitter.as_ref().ok_or_else(|| CoreError::invalid("null splitter"))?;
        if out.is_null() {
            return Err(CoreError::invalid("null output pointer"));
        }
        out.write(splitter.0.buffered());
        Ok(())
    })
}

/// # Safety
/// `data` must hold `len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_frame(data: *const u8, len: usize, out: *mut RcBuf) -> RcStatus {
    landing_pad(|| write_buf(out, framing::frame(input_slice(data, len)?)))
}

/// The envelope as C sees it: spans are (start, length) into the parsed message.
#[repr(C)]
#[derive(Debug, Default)]
pub struct RcHubEnvelope {
    pub message_type: i32,
    pub completion_kind: i32,
    pub allow_reconnect: i32,
    pub has_invocation_id: i32,
    pub has_target: i32,
    pub has_payload: i32,
    pub has_error: i32,
    pub invocation_id_start: usize,
    pub invocation_id_len: usize,
    pub target_start: usize,
    pub target_len: usize,
    pub payload_start: usize,
    pub payload_len: usize,
    pub error_start: usize,
    pub error_len: usize,
}

fn span_fields(span: Option<envelope::Span>) -> (i32, usize, usize) {
    match span {
        Some((s, l)) => (1, s, l),
        None => (0, 0, 0),
    }
}

/// # Safety
/// `data` must hold `len` bytes; `out` must point to a writable `rc_hub_envelope`.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_parse_envelope(data: *const u8, len: usize, out: *mut RcHubEnvelope) -> RcStatus {
    landing_pad(|| {
        if out.is_null() {
            return Err(CoreError::invalid("null output pointer"));
        }
        let env = envelope::parse(input_slice(data, len)?)?;
        let (has_invocation_id, invocation_id_start, invocation_id_len) = span_fields(env.invocation_id);
        let (has_target, target_start, target_len) = span_fields(env.target);
        let (has_payload, payload_start, payload_len) = span_fields(env.payload);
        let (has_error, error_start, error_len) = span_fields(env.error);
        out.write(RcHubEnvelope {
            message_type: env.message_type,
            completion_kind: env.completion_kind,
            allow_reconnect: env.allow_reconnect.into(),
            has_invocation_id,
            has_target,
            has_payload,
            has_error,
            invocation_id_start,
            invocation_id_len,
            target_start,
            target_len,
            payload_start,
            payload_len,
            error_start,
            error_len,
        });
        Ok(())
    })
}

/// # Safety
/// Pointers must hold their lengths; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_encode_invocation(
    target: *const u8,
    target_len: usize,
    args: *const u8,
    args_len: usize,
    out: *mut RcBuf,
) -> RcStatus {
    landing_pad(|| {
        let target = text(target, target_len, "target")?;
        write_buf(out, envelope::invocation(target, input_slice(args, args_len)?)?)
    })
}

/// # Safety
/// Pointers must hold their lengths; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_encode_completion(
    invocation_id: *const u8,
    invocation_id_len: usize,
    kind: i32,
    payload: *const u8,
    payload_len: usize,
    out: *mut RcBuf,
) -> RcStatus {
    landing_pad(|| {
        let id = text(invocation_id, invocation_id_len, "invocation id")?;
        write_buf(out, envelope::completion(id, kind, input_slice(payload, payload_len)?)?)
    })
}

/// # Safety
/// `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_encode_ping(out: *mut RcBuf) -> RcStatus {
    landing_pad(|| write_buf(out, envelope::ping()))
}

/// # Safety
/// `error` must hold `error_len` bytes when `has_error`; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_encode_close(
    has_error: i32,
    error: *const u8,
    error_len: usize,
    allow_reconnect: i32,
    out: *mut RcBuf,
) -> RcStatus {
    landing_pad(|| {
        let error = if has_error != 0 { Some(text(error, error_len, "close error")?) } else { None };
        write_buf(out, envelope::close(error, allow_reconnect != 0))
    })
}

/// What `rc_msgpack_relay_frames` reports besides the relay bytes.
#[repr(C)]
#[derive(Debug, Default)]
pub struct RcFrameRelay {
    pub has_score_token: i32,
    pub score_token: i64,
    pub bundle_start: usize,
    pub bundle_len: usize,
    pub out_len: usize,
}

/// Writes into a caller-owned buffer: on the relay's hot path the cost of a second call
/// to free an `rc_buf` is larger than the relay itself.
///
/// # Safety
/// `data` must hold `len` bytes; `out` must hold `out_cap` writable bytes; `info` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_relay_frames(
    data: *const u8,
    len: usize,
    user_id: i32,
    validate: i32,
    out: *mut u8,
    out_cap: usize,
    info: *mut RcFrameRelay,
) -> RcStatus {
    landing_pad(|| {
        if info.is_null() || out.is_null() {
            return Err(CoreError::invalid("null output pointer"));
        }
        let msg = input_slice(data, len)?;
        let (relay, head) = envelope::relay_head(msg, user_id, validate != 0)?;
        let (start, bundle_len) = relay.bundle;
        let total = head.len() + bundle_len + 1;
        if total > out_cap {
            return Err(CoreError::new(
                crate::ffi::ErrorCode::TooLarge,
                format!("relay needs {total} bytes, buffer holds {out_cap}"),
            ));
        }
        let out = std::slice::from_raw_parts_mut(out, total);
        out[..head.len()].copy_from_slice(&head);
        out[head.len()..total - 1].copy_from_slice(&msg[start..start + bundle_len]);
        out[total - 1] = 0x90;
        info.write(RcFrameRelay {
            has_score_token: relay.score_token.is_some().into(),
            score_token: relay.score_token.unwrap_or(0),
            bundle_start: relay.bundle.0,
            bundle_len: relay.bundle.1,
            out_len: total,
        });
        Ok(())
    })
}

/// # Safety
/// `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_build_info(debug_assertions: *mut i32) -> RcStatus {
    landing_pad(|| {
        if debug_assertions.is_null() {
            return Err(CoreError::invalid("null output pointer"));
        }
        debug_assertions.write(cfg!(debug_assertions).into());
        Ok(())
    })
}

/// # Safety
/// Pointers must hold their lengths; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_decode(
    type_name: *const u8,
    type_name_len: usize,
    data: *const u8,
    len: usize,
    out: *mut RcBuf,
) -> RcStatus {
    landing_pad(|| {
        let ty = text(type_name, type_name_len, "type name")?;
        write_buf(out, transcode::decode(ty, input_slice(data, len)?)?)
    })
}

/// # Safety
/// Pointers must hold their lengths; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_encode(
    type_name: *const u8,
    type_name_len: usize,
    data: *const u8,
    len: usize,
    out: *mut RcBuf,
) -> RcStatus {
    landing_pad(|| {
        let ty = text(type_name, type_name_len, "type name")?;
        write_buf(out, transcode::encode(ty, input_slice(data, len)?)?)
    })
}

/// # Safety
/// `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_schema(out: *mut RcBuf) -> RcStatus {
    landing_pad(|| write_buf(out, schema::describe()))
}

/// # Safety
/// `data` must hold `len` bytes; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn rc_msgpack_splice_array(count: u32, data: *const u8, len: usize, out: *mut RcBuf) -> RcStatus {
    landing_pad(|| {
        let items = input_slice(data, len)?;
        if (count as usize) > items.len() {
            return Err(CoreError::new(crate::ffi::ErrorCode::MsgpackEncode, "more items than bytes"));
        }
        let mut body = Vec::with_capacity(items.len() + 5);
        writer::array_len(&mut body, count as usize);
        body.extend_from_slice(items);
        write_buf(out, body)
    })
}
