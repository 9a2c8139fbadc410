//! SignalR's binary framing: every hub message is preceded by its length as a VarInt
//! (7 bits per byte, least significant group first, high bit = "more bytes follow").
//!
//! The WebSocket delivers a byte stream, not messages: one WS message may carry several hub
//! messages (the .NET client flushes its pipe in one send) or end inside one. The splitter
//! keeps the unfinished tail between calls and checks each declared length against the cap
//! as soon as the prefix is complete, before buffering the body (reliability.md S-RT-9).

use crate::ffi::{CoreError, ErrorCode};

/// .NET's BinaryMessageFormatter never writes more than 5 prefix bytes (lengths < 2 GiB).
pub const MAX_PREFIX_LEN: usize = 5;

fn frame_error(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::Frame, message)
}

/// Append `len` as a VarInt to `out`.
pub fn write_varint(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let low = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Prefix `payload` with its VarInt length.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + MAX_PREFIX_LEN);
    write_varint(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

/// Outcome of reading a length prefix from the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Prefix {
    /// The prefix is complete: the declared payload length and the prefix's own size.
    Complete { len: usize, prefix_len: usize },
    /// More bytes are needed to finish the prefix.
    Incomplete,
}

/// Read a VarInt length prefix; errors on a sixth byte or a length beyond `i32::MAX`.
pub fn read_prefix(buf: &[u8]) -> Result<Prefix, CoreError> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().take(MAX_PREFIX_LEN).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if value > i32::MAX as u64 {
                return Err(frame_error("length prefix exceeds 2 GiB"));
            }
            return Ok(Prefix::Complete { len: value as usize, prefix_len: i + 1 });
        }
    }
    if buf.len() >= MAX_PREFIX_LEN {
        return Err(frame_error("length prefix longer than 5 bytes"));
    }
    Ok(Prefix::Incomplete)
}

/// Stateful splitter for one connection's incoming byte stream.
#[derive(Debug)]
pub struct FrameSplitter {
    pending: Vec<u8>,
    max_message_len: usize,
    failed: Option<String>,
}

/// Complete messages found by one `feed`: payloads back to back, plus each one's length.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub payloads: Vec<u8>,
    pub lengths: Vec<u32>,
}

impl FrameSplitter {
    pub fn new(max_message_len: usize) -> Result<Self, CoreError> {
        if max_message_len == 0 || max_message_len > i32::MAX as usize {
            return Err(CoreError::invalid("max_message_len must be in 1..=2^31-1"));
        }
        Ok(Self { pending: Vec::new(), max_message_len, failed: None })
    }

    /// Bytes held over from earlier calls (an unfinished prefix or message).
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Add `data` to the stream and return every message it completes.
    ///
    /// After an error the stream position is lost, so the splitter refuses all later input:
    /// the transport must close the connection.
    pub fn feed(&mut self, data: &[u8]) -> Result<Split, CoreError> {
        if let Some(reason) = &self.failed {
            return Err(frame_error(format!("stream already failed: {reason}")));
        }
        let mut split = Split::default();
        let result = if self.pending.is_empty() {
            // Common case: the WS message starts on a boundary; split it without copying it in.
            self.split_from(data, &mut split).map(|consumed| {
                self.pending.extend_from_slice(&data[consumed..]);
            })
        } else {
            self.pending.extend_from_slice(data);
            let pending = std::mem::take(&mut self.pending);
            let outcome = self.split_from(&pending, &mut split);
            self.pending = pending;
            outcome.map(|consumed| {
                self.pending.drain(..consumed);
            })
        };
        match result {
            Ok(()) => Ok(split),
            Err(err) => {
                self.failed = Some(err.message.clone());
                self.pending = Vec::new();
                Err(err)
            }
        }
    }

    /// Split complete messages off the front of `buf`; returns how many bytes were used.
    fn split_from(&self, buf: &[u8], split: &mut Split) -> Result<usize, CoreError> {
        let mut pos = 0;
        while pos < buf.len() {
            let (len, prefix_len) = match read_prefix(&buf[pos..])? {
                Prefix::Complete { len, prefix_len } => (len, prefix_len),
                Prefix::Incomplete => break,
            };
            // Refuse an oversized message on its prefix alone, before waiting for its body.
            if len > self.max_message_len {
                return Err(CoreError::new(
                    ErrorCode::TooLarge,
                    format!(
                        "message of {len} bytes exceeds the {} byte limit",
                        self.max_message_len
                    ),
                ));
            }
            let start = pos + prefix_len;
            if buf.len() - start < len {
                break;
            }
            split.payloads.extend_from_slice(&buf[start..start + len]);
            split.lengths.push(len as u32);
            pos = start + len;
        }
        Ok(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_at_group_boundaries() {
        for len in [0usize, 1, 127, 128, 16383, 16384, 2_097_151, 2_097_152, i32::MAX as usize] {
            let mut out = Vec::new();
            write_varint(&mut out, len);
            assert_eq!(read_prefix(&out).unwrap(), Prefix::Complete { len, prefix_len: out.len() });
        }
    }

    #[test]
    fn ping_frame_is_02_91_06() {
        assert_eq!(frame(&[0x91, 0x06]), vec![0x02, 0x91, 0x06]);
    }

    #[test]
    fn six_byte_prefix_is_rejected() {
        assert!(read_prefix(&[0x80, 0x80, 0x80, 0x80, 0x80]).is_err());
        assert_eq!(read_prefix(&[0x80, 0x80]).unwrap(), Prefix::Incomplete);
        // 2^31 does not fit .NET's int length.
        assert!(read_prefix(&[0x80, 0x80, 0x80, 0x80, 0x08]).is_err());
    }

    #[test]
    fn byte_by_byte_feed_reassembles() {
        let mut stream = frame(b"hello");
        stream.extend(frame(&[0u8; 300]));
        let mut splitter = FrameSplitter::new(1024).unwrap();
        let mut got = Vec::new();
        for b in &stream {
            let split = splitter.feed(std::slice::from_ref(b)).unwrap();
            got.extend(split.lengths);
        }
        assert_eq!(got, vec![5, 300]);
        assert_eq!(splitter.buffered(), 0);
    }

    #[test]
    fn oversized_prefix_fails_before_body_and_poisons() {
        let mut splitter = FrameSplitter::new(10).unwrap();
        let err = splitter.feed(&[11]).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        assert_eq!(splitter.feed(&frame(b"ok")).unwrap_err().code, ErrorCode::Frame);
    }
}
