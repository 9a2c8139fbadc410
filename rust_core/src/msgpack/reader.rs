//! A bounded MessagePack cursor over a borrowed buffer.
//!
//! Every length read from the input is checked against the bytes that remain before anything
//! is sized from it (a container of n items needs at least n bytes), and nesting is capped,
//! so hostile input costs at most its own length in work and memory. Markers are classified
//! with `rmp::Marker`; the cursor itself only borrows, it never allocates.

use rmp::Marker;

use crate::ffi::{CoreError, ErrorCode};

/// Deepest nesting accepted (reliability.md §2.7: MessagePack-CSharp's CVEs were stack
/// overflows on deep input). lazer's deepest message is about 8 levels.
pub const MAX_DEPTH: usize = 32;

/// The msgpack Timestamp extension type.
pub const TIMESTAMP_EXT: i8 = -1;

/// A decoded integer: msgpack ints span i64 and u64, so keep the widest common type.
pub type Int = i128;

#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Which error code a malformed input reports: decode for wire input, encode for the
    /// normalised values Python hands us to encode.
    code: ErrorCode,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], code: ErrorCode) -> Self {
        Self { buf, pos: 0, code }
    }

    pub fn error(&self, message: impl Into<String>) -> CoreError {
        CoreError::new(self.code, format!("{} at byte {}", message.into(), self.pos))
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        &self.buf[start..end]
    }

    /// Fail unless the whole buffer was read.
    pub fn finish(&self) -> Result<(), CoreError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(format!("{} trailing bytes", self.remaining())))
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CoreError> {
        if n > self.remaining() {
            return Err(self.error(format!("truncated: need {n} bytes, {} left", self.remaining())));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], CoreError> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn len_u8(&mut self) -> Result<usize, CoreError> {
        Ok(self.take_array::<1>()?[0] as usize)
    }

    fn len_u16(&mut self) -> Result<usize, CoreError> {
        Ok(u16::from_be_bytes(self.take_array()?) as usize)
    }

    fn len_u32(&mut self) -> Result<usize, CoreError> {
        Ok(u32::from_be_bytes(self.take_array()?) as usize)
    }

    pub fn peek_marker(&self) -> Result<Marker, CoreError> {
        match self.buf.get(self.pos) {
            Some(&b) => Ok(Marker::from_u8(b)),
            None => Err(self.error("truncated: expected a value")),
        }
    }

    fn read_marker(&mut self) -> Result<Marker, CoreError> {
        let marker = self.peek_marker()?;
        self.pos += 1;
        Ok(marker)
    }

    /// Consume a nil if one is next.
    pub fn try_nil(&mut self) -> Result<bool, CoreError> {
        if self.peek_marker()? == Marker::Null {
            self.pos += 1;
            return Ok(true);
        }
        Ok(false)
    }

    pub fn read_nil(&mut self) -> Result<(), CoreError> {
        if self.try_nil()? {
            Ok(())
        } else {
            Err(self.error("expected nil"))
        }
    }

    /// Array header; the count is checked against the remaining bytes (one byte per item
    /// at least) before anyone allocates for it.
    pub fn read_array_len(&mut self) -> Result<usize, CoreError> {
        let len = match self.read_marker()? {
            Marker::FixArray(n) => n as usize,
            Marker::Array16 => self.len_u16()?,
            Marker::Array32 => self.len_u32()?,
            other => {
                self.pos -= 1;
                return Err(self.error(format!("expected an array, found {other:?}")));
            }
        };
        if len > self.remaining() {
            return Err(self
                .error(format!("array of {len} items cannot fit in {} bytes", self.remaining())));
        }
        Ok(len)
    }

    /// Map header; a map of n entries needs at least 2n bytes.
    pub fn read_map_len(&mut self) -> Result<usize, CoreError> {
        let len = match self.read_marker()? {
            Marker::FixMap(n) => n as usize,
            Marker::Map16 => self.len_u16()?,
            Marker::Map32 => self.len_u32()?,
            other => {
                self.pos -= 1;
                return Err(self.error(format!("expected a map, found {other:?}")));
            }
        };
        if len.saturating_mul(2) > self.remaining() {
            return Err(self
                .error(format!("map of {len} entries cannot fit in {} bytes", self.remaining())));
        }
        Ok(len)
    }

    /// Any msgpack integer, widened.
    pub fn read_int(&mut self) -> Result<Int, CoreError> {
        let value = match self.read_marker()? {
            Marker::FixPos(n) => Int::from(n),
            Marker::FixNeg(n) => Int::from(n),
            Marker::U8 => Int::from(self.take_array::<1>()?[0]),
            Marker::U16 => Int::from(u16::from_be_bytes(self.take_array()?)),
            Marker::U32 => Int::from(u32::from_be_bytes(self.take_array()?)),
            Marker::U64 => Int::from(u64::from_be_bytes(self.take_array()?)),
            Marker::I8 => Int::from(i8::from_be_bytes(self.take_array()?)),
            Marker::I16 => Int::from(i16::from_be_bytes(self.take_array()?)),
            Marker::I32 => Int::from(i32::from_be_bytes(self.take_array()?)),
            Marker::I64 => Int::from(i64::from_be_bytes(self.take_array()?)),
            other => {
                self.pos -= 1;
                return Err(self.error(format!("expected an integer, found {other:?}")));
            }
        };
        Ok(value)
    }

    /// An integer that must lie in `min..=max` (the .NET field's type).
    pub fn read_int_in(&mut self, min: Int, max: Int) -> Result<Int, CoreError> {
        let start = self.pos;
        let value = self.read_int()?;
        if value < min || value > max {
            self.pos = start;
            return Err(self.error(format!("integer {value} out of range {min}..={max}")));
        }
        Ok(value)
    }

    /// A float: MessagePack-CSharp's float readers accept float32, float64 and integers.
    pub fn read_f64(&mut self) -> Result<f64, CoreError> {
        match self.peek_marker()? {
            Marker::F32 => {
                self.pos += 1;
                Ok(f64::from(f32::from_be_bytes(self.take_array()?)))
            }
            Marker::F64 => {
                self.pos += 1;
                Ok(f64::from_be_bytes(self.take_array()?))
            }
            _ => Ok(self.read_int()? as f64),
        }
    }

    pub fn read_bool(&mut self) -> Result<bool, CoreError> {
        match self.read_marker()? {
            Marker::True => Ok(true),
            Marker::False => Ok(false),
            other => {
                self.pos -= 1;
                Err(self.error(format!("expected a bool, found {other:?}")))
            }
        }
    }

    /// A UTF-8 string, borrowed from the input.
    pub fn read_str(&mut self) -> Result<&'a str, CoreError> {
        let len = match self.read_marker()? {
            Marker::FixStr(n) => n as usize,
            Marker::Str8 => self.len_u8()?,
            Marker::Str16 => self.len_u16()?,
            Marker::Str32 => self.len_u32()?,
            other => {
                self.pos -= 1;
                return Err(self.error(format!("expected a string, found {other:?}")));
            }
        };
        let start = self.pos;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| {
            let mut at = self.clone();
            at.pos = start;
            at.error("string is not valid UTF-8")
        })
    }

    /// An extension header: (type, payload length), payload not yet consumed.
    pub fn read_ext_header(&mut self) -> Result<(i8, usize), CoreError> {
        let len = match self.read_marker()? {
            Marker::FixExt1 => 1,
            Marker::FixExt2 => 2,
            Marker::FixExt4 => 4,
            Marker::FixExt8 => 8,
            Marker::FixExt16 => 16,
            Marker::Ext8 => self.len_u8()?,
            Marker::Ext16 => self.len_u16()?,
            Marker::Ext32 => self.len_u32()?,
            other => {
                self.pos -= 1;
                return Err(self.error(format!("expected an extension, found {other:?}")));
            }
        };
        let ty = i8::from_be_bytes(self.take_array()?);
        if len > self.remaining() {
            return Err(self.error(format!("extension of {len} bytes is truncated")));
        }
        Ok((ty, len))
    }

    /// A msgpack Timestamp (extension -1, any of its three sizes) as (seconds, nanoseconds).
    pub fn read_timestamp(&mut self) -> Result<(i64, u32), CoreError> {
        let start = self.pos;
        let (ty, len) = self.read_ext_header()?;
        if ty != TIMESTAMP_EXT {
            self.pos = start;
            return Err(self.error(format!("expected a timestamp extension, found type {ty}")));
        }
        let (secs, nanos) = match len {
            4 => (i64::from(u32::from_be_bytes(self.take_array()?)), 0),
            8 => {
                let packed = u64::from_be_bytes(self.take_array()?);
                ((packed & 0x3_ffff_ffff) as i64, (packed >> 34) as u32)
            }
            12 => {
                let nanos = u32::from_be_bytes(self.take_array()?);
                (i64::from_be_bytes(self.take_array()?), nanos)
            }
            _ => {
                self.pos = start;
                return Err(self.error(format!("timestamp extension of {len} bytes")));
            }
        };
        if nanos > 999_999_999 {
            self.pos = start;
            return Err(self.error("timestamp nanoseconds out of range"));
        }
        Ok((secs, nanos))
    }

    /// Skip one complete value, validating its structure to `MAX_DEPTH`.
    ///
    /// Works on the marker byte directly: this walk is on the relay's hot path.
    pub fn skip_value(&mut self, depth: usize) -> Result<(), CoreError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH}")));
        }
        let Some(&marker) = self.buf.get(self.pos) else {
            return Err(self.error("truncated: expected a value"));
        };
        // Values whose size the marker alone gives (marker byte included).
        let fixed = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 1,
            0xcc | 0xd0 => 2,
            0xcd | 0xd1 | 0xd4 => 3,
            0xd5 => 4,
            0xca | 0xce | 0xd2 => 5,
            0xd6 => 6,
            0xcb | 0xcf | 0xd3 => 9,
            0xd7 => 10,
            0xd8 => 18,
            _ => 0,
        };
        if fixed > 0 {
            self.take(fixed)?;
            return Ok(());
        }
        match marker {
            // Strings are validated as UTF-8 even when skipped: a relayed value must be
            // readable by every client it reaches.
            0xa0..=0xbf | 0xd9 | 0xda | 0xdb => {
                self.read_str()?;
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                let len = self.read_array_len()?;
                for _ in 0..len {
                    self.skip_value(depth + 1)?;
                }
            }
            0x80..=0x8f | 0xde | 0xdf => {
                let len = self.read_map_len()?;
                for _ in 0..len * 2 {
                    self.skip_value(depth + 1)?;
                }
            }
            0xc4..=0xc6 => {
                self.pos += 1;
                let len = match marker {
                    0xc4 => self.len_u8()?,
                    0xc5 => self.len_u16()?,
                    _ => self.len_u32()?,
                };
                self.take(len)?;
            }
            0xc7..=0xc9 => {
                let (_, len) = self.read_ext_header()?;
                self.take(len)?;
            }
            _ => return Err(self.error("reserved marker 0xc1")),
        }
        Ok(())
    }

    /// Skip one value and return the bytes it occupied.
    pub fn raw_value(&mut self, depth: usize) -> Result<&'a [u8], CoreError> {
        let start = self.pos;
        self.skip_value(depth)?;
        Ok(&self.buf[start..self.pos])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(buf: &[u8]) -> Reader<'_> {
        Reader::new(buf, ErrorCode::MsgpackDecode)
    }

    #[test]
    fn huge_array_header_is_rejected_before_allocation() {
        let buf = [0xdd, 0xff, 0xff, 0xff, 0xff, 0x00];
        let err = dec(&buf).read_array_len().unwrap_err();
        assert_eq!(err.code, ErrorCode::MsgpackDecode);
        let buf = [0xdf, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];
        assert!(dec(&buf).read_map_len().is_err());
    }

    #[test]
    fn deep_nesting_is_capped() {
        let mut buf = vec![0x91; MAX_DEPTH + 2];
        buf.push(0xc0);
        assert!(dec(&buf).skip_value(0).is_err());
        let mut ok = vec![0x91; MAX_DEPTH];
        ok.push(0xc0);
        assert!(dec(&ok).skip_value(0).is_ok());
    }

    #[test]
    fn timestamps_in_all_three_sizes() {
        assert_eq!(dec(&[0xd6, 0xff, 0, 0, 0, 5]).read_timestamp().unwrap(), (5, 0));
        let packed: u64 = (7u64 << 34) | 9;
        let mut b = vec![0xd7, 0xff];
        b.extend(packed.to_be_bytes());
        assert_eq!(dec(&b).read_timestamp().unwrap(), (9, 7));
        let mut b = vec![0xc7, 12, 0xff, 0, 0, 0, 0];
        b.extend((-62_135_596_800i64).to_be_bytes());
        assert_eq!(dec(&b).read_timestamp().unwrap(), (-62_135_596_800, 0));
    }

    #[test]
    fn ints_of_every_width_widen() {
        assert_eq!(
            dec(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).read_int().unwrap(),
            u64::MAX as Int
        );
        assert_eq!(dec(&[0xd0, 0x80]).read_int().unwrap(), -128);
        assert!(dec(&[0xcd, 0x01]).read_int().is_err());
    }
}
