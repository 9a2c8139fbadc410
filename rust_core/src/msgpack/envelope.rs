//! Hub message envelopes (lazer-protocol.md §6.2): read the fixed part of a message without
//! decoding its arguments, and build outgoing messages around argument bytes that were
//! encoded elsewhere, splicing them in unchanged.
//!
//! Spectator frame bundles are the hot path: `relay_frames` turns a client's
//! `SendFrameDataV2(token, bundle)` into the watchers' `UserSentFrames(userId, bundle)`
//! by copying the bundle's bytes, never decoding them.
//!
//! Why arguments are located by position, not by skipping them: lazer's APIMod settings
//! (array header N followed by 2N items) are not self-describing msgpack, so a generic
//! skip over arguments that hold mods loses its place. The arguments (or result) are
//! therefore the rest of the message, less the trailing stream ids, which osu never uses
//! and which must be the empty array. Their content is checked by the typed decoder that
//! knows the quirk (`transcode`), as is a relayed frame bundle.

use super::framing::{frame, write_varint, MAX_PREFIX_LEN};
use super::reader::Reader;
use super::writer;
use super::{schema, transcode};
use crate::ffi::{CoreError, ErrorCode};

pub const INVOCATION: i32 = 1;
pub const STREAM_ITEM: i32 = 2;
pub const COMPLETION: i32 = 3;
pub const STREAM_INVOCATION: i32 = 4;
pub const CANCEL_INVOCATION: i32 = 5;
pub const PING: i32 = 6;
pub const CLOSE: i32 = 7;

pub const COMPLETION_ERROR: i32 = 1;
pub const COMPLETION_VOID: i32 = 2;
pub const COMPLETION_RESULT: i32 = 3;

/// A byte range of the message: (start, length).
pub type Span = (usize, usize);

/// The parts of a hub message the transport needs to route it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub message_type: i32,
    /// The invocation id's UTF-8 bytes; None when nil or absent.
    pub invocation_id: Option<Span>,
    /// Invocation / StreamInvocation target name.
    pub target: Option<Span>,
    /// Invocation: the raw arguments array. Completion kind 3 / StreamItem: the raw result.
    pub payload: Option<Span>,
    /// Completion: 1 error, 2 void, 3 result; 0 otherwise.
    pub completion_kind: i32,
    /// Completion kind 1 or Close: the error text's UTF-8 bytes.
    pub error: Option<Span>,
    /// Close: whether the peer may reconnect.
    pub allow_reconnect: bool,
}

fn str_span(r: &mut Reader<'_>) -> Result<Span, CoreError> {
    let s = r.read_str()?;
    Ok((r.pos() - s.len(), s.len()))
}

fn opt_str_span(r: &mut Reader<'_>) -> Result<Option<Span>, CoreError> {
    if r.try_nil()? {
        return Ok(None);
    }
    str_span(r).map(Some)
}

fn need(r: &Reader<'_>, len: usize, min: usize, what: &str) -> Result<(), CoreError> {
    if len < min {
        return Err(r.error(format!("{what} needs at least {min} elements, has {len}")));
    }
    Ok(())
}

/// The span from the reader's position to `end`, which must hold something.
fn rest_span(r: &Reader<'_>, end: usize, what: &str) -> Result<Span, CoreError> {
    if end <= r.pos() {
        return Err(r.error(format!("{what} is missing")));
    }
    Ok((r.pos(), end - r.pos()))
}

fn is_array_marker(byte: Option<&u8>) -> bool {
    matches!(byte, Some(0x90..=0x9f | 0xdc | 0xdd))
}

/// Parse one (unframed) hub message. Arguments and results are located, not decoded.
pub fn parse(msg: &[u8]) -> Result<Envelope, CoreError> {
    let mut r = Reader::new(msg, ErrorCode::MsgpackDecode);
    let len = r.read_array_len()?;
    need(&r, len, 1, "a hub message")?;
    let message_type = r.read_int_in(1, 9)? as i32;
    let mut env = Envelope { message_type, ..Envelope::default() };
    match message_type {
        INVOCATION | STREAM_INVOCATION => {
            // [type, headers, invocationId|nil, target, [args], [streamIds]?]
            if !(5..=6).contains(&len) {
                return Err(r.error(format!("an invocation has 5 or 6 elements, not {len}")));
            }
            skip_headers(&mut r)?;
            env.invocation_id = opt_str_span(&mut r)?;
            env.target = Some(str_span(&mut r)?);
            let mut end = msg.len();
            if len == 6 {
                // Streams are not part of osu's hubs: only `[]` is accepted.
                if msg.last() != Some(&0x90) {
                    return Err(r.error("stream ids must be the empty array"));
                }
                end -= 1;
            }
            if !is_array_marker(msg.get(r.pos())) {
                return Err(r.error("invocation arguments are not an array"));
            }
            env.payload = Some(rest_span(&r, end, "the arguments")?);
        }
        STREAM_ITEM => {
            // [2, headers, id, item]
            if len != 4 {
                return Err(r.error(format!("a stream item has 4 elements, not {len}")));
            }
            skip_headers(&mut r)?;
            env.invocation_id = opt_str_span(&mut r)?;
            env.payload = Some(rest_span(&r, msg.len(), "the item")?);
        }
        COMPLETION => {
            // [3, headers, id, 1, error] / [3, headers, id, 2] / [3, headers, id, 3, result]
            need(&r, len, 4, "a completion")?;
            skip_headers(&mut r)?;
            env.invocation_id = Some(str_span(&mut r)?);
            env.completion_kind = r.read_int_in(1, 3)? as i32;
            let expected = if env.completion_kind == COMPLETION_VOID { 4 } else { 5 };
            if len != expected {
                return Err(r.error(format!("this completion has {expected} elements, not {len}")));
            }
            match env.completion_kind {
                COMPLETION_ERROR => {
                    env.error = Some(str_span(&mut r)?);
                    r.finish()?;
                }
                COMPLETION_RESULT => env.payload = Some(rest_span(&r, msg.len(), "the result")?),
                _ => r.finish()?,
            }
        }
        CANCEL_INVOCATION => {
            need(&r, len, 3, "a cancel invocation")?;
            skip_headers(&mut r)?;
            env.invocation_id = opt_str_span(&mut r)?;
            skip_rest(&mut r, len - 3)?;
        }
        PING => skip_rest(&mut r, len - 1)?,
        CLOSE => {
            // [7, error|nil, allowReconnect?]: allowReconnect was added later, so optional.
            need(&r, len, 2, "a close message")?;
            env.error = opt_str_span(&mut r)?;
            if len >= 3 {
                env.allow_reconnect = r.read_bool()?;
            }
            skip_rest(&mut r, len.saturating_sub(3))?;
        }
        other => return Err(r.error(format!("unsupported hub message type {other}"))),
    }
    Ok(env)
}

/// Skip `n` trailing elements a later protocol version may add, then require the end.
fn skip_rest(r: &mut Reader<'_>, n: usize) -> Result<(), CoreError> {
    for _ in 0..n {
        r.skip_value(1)?;
    }
    r.finish()
}

fn skip_headers(r: &mut Reader<'_>) -> Result<(), CoreError> {
    let n = r.read_map_len()?;
    for _ in 0..n {
        r.read_str()?;
        r.read_str()?;
    }
    Ok(())
}

/// Framed `[1, {}, nil, target, args, []]`: a non-blocking server-to-client invocation.
/// `args` must be one encoded array; it is copied in unchanged. Only its first byte is
/// checked: the bytes come from our own encoder and may hold APIMod settings, which no
/// generic msgpack walk can step over.
pub fn invocation(target: &str, args: &[u8]) -> Result<Vec<u8>, CoreError> {
    if !is_array_marker(args.first()) {
        return Err(CoreError::new(ErrorCode::MsgpackEncode, "invocation arguments are not an array"));
    }
    let mut body = Vec::with_capacity(args.len() + target.len() + 16);
    writer::array_len(&mut body, 6);
    writer::int(&mut body, INVOCATION.into());
    writer::map_len(&mut body, 0);
    writer::nil(&mut body);
    writer::str(&mut body, target);
    body.extend_from_slice(args);
    writer::array_len(&mut body, 0);
    Ok(frame(&body))
}

/// Framed Completion: kind 1 with `payload` as UTF-8 error text, 2 void, 3 with `payload`
/// as one encoded result value copied in unchanged.
pub fn completion(invocation_id: &str, kind: i32, payload: &[u8]) -> Result<Vec<u8>, CoreError> {
    let mut body = Vec::with_capacity(payload.len() + invocation_id.len() + 16);
    let fields = if kind == COMPLETION_VOID { 4 } else { 5 };
    writer::array_len(&mut body, fields);
    writer::int(&mut body, COMPLETION.into());
    writer::map_len(&mut body, 0);
    writer::str(&mut body, invocation_id);
    writer::int(&mut body, kind.into());
    match kind {
        COMPLETION_ERROR => {
            let text =
                std::str::from_utf8(payload).map_err(|_| CoreError::invalid("completion error text is not UTF-8"))?;
            writer::str(&mut body, text);
        }
        COMPLETION_VOID => {
            if !payload.is_empty() {
                return Err(CoreError::invalid("a void completion carries no payload"));
            }
        }
        COMPLETION_RESULT => {
            // As for invocations: our own encoder's bytes, so only check there is a value.
            if payload.is_empty() {
                return Err(CoreError::new(ErrorCode::MsgpackEncode, "completion result is empty"));
            }
            body.extend_from_slice(payload);
        }
        other => return Err(CoreError::invalid(format!("completion kind {other} is not 1, 2 or 3"))),
    }
    Ok(frame(&body))
}

/// Framed Ping `[6]`: `02 91 06`.
pub fn ping() -> Vec<u8> {
    frame(&[0x91, PING as u8])
}

/// Framed Close `[7, error|nil, allowReconnect]`.
pub fn close(error: Option<&str>, allow_reconnect: bool) -> Vec<u8> {
    let mut body = Vec::with_capacity(16 + error.map_or(0, str::len));
    writer::array_len(&mut body, 3);
    writer::int(&mut body, CLOSE.into());
    match error {
        Some(text) => writer::str(&mut body, text),
        None => writer::nil(&mut body),
    }
    writer::boolean(&mut body, allow_reconnect);
    frame(&body)
}

/// What the hub learns from a frame-data invocation besides the relay bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrameRelay {
    pub score_token: Option<i64>,
    /// The FrameDataBundle's bytes within the input message (for the replay buffer).
    pub bundle: Span,
}

pub const USER_SENT_FRAMES: &str = "UserSentFrames";

/// Turn a client's `SendFrameDataV2(long? token, FrameDataBundle)` (or the obsolete
/// `SendFrameData(FrameDataBundle)`) into the framed watcher message
/// `UserSentFrames(userId, bundle)`, the bundle spliced in as the client sent it.
///
/// The bundle is located, not walked: it is the last argument. With `validate` it is also
/// checked against the FrameDataBundle schema (Header and Frames non-nil), which costs a
/// full schema walk: several times the relay itself. Without it, a malformed bundle
/// reaches watchers, whose client drops an invocation it cannot bind, and the replay
/// builder must check bundles (`decode`) before using them.
/// Returns the framed message's head (length prefix through the user id); the message is
/// head + bundle + `0x90` (no stream ids).
pub fn relay_head(msg: &[u8], user_id: i32, validate: bool) -> Result<(FrameRelay, Vec<u8>), CoreError> {
    let env = parse(msg)?;
    let bad = |m: &str| CoreError::new(ErrorCode::MsgpackDecode, m.to_owned());
    if env.message_type != INVOCATION {
        return Err(bad("frame data must arrive as an invocation"));
    }
    let (ts, tl) = env.target.unwrap_or_default();
    let target = &msg[ts..ts + tl];
    let (ps, pl) = env.payload.unwrap_or_default();
    let mut args = Reader::new(&msg[ps..ps + pl], ErrorCode::MsgpackDecode);
    let arity = args.read_array_len()?;
    let mut relay = FrameRelay::default();
    match (target, arity) {
        (b"SendFrameDataV2", 2) => {
            if !args.try_nil()? {
                relay.score_token = Some(args.read_int_in(i64::MIN.into(), i64::MAX.into())? as i64);
            }
        }
        (b"SendFrameData", 1) => {}
        (b"SendFrameDataV2" | b"SendFrameData", n) => {
            return Err(bad(&format!("wrong number of frame data arguments: {n}")));
        }
        _ => return Err(bad("not a frame data invocation")),
    }
    let bundle_start = args.pos();
    // The bundle is the last argument, so it runs to the end of the arguments.
    let bundle = args.slice(bundle_start, pl);
    if validate {
        transcode::validate(&schema::FRAME_DATA_BUNDLE, bundle, &["Header", "Frames"])?;
    } else if !is_array_marker(bundle.first()) || bundle.first() == Some(&0x90) || bundle.first() == Some(&0x91) {
        // Cheap check: an array of at least 2 elements ([Header, Frames]).
        return Err(bad("frame bundle is not a [header, frames] array"));
    }
    relay.bundle = (ps + bundle_start, bundle.len());

    // Only the small head is built; the caller appends the bundle and the empty stream ids
    // after it, so the bundle is copied once, straight to its destination.
    let mut body_head = Vec::with_capacity(32);
    writer::array_len(&mut body_head, 6);
    writer::int(&mut body_head, INVOCATION.into());
    writer::map_len(&mut body_head, 0);
    writer::nil(&mut body_head);
    writer::str(&mut body_head, USER_SENT_FRAMES);
    writer::array_len(&mut body_head, 2);
    writer::int(&mut body_head, user_id.into());
    let mut head = Vec::with_capacity(body_head.len() + MAX_PREFIX_LEN);
    write_varint(&mut head, body_head.len() + bundle.len() + 1);
    head.extend_from_slice(&body_head);
    Ok((relay, head))
}

/// The whole framed watcher message, for callers that want one buffer.
pub fn relay_frames(msg: &[u8], user_id: i32, validate: bool) -> Result<(FrameRelay, Vec<u8>), CoreError> {
    let (relay, head) = relay_head(msg, user_id, validate)?;
    let (start, len) = relay.bundle;
    let mut out = Vec::with_capacity(head.len() + len + 1);
    out.extend_from_slice(&head);
    out.extend_from_slice(&msg[start..start + len]);
    out.push(0x90);
    Ok((relay, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unframe(v: &[u8]) -> &[u8] {
        match super::super::framing::read_prefix(v).unwrap() {
            super::super::framing::Prefix::Complete { len, prefix_len } => {
                assert_eq!(v.len(), len + prefix_len);
                &v[prefix_len..]
            }
            _ => panic!("incomplete"),
        }
    }

    #[test]
    fn parses_client_invocation() {
        // [1, {}, "7", "Foo", [1, nil], []]
        let msg = [0x96, 1, 0x80, 0xa1, b'7', 0xa3, b'F', b'o', b'o', 0x92, 1, 0xc0, 0x90];
        let env = parse(&msg).unwrap();
        assert_eq!(env.message_type, INVOCATION);
        assert_eq!(env.invocation_id, Some((4, 1)));
        assert_eq!(env.target, Some((6, 3)));
        assert_eq!(env.payload, Some((9, 3)));
    }

    #[test]
    fn rejects_trailing_and_truncated() {
        assert!(parse(&[0x91, 6, 0]).is_err());
        assert!(parse(&[0x96, 1, 0x80, 0xc0]).is_err());
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn builds_ping_close_completion() {
        assert_eq!(ping(), vec![2, 0x91, 6]);
        assert_eq!(unframe(&close(None, true)), &[0x93, 7, 0xc0, 0xc3]);
        assert_eq!(unframe(&completion("1", 2, &[]).unwrap()), &[0x94, 3, 0x80, 0xa1, b'1', 2]);
        assert!(completion("1", 3, &[]).is_err());
    }

    #[test]
    fn relay_splices_bundle() {
        // [[] (header of an older client), [[0, nil, nil, 1]]]
        let bundle = [0x92, 0x90, 0x91, 0x94, 0, 0xc0, 0xc0, 1];
        let mut msg = vec![0x96, 1, 0x80, 0xc0, 0xaf];
        msg.extend(b"SendFrameDataV2");
        msg.extend([0x92, 0xcd, 0x01, 0x00]);
        msg.extend(bundle);
        msg.push(0x90);
        let (info, out) = relay_frames(&msg, 5, true).unwrap();
        assert_eq!(info.score_token, Some(256));
        assert_eq!(&msg[info.bundle.0..info.bundle.0 + info.bundle.1], &bundle);
        let body = unframe(&out);
        let mut expect = vec![0x96, 1, 0x80, 0xc0, 0xae];
        expect.extend(b"UserSentFrames");
        expect.extend([0x92, 5]);
        expect.extend(bundle);
        expect.push(0x90);
        assert_eq!(body, &expect[..]);
    }

    #[test]
    fn relay_survives_mod_settings_that_defeat_a_generic_skip() {
        // FrameDataBundle whose header holds Mods = [["DT", N=1: "speed_change", 1.5]].
        let mut bundle = vec![0x92, 0x98, 0, 0, 0, 0, 0x80, 0x90, 0x92, 0xd6, 0xff, 0, 0, 0, 0, 0];
        bundle.extend([0x91, 0x92, 0xa2, b'D', b'T', 0x91, 0xac]);
        bundle.extend(b"speed_change");
        bundle.push(0xcb);
        bundle.extend(1.5f64.to_be_bytes());
        bundle.push(0x90); // no frames
        let mut msg = vec![0x96, 1, 0x80, 0xc0, 0xaf];
        msg.extend(b"SendFrameDataV2");
        msg.extend([0x92, 0x07]);
        msg.extend(&bundle);
        msg.push(0x90);
        let env = parse(&msg).unwrap();
        let (ps, pl) = env.payload.unwrap();
        assert_eq!(&msg[ps + 2..ps + pl], &bundle[..]);
        let (info, _) = relay_frames(&msg, 1, true).unwrap();
        assert_eq!(relay_frames(&msg, 1, false).unwrap().0, info);
        assert_eq!(&msg[info.bundle.0..info.bundle.0 + info.bundle.1], &bundle[..]);
        // The same bytes walked generically lose their place.
        let mut generic = Reader::new(&bundle, ErrorCode::MsgpackDecode);
        assert!(generic.skip_value(0).is_ok() && !generic.is_empty());
    }

    #[test]
    fn stream_ids_must_be_empty() {
        let msg = [0x96, 1, 0x80, 0xc0, 0xa1, b'X', 0x90, 0x91, 0xa1, b'1'];
        assert!(parse(&msg).is_err());
    }
}
