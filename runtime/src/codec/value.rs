//! Value encoding: bincode 2 (`standard()` config: little endian, varint integers) for scalars;
//! length-prefixed strings, bytes and sequences whose lengths are checked against the input.

use super::DecodeError;
use bincode::config::{Configuration, standard};
use bincode::de::read::{BorrowReader, Reader as BincodeRead};
use bincode::de::{Decode, DecoderImpl};
use bincode::enc::write::Writer as BincodeWrite;
use bincode::enc::{Encode, EncoderImpl};
use bincode::error::{DecodeError as BincodeDecodeError, EncodeError};
use std::collections::BTreeMap;

const CONFIG: Configuration = standard();

/// Appends encoded fields to a buffer.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// Reads encoded fields from a stored value, borrowing from it where it can.
pub struct Reader<'a> {
    input: &'a [u8],
}

/// A type that can be stored as (part of) a value.
///
/// Implemented here for every scalar, `String`, `Vec<T>` and `Option<T>`; generated code
/// implements it for models by writing their fields in schema order.
pub trait Value: Sized {
    /// Appends the encoding of `self`.
    fn write(&self, w: &mut Writer<'_>);
    /// Decodes one value, advancing the reader.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// A type that can be decoded by borrowing from the stored bytes: `&'a str` for `String`,
/// `&'a [u8]` for bytes. Zero-copy views are made of these.
pub trait BorrowValue<'a>: Sized {
    /// The owned type this is a view of (`String` for `&str`).
    type Owned;
    /// Decodes one value, borrowing from the reader's input.
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
    /// Copies the view into its owned type.
    fn to_owned_value(&self) -> Self::Owned;
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    /// Appends one value.
    #[inline]
    pub fn write<T: Value>(&mut self, value: &T) {
        value.write(self);
    }

    fn bincode<T: Encode>(&mut self, value: &T) {
        let mut encoder = EncoderImpl::new(VecWrite(self.out), CONFIG);
        // Writing into a Vec cannot fail, and no type we encode reports an error of its own.
        let _: Result<(), EncodeError> = value.encode(&mut encoder);
    }

    /// Writes an unsigned varint, the one-byte case without going through bincode.
    #[inline]
    fn varint<T: Encode + Copy + TryInto<u8>>(&mut self, value: T) {
        match value.try_into() {
            Ok(byte @ 0..=250) => self.out.push(byte),
            _ => self.bincode(&value),
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }
}

impl<'a> Reader<'a> {
    /// A reader over one stored value.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// Reads one owned value.
    #[inline]
    pub fn read<T: Value>(&mut self) -> Result<T, DecodeError> {
        T::read(self)
    }

    /// Reads one borrowed value.
    #[inline]
    pub fn read_borrowed<T: BorrowValue<'a>>(&mut self) -> Result<T, DecodeError> {
        T::read_borrowed(self)
    }

    /// Fails unless every byte was consumed: trailing bytes mean the value was not written by
    /// this layout.
    #[inline]
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(trailing_bytes(self.input.len()))
        }
    }

    fn bincode<T: Decode<()>>(&mut self) -> Result<T, DecodeError> {
        let mut decoder = DecoderImpl::new(SliceRead(&mut self.input), CONFIG, ());
        T::decode(&mut decoder).map_err(bincode_error)
    }

    /// A varint of one byte (values below 251, bincode's `SINGLE_BYTE_MAX`), read without going
    /// through bincode; `None` for anything else, which bincode then decodes (and checks).
    #[inline]
    fn small_varint(&mut self) -> Option<u8> {
        match *self.input {
            [byte @ 0..=250, ref rest @ ..] => {
                self.input = rest;
                Some(byte)
            }
            _ => None,
        }
    }

    /// A varint of three bytes (bincode's marker 251 and a little-endian `u16`), read without
    /// going through bincode.
    #[inline]
    fn u16_varint(&mut self) -> Option<u16> {
        match *self.input {
            [251, low, high, ref rest @ ..] => {
                self.input = rest;
                Some(u16::from_le_bytes([low, high]))
            }
            _ => None,
        }
    }

    /// An unsigned varint: the one- and three-byte forms (values below 65,536: most lengths,
    /// counts, ids and ages) are read here, 26 instructions fewer than through bincode for an
    /// id of the scan of `examples/instructions`; bincode decodes (and checks) the others.
    #[inline]
    fn varint<T: From<u8> + From<u16> + Decode<()>>(&mut self) -> Result<T, DecodeError> {
        if let Some(byte) = self.small_varint() {
            return Ok(byte.into());
        }
        match self.u16_varint() {
            Some(value) => Ok(value.into()),
            None => self.bincode(),
        }
    }

    /// Reads a length prefix and checks it against what is left: every element takes at least
    /// one byte, so a length larger than the input is corruption, refused before allocating.
    #[inline]
    pub(super) fn len(&mut self) -> Result<usize, DecodeError> {
        let len: u64 = self.varint()?;
        if len > self.input.len() as u64 {
            return Err(length_exceeds(len, self.input.len()));
        }
        Ok(len as usize)
    }

    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.len()?;
        let (head, tail) = self.input.split_at(len);
        self.input = tail;
        Ok(head)
    }

    #[inline(always)]
    fn str(&mut self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.bytes()?).map_err(not_utf8)
    }

    /// An owned string, copied and then checked: `from_utf8` checks a word at a time from the
    /// first aligned word, and a new allocation is aligned where bytes inside a page mostly are
    /// not, so checking the copy costs about half as many instructions for short strings.
    fn string(&mut self) -> Result<String, DecodeError> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|e| not_utf8(e.utf8_error()))
    }
}

// The error constructors below are out of line and cold, so that the decoding steps that can
// fail stay small enough to be inlined into every generated decoder.

#[cold]
#[inline(never)]
fn trailing_bytes(left: usize) -> DecodeError {
    DecodeError::new(format!("{left} unexpected trailing byte(s)"))
}

#[cold]
#[inline(never)]
fn length_exceeds(len: u64, left: usize) -> DecodeError {
    DecodeError::new(format!(
        "length prefix {len} exceeds the {left} byte(s) left in the value"
    ))
}

#[cold]
#[inline(never)]
fn not_utf8(e: std::str::Utf8Error) -> DecodeError {
    DecodeError::new(format!("string is not UTF-8: {e}"))
}

#[cold]
#[inline(never)]
fn bincode_error(e: BincodeDecodeError) -> DecodeError {
    DecodeError::new(e.to_string())
}

struct VecWrite<'a>(&'a mut Vec<u8>);

impl BincodeWrite for VecWrite<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

struct SliceRead<'r, 'a>(&'r mut &'a [u8]);

impl BincodeRead for SliceRead<'_, '_> {
    #[inline]
    fn read(&mut self, bytes: &mut [u8]) -> Result<(), BincodeDecodeError> {
        let taken = self.take_bytes(bytes.len())?;
        bytes.copy_from_slice(taken);
        Ok(())
    }

    // With these two, bincode decodes varints on its fast path (one bounds check, no copy)
    // instead of byte by byte through `read`.
    #[inline]
    fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
        self.0.get(..n)
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        *self.0 = self.0.get(n..).unwrap_or_default();
    }
}

impl<'a> BorrowReader<'a> for SliceRead<'_, 'a> {
    #[inline]
    fn take_bytes(&mut self, length: usize) -> Result<&'a [u8], BincodeDecodeError> {
        if length > self.0.len() {
            return Err(BincodeDecodeError::UnexpectedEnd {
                additional: length - self.0.len(),
            });
        }
        let (head, tail) = self.0.split_at(length);
        *self.0 = tail;
        Ok(head)
    }
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn write(&self, w: &mut Writer<'_>) {
                w.bincode(self);
            }
            #[inline]
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.bincode()
            }
        }
        impl BorrowValue<'_> for $t {
            type Owned = $t;
            #[inline]
            fn read_borrowed(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.bincode()
            }
            #[inline]
            fn to_owned_value(&self) -> $t {
                *self
            }
        }
    )*};
}

scalar!(u8, u128, i8, i16, i32, i64, i128, f32, f64, bool, char);

/// Unsigned varints: most values stored are small, so the one- and three-byte forms skip
/// bincode (`Reader::varint`).
macro_rules! unsigned_varint {
    ($($t:ty),*) => {$(
        impl Value for $t {
            #[inline]
            fn write(&self, w: &mut Writer<'_>) {
                w.varint(*self);
            }
            #[inline]
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.varint()
            }
        }
        impl BorrowValue<'_> for $t {
            type Owned = $t;
            #[inline]
            fn read_borrowed(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Self::read(r)
            }
            #[inline]
            fn to_owned_value(&self) -> $t {
                *self
            }
        }
    )*};
}

unsigned_varint!(u16, u32, u64);

impl Value for String {
    fn write(&self, w: &mut Writer<'_>) {
        w.bytes(self.as_bytes());
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.string()
    }
}

impl<'a> BorrowValue<'a> for &'a str {
    type Owned = String;
    #[inline]
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.str()
    }
    fn to_owned_value(&self) -> String {
        (*self).to_owned()
    }
}

/// Raw bytes (the schema type `Bytes`): stored as a length and the bytes, read back as a
/// borrowed slice without copying.
impl<'a> BorrowValue<'a> for &'a [u8] {
    type Owned = Vec<u8>;
    #[inline]
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.bytes()
    }
    fn to_owned_value(&self) -> Vec<u8> {
        self.to_vec()
    }
}

impl<T: Value> Value for Option<T> {
    fn write(&self, w: &mut Writer<'_>) {
        match self {
            None => w.bincode(&0u8),
            Some(v) => {
                w.bincode(&1u8);
                v.write(w);
            }
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.bincode::<u8>()? {
            0 => Ok(None),
            1 => T::read(r).map(Some),
            tag => Err(DecodeError::new(format!("invalid Option tag {tag}"))),
        }
    }
}

impl<'a, T: BorrowValue<'a>> BorrowValue<'a> for Option<T> {
    type Owned = Option<T::Owned>;
    fn to_owned_value(&self) -> Self::Owned {
        self.as_ref().map(T::to_owned_value)
    }
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        match r.bincode::<u8>()? {
            0 => Ok(None),
            1 => T::read_borrowed(r).map(Some),
            tag => Err(DecodeError::new(format!("invalid Option tag {tag}"))),
        }
    }
}

/// Sequences. `Vec<u8>` is the schema's `Bytes` and is written as one block; other element
/// types one after another.
impl<T: Value + 'static> Value for Vec<T> {
    fn write(&self, w: &mut Writer<'_>) {
        if let Some(bytes) = as_bytes(self) {
            return w.bytes(bytes);
        }
        w.varint(self.len() as u64);
        for item in self {
            item.write(w);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = r.len()?;
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            out.push(T::read(r)?);
        }
        Ok(out)
    }
}

impl<'a, T: BorrowValue<'a>> BorrowValue<'a> for Vec<T> {
    type Owned = Vec<T::Owned>;
    fn to_owned_value(&self) -> Self::Owned {
        self.iter().map(T::to_owned_value).collect()
    }
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let len = r.len()?;
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            out.push(T::read_borrowed(r)?);
        }
        Ok(out)
    }
}

/// Fixed-size arrays: the items one after another, no length.
impl<T: Value, const N: usize> Value for [T; N] {
    fn write(&self, w: &mut Writer<'_>) {
        for item in self {
            item.write(w);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let items = (0..N).map(|_| T::read(r)).collect::<Result<Vec<T>, _>>()?;
        items
            .try_into()
            .map_err(|_| DecodeError::new("array length mismatch"))
    }
}

impl<'a, T: BorrowValue<'a>, const N: usize> BorrowValue<'a> for [T; N] {
    type Owned = [T::Owned; N];
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let items = (0..N)
            .map(|_| T::read_borrowed(r))
            .collect::<Result<Vec<T>, _>>()?;
        items
            .try_into()
            .map_err(|_| DecodeError::new("array length mismatch"))
    }
    fn to_owned_value(&self) -> Self::Owned {
        std::array::from_fn(|i| self[i].to_owned_value())
    }
}

/// Maps: a length, then key and value pairs in key order. A key repeated in the stored bytes is
/// corruption (no encoder writes one).
impl<K: Value + Ord, V: Value> Value for BTreeMap<K, V> {
    fn write(&self, w: &mut Writer<'_>) {
        w.varint(self.len() as u64);
        for (k, v) in self {
            k.write(w);
            v.write(w);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = r.len()?;
        let mut map = BTreeMap::new();
        for _ in 0..len {
            let k = K::read(r)?;
            let v = V::read(r)?;
            if map.insert(k, v).is_some() {
                return Err(DecodeError::new("map key repeated"));
            }
        }
        Ok(map)
    }
}

impl<'a, K: BorrowValue<'a> + Ord, V: BorrowValue<'a>> BorrowValue<'a> for BTreeMap<K, V>
where
    K::Owned: Ord,
{
    type Owned = BTreeMap<K::Owned, V::Owned>;
    fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let len = r.len()?;
        let mut map = BTreeMap::new();
        for _ in 0..len {
            let k = K::read_borrowed(r)?;
            let v = V::read_borrowed(r)?;
            if map.insert(k, v).is_some() {
                return Err(DecodeError::new("map key repeated"));
            }
        }
        Ok(map)
    }
    fn to_owned_value(&self) -> Self::Owned {
        self.iter()
            .map(|(k, v)| (k.to_owned_value(), v.to_owned_value()))
            .collect()
    }
}

/// Tuples: their items in order (a link to a model with a composite primary key stores one).
macro_rules! tuple {
    ($($name:ident . $i:tt),+) => {
        impl<$($name: Value),+> Value for ($($name,)+) {
            fn write(&self, w: &mut Writer<'_>) {
                $(self.$i.write(w);)+
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(($($name::read(r)?,)+))
            }
        }

        impl<'a, $($name: BorrowValue<'a>),+> BorrowValue<'a> for ($($name,)+) {
            type Owned = ($($name::Owned,)+);
            fn read_borrowed(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
                Ok(($($name::read_borrowed(r)?,)+))
            }
            fn to_owned_value(&self) -> Self::Owned {
                ($(self.$i.to_owned_value(),)+)
            }
        }
    };
}

tuple!(A.0, B.1);
tuple!(A.0, B.1, C.2);
tuple!(A.0, B.1, C.2, D.3);
tuple!(A.0, B.1, C.2, D.3, E.4);
tuple!(A.0, B.1, C.2, D.3, E.4, F.5);

// `Any` downcasts need the sized `Vec`, hence `&Vec<T>` rather than a slice.
#[allow(clippy::ptr_arg)]
fn as_bytes<T: 'static>(v: &Vec<T>) -> Option<&[u8]> {
    (v as &dyn std::any::Any)
        .downcast_ref::<Vec<u8>>()
        .map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Value + PartialEq + std::fmt::Debug>(v: T) {
        let mut buf = Vec::new();
        Writer::new(&mut buf).write(&v);
        let mut r = Reader::new(&buf);
        assert_eq!(r.read::<T>().unwrap(), v);
        r.finish().unwrap();
    }

    #[test]
    fn tuples_round_trip_and_borrow() {
        round_trip((String::from("JP"), -2024i32));
        round_trip((1u8, String::new(), Some(u64::MAX)));
        round_trip(vec![(String::from("a"), 1u16), (String::from("b"), 2)]);
        let mut buf = Vec::new();
        Writer::new(&mut buf).write(&(String::from("東京"), 7u32));
        let mut r = Reader::new(&buf);
        let view: (&str, u32) = r.read_borrowed().unwrap();
        assert_eq!(view, ("東京", 7));
        assert_eq!(view.to_owned_value(), (String::from("東京"), 7));
        r.finish().unwrap();
    }

    #[test]
    fn scalars_strings_options_vectors_round_trip() {
        round_trip(u64::MAX);
        round_trip(i64::MIN);
        round_trip(-0.0f64);
        round_trip(String::from("Zürich 東京"));
        round_trip(String::new());
        round_trip(Some(7i32));
        round_trip(None::<String>);
        round_trip(vec![String::from("a"), String::new()]);
        round_trip(vec![0u8, 255, 7]);
        round_trip(Vec::<u16>::new());
        round_trip(u128::MAX);
        round_trip(i128::MIN);
        round_trip('東');
        round_trip([String::from("a"), String::new(), String::from("ü")]);
        round_trip(BTreeMap::from([
            (String::from("b"), -1i64),
            (String::new(), 0),
        ]));
        round_trip(BTreeMap::<u8, Vec<bool>>::new());
    }

    #[test]
    fn varints_match_bincode_around_the_one_byte_limit() {
        fn check<T: Value + Encode + Decode<()> + PartialEq + std::fmt::Debug + Copy>(v: T) {
            let mut ours = Vec::new();
            Writer::new(&mut ours).write(&v);
            assert_eq!(ours, bincode::encode_to_vec(v, CONFIG).unwrap(), "{v:?}");
            round_trip(v);
        }
        for v in [0u64, 1, 250, 251, 252, 255, 256, 65_535, 65_536, u64::MAX] {
            check(v);
            check(v as u32);
            check(v as u16);
        }
        // A length of 251 takes the multi-byte form.
        round_trip("x".repeat(251));
        // A discriminant too wide for the type is an error, not a truncation.
        let mut wide = Vec::new();
        Writer::new(&mut wide).write(&u64::MAX);
        assert!(Reader::new(&wide).read::<u32>().is_err());
        assert!(Reader::new(&[251, 1]).read::<u16>().is_err());
        assert!(Reader::new(&[251, 1]).read::<u64>().is_err());
        // A value written in a wider form than it needs reads back as bincode reads it.
        for bytes in [&[251, 5, 0][..], &[252, 7, 1, 0, 0], &[251, 0xff, 0xff]] {
            let ours: u64 = Reader::new(bytes).read().unwrap();
            let (theirs, _): (u64, usize) = bincode::decode_from_slice(bytes, CONFIG).unwrap();
            assert_eq!(ours, theirs, "{bytes:?}");
        }
    }

    #[test]
    fn repeated_map_keys_are_corruption() {
        let mut buf = Vec::new();
        let mut w = Writer::new(&mut buf);
        w.write(&2u64);
        for _ in 0..2 {
            w.write(&7u8);
            w.write(&true);
        }
        assert!(Reader::new(&buf).read::<BTreeMap<u8, bool>>().is_err());
    }

    #[test]
    fn bytes_and_str_encode_alike_and_borrow() {
        let mut a = Vec::new();
        Writer::new(&mut a).write(&vec![104u8, 105]);
        let mut b = Vec::new();
        Writer::new(&mut b).write(&String::from("hi"));
        assert_eq!(a, b);
        let mut r = Reader::new(&b);
        let s: &str = r.read_borrowed().unwrap();
        assert_eq!(s, "hi");
        assert!(std::ptr::eq(s.as_bytes().as_ptr(), b[1..].as_ptr()));
    }

    #[test]
    fn huge_length_prefix_is_refused_without_allocating() {
        let mut buf = Vec::new();
        Writer::new(&mut buf).write(&(u64::MAX / 2));
        let err = Reader::new(&buf).read::<Vec<u8>>().unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
        let err = Reader::new(&buf).read::<Vec<u64>>().unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[test]
    fn truncated_and_trailing_input_are_errors() {
        let mut buf = Vec::new();
        Writer::new(&mut buf).write(&String::from("hello"));
        assert!(Reader::new(&buf[..3]).read::<String>().is_err());
        buf.push(0);
        let mut r = Reader::new(&buf);
        r.read::<String>().unwrap();
        assert!(r.finish().is_err());
        assert!(Reader::new(&[2]).read::<bool>().is_err());
        assert!(Reader::new(&[7]).read::<Option<u8>>().is_err());
        assert!(Reader::new(&[2, 0xff, 0xfe]).read::<String>().is_err());
    }
}
