//! RFC 3164 syslog lines split into header columns and classified a batch at a time.
//!
//! `SyslogReader.read` takes a batch of lines and gives, for each line it takes, the header's parts
//! (as `tocsin.sources.syslog` reads them: `_RFC3164` then `_TAG`) and the ECS fields its program's
//! classifier finds in the message, as `tocsin.sources.linux_auth` finds them: that module is the
//! reference, its regular expressions are given to the reader (and run by PCRE2, which backtracks
//! as Python's `re` does), and the tests compare the two on every shared sample and on generated
//! lines. Only sshd's, sudo's and PAM's messages are classified here; a line of another program
//! with a classifier of its own, a line that is not printable ASCII (and tabs), another header
//! shape, "message repeated", or a message PCRE2 gives up on is not taken: the caller reads it line
//! by line, in its place.

use crate::{Column, ReadColumn};
use pcre2::bytes::{Captures, Regex, RegexBuilder};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use std::collections::HashMap;

/// The fields a classifier may set, in the order of the columns `read` gives.
const FIELDS: [&str; 19] = [
    "event.category",
    "event.type",
    "event.action",
    "event.outcome",
    "user.name",
    "user.invalid",
    "user.effective.name",
    "system.auth.ssh.event",
    "system.auth.ssh.method",
    "system.auth.ssh.signature",
    "system.auth.pam.service",
    "system.auth.sudo.failures",
    "source.ip",
    "source.domain",
    "source.address",
    "source.port",
    "process.command_line",
    "process.working_directory",
    "process.tty.name",
];
const CATEGORY: usize = 0;
const TYPE: usize = 1;
const ACTION: usize = 2;
const OUTCOME: usize = 3;
const USER: usize = 4;
const INVALID: usize = 5;
const EFFECTIVE: usize = 6;
const SSH_EVENT: usize = 7;
const SSH_METHOD: usize = 8;
const SSH_SIGNATURE: usize = 9;
const PAM_SERVICE: usize = 10;
const SUDO_FAILURES: usize = 11;
const SOURCE_IP: usize = 12;
const SOURCE_DOMAIN: usize = 13;
const SOURCE_ADDRESS: usize = 14;
const SOURCE_PORT: usize = 15;
const COMMAND_LINE: usize = 16;
const WORKING_DIRECTORY: usize = 17;
const TTY: usize = 18;

/// A classified value: text, an integer (its digits), or true.
#[derive(Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Integer(&'a str),
    True,
}

/// A line's fields in the order first set, as a Python dict keeps them (setting a field again
/// keeps its place).
#[derive(Default)]
struct Fields<'a> {
    set: Vec<(usize, Value<'a>)>,
}

impl<'a> Fields<'a> {
    fn put(&mut self, field: usize, value: Value<'a>) {
        match self.set.iter_mut().find(|(known, _)| *known == field) {
            Some(slot) => slot.1 = value,
            None => self.set.push((field, value)),
        }
    }

    fn text(&mut self, field: usize, value: &'a str) {
        self.put(field, Value::Text(value));
    }

    /// A field set only when the value is not empty (`linux_auth._auth`'s keyword arguments).
    fn given(&mut self, field: usize, value: Option<&'a str>) {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            self.text(field, value);
        }
    }

    /// `linux_auth._auth`: an authentication record.
    fn auth(&mut self, action: &'a str, outcome: &'a str, kind: &'a str) {
        self.text(CATEGORY, "authentication");
        self.text(TYPE, kind);
        self.text(ACTION, action);
        self.text(OUTCOME, outcome);
    }
}

/// What a program's lines are classified by.
#[derive(Clone)]
enum Classifier {
    Sshd,
    Sudo,
    /// Only PAM's messages, for the program named.
    Pam(String),
    /// A classifier only the caller has: the line is not taken.
    Caller,
}

/// `linux_auth`'s regular expressions, as the caller gives them.
struct Patterns {
    /// sshd's patterns by the first word of the messages they match, with their action.
    sshd: HashMap<String, Vec<(Regex, String)>>,
    pam_failure: Regex,
    pam_session: Regex,
    sudo: Regex,
    address: Regex,
}

/// Splits and classifies batches of syslog lines (see the module doc).
#[pyclass(frozen)]
pub struct SyslogReader {
    patterns: Patterns,
    programs: HashMap<String, Classifier>,
}

/// One line's header, as `_RFC3164` then `_TAG` take it.
struct Header<'l> {
    pri: Option<&'l str>,
    stamp: &'l str,
    host: &'l str,
    program: &'l str,
    pid: Option<&'l str>,
    message: &'l str,
}

/// What became of a line, as `SyslogReader.read` gives it (a byte per line).
const OTHER: u8 = 0;
const TAKEN: u8 = 1;
const BLANK: u8 = 2;
const TOO_LONG: u8 = 3;

/// The bytes of a blank line (`inputs._BLANK_TEXT`): it is no record.
const BLANK_BYTES: &[u8] = b" \t\n\r\x0b\x0c";

/// A batch read: per line, what became of it (`TAKEN`, `OTHER`: the caller reads it, `BLANK`: no
/// record, `TOO_LONG`: past the caller's bound, skipped); the header columns (pri, stamp,
/// host, program, pid, message); the field names and their columns (`ints`: an integer, `typed`
/// without it: true); the shapes (field positions in the order the classifier set them) and each
/// line's shape (16-bit, little-endian; 0, no field, for lines not taken).
type SyslogBatch = (
    Py<PyBytes>,
    Vec<ReadColumn>,
    Vec<&'static str>,
    Vec<ReadColumn>,
    Vec<Vec<usize>>,
    Py<PyBytes>,
);

/// A pattern matched at the start of a message, by PCRE2 (compiled to machine code where it can):
/// a backtracking engine like Python's `re`, so the same groups. The messages are printable ASCII
/// (and tabs), on which its ASCII classes mean what Python's Unicode ones do.
fn compile(pattern: &str) -> PyResult<Regex> {
    RegexBuilder::new()
        .jit_if_available(true)
        .build(&format!(r"\A(?:{pattern})"))
        .map_err(|error| PyValueError::new_err(error.to_string()))
}

#[pymethods]
impl SyslogReader {
    /// `patterns`: `pam_failure`, `pam_session`, `sudo`, and `address` (matched whole); `sshd`:
    /// (first words, pattern, action) in the order tried; `programs`: per program name, `sshd`,
    /// `sudo`, `pam:<name>` or `caller`. A program not named is classified as `pam:<program>`.
    #[new]
    fn new(
        patterns: HashMap<String, String>,
        sshd: Vec<(Vec<String>, String, String)>,
        programs: HashMap<String, String>,
    ) -> PyResult<Self> {
        let pattern = |name: &str| {
            patterns
                .get(name)
                .ok_or_else(|| PyValueError::new_err(format!("no pattern {name}")))
        };
        let mut by_word: HashMap<String, Vec<(Regex, String)>> = HashMap::new();
        for (words, source, action) in sshd {
            let regex = compile(&source)?;
            for word in words {
                by_word
                    .entry(word)
                    .or_default()
                    .push((regex.clone(), action.clone()));
            }
        }
        let address = pattern("address")?;
        let patterns = Patterns {
            sshd: by_word,
            pam_failure: compile(pattern("pam_failure")?)?,
            pam_session: compile(pattern("pam_session")?)?,
            sudo: compile(pattern("sudo")?)?,
            address: compile(&format!(r"(?:{address})\z"))?,
        };
        let programs = programs
            .into_iter()
            .map(|(program, kind)| {
                let classifier = match kind.as_str() {
                    "sshd" => Classifier::Sshd,
                    "sudo" => Classifier::Sudo,
                    "caller" => Classifier::Caller,
                    other => match other.strip_prefix("pam:") {
                        Some(name) => Classifier::Pam(name.to_owned()),
                        None => {
                            return Err(PyValueError::new_err(format!("no classifier {other}")))
                        }
                    },
                };
                Ok((program, classifier))
            })
            .collect::<PyResult<_>>()?;
        Ok(SyslogReader { patterns, programs })
    }

    /// The lines of a batch (as `str.split("\n")` gives them, line ends left) split and classified
    /// (see `SyslogBatch`); a line longer than `max_bytes` bytes is not read.
    fn read(
        &self,
        py: Python<'_>,
        lines: &Bound<'_, PyList>,
        max_bytes: usize,
    ) -> PyResult<SyslogBatch> {
        let items: Vec<Bound<'_, PyString>> = lines
            .iter()
            .map(|item| item.downcast_into::<PyString>())
            .collect::<Result<_, _>>()?;
        let rows = items.len();
        let mut states = vec![OTHER; rows];
        let mut header: Vec<Column> = (0..6).map(|_| Column::untracked(rows)).collect();
        let mut fields: Vec<Column> = FIELDS.iter().map(|_| Column::untracked(rows)).collect();
        let mut shapes: Vec<Vec<usize>> = vec![Vec::new()];
        let mut shape_index: HashMap<u128, u16> = HashMap::from([(0, 0)]);
        let mut shape_of: Vec<u8> = Vec::with_capacity(2 * rows);
        for (row, item) in items.iter().enumerate() {
            // A text UTF-8 cannot hold (a lone surrogate) is not plain either.
            let text = item.to_str().ok();
            let line = match text {
                Some(text) if text.len() > max_bytes => {
                    states[row] = TOO_LONG;
                    None
                }
                Some(text) if text.bytes().all(|byte| BLANK_BYTES.contains(&byte)) => {
                    states[row] = BLANK;
                    None
                }
                Some(text) => self.take(text.trim_end_matches(['\r', '\n'])),
                None => None,
            };
            let mut shape = 0u16;
            if let Some((parts, classified)) = &line {
                states[row] = TAKEN;
                for (column, part) in header.iter_mut().zip([
                    parts.pri,
                    Some(parts.stamp),
                    Some(parts.host),
                    Some(parts.program),
                    parts.pid,
                    Some(parts.message),
                ]) {
                    if let Some(part) = part {
                        column.end_rows_to(row);
                        column.set(row, part.as_bytes());
                        column.end_row();
                    }
                }
                for &(field, value) in &classified.set {
                    let column = &mut fields[field];
                    column.end_rows_to(row);
                    match value {
                        Value::Text(text) => column.set(row, text.as_bytes()),
                        Value::Integer(digits) => {
                            column.ints = true;
                            column.typed = true;
                            column.set(row, digits.as_bytes());
                        }
                        Value::True => {
                            column.typed = true;
                            column.set(row, b"true");
                        }
                    }
                    column.end_row();
                }
                // the fields in order, 5 bits each (19 fields at most, each set once: 95 bits)
                let key = classified
                    .set
                    .iter()
                    .fold(0u128, |key, &(field, _)| key << 5 | (field as u128 + 1));
                shape = match shape_index.get(&key) {
                    Some(&known) => known,
                    None => {
                        let Ok(next) = u16::try_from(shapes.len()) else {
                            return Err(PyValueError::new_err("too many shapes"));
                        };
                        shapes.push(classified.set.iter().map(|&(field, _)| field).collect());
                        shape_index.insert(key, next);
                        next
                    }
                };
            }
            shape_of.extend_from_slice(&shape.to_le_bytes());
        }
        for column in header.iter_mut().chain(fields.iter_mut()) {
            column.end_rows_to(rows);
        }
        Ok((
            PyBytes::new(py, &states).unbind(),
            header
                .into_iter()
                .map(|column| ReadColumn::new(py, column))
                .collect(),
            FIELDS.to_vec(),
            fields
                .into_iter()
                .map(|column| ReadColumn::new(py, column))
                .collect(),
            shapes,
            PyBytes::new(py, &shape_of).unbind(),
        ))
    }
}

impl SyslogReader {
    /// A line's header and fields, or None when the caller reads the line (see the module doc).
    fn take<'l>(&'l self, line: &'l str) -> Option<(Header<'l>, Fields<'l>)> {
        if !line
            .bytes()
            .all(|byte| (0x20..=0x7e).contains(&byte) || byte == b'\t')
        {
            return None;
        }
        let parts = split(line)?;
        if parts.message.contains("message repeated ") {
            return None;
        }
        let (base, pam_style) = match parts.program.strip_suffix(')') {
            Some(inner) if inner.contains('(') => {
                (&parts.program[..parts.program.find('(')?], true)
            }
            _ => (parts.program, false),
        };
        let message = parts.message;
        let fields = match self.programs.get(base) {
            Some(Classifier::Sshd) => self.sshd(message, pam_style).ok()?,
            Some(Classifier::Sudo) => self.sudo(message).ok()?,
            Some(Classifier::Pam(name)) => self.pam(message, name, false).ok()?,
            Some(Classifier::Caller) => return None,
            None => self.pam(message, base, false).ok()?,
        };
        Some((parts, fields))
    }

    /// `linux_auth._source`: an address that may be an IP or a host name.
    fn source<'a>(
        &'a self,
        fields: &mut Fields<'a>,
        value: Option<&'a str>,
    ) -> Result<(), Undecided> {
        let Some(value) = value.filter(|value| !value.is_empty()) else {
            return Ok(());
        };
        let field = if self
            .patterns
            .address
            .is_match(value.as_bytes())
            .map_err(|_| Undecided)?
        {
            SOURCE_IP
        } else {
            SOURCE_DOMAIN
        };
        fields.text(field, value);
        fields.text(SOURCE_ADDRESS, value);
        Ok(())
    }

    /// `linux_auth.classify_sshd`.
    fn sshd<'a>(&'a self, message: &'a str, pam_style: bool) -> Result<Fields<'a>, Undecided> {
        let word = message
            .split(' ')
            .next()
            .unwrap_or("")
            .trim_end_matches(':');
        for (pattern, action) in self.patterns.sshd.get(word).into_iter().flatten() {
            let Some(groups) = captures(pattern, message)? else {
                continue;
            };
            let group = |name: &str| group(message, &groups, name);
            let mut fields = Fields::default();
            match action.as_str() {
                "ssh-login" => {
                    let event = group("event");
                    let outcome = if event == Some("Accepted") {
                        "success"
                    } else {
                        "failure"
                    };
                    fields.auth("ssh-login", outcome, "start");
                    fields.given(USER, group("user"));
                    fields.given(SSH_EVENT, event);
                    fields.given(SSH_METHOD, group("method"));
                    fields.given(SSH_SIGNATURE, group("signature"));
                    if group("invalid").is_some_and(|invalid| !invalid.is_empty()) {
                        fields.put(INVALID, Value::True);
                    }
                }
                "ssh-invalid-user" => {
                    fields.auth("ssh-invalid-user", "failure", "info");
                    fields.given(USER, group("user"));
                    fields.put(INVALID, Value::True);
                }
                "ssh-max-attempts-exceeded" => {
                    fields.auth("ssh-max-attempts-exceeded", "failure", "info");
                    fields.given(USER, group("user"));
                }
                _ => {
                    fields.text(ACTION, action);
                    fields.text(CATEGORY, "network");
                    fields.given(USER, group("user"));
                }
            }
            self.source(&mut fields, group("ip"))?;
            if let Some(port) = group("port").filter(|port| !port.is_empty()) {
                fields.put(SOURCE_PORT, Value::Integer(port));
            }
            return Ok(fields);
        }
        self.pam(message, "sshd", !pam_style)
    }

    /// `linux_auth._pam`: PAM's authentication failures and sessions.
    fn pam<'a>(
        &'a self,
        message: &'a str,
        program: &'a str,
        echoes_daemon: bool,
    ) -> Result<Fields<'a>, Undecided> {
        let mut fields = Fields::default();
        if let Some(groups) = captures(&self.patterns.pam_failure, message)? {
            let group = |name: &str| group(message, &groups, name);
            let kind = if echoes_daemon { "info" } else { "start" };
            fields.auth("pam-authentication-failure", "failure", kind);
            let given = |name: &str| group(name).filter(|value| !value.is_empty());
            fields.given(USER, given("user").or_else(|| given("ruser")));
            fields.given(PAM_SERVICE, given("service").or(Some(program)));
            self.source(&mut fields, group("rhost"))?;
        } else if let Some(groups) = captures(&self.patterns.pam_session, message)? {
            let opened = group(message, &groups, "state") == Some("opened");
            fields.text(CATEGORY, "session");
            fields.text(TYPE, if opened { "start" } else { "end" });
            fields.text(
                ACTION,
                if opened {
                    "session-opened"
                } else {
                    "session-closed"
                },
            );
            fields.text(OUTCOME, "success");
            fields.text(USER, text(message, &groups, "user"));
        }
        Ok(fields)
    }

    /// `linux_auth.classify_sudo`.
    fn sudo<'a>(&'a self, message: &'a str) -> Result<Fields<'a>, Undecided> {
        let Some(groups) = captures(&self.patterns.sudo, message)? else {
            return self.pam(message, "sudo", true);
        };
        let given = |name: &str| group(message, &groups, name).filter(|value| !value.is_empty());
        let text = |name: &str| text(message, &groups, name);
        let failures = given("failures");
        let failed = failures.is_some() || given("error").is_some();
        let user = text("user");
        let mut fields = Fields::default();
        fields.text(CATEGORY, "process");
        fields.text(TYPE, "start");
        fields.text(ACTION, "sudo-command");
        fields.text(OUTCOME, if failed { "failure" } else { "success" });
        fields.text(USER, user);
        fields.text(EFFECTIVE, text("target"));
        fields.text(COMMAND_LINE, text("command"));
        fields.text(WORKING_DIRECTORY, text("pwd"));
        fields.text(TTY, text("tty"));
        if let Some(failures) = failures {
            fields.auth("sudo-password-failure", "failure", "start");
            fields.given(USER, Some(user));
            fields.put(SUDO_FAILURES, Value::Integer(failures));
        }
        Ok(fields)
    }
}

/// A match PCRE2 gave up on (its backtracking limits): the caller decides the line, as Python's
/// `re` does, without them.
struct Undecided;

/// The groups of `regex`'s match at the start of `message`, if it matches.
fn captures<'s>(regex: &Regex, message: &'s str) -> Result<Option<Captures<'s>>, Undecided> {
    regex.captures(message.as_bytes()).map_err(|_| Undecided)
}

/// A group of a match in `message`; None when it took no part.
fn group<'a>(message: &'a str, groups: &Captures<'_>, name: &str) -> Option<&'a str> {
    groups
        .name(name)
        .map(|part| &message[part.start()..part.end()])
}

/// A group that always takes part in a match of its pattern.
fn text<'a>(message: &'a str, groups: &Captures<'_>, name: &str) -> &'a str {
    group(message, groups, name).unwrap_or("")
}

/// The header of a line, as `syslog._RFC3164` then `syslog._TAG` take it; None for another shape.
fn split(line: &str) -> Option<Header<'_>> {
    let bytes = line.as_bytes();
    let digit = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
    let byte = |at: usize| bytes.get(at).copied();
    let digits = |from: usize| {
        bytes[from.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut at = 0;
    let mut pri = None;
    if byte(0) == Some(b'<') {
        let count = digits(1);
        if !(1..=3).contains(&count) || byte(1 + count) != Some(b'>') {
            return None;
        }
        pri = Some(&line[1..1 + count]);
        at = 2 + count;
    }
    let start = at;
    let month = byte(at).is_some_and(|b| b.is_ascii_uppercase())
        && byte(at + 1).is_some_and(|b| b.is_ascii_lowercase())
        && byte(at + 2).is_some_and(|b| b.is_ascii_lowercase())
        && byte(at + 3) == Some(b' ');
    if !month {
        return None;
    }
    at += 4;
    if (byte(at) == Some(b' ') || digit(at)) && digit(at + 1) && byte(at + 2) == Some(b' ') {
        at += 3;
    } else if digit(at) && byte(at + 1) == Some(b' ') {
        at += 2;
    } else {
        return None;
    }
    let clock = digit(at)
        && digit(at + 1)
        && byte(at + 2) == Some(b':')
        && digit(at + 3)
        && digit(at + 4)
        && byte(at + 5) == Some(b':')
        && digit(at + 6)
        && digit(at + 7);
    if !clock {
        return None;
    }
    at += 8;
    let stamp = &line[start..at];
    if byte(at) == Some(b'.') {
        let count = digits(at + 1);
        if count == 0 {
            return None;
        }
        at += 1 + count;
    }
    if byte(at) != Some(b' ') {
        return None;
    }
    at += 1;
    let host_length = bytes[at..]
        .iter()
        .take_while(|&&b| b != b' ' && b != b'\t')
        .count();
    if host_length == 0 || byte(at + host_length) != Some(b' ') {
        return None;
    }
    let host = &line[at..at + host_length];
    at += host_length + 1;
    let program_length = bytes[at..]
        .iter()
        .take_while(|&&b| !matches!(b, b' ' | b'\t' | b'[' | b':'))
        .count();
    if program_length == 0 {
        return None;
    }
    let program = &line[at..at + program_length];
    at += program_length;
    let mut pid = None;
    if byte(at) == Some(b'[') {
        let count = digits(at + 1);
        if count == 0 || byte(at + 1 + count) != Some(b']') {
            return None;
        }
        pid = Some(&line[at + 1..at + 1 + count]);
        at += count + 2;
    }
    if byte(at) != Some(b':') {
        return None;
    }
    at += 1;
    if byte(at) == Some(b' ') {
        at += 1;
    }
    Some(Header {
        pri,
        stamp,
        host,
        program,
        pid,
        message: &line[at..],
    })
}
