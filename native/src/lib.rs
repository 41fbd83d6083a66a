//! JSON Lines records read into columns, one per key, without a Python object per record.
//!
//! `flat_columns` reads a batch of lines, each a JSON object whose keys are unique within it, into
//! one column per key: each line's value as the engine compares it (`tocsin.model.event.sql_text`):
//! a string as it is, an integer in decimal, a boolean as `true`/`false`, null or absent as a null,
//! a list of one such value as that value. Any other value (a number with a fraction, a list of
//! several values or of a list or object) marks its column as one the caller reads itself, from
//! the records.
//!
//! A batch holding a line this cannot take as orjson would (malformed JSON, a control character,
//! a surrogate escape, a value that is not an object, a key given twice, more opening brackets
//! than the caller lets nest), a record holding an object (nested records are read record by
//! record), or more than `MAX_COLUMNS` keys, gives None: the caller then decodes its lines one by
//! one, counting what it skips.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

mod syslog;

/// One text column being filled, a line at a time, in Arrow's large-string layout.
struct Column {
    data: Vec<u8>,
    /// Little-endian 64-bit offsets, as Arrow reads them.
    offsets: Vec<u8>,
    valid: Vec<u8>,
    present: Vec<u8>,
    nulls: usize,
    other: bool,
    ints: bool,
    /// Some value is not a string (a number, a boolean, a list).
    typed: bool,
    filled: bool,
    /// Where the current line's text starts; the first line's text (if set); whether every line
    /// so far holds what the first does.
    start: usize,
    first: Option<Option<(usize, usize)>>,
    uniform: bool,
}

impl Column {
    fn new(rows: usize) -> Self {
        let mut offsets = Vec::with_capacity(8 * (rows + 1));
        offsets.extend_from_slice(&0i64.to_le_bytes());
        Column {
            data: Vec::new(),
            offsets,
            valid: vec![0; rows.div_ceil(8)],
            present: vec![0; rows.div_ceil(8)],
            nulls: 0,
            other: false,
            ints: false,
            typed: false,
            filled: false,
            start: 0,
            first: None,
            uniform: true,
        }
    }

    /// A column that does not track whether every line holds the same text (`uniform` is false).
    fn untracked(rows: usize) -> Self {
        Column {
            first: Some(None),
            uniform: false,
            ..Column::new(rows)
        }
    }

    fn set(&mut self, row: usize, text: &[u8]) {
        self.data.extend_from_slice(text);
        self.valid[row / 8] |= 1 << (row % 8);
        self.filled = true;
    }

    /// Takes back the value set in `row`, whose text started at `start`.
    fn unset(&mut self, row: usize, start: usize) {
        self.data.truncate(start);
        self.valid[row / 8] &= !(1 << (row % 8));
        self.filled = false;
    }

    /// Ends the lines before `row` not ended yet: their values not set are null. A column set on
    /// few lines ends the others this way, in one go, before it is set and once it is complete.
    fn end_rows_to(&mut self, row: usize) {
        while self.offsets.len() / 8 <= row {
            self.end_row();
        }
    }

    /// Ends a line: a value not set is null.
    fn end_row(&mut self) {
        if !self.filled {
            self.nulls += 1;
        }
        let text = self.filled.then_some((self.start, self.data.len()));
        match self.first {
            None => self.first = Some(text),
            Some(first) if self.uniform => {
                let same = match (first, text) {
                    (Some((a, b)), Some((c, d))) => self.data[a..b] == self.data[c..d],
                    (first, text) => first.is_none() && text.is_none(),
                };
                self.uniform = same;
            }
            Some(_) => {}
        }
        self.start = self.data.len();
        self.filled = false;
        self.offsets
            .extend_from_slice(&(self.data.len() as i64).to_le_bytes());
    }
}

/// A key's value, written into its column; `listed`, the value is the first of a list.
struct Value<'c> {
    column: &'c mut Column,
    row: usize,
    listed: bool,
}

impl Value<'_> {
    /// An integer, in decimal as Python writes it.
    fn integer(self, digits: &str) {
        self.column.ints = true;
        self.column.typed = true;
        self.column.set(self.row, digits.as_bytes());
    }
}

impl<'de, 'c> DeserializeSeed<'de> for Value<'c> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'c> Visitor<'de> for Value<'c> {
    type Value = ();
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.column.set(self.row, text.as_bytes());
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<(), E> {
        self.integer(itoa::Buffer::new().format(number));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, number: u64) -> Result<(), E> {
        self.integer(itoa::Buffer::new().format(number));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.column.other = true;
        self.column.typed = true;
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.column.typed = true;
        self.column
            .set(self.row, if value { b"true" } else { b"false" });
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    /// A list of one value is that value (`sql_value`); any other list is not text.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.column.typed = true;
        if self.listed {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.column.other = true;
            return Ok(());
        }
        let (start, ints) = (self.column.data.len(), self.column.ints);
        let first = seq.next_element_seed(Value {
            column: &mut *self.column,
            row: self.row,
            listed: true,
        })?;
        if first.is_none() || seq.next_element::<IgnoredAny>()?.is_some() {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.column.unset(self.row, start);
            self.column.ints = ints;
            self.column.other = true;
        }
        Ok(())
    }
    /// An object in a list is not text; an object as a value is refused: nested records are the
    /// caller's to read.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !self.listed {
            return Err(de::Error::custom("an object"));
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.column.other = true;
        Ok(())
    }
}

/// A key, borrowed from the line when it holds no escape.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(text))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(text.to_owned()))
    }
}

/// At most this many distinct keys in a batch: past it, the caller decodes the lines itself.
const MAX_COLUMNS: usize = 512;

/// The columns of a batch of lines, one per key, filled a line at a time.
struct Table {
    names: Vec<String>,
    index: HashMap<String, usize>,
    columns: Vec<Column>,
    /// Per column: the line (plus one) it was last seen in.
    seen: Vec<usize>,
    /// The columns of the previous line's keys, in its order: the next line mostly repeats them.
    previous: Vec<usize>,
    /// Lines read so far, and in all.
    row: usize,
    rows: usize,
}

impl Table {
    fn column(&mut self, key: &str, position: usize) -> Result<usize, &'static str> {
        if let Some(&index) = self.previous.get(position) {
            if self.names[index] == key {
                return Ok(index);
            }
        }
        if let Some(&index) = self.index.get(key) {
            return Ok(index);
        }
        if self.columns.len() == MAX_COLUMNS {
            return Err("too many keys");
        }
        let mut column = Column::new(self.rows);
        for _ in 0..self.row {
            column.end_row();
        }
        self.names.push(key.to_owned());
        self.index.insert(key.to_owned(), self.columns.len());
        self.columns.push(column);
        self.seen.push(0);
        Ok(self.columns.len() - 1)
    }
}

/// One line: an object whose keys fill their columns.
struct Record<'t> {
    table: &'t mut Table,
}

impl<'de, 't> Visitor<'de> for Record<'t> {
    type Value = ();
    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let table = self.table;
        let row = table.row;
        let mut keys: Vec<usize> = Vec::with_capacity(table.previous.len());
        while let Some(key) = map.next_key_seed(Key)? {
            let index = table.column(&key, keys.len()).map_err(de::Error::custom)?;
            if table.seen[index] == row + 1 {
                return Err(de::Error::custom("a key given twice"));
            }
            table.seen[index] = row + 1;
            table.columns[index].present[row / 8] |= 1 << (row % 8);
            keys.push(index);
            let column = &mut table.columns[index];
            map.next_value_seed(Value {
                column,
                row,
                listed: false,
            })?;
        }
        table.previous = keys;
        table.row += 1;
        for column in table.columns.iter_mut() {
            column.end_row();
        }
        Ok(())
    }
}

/// The most opening brackets a line may hold: the caller's nesting bound (`jsonstream.MAX_JSON_DEPTH`).
const MAX_BRACKETS: usize = 64;

/// True when `line` holds nothing this reader takes apart from orjson: a control character (in a
/// string orjson refuses it), a \u escape of a surrogate (orjson refuses an unpaired one), more
/// than `MAX_BRACKETS` opening brackets (the caller checks how deep they nest).
fn plain(line: &str) -> bool {
    let bytes = line.as_bytes();
    let (mut control, mut brackets) = (0u8, 0usize);
    for chunk in bytes.chunks(64) {
        // no early exit, small counters: the compiler makes this loop vector code
        let mut opened = 0u8;
        for &byte in chunk {
            control |= u8::from(byte < 0x20);
            opened += u8::from((byte == b'{') | (byte == b'['));
        }
        brackets += usize::from(opened);
    }
    control == 0
        && brackets <= MAX_BRACKETS
        && memchr::memchr_iter(b'\\', bytes).all(|at| {
            !(bytes.get(at + 1) == Some(&b'u') && matches!(bytes.get(at + 2), Some(b'd' | b'D')))
        })
}

fn read(lines: &[&str]) -> Option<Table> {
    let mut table = Table {
        names: Vec::new(),
        index: HashMap::new(),
        columns: Vec::new(),
        seen: Vec::new(),
        previous: Vec::new(),
        row: 0,
        rows: lines.len(),
    };
    for line in lines {
        if !plain(line) {
            return None;
        }
        let mut deserializer = serde_json::Deserializer::from_str(line);
        deserializer
            .deserialize_map(Record { table: &mut table })
            .ok()?;
        deserializer.end().ok()?;
    }
    Some(table)
}

/// A column read, for Python: Arrow's large-string buffers (validity bitmap, offsets, data) and
/// its null count; a bitmap of the lines holding the key (null or not); whether some value is not
/// one a column holds (`other`), is an integer (`ints`), is not a string (`typed`); whether every
/// line holds the same text (`uniform`).
#[pyclass(frozen, get_all)]
struct ReadColumn {
    valid: Py<PyBytes>,
    offsets: Py<PyBytes>,
    data: Py<PyBytes>,
    nulls: usize,
    present: Py<PyBytes>,
    other: bool,
    ints: bool,
    typed: bool,
    uniform: bool,
}

impl ReadColumn {
    fn new(py: Python<'_>, column: Column) -> Self {
        ReadColumn {
            valid: PyBytes::new(py, &column.valid).unbind(),
            offsets: PyBytes::new(py, &column.offsets).unbind(),
            data: PyBytes::new(py, &column.data).unbind(),
            nulls: column.nulls,
            present: PyBytes::new(py, &column.present).unbind(),
            other: column.other,
            ints: column.ints,
            typed: column.typed,
            uniform: column.uniform,
        }
    }
}

/// The keys `lines` hold, in the order first seen, each with its column (see the module doc);
/// None when a line is not taken.
#[pyfunction]
fn flat_columns(
    py: Python<'_>,
    lines: &Bound<'_, PyList>,
) -> PyResult<Option<(Vec<String>, Vec<ReadColumn>)>> {
    let items: Vec<Bound<'_, PyString>> = lines
        .iter()
        .map(|item| item.downcast_into::<PyString>())
        .collect::<Result<_, _>>()?;
    // A text Python holds but UTF-8 cannot (a lone surrogate) is not taken either.
    let Ok(views) = items
        .iter()
        .map(|item| item.to_str())
        .collect::<Result<Vec<&str>, _>>()
    else {
        return Ok(None);
    };
    let Some(table) = read(&views) else {
        return Ok(None);
    };
    let columns = table
        .columns
        .into_iter()
        .map(|column| ReadColumn::new(py, column))
        .collect();
    Ok(Some((table.names, columns)))
}

#[pymodule]
fn tocsin_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(flat_columns, module)?)?;
    module.add_class::<syslog::SyslogReader>()?;
    Ok(())
}
