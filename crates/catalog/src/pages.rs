//! Data pages of flat columns (text, integers, timestamps, booleans), encoded here instead of by
//! arrow2: the same PLAIN pages with RLE/bit-packed definition levels and min/max statistics,
//! at a fraction of the cost. arrow2 feeds every definition level and boolean through a
//! bit-at-a-time iterator; here a column without NULLs gets one RLE run for its levels, and
//! validity and boolean bitmaps are copied as the bit-packed runs they already are (Arrow and
//! Parquet both pack bits least significant first). Text dictionary columns get a PLAIN
//! dictionary page and one `RLE_DICTIONARY` data page per row group, with bytewise min/max.
//! Nearly sequential 64-bit integers without NULLs (`source_line`) get `DELTA_BINARY_PACKED`
//! pages when those are at most a quarter of PLAIN ([`delta_bytes`]). Float, binary and
//! nested columns still go through arrow2.

use arrow2::array::{Array, BooleanArray, DictionaryArray, PrimitiveArray, Utf8Array};
use arrow2::bitmap::Bitmap;
use arrow2::io::parquet::write::{Page, ParquetType};
use parquet2::encoding::Encoding;
use parquet2::metadata::Descriptor;
use parquet2::page::{DataPage, DataPageHeader, DataPageHeaderV1, DictPage};
use parquet2::schema::types::{PhysicalType, PrimitiveType};
use parquet2::schema::Repetition;
use parquet2::statistics::{
    serialize_statistics, BinaryStatistics, BooleanStatistics, ParquetStatistics, PrimitiveStatistics,
};

/// Null count and bytewise min/max of a text column chunk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextStats {
    pub(crate) nulls: i64,
    pub(crate) min: Option<Vec<u8>>,
    pub(crate) max: Option<Vec<u8>>,
}

impl TextStats {
    pub(crate) fn new(nulls: usize) -> Self {
        TextStats { nulls: i64::try_from(nulls).unwrap_or(i64::MAX), min: None, max: None }
    }

    /// The bounds of the dictionary `values` whose `used` flag is set.
    pub(crate) fn of_used(values: &Utf8Array<i32>, used: &[bool], nulls: usize) -> Self {
        let mut stats = TextStats::new(nulls);
        for (k, _) in used.iter().enumerate().filter(|(_, u)| **u) {
            stats.add(values.value(k).as_bytes());
        }
        stats
    }

    /// Counts a present value in the bounds.
    pub(crate) fn add(&mut self, v: &[u8]) {
        if self.min.as_deref().is_none_or(|m| v < m) {
            self.min = Some(v.to_vec());
        }
        if self.max.as_deref().is_none_or(|m| v > m) {
            self.max = Some(v.to_vec());
        }
    }
}

/// A flat column this module encodes.
enum Flat<'a> {
    Utf8(&'a Utf8Array<i32>),
    Int64(&'a PrimitiveArray<i64>),
    Int32(&'a PrimitiveArray<i32>),
    Int16(&'a PrimitiveArray<i16>),
    Bool(&'a BooleanArray),
}

impl<'a> Flat<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        let any = array.as_any();
        if let Some(a) = any.downcast_ref::<Utf8Array<i32>>() {
            return Some(Flat::Utf8(a));
        }
        if let Some(a) = any.downcast_ref::<PrimitiveArray<i64>>() {
            return Some(Flat::Int64(a));
        }
        if let Some(a) = any.downcast_ref::<PrimitiveArray<i32>>() {
            return Some(Flat::Int32(a));
        }
        if let Some(a) = any.downcast_ref::<PrimitiveArray<i16>>() {
            return Some(Flat::Int16(a));
        }
        any.downcast_ref::<BooleanArray>().map(Flat::Bool)
    }

    /// Bytes the PLAIN values take, for splitting into pages.
    fn plain_bytes(&self) -> usize {
        match self {
            Flat::Utf8(a) => a.values().len() + 4 * a.len(),
            Flat::Int64(a) => 8 * a.len(),
            Flat::Int32(a) => 4 * a.len(),
            Flat::Int16(a) => 4 * a.len(),
            Flat::Bool(a) => a.len().div_ceil(8),
        }
    }

    fn validity(&self) -> Option<&Bitmap> {
        match self {
            Flat::Utf8(a) => a.validity(),
            Flat::Int64(a) => a.validity(),
            Flat::Int32(a) => a.validity(),
            Flat::Int16(a) => a.validity(),
            Flat::Bool(a) => a.validity(),
        }
    }
}

/// The pages of `array` (one row group's slice of a column) when it is a flat column this
/// module encodes, split to about `page_bytes` of values each, with the chunk's statistics
/// for a text column; `None` for any other column.
pub(crate) fn flat_pages(
    array: &dyn Array,
    ty: &ParquetType,
    page_bytes: usize,
) -> Option<(Vec<Page>, Option<TextStats>)> {
    let ParquetType::PrimitiveType(pt) = ty else { return None };
    let flat = Flat::of(array)?;
    let physical = match flat {
        Flat::Utf8(_) => PhysicalType::ByteArray,
        Flat::Int64(_) => PhysicalType::Int64,
        Flat::Int32(_) | Flat::Int16(_) => PhysicalType::Int32,
        Flat::Bool(_) => PhysicalType::Boolean,
    };
    if pt.physical_type != physical {
        return None;
    }
    let len = array.len();
    if len == 0 {
        return None;
    }
    let optional = pt.field_info.repetition == Repetition::Optional;
    if !optional && array.null_count() > 0 {
        // arrow2 reports this mismatch; leave it to it
        return None;
    }
    let pages = flat.plain_bytes().div_ceil(page_bytes.max(1)).clamp(1, len);
    let rows_per_page = len.div_ceil(pages);
    let validity = flat.validity().filter(|v| v.unset_bits() > 0);
    let mut text = matches!(flat, Flat::Utf8(_)).then(|| TextStats::new(array.null_count()));
    let pages = (0..len)
        .step_by(rows_per_page)
        .map(|start| {
            let rows = rows_per_page.min(len - start);
            let (page, bounds) = page(&flat, pt, optional.then_some(validity), start, rows);
            if let (Some(t), Some((min, max))) = (text.as_mut(), bounds) {
                t.add(min);
                t.add(max);
            }
            page
        })
        .collect();
    Some((pages, text))
}

/// The pages of a text dictionary column's row group (its dictionary page, then one data page
/// of bit-packed keys) with its statistics; `None` for any other column, and for a chunk
/// without values (left to arrow2).
pub(crate) fn dict_pages(array: &dyn Array, ty: &ParquetType) -> Option<(Vec<Page>, TextStats)> {
    let ParquetType::PrimitiveType(pt) = ty else { return None };
    let dict = array.as_any().downcast_ref::<DictionaryArray<i32>>()?;
    let values = dict.values().as_any().downcast_ref::<Utf8Array<i32>>()?;
    let len = dict.len();
    let optional = pt.field_info.repetition == Repetition::Optional;
    if pt.physical_type != PhysicalType::ByteArray
        || len == 0
        || values.is_empty()
        || values.null_count() > 0
        || dict.null_count() == len
        || !optional && dict.null_count() > 0
    {
        return None;
    }
    let validity = dict.validity().filter(|v| v.unset_bits() > 0);
    let mut keys = Vec::with_capacity(len - dict.null_count());
    let mut used = vec![false; values.len()];
    let mut top = 0u32;
    // a key out of range (negative keys wrap above it) leaves the chunk to arrow2
    let mut take = |k: i32| -> Option<()> {
        let k = k as u32;
        *used.get_mut(k as usize)? = true;
        top = top.max(k);
        keys.push(k);
        Some(())
    };
    let raw = dict.keys().values();
    match validity {
        None => raw.iter().copied().try_for_each(&mut take)?,
        Some(v) => {
            let (bits, offset, _) = v.as_slice();
            if offset % 8 == 0 {
                // a byte of validity at a time: eight present rows (the usual byte) in one test
                let bytes = bits.get(offset / 8..).unwrap_or_default();
                for (keys, &byte) in raw.chunks(8).zip(bytes) {
                    if byte == u8::MAX && keys.len() == 8 {
                        keys.iter().copied().try_for_each(&mut take)?;
                    } else {
                        for (i, &k) in keys.iter().enumerate() {
                            if byte >> i & 1 == 1 {
                                take(k)?;
                            }
                        }
                    }
                }
            } else {
                // a slice starting inside a byte: bit by bit
                raw.iter().zip(v.iter()).filter(|(_, ok)| *ok).try_for_each(|(&k, _)| take(k))?;
            }
        }
    }
    let stats = TextStats::of_used(values, &used, dict.null_count());
    // the dictionary page: every value, PLAIN
    let mut dbuf = Vec::with_capacity(values.values().len() + 4 * values.len());
    for v in values.values_iter() {
        dbuf.extend_from_slice(&u32::try_from(v.len()).unwrap_or(u32::MAX).to_le_bytes());
        dbuf.extend_from_slice(v.as_bytes());
    }
    let dict_page = Page::Dict(DictPage::new(dbuf, values.len(), false));
    // the data page: levels, the keys' bit width, one bit-packed run of the keys
    let mut buf = Vec::with_capacity(keys.len() * 2 + 16);
    if optional {
        def_levels(&mut buf, validity, 0, len);
    }
    let width = (32 - top.leading_zeros()).max(1);
    buf.push(width as u8);
    pack_keys(&mut buf, &keys, width);
    let statistics = text_statistics(pt, stats.nulls, stats.min.as_deref(), stats.max.as_deref());
    let data = data_page(buf, pt, len, Encoding::RleDictionary, statistics);
    Some((vec![dict_page, data], stats))
}

/// One bit-packed run of `keys`, `width` bits each, LSB first, padded to a multiple of eight
/// values. Every key must fit in `width` bits.
fn pack_keys(buf: &mut Vec<u8>, keys: &[u32], width: u32) {
    let groups = keys.len().div_ceil(8);
    varint(buf, ((groups as u64) << 1) | 1);
    // eight keys take exactly `width` bytes
    buf.reserve(groups * width as usize);
    let mut chunks = keys.chunks_exact(8);
    for group in &mut chunks {
        pack_group(buf, group, width);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u32; 8];
        last[..rest.len()].copy_from_slice(rest);
        pack_group(buf, &last, width);
    }
}

/// Eight keys as `width` bytes: through one 128-bit word when they fit (16 bits or fewer:
/// dictionaries of up to 65,536 values), bit by bit otherwise.
#[inline]
fn pack_group(buf: &mut Vec<u8>, group: &[u32], width: u32) {
    if width <= 16 {
        let word = group.iter().enumerate().fold(0u128, |w, (i, &k)| w | u128::from(k) << (i as u32 * width));
        buf.extend_from_slice(&word.to_le_bytes()[..width as usize]);
        return;
    }
    let (mut acc, mut bits) = (0u64, 0u32);
    for &k in group {
        acc |= u64::from(k) << bits;
        bits += width;
        while bits >= 8 {
            buf.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
}

/// A text page's min and max values.
type Bounds<'a> = (&'a [u8], &'a [u8]);

/// One data page of rows `start..start + rows`, with a text page's min and max; `levels` is
/// `Some` for an optional column (holding its validity when it has NULLs).
fn page<'a>(
    flat: &Flat<'a>,
    pt: &PrimitiveType,
    levels: Option<Option<&Bitmap>>,
    start: usize,
    rows: usize,
) -> (Page, Option<Bounds<'a>>) {
    let mut buf = Vec::new();
    let mut encoding = Encoding::Plain;
    let validity = levels.flatten();
    if let Some(v) = levels {
        def_levels(&mut buf, v, start, rows);
    }
    let end = start + rows;
    let mut bounds = None;
    let statistics = match flat {
        Flat::Utf8(a) => {
            let mut values = 0usize;
            let (offsets, data) = (a.offsets().buffer(), a.values().as_slice());
            // bounds with their first eight bytes as big-endian keys: most values differ from
            // the bounds there, and two integer compares replace two memcmp calls
            let mut min: Option<(u64, &[u8])> = None;
            let mut max: Option<(u64, &[u8])> = None;
            let bytes = offsets.get(end).map_or(0, |e| e.unsigned_abs() as usize)
                - offsets.get(start).map_or(0, |s| s.unsigned_abs() as usize);
            // a short value is copied as one fixed 16-byte move and the bytes past it cut off
            // again (no memcpy call per value); the room is reserved up front
            buf.reserve(bytes + 4 * rows + SLACK);
            for_each_present(validity, start, end, |i| {
                let (s, e) = (offsets[i].unsigned_abs() as usize, offsets[i + 1].unsigned_abs() as usize);
                let v = data.get(s..e).unwrap_or_default();
                buf.extend_from_slice(&u32::try_from(v.len()).unwrap_or(u32::MAX).to_le_bytes());
                match data.get(s..s + SLACK).and_then(|w| <&[u8; SLACK]>::try_from(w).ok()) {
                    Some(window) if v.len() <= SLACK => {
                        buf.extend_from_slice(window);
                        buf.truncate(buf.len() - (SLACK - v.len()));
                    }
                    _ => buf.extend_from_slice(v),
                }
                values += 1;
                let k = key8(v);
                if min.is_none_or(|(mk, m)| k < mk || k == mk && v < m) {
                    min = Some((k, v));
                }
                if max.is_none_or(|(mk, m)| k > mk || k == mk && v > m) {
                    max = Some((k, v));
                }
            });
            let (min, max) = (min.map(|m| m.1), max.map(|m| m.1));
            bounds = min.zip(max);
            text_statistics(pt, nulls(rows, values), min, max)
        }
        Flat::Int64(a) => {
            let values = &a.values()[start..end];
            if validity.is_none() && delta_bytes(values, 2 * values.len()).is_some() {
                // nearly sequential values (source_line): a bit or two a row instead of eight bytes
                parquet2::encoding::delta_bitpacked::encode(values.iter().copied(), &mut buf);
                encoding = Encoding::DeltaBinaryPacked;
                let bounds = values.iter().min().copied().zip(values.iter().max().copied());
                int_statistics(pt, bounds, rows, values.len())
            } else {
                let (st, n) = plain_ints(&mut buf, values, start, validity, |v| v);
                int_statistics(pt, st, rows, n)
            }
        }
        Flat::Int32(a) => {
            let (st, n) = plain_ints(&mut buf, &a.values()[start..end], start, validity, |v| v);
            int_statistics(pt, st, rows, n)
        }
        Flat::Int16(a) => {
            let (st, n) = plain_ints(&mut buf, &a.values()[start..end], start, validity, i32::from);
            int_statistics(pt, st, rows, n)
        }
        Flat::Bool(a) => {
            let (bits, offset, _) = a.values().as_slice();
            let (mut trues, mut falses, values);
            if validity.is_none() {
                pack_bits(&mut buf, bits, offset + start, rows);
                values = rows;
                falses = a.values().clone().sliced(start, rows).unset_bits();
                trues = rows - falses;
            } else {
                let mut packed = Vec::with_capacity(rows.div_ceil(8));
                let (mut byte, mut n) = (0u8, 0usize);
                (trues, falses) = (0, 0);
                for_each_present(validity, start, end, |i| {
                    let b = a.values().get_bit(i);
                    byte |= u8::from(b) << (n % 8);
                    n += 1;
                    if n % 8 == 0 {
                        packed.push(byte);
                        byte = 0;
                    }
                    if b {
                        trues += 1;
                    } else {
                        falses += 1;
                    }
                });
                if n % 8 != 0 {
                    packed.push(byte);
                }
                buf.extend_from_slice(&packed);
                values = n;
            }
            serialize_statistics(&BooleanStatistics {
                null_count: Some(nulls(rows, values)),
                distinct_count: None,
                max_value: (values > 0).then_some(trues > 0),
                min_value: (values > 0).then_some(falses == 0),
            })
        }
    };
    (data_page(buf, pt, rows, encoding, statistics), bounds)
}

/// Bytes `values` take as `DELTA_BINARY_PACKED` the way parquet2 writes it (blocks of 128
/// deltas, one miniblock each, padded), when every block packs its deltas in 16 bits or fewer
/// and the whole fits in `budget`; `None` otherwise, as soon as that is known (a timestamp
/// column's first block already needs more). Also keeps parquet2's encoder, which subtracts
/// in `i64`, away from values whose deltas or delta ranges would overflow.
fn delta_bytes(values: &[i64], budget: usize) -> Option<usize> {
    let (&first, rest) = values.split_first()?;
    // header (block size, miniblocks, count) and the first value: at most 4 + 10 + 10 bytes
    let mut total = 24usize;
    let mut prev = i128::from(first);
    for block in rest.chunks(128) {
        let (mut lo, mut hi) = (i128::MAX, i128::MIN);
        for &v in block {
            let v = i128::from(v);
            lo = lo.min(v - prev);
            hi = hi.max(v - prev);
            prev = v;
        }
        let range = u64::try_from(hi - lo).ok()?;
        if lo < i128::from(i64::MIN) || hi > i128::from(i64::MAX) || range >= 1 << 16 {
            return None;
        }
        let bits = 64 - range.leading_zeros() as usize;
        // min delta (zigzag varint, at most 10 bytes), the bit width, the packed miniblock
        total += 10 + 1 + 128 * bits / 8;
        if total > budget {
            return None;
        }
    }
    (total <= budget).then_some(total)
}

/// Bytes a text page copies in one fixed-size move for a value that short ([`page`]).
const SLACK: usize = 16;

/// The first eight bytes, zero-padded, as a big-endian integer: `key8(a) < key8(b)` implies
/// `a < b` bytewise (equal keys decide nothing).
#[inline]
fn key8(v: &[u8]) -> u64 {
    match v.first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        None => {
            let mut w = [0u8; 8];
            for (d, s) in w.iter_mut().zip(v) {
                *d = *s;
            }
            u64::from_be_bytes(w)
        }
    }
}

fn nulls(rows: usize, values: usize) -> i64 {
    i64::try_from(rows - values).unwrap_or(i64::MAX)
}

/// PLAIN values of the rows of `values` (rows `first..` of the column) that `validity` marks
/// present (all of them without one), with their min/max and count. Without NULLs this is a
/// loop the compiler unrolls, and the bounds are taken apart from it.
#[inline]
fn plain_ints<T: Copy, P: Copy + Ord + ToLe>(
    buf: &mut Vec<u8>,
    values: &[T],
    first: usize,
    validity: Option<&Bitmap>,
    physical: impl Fn(T) -> P,
) -> (Option<(P, P)>, usize) {
    buf.reserve(values.len() * std::mem::size_of::<P>());
    let Some(validity) = validity else {
        for &v in values {
            physical(v).put(buf);
        }
        let lo = values.iter().map(|&v| physical(v)).min();
        let hi = values.iter().map(|&v| physical(v)).max();
        return (lo.zip(hi), values.len());
    };
    let mut st: Option<(P, P)> = None;
    let mut n = 0;
    for_each_present(Some(validity), first, first + values.len(), |i| {
        let p = physical(values[i - first]);
        p.put(buf);
        n += 1;
        st = Some(st.map_or((p, p), |(lo, hi)| (lo.min(p), hi.max(p))));
    });
    (st, n)
}

/// Calls `f` with each row of `start..end` that `validity` marks present, in order (every row
/// without a bitmap). The bitmap is read a byte at a time and only its set bits are visited:
/// a byte of NULLs costs one test, a present row a few instructions, instead of a bit lookup
/// with its bounds check per row.
#[inline]
fn for_each_present(validity: Option<&Bitmap>, start: usize, end: usize, mut f: impl FnMut(usize)) {
    let Some(validity) = validity else {
        (start..end).for_each(f);
        return;
    };
    let (bytes, offset, _) = validity.as_slice();
    // bit positions in `bytes` of the first row and past the last one
    let (lo, hi) = (offset + start, offset + end);
    let mut at = lo / 8 * 8;
    while at < hi {
        let mut byte = bytes.get(at / 8).copied().unwrap_or(0);
        if at < lo {
            byte &= u8::MAX << (lo - at);
        }
        if at + 8 > hi {
            byte &= u8::MAX >> (at + 8 - hi);
        }
        if byte == u8::MAX {
            // eight present rows, the usual byte: no bit scan
            (at - offset..at + 8 - offset).for_each(&mut f);
        } else {
            while byte != 0 {
                f(at + byte.trailing_zeros() as usize - offset);
                byte &= byte - 1;
            }
        }
        at += 8;
    }
}

/// Physical integers' little-endian bytes.
trait ToLe: parquet2::types::NativeType {
    fn put(self, buf: &mut Vec<u8>);
}

impl ToLe for i64 {
    #[inline]
    fn put(self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
}

impl ToLe for i32 {
    #[inline]
    fn put(self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
}

fn int_statistics<P: ToLe>(
    pt: &PrimitiveType,
    st: Option<(P, P)>,
    rows: usize,
    values: usize,
) -> ParquetStatistics {
    serialize_statistics(&PrimitiveStatistics::<P> {
        primitive_type: pt.clone(),
        null_count: Some(nulls(rows, values)),
        distinct_count: None,
        min_value: st.map(|s| s.0),
        max_value: st.map(|s| s.1),
    })
}

/// A text chunk's or page's statistics.
fn text_statistics(
    pt: &PrimitiveType,
    nulls: i64,
    min: Option<&[u8]>,
    max: Option<&[u8]>,
) -> ParquetStatistics {
    serialize_statistics(&BinaryStatistics {
        primitive_type: pt.clone(),
        null_count: Some(nulls),
        distinct_count: None,
        max_value: max.map(<[u8]>::to_vec),
        min_value: min.map(<[u8]>::to_vec),
    })
}

/// A V1 data page of `rows` rows whose values are in `encoding`.
fn data_page(
    buf: Vec<u8>,
    pt: &PrimitiveType,
    rows: usize,
    encoding: Encoding,
    statistics: ParquetStatistics,
) -> Page {
    let header = DataPageHeader::V1(DataPageHeaderV1 {
        num_values: i32::try_from(rows).unwrap_or(i32::MAX),
        encoding: encoding.into(),
        definition_level_encoding: Encoding::Rle.into(),
        repetition_level_encoding: Encoding::Rle.into(),
        statistics: Some(statistics),
    });
    let descriptor = Descriptor { primitive_type: pt.clone(), max_def_level: 0, max_rep_level: 0 };
    Page::Data(DataPage::new(header, buf, descriptor, Some(rows)))
}

/// Definition levels (bit width 1) of rows `start..start + rows`, V1 style: a 4-byte length,
/// then one RLE run of 1s when there is no validity, else one bit-packed run of the validity
/// bits.
fn def_levels(buf: &mut Vec<u8>, validity: Option<&Bitmap>, start: usize, rows: usize) {
    let at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    match validity {
        None => {
            varint(buf, (rows as u64) << 1);
            buf.push(1);
        }
        Some(v) => {
            let groups = rows.div_ceil(8);
            varint(buf, ((groups as u64) << 1) | 1);
            let (bits, offset, _) = v.as_slice();
            pack_bits(buf, bits, offset + start, rows);
        }
    }
    let len = u32::try_from(buf.len() - at - 4).unwrap_or(u32::MAX).to_le_bytes();
    buf[at..at + 4].copy_from_slice(&len);
}

/// ULEB128.
fn varint(buf: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            buf.push(byte);
            return;
        }
        buf.push(byte | 0x80);
    }
}

/// Appends bits `first..first + n` of an LSB-first bitmap as LSB-first bytes, unused high
/// bits of the last byte cleared.
fn pack_bits(buf: &mut Vec<u8>, bits: &[u8], first: usize, n: usize) {
    let (byte0, shift) = (first / 8, first % 8);
    let out = n.div_ceil(8);
    if shift == 0 {
        buf.extend_from_slice(bits.get(byte0..byte0 + out).unwrap_or_default());
    } else {
        buf.extend((0..out).map(|k| {
            let lo = bits.get(byte0 + k).copied().unwrap_or(0) >> shift;
            let hi = bits.get(byte0 + k + 1).copied().unwrap_or(0) << (8 - shift);
            lo | hi
        }));
    }
    if n % 8 != 0 {
        if let Some(last) = buf.last_mut() {
            *last &= (1u8 << (n % 8)) - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{arrow_schema, BatchBuilder, Value};
    use crate::parquet::{encode_arrow_with, WriteOptions};
    use crate::schema::{ColumnType, ACCESS_LOGS, REJECTS};

    #[test]
    fn present_rows_are_the_set_bits_in_order() {
        // bit patterns: all set, none, alternating, sparse, and a pseudo-random mix
        let patterns: Vec<Vec<bool>> = vec![
            vec![true; 70],
            vec![false; 70],
            (0..70).map(|i| i % 2 == 0).collect(),
            (0..70).map(|i| i % 13 == 5).collect(),
            (0..70u64).map(|i| (i * 2_654_435_761) >> 7 & 1 == 1).collect(),
        ];
        for bits in &patterns {
            let whole = Bitmap::from(bits.as_slice());
            // bitmaps starting inside a byte (offsets 0-9), and every start..end of each
            for offset in 0..10 {
                let v = whole.clone().sliced(offset, bits.len() - offset);
                for start in 0..v.len() {
                    for end in start..=v.len() {
                        let mut got = Vec::new();
                        for_each_present(Some(&v), start, end, |i| got.push(i));
                        let want: Vec<usize> = (start..end).filter(|&i| v.get_bit(i)).collect();
                        assert_eq!(got, want, "offset {offset}, rows {start}..{end}");
                    }
                }
            }
        }
        let mut all = Vec::new();
        for_each_present(None, 3, 7, |i| all.push(i));
        assert_eq!(all, [3, 4, 5, 6], "no bitmap: every row");
    }

    /// A batch of `def` with every column's values and NULLs in patterns that shift against
    /// row groups, pages and bytes of bits.
    fn patterned(def: &'static crate::TableDef, rows: i64) -> crate::Batch {
        let mut b = BatchBuilder::new(def);
        // lengths from 2 to 42 bytes: around the 16-byte copies of text pages
        let texts: Vec<String> = (0..rows)
            .map(|r| {
                let n = (r * 7919) % 101;
                format!("v{n}{}", "é".repeat((n % 21) as usize))
            })
            .collect();
        for r in 0..rows {
            let row: Vec<Value<'_>> = def
                .columns
                .iter()
                .enumerate()
                .map(|(c, col)| {
                    let c = c as i64;
                    if col.nullable && ((r + c) % (3 + c % 5) == 0 || c % 7 == 6) {
                        return Value::Null;
                    }
                    let t = &texts[r as usize];
                    match col.ty {
                        ColumnType::Timestamp | ColumnType::Int64 => {
                            Value::Int(1_590_000_000_000_000 + r * 1_000 - c)
                        }
                        ColumnType::Int32 | ColumnType::Int16 => Value::Int((r * 31 + c) % 600 - 300),
                        ColumnType::Bool => Value::Bool((r / (1 + c % 3)) % 2 == 0),
                        ColumnType::Utf8 | ColumnType::DictUtf8 => Value::Str(t),
                        ColumnType::Binary => Value::Bytes(t.as_bytes()),
                        ColumnType::Float64 => Value::Float(r as f64 / 3.0),
                    }
                })
                .collect();
            b.push(&row).unwrap();
        }
        b.finish().unwrap()
    }

    /// Row groups (columns of each) and their column statistics.
    type Read = (Vec<Vec<Box<dyn Array>>>, Vec<Vec<Option<ParquetStatistics>>>);

    fn read(file: &[u8]) -> Read {
        use arrow2::io::parquet::read;
        let mut cursor = std::io::Cursor::new(file);
        let meta = read::read_metadata(&mut cursor).unwrap();
        let schema = read::infer_schema(&meta).unwrap();
        let stats = meta
            .row_groups
            .iter()
            .map(|g| g.columns().iter().map(|c| c.metadata().statistics.clone()).collect())
            .collect();
        let reader = read::FileReader::new(cursor, meta.row_groups, schema, None, None, None);
        (reader.map(|chunk| chunk.unwrap().into_arrays()).collect(), stats)
    }

    /// A column for comparing: dictionary columns as their texts (arrow2's own equality
    /// looks up the keys of NULL rows, which may point past an empty dictionary).
    fn plain(a: &dyn Array) -> Box<dyn Array> {
        match a.as_any().downcast_ref::<arrow2::array::DictionaryArray<i32>>() {
            Some(d) => {
                let values = d.values().as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
                let texts: Vec<Option<&str>> = (0..d.len())
                    .map(|i| d.is_valid(i).then(|| values.value(d.keys().value(i) as usize)))
                    .collect();
                Utf8Array::<i32>::from(texts).boxed()
            }
            None => a.to_boxed(),
        }
    }

    #[test]
    fn own_pages_read_back_like_arrow2_pages() {
        for def in [&ACCESS_LOGS, &REJECTS] {
            for (rows, group, page) in
                [(1, 5, 1 << 20), (999, 100, 1 << 20), (1000, 37, 300), (2048, 2048, 64)]
            {
                let batch = patterned(def, rows);
                let opts =
                    WriteOptions { row_group_rows: group, page_bytes: page, ..WriteOptions::default() };
                let schema = arrow_schema(def);
                let ours =
                    encode_arrow_with(&schema, &batch.chunk, batch.len(), &opts, "t", true, true).unwrap();
                let theirs =
                    encode_arrow_with(&schema, &batch.chunk, batch.len(), &opts, "t", false, false).unwrap();
                if let Ok(dir) = std::env::var("LOGLAKE_DUMP_PAGES") {
                    std::fs::write(format!("{dir}/ours-{}-{rows}-{group}.parquet", def.name), &ours).unwrap();
                    std::fs::write(format!("{dir}/theirs-{}-{rows}-{group}.parquet", def.name), &theirs)
                        .unwrap();
                }
                let ((a, sa), (b, sb)) = (read(&ours), read(&theirs));
                let case = format!("{} rows {rows} group {group} page {page}", def.name);
                let plain_groups = |r: &[Vec<Box<dyn Array>>]| -> Vec<Vec<Box<dyn Array>>> {
                    r.iter().map(|g| g.iter().map(|c| plain(c.as_ref())).collect()).collect()
                };
                assert_eq!(plain_groups(&a), plain_groups(&b), "{case}: read back");
                let mut at = 0;
                for group in &a {
                    assert_eq!(group.len(), def.columns.len(), "{case}");
                    for (i, col) in def.columns.iter().enumerate() {
                        let written = batch.chunk.arrays()[i].sliced(at, group[i].len());
                        assert_eq!(
                            plain(group[i].as_ref()),
                            plain(written.as_ref()),
                            "{case}: column {}",
                            col.name
                        );
                    }
                    at += group[0].len();
                }
                assert_eq!(at, batch.len(), "{case}: every row");
                for (g, group) in a.iter().enumerate() {
                    for (i, col) in def.columns.iter().enumerate() {
                        let at = format!("{case}: statistics of group {g} column {}", col.name);
                        if !matches!(col.ty, ColumnType::Utf8 | ColumnType::DictUtf8) {
                            assert_eq!(sa[g][i], sb[g][i], "{at}");
                            continue;
                        }
                        // texts: bytewise min/max of the group's values (arrow2 gets these wrong)
                        let texts = plain(group[i].as_ref());
                        let texts = texts.as_any().downcast_ref::<Utf8Array<i32>>().unwrap();
                        let present = || texts.iter().flatten().map(str::as_bytes);
                        let want = (
                            Some(i64::try_from(texts.null_count()).unwrap()),
                            present().min().map(<[u8]>::to_vec),
                            present().max().map(<[u8]>::to_vec),
                        );
                        // ours always; arrow2's too where the footer rewrite mends them
                        let mut checked = vec![&sa[g][i]];
                        if col.ty == ColumnType::DictUtf8 {
                            checked.push(&sb[g][i]);
                        }
                        for st in checked {
                            let st = st.as_ref().unwrap();
                            assert_eq!(
                                (st.null_count, st.min_value.clone(), st.max_value.clone()),
                                want,
                                "{at}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn packs_bits_at_any_offset() {
        let bits = [0b1011_0110u8, 0b0101_1100, 0b1111_0000];
        let get = |i: usize| bits[i / 8] >> (i % 8) & 1 == 1;
        for first in 0..10 {
            for n in 0..(24 - first) {
                let mut buf = Vec::new();
                pack_bits(&mut buf, &bits, first, n);
                assert_eq!(buf.len(), n.div_ceil(8));
                for j in 0..n.div_ceil(8) * 8 {
                    let bit = buf[j / 8] >> (j % 8) & 1 == 1;
                    assert_eq!(bit, j < n && get(first + j), "first {first} n {n} bit {j}");
                }
            }
        }
    }

    #[test]
    fn key8_orders_like_bytes() {
        let texts: [&[u8]; 12] = [
            b"",
            b"\0",
            b"a",
            b"a\0",
            b"ab",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghi",
            b"abd",
            b"b",
            b"\xff",
            b"ab\0\x01",
        ];
        for a in texts {
            for b in texts {
                if key8(a) < key8(b) {
                    assert!(a < b, "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn packs_keys_of_any_width() {
        for width in 1..=32u32 {
            let max = if width == 32 { u32::MAX } else { (1u32 << width) - 1 };
            let keys: Vec<u32> = (0..21u32).map(|i| i.wrapping_mul(2_654_435_761) & max).collect();
            let mut buf = Vec::new();
            pack_keys(&mut buf, &keys, width);
            // header: three groups of eight, bit-packed
            assert_eq!(buf[0], (3 << 1) | 1);
            assert_eq!(buf.len(), 1 + 3 * width as usize);
            let bit = |i: usize| (buf[1 + i / 8] >> (i % 8)) & 1;
            for (n, &k) in keys.iter().enumerate() {
                let got =
                    (0..width as usize).fold(0u64, |v, b| v | u64::from(bit(n * width as usize + b)) << b);
                assert_eq!(got, u64::from(k), "width {width} key {n}");
            }
        }
    }

    #[test]
    fn delta_pages_only_where_they_pay() {
        let lines: Vec<i64> = (1..=1000).collect();
        let size = delta_bytes(&lines, 2 * lines.len()).expect("sequential lines");
        let mut buf = Vec::new();
        parquet2::encoding::delta_bitpacked::encode(lines.iter().copied(), &mut buf);
        assert!(buf.len() <= size, "estimate {size} below the {} bytes written", buf.len());
        let back: Vec<i64> = parquet2::encoding::delta_bitpacked::Decoder::try_new(&buf)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(back, lines);
        // second-resolution timestamps, random sizes, one value, extremes: plain
        let ts: Vec<i64> = (0..1000).map(|i| 1_590_000_000_000_000 + (i * 7 % 5) * 1_000_000).collect();
        assert_eq!(delta_bytes(&ts, 2 * ts.len()), None);
        let sizes: Vec<i64> = (0..1000i64).map(|i| i.wrapping_mul(2_654_435_761) % 100_000).collect();
        assert_eq!(delta_bytes(&sizes, 2 * sizes.len()), None);
        assert_eq!(delta_bytes(&[7], 2), None);
        assert_eq!(delta_bytes(&[i64::MIN, i64::MAX, i64::MIN], 1 << 20), None);
        assert_eq!(delta_bytes(&[], 100), None);
    }

    #[test]
    fn varints() {
        for (v, want) in
            [(0u64, vec![0u8]), (1, vec![1]), (127, vec![0x7f]), (128, vec![0x80, 1]), (300, vec![0xac, 2])]
        {
            let mut buf = Vec::new();
            varint(&mut buf, v);
            assert_eq!(buf, want, "{v}");
        }
    }
}
