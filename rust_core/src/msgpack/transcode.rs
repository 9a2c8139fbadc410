//! Schema-driven transcoding between lazer's wire form (MessagePack-CSharp conventions) and
//! plain msgpack for Python, one function per `Kind` and direction (schema in `schema.rs`).
//!
//! Wire -> plain:
//! - objects: positional array -> map of the fields present (a shorter array leaves the rest
//!   out so the Python model's defaults apply; extra elements are skipped);
//! - unions: `[id, payload]` -> map with `"type"` = member name plus the payload's fields;
//! - DateTimeOffset: `[timestamp of wall-clock ticks as if UTC, offset minutes]` -> one
//!   timestamp of the UTC instant (wall clock - offset). The offset itself is dropped: the
//!   server only ever emits offset 0 (lazer-protocol.md §6.3);
//! - APIMod settings: array header N then 2N items -> a map of N entries.
//!
//! Plain -> wire is the reverse; a missing nullable field is written as nil, a missing
//! non-nullable field or an unknown key is an error (it is a bug in the caller).
//! A nil for a non-nullable reference (string, list, map, object) is read as null, as
//! MessagePack-CSharp does, but refused on encode; unions pass nil both ways.

use super::reader::{Reader, MAX_DEPTH};
use super::schema::{lookup, Kind, Member, ObjectSchema, UnionSchema, I16, I64, UNION_RAW, UNION_TAG};
use super::writer;
use crate::ffi::{CoreError, ErrorCode};

/// .NET DateTimeOffset offsets are within ±14 h.
const MAX_OFFSET_MINUTES: i128 = 14 * 60;

/// A type expression: a named kind under `?` / `[]` suffixes (outermost first).
#[derive(Debug)]
struct TypeExpr {
    base: &'static Kind,
    wraps: Vec<Wrap>,
}

#[derive(Debug, Clone, Copy)]
enum Wrap {
    Nullable,
    Array,
}

fn parse_type(text: &str) -> Result<TypeExpr, CoreError> {
    let mut rest = text.trim();
    let mut wraps = Vec::new();
    loop {
        if let Some(inner) = rest.strip_suffix('?') {
            wraps.push(Wrap::Nullable);
            rest = inner;
        } else if let Some(inner) = rest.strip_suffix("[]") {
            wraps.push(Wrap::Array);
            rest = inner;
        } else {
            break;
        }
        if wraps.len() > 4 {
            return Err(CoreError::invalid(format!("type {text:?} nests too deeply")));
        }
    }
    let base = lookup(rest).ok_or_else(|| CoreError::invalid(format!("unknown type {rest:?}")))?;
    Ok(TypeExpr { base, wraps })
}

/// Either one type or a comma-separated argument list (encoded as an array of exactly
/// that many elements: a wrong argument count is an error). A trailing comma makes a
/// one-argument list: `"int,"`; `","` is the empty list.
fn parse_types(text: &str) -> Result<Option<Vec<TypeExpr>>, CoreError> {
    if !text.contains(',') {
        return Ok(None);
    }
    let mut parts: Vec<&str> = text.split(',').collect();
    if parts.last().is_some_and(|p| p.trim().is_empty()) {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].trim().is_empty() {
        parts.clear();
    }
    let types = parts.into_iter().map(parse_type).collect::<Result<Vec<_>, _>>()?;
    if types.len() > 16 {
        return Err(CoreError::invalid("more than 16 argument types"));
    }
    Ok(Some(types))
}

/// lazer wire bytes of `type_name` -> plain msgpack.
pub fn decode(type_name: &str, data: &[u8]) -> Result<Vec<u8>, CoreError> {
    let mut t = Transcoder {
        r: Reader::new(data, ErrorCode::MsgpackDecode),
        out: Vec::with_capacity(data.len() * 2 + 16),
        dir: Dir::Decode,
    };
    t.top(type_name)?;
    Ok(t.out)
}

/// Plain msgpack -> lazer wire bytes of `type_name`.
pub fn encode(type_name: &str, data: &[u8]) -> Result<Vec<u8>, CoreError> {
    let mut t = Transcoder {
        r: Reader::new(data, ErrorCode::MsgpackEncode),
        out: Vec::with_capacity(data.len() + 16),
        dir: Dir::Encode,
    };
    t.top(type_name)?;
    Ok(t.out)
}

/// Check that `data` is exactly one valid wire value of `schema` and that the `required`
/// fields are present and non-nil (the official server's checks on frame bundles).
///
/// A read-only walk, the decode direction without output: it is on the relay path.
pub fn validate(schema: &'static ObjectSchema, data: &[u8], required: &[&str]) -> Result<(), CoreError> {
    let mut r = Reader::new(data, ErrorCode::MsgpackDecode);
    let n = r.read_array_len()?;
    for field in schema.fields {
        if required.contains(&field.name) && (field.key >= n) {
            return Err(r.error(format!("{} needs {}", schema.name, field.name)));
        }
    }
    let mut fields = schema.fields.iter().peekable();
    for index in 0..n {
        match fields.peek() {
            Some(field) if field.key == index => {
                if required.contains(&field.name) && r.peek_marker()? == rmp::Marker::Null {
                    return Err(r.error(format!("{} needs a non-nil {}", schema.name, field.name)));
                }
                check(&mut r, &field.kind, 1)?;
                fields.next();
            }
            _ => r.skip_value(1)?,
        }
    }
    r.finish()
}

/// Walk one wire value of `kind` without producing anything.
fn check(r: &mut Reader<'_>, kind: &'static Kind, depth: usize) -> Result<(), CoreError> {
    if depth > MAX_DEPTH {
        return Err(r.error(format!("nesting deeper than {MAX_DEPTH}")));
    }
    match kind {
        Kind::Int(range) => {
            r.read_int_in(range.min, range.max)?;
        }
        Kind::F32 | Kind::F64 => {
            r.read_f64()?;
        }
        Kind::Bool => {
            r.read_bool()?;
        }
        Kind::TimeSpan => {
            r.read_int_in(I64.min, I64.max)?;
        }
        Kind::DateTimeOffset => {
            wire_date_time_offset(r)?;
        }
        Kind::Any => r.skip_value(depth)?,
        _ if r.try_nil()? => {}
        Kind::Str => {
            r.read_str()?;
        }
        Kind::Nullable(inner) => check(r, inner, depth)?,
        Kind::Array(inner) => {
            for _ in 0..r.read_array_len()? {
                check(r, inner, depth + 1)?;
            }
        }
        Kind::IntMap(inner) => {
            for _ in 0..r.read_map_len()? {
                r.read_int_in(I64.min, I64.max)?;
                check(r, inner, depth + 1)?;
            }
        }
        Kind::ModSettings => {
            let n = r.read_array_len()?;
            if n.saturating_mul(2) > r.remaining() {
                return Err(r.error(format!("mod settings of {n} entries cannot fit")));
            }
            for _ in 0..n {
                r.read_str()?;
                r.skip_value(depth + 1)?;
            }
        }
        Kind::Object(schema) => check_object(r, schema, depth)?,
        Kind::Union(schema) => {
            if r.read_array_len()? != 2 {
                return Err(r.error(format!("{} union envelope is not 2 items", schema.name)));
            }
            let id = r.read_int()?;
            let member = find_member(schema, |m| m.id == id)
                .ok_or_else(|| r.error(format!("{} has no member with id {id}", schema.name)))?;
            match member.schema {
                Some(_) if r.try_nil()? => {}
                Some(object) => check_object(r, object, depth + 1)?,
                None => r.skip_value(depth + 1)?,
            }
        }
    }
    Ok(())
}

fn check_object(r: &mut Reader<'_>, schema: &'static ObjectSchema, depth: usize) -> Result<(), CoreError> {
    let n = r.read_array_len()?;
    let mut fields = schema.fields.iter().peekable();
    for index in 0..n {
        match fields.peek() {
            Some(field) if field.key == index => {
                check(r, &field.kind, depth + 1)?;
                fields.next();
            }
            _ => r.skip_value(depth + 1)?,
        }
    }
    Ok(())
}

/// Read a wire DateTimeOffset: (UTC seconds, nanoseconds).
fn wire_date_time_offset(r: &mut Reader<'_>) -> Result<(i64, u32), CoreError> {
    let n = r.read_array_len()?;
    if n != 2 {
        return Err(r.error(format!("DateTimeOffset is a 2-array, got {n} items")));
    }
    let (wall_secs, nanos) = r.read_timestamp()?;
    let offset = r.read_int_in(I16.min, I16.max)?;
    if offset.abs() > MAX_OFFSET_MINUTES {
        return Err(r.error(format!("DateTimeOffset offset {offset} minutes out of range")));
    }
    // The timestamp holds local wall-clock time written as if it were UTC.
    let utc = i64::try_from(i128::from(wall_secs) - offset * 60).map_err(|_| r.error("DateTimeOffset out of range"))?;
    Ok((utc, nanos))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// wire -> plain
    Decode,
    /// plain -> wire
    Encode,
}

struct Transcoder<'a> {
    r: Reader<'a>,
    out: Vec<u8>,
    dir: Dir,
}

impl<'a> Transcoder<'a> {
    fn top(&mut self, type_name: &str) -> Result<(), CoreError> {
        match parse_types(type_name)? {
            Some(types) => {
                let n = self.r.read_array_len()?;
                if n != types.len() {
                    return Err(self.r.error(format!("expected {} arguments, got {n}", types.len())));
                }
                writer::array_len(&mut self.out, n);
                for t in &types {
                    self.expr(t.base, &t.wraps, 1)?;
                }
            }
            None => {
                let t = parse_type(type_name)?;
                self.expr(t.base, &t.wraps, 0)?;
            }
        }
        self.r.finish()
    }

    fn expr(&mut self, base: &'static Kind, wraps: &[Wrap], depth: usize) -> Result<(), CoreError> {
        match wraps.split_first() {
            None => self.value(base, depth),
            Some((Wrap::Nullable, rest)) => {
                if self.r.try_nil()? {
                    writer::nil(&mut self.out);
                    return Ok(());
                }
                self.expr(base, rest, depth)
            }
            Some((Wrap::Array, rest)) => {
                if self.nil_reference()? {
                    return Ok(());
                }
                let n = self.r.read_array_len()?;
                writer::array_len(&mut self.out, n);
                for _ in 0..n {
                    self.expr(base, rest, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// A nil where the value may be null: copy it through.
    fn nil_passthrough(&mut self) -> Result<bool, CoreError> {
        if self.r.try_nil()? {
            writer::nil(&mut self.out);
            return Ok(true);
        }
        Ok(false)
    }

    /// A nil for a non-nullable reference (string, list, map, object). Decoding tolerates it,
    /// as MessagePack-CSharp does; encoding refuses it, because lazer's client fails on
    /// null in a non-nullable member (the MessagePack twin of a JSON `"users": null`).
    fn nil_reference(&mut self) -> Result<bool, CoreError> {
        if self.dir == Dir::Encode && self.r.peek_marker()? == rmp::Marker::Null {
            return Err(self.r.error("nil for a non-nullable value"));
        }
        self.nil_passthrough()
    }

    fn value(&mut self, kind: &'static Kind, depth: usize) -> Result<(), CoreError> {
        if depth > MAX_DEPTH {
            return Err(self.r.error(format!("nesting deeper than {MAX_DEPTH}")));
        }
        match kind {
            Kind::Int(range) => {
                let v = self.r.read_int_in(range.min, range.max)?;
                writer::int(&mut self.out, v);
            }
            Kind::F32 => {
                // MessagePack-CSharp reads any number into a float field and narrows it.
                let v = self.r.read_f64()? as f32;
                match self.dir {
                    Dir::Decode => writer::f64(&mut self.out, f64::from(v)),
                    Dir::Encode => writer::f32(&mut self.out, v),
                }
            }
            Kind::F64 => {
                let v = self.r.read_f64()?;
                writer::f64(&mut self.out, v);
            }
            Kind::Bool => {
                let v = self.r.read_bool()?;
                writer::boolean(&mut self.out, v);
            }
            Kind::Str => {
                if !self.nil_reference()? {
                    let s = self.r.read_str()?;
                    writer::str(&mut self.out, s);
                }
            }
            Kind::TimeSpan => {
                let v = self.r.read_int_in(I64.min, I64.max)?;
                writer::int(&mut self.out, v);
            }
            Kind::DateTimeOffset => self.date_time_offset()?,
            Kind::Nullable(inner) => {
                if !self.nil_passthrough()? {
                    self.value(inner, depth)?;
                }
            }
            Kind::Array(inner) => {
                if !self.nil_reference()? {
                    let n = self.r.read_array_len()?;
                    writer::array_len(&mut self.out, n);
                    for _ in 0..n {
                        self.value(inner, depth + 1)?;
                    }
                }
            }
            Kind::IntMap(inner) => {
                if !self.nil_reference()? {
                    let n = self.r.read_map_len()?;
                    writer::map_len(&mut self.out, n);
                    for _ in 0..n {
                        let key = self.r.read_int_in(I64.min, I64.max)?;
                        writer::int(&mut self.out, key);
                        self.value(inner, depth + 1)?;
                    }
                }
            }
            Kind::ModSettings => self.mod_settings(depth)?,
            Kind::Object(schema) => {
                if !self.nil_reference()? {
                    match self.dir {
                        Dir::Decode => self.object_to_plain(schema, None, depth)?,
                        Dir::Encode => {
                            let entries = self.plain_entries(schema, false, depth)?;
                            self.object_to_wire(schema, &entries, depth)?;
                        }
                    }
                }
            }
            Kind::Union(schema) => {
                // Every union-typed member in lazer's hubs is nullable or tolerated as null.
                if !self.nil_passthrough()? {
                    match self.dir {
                        Dir::Decode => self.union_to_plain(schema, depth)?,
                        Dir::Encode => self.union_to_wire(schema, depth)?,
                    }
                }
            }
            Kind::Any => {
                let raw = self.r.raw_value(depth)?;
                self.out.extend_from_slice(raw);
            }
        }
        Ok(())
    }

    fn date_time_offset(&mut self) -> Result<(), CoreError> {
        match self.dir {
            Dir::Decode => {
                let (utc, nanos) = wire_date_time_offset(&mut self.r)?;
                writer::timestamp(&mut self.out, utc, nanos);
            }
            Dir::Encode => {
                if !matches!(self.r.peek_marker()?, rmp::Marker::FixExt4 | rmp::Marker::FixExt8 | rmp::Marker::Ext8) {
                    return Err(self
                        .r
                        .error("DateTimeOffset needs a timestamp (in Python, a timezone-aware datetime)"));
                }
                let (secs, nanos) = self.r.read_timestamp()?;
                writer::array_len(&mut self.out, 2);
                writer::timestamp(&mut self.out, secs, nanos);
                writer::int(&mut self.out, 0);
            }
        }
        Ok(())
    }

    /// APIMod settings. ModSettingsDictionaryFormatter writes an ARRAY header counting the
    /// entries (N), then 2N items key, value, ...: a stock decoder reads only N items.
    fn mod_settings(&mut self, depth: usize) -> Result<(), CoreError> {
        if self.nil_reference()? {
            return Ok(());
        }
        let n = match self.dir {
            Dir::Decode => {
                let n = self.r.read_array_len()?;
                if n.saturating_mul(2) > self.r.remaining() {
                    return Err(self.r.error(format!("mod settings of {n} entries cannot fit")));
                }
                writer::map_len(&mut self.out, n);
                n
            }
            Dir::Encode => {
                let n = self.r.read_map_len()?;
                writer::array_len(&mut self.out, n);
                n
            }
        };
        for _ in 0..n {
            let key = self.r.read_str()?;
            writer::str(&mut self.out, key);
            let value = self.r.raw_value(depth + 1)?;
            self.out.extend_from_slice(value);
        }
        Ok(())
    }

    /// Wire array -> plain map; `tag` (a union member's name) goes first when given.
    fn object_to_plain(
        &mut self,
        schema: &'static ObjectSchema,
        tag: Option<&str>,
        depth: usize,
    ) -> Result<(), CoreError> {
        let n = self.r.read_array_len()?;
        let present = schema.fields.iter().filter(|f| f.key < n).count();
        writer::map_len(&mut self.out, present + usize::from(tag.is_some()));
        if let Some(tag) = tag {
            writer::str(&mut self.out, UNION_TAG);
            writer::str(&mut self.out, tag);
        }
        let mut fields = schema.fields.iter().peekable();
        for index in 0..n {
            match fields.peek() {
                Some(field) if field.key == index => {
                    writer::str(&mut self.out, field.name);
                    self.value(&field.kind, depth + 1)?;
                    fields.next();
                }
                // A gap in the keys, or an element a newer client added: skip it.
                _ => self.r.skip_value(depth + 1)?,
            }
        }
        Ok(())
    }

    /// Read a plain map's entries, matched to `schema`'s fields by name.
    fn plain_entries(
        &mut self,
        schema: &'static ObjectSchema,
        union: bool,
        depth: usize,
    ) -> Result<Entries<'a>, CoreError> {
        let n = self.r.read_map_len()?;
        let mut entries = Entries { fields: vec![None; schema.fields.len()], tag: None, raw: None };
        for _ in 0..n {
            let key = self.r.read_str()?;
            let value = self.r.raw_value(depth + 1)?;
            let slot = if let Some(i) = schema.fields.iter().position(|f| f.name == key) {
                &mut entries.fields[i]
            } else if union && key == UNION_TAG {
                &mut entries.tag
            } else if union && key == UNION_RAW {
                &mut entries.raw
            } else {
                return Err(self.r.error(format!("{} has no field {key:?}", schema.name)));
            };
            if slot.replace(value).is_some() {
                return Err(self.r.error(format!("{} field {key:?} given twice", schema.name)));
            }
        }
        Ok(entries)
    }

    /// Plain entries -> wire array of length max key + 1, nil in key gaps.
    fn object_to_wire(
        &mut self,
        schema: &'static ObjectSchema,
        entries: &Entries<'a>,
        depth: usize,
    ) -> Result<(), CoreError> {
        writer::array_len(&mut self.out, schema.wire_len());
        let mut next_key = 0;
        for (field, value) in schema.fields.iter().zip(&entries.fields) {
            for _ in next_key..field.key {
                writer::nil(&mut self.out);
            }
            next_key = field.key + 1;
            match value {
                Some(bytes) => {
                    let code = self.r.code();
                    let outer = std::mem::replace(&mut self.r, Reader::new(bytes, code));
                    let result = self.value(&field.kind, depth + 1).and_then(|()| self.r.finish());
                    self.r = outer;
                    result.map_err(|e| {
                        CoreError::new(e.code, format!("{}.{}: {}", schema.name, field.name, e.message))
                    })?;
                }
                None if matches!(field.kind, Kind::Nullable(_)) => writer::nil(&mut self.out),
                None => return Err(self.r.error(format!("{} is missing field {:?}", schema.name, field.name))),
            }
        }
        Ok(())
    }

    fn union_to_plain(&mut self, schema: &'static UnionSchema, depth: usize) -> Result<(), CoreError> {
        let n = self.r.read_array_len()?;
        if n != 2 {
            return Err(self.r.error(format!("{} union envelope has {n} items, not 2", schema.name)));
        }
        let id = self.r.read_int()?;
        let member = find_member(schema, |m| m.id == id)
            .ok_or_else(|| self.r.error(format!("{} has no member with id {id}", schema.name)))?;
        match member.schema {
            Some(object) if !self.r.try_nil()? => self.object_to_plain(object, Some(member.name), depth + 1),
            Some(_) => {
                writer::map_len(&mut self.out, 1);
                writer::str(&mut self.out, UNION_TAG);
                writer::str(&mut self.out, member.name);
                Ok(())
            }
            None => {
                writer::map_len(&mut self.out, 2);
                writer::str(&mut self.out, UNION_TAG);
                writer::str(&mut self.out, member.name);
                writer::str(&mut self.out, UNION_RAW);
                let raw = self.r.raw_value(depth + 1)?;
                self.out.extend_from_slice(raw);
                Ok(())
            }
        }
    }

    fn union_to_wire(&mut self, schema: &'static UnionSchema, depth: usize) -> Result<(), CoreError> {
        // Field names are only known once "type" is read, so first read the map against an
        // empty schema that accepts any key, then match.
        let start = self.r.clone();
        let n = self.r.read_map_len()?;
        let mut tag = None;
        for _ in 0..n {
            let key = self.r.read_str()?;
            if key == UNION_TAG {
                tag = Some(self.r.read_str()?);
            } else {
                self.r.skip_value(depth + 1)?;
            }
        }
        let tag = tag.ok_or_else(|| self.r.error(format!("{} value has no \"type\"", schema.name)))?;
        let member = find_member(schema, |m| m.name == tag)
            .ok_or_else(|| self.r.error(format!("{} has no member {tag:?}", schema.name)))?;
        writer::array_len(&mut self.out, 2);
        writer::int(&mut self.out, member.id);
        let end = self.r.clone();
        self.r = start;
        match member.schema {
            Some(object) => {
                let entries = self.plain_entries(object, true, depth)?;
                if entries.raw.is_some() {
                    return Err(self.r.error(format!("{tag} is modelled: \"raw\" not allowed")));
                }
                self.object_to_wire(object, &entries, depth + 1)?;
            }
            None => {
                let entries = self.plain_entries(&super::schema::NO_FIELDS, true, depth)?;
                match entries.raw {
                    Some(raw) => self.out.extend_from_slice(raw),
                    None => writer::nil(&mut self.out),
                }
            }
        }
        self.r = end;
        Ok(())
    }
}

struct Entries<'a> {
    fields: Vec<Option<&'a [u8]>>,
    tag: Option<&'a [u8]>,
    raw: Option<&'a [u8]>,
}

fn find_member(schema: &'static UnionSchema, pred: impl Fn(&Member) -> bool) -> Option<&'static Member> {
    schema.members.iter().find(|m| pred(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_mod_settings_quirk_both_ways() {
        // ["DT", settings N=1: "speed_change", 1.5]
        let mut wire = vec![0x92, 0xa2, b'D', b'T', 0x91, 0xac];
        wire.extend(b"speed_change");
        wire.push(0xcb);
        wire.extend(1.5f64.to_be_bytes());
        let plain = decode("APIMod", &wire).unwrap();
        let mut expect = vec![0x82, 0xa7];
        expect.extend(b"Acronym");
        expect.extend([0xa2, b'D', b'T', 0xa8]);
        expect.extend(b"Settings");
        expect.extend([0x81, 0xac]);
        expect.extend(b"speed_change");
        expect.push(0xcb);
        expect.extend(1.5f64.to_be_bytes());
        assert_eq!(plain, expect);
        assert_eq!(encode("APIMod", &plain).unwrap(), wire);
    }

    #[test]
    fn standard_match_room_state_has_nil_gap() {
        let wire = [0x92, 0x03, 0x93, 0xc0, 0xc2, 0xc0];
        let plain = decode("MatchRoomState", &wire).unwrap();
        assert_eq!(encode("MatchRoomState", &plain).unwrap(), wire);
    }

    #[test]
    fn argument_lists_check_arity() {
        assert!(decode("long?,int", &[0x92, 0xc0, 0x05]).is_ok());
        assert_eq!(decode("long?,int", &[0x91, 0xc0]).unwrap_err().code, ErrorCode::MsgpackDecode);
        assert_eq!(decode("Nope", &[0xc0]).unwrap_err().code, ErrorCode::InvalidArgument);
        // nil for a list: read as null, never written.
        assert_eq!(decode("int[]", &[0xc0]).unwrap(), vec![0xc0]);
        assert_eq!(encode("int[]", &[0xc0]).unwrap_err().code, ErrorCode::MsgpackEncode);
        assert_eq!(encode("int[]?", &[0xc0]).unwrap(), vec![0xc0]);
        assert_eq!(decode("int,", &[0x91, 0x05]).unwrap(), vec![0x91, 0x05]);
        assert_eq!(decode(",", &[0x90]).unwrap(), vec![0x90]);
        assert!(decode(",", &[0x91, 0x05]).is_err());
    }

    #[test]
    fn check_walk_agrees_with_decode() {
        let good = [0x92, 0x91, 0x00, 0x91, 0x94, 0x00, 0xc0, 0xca, 0, 0, 0, 0, 0x01];
        assert!(decode("FrameDataBundle", &good).is_ok());
        assert!(validate(&super::super::schema::FRAME_DATA_BUNDLE, &good, &["Header", "Frames"]).is_ok());
        // MouseY as a string: both refuse it.
        let bad = [0x92, 0x91, 0x00, 0x91, 0x94, 0x00, 0xc0, 0xa1, b'x', 0x01];
        assert!(decode("FrameDataBundle", &bad).is_err());
        assert!(validate(&super::super::schema::FRAME_DATA_BUNDLE, &bad, &[]).is_err());
        // Frames missing: decodable, but the relay requires it.
        assert!(validate(&super::super::schema::FRAME_DATA_BUNDLE, &[0x91, 0x90], &["Header", "Frames"]).is_err());
    }

    #[test]
    fn date_time_offset_converts_to_utc() {
        // wall clock 3600 s "as if UTC" with offset +60 min is 0 s UTC.
        let wire = [0x92, 0xd6, 0xff, 0, 0, 0x0e, 0x10, 0x3c];
        assert_eq!(decode("DateTimeOffset", &wire).unwrap(), vec![0xd6, 0xff, 0, 0, 0, 0]);
    }
}
