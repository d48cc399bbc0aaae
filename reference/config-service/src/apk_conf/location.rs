//! Where each field of a YAML document starts, by field path (`operations[2].verb`), so that
//! errors found after parsing can still point at a line.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Deeper than serde_yaml's own recursion limit (128), so every path it can report is indexed.
const MAX_INDEXED_DEPTH: usize = 256;

/// A 1-based line and column in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Field path → location of its key (or of the element, in a sequence).
#[derive(Debug, Default)]
pub(crate) struct LocationIndex {
    by_path: HashMap<String, Location>,
}

impl LocationIndex {
    /// Indexes `text`; a document that does not scan yields what was seen before the error.
    pub(crate) fn build(text: &str) -> Self {
        let mut recorder = Recorder::default();
        let mut parser = Parser::new_from_str(text);
        // Pulled event by event: `Parser::load` recurses once per nesting level and overflows
        // the stack on deeply nested input. Nodes deeper than serde_yaml will ever reach are
        // not indexed, which keeps the paths (and memory) bounded.
        let mut depth = 0usize;
        loop {
            let (event, mark) = match parser.next_token() {
                Ok(next) => next,
                Err(error) => {
                    tracing::debug!(%error, "apk-conf location index stopped early");
                    break;
                }
            };
            match event {
                Event::StreamEnd | Event::DocumentEnd => break,
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    depth += 1;
                    if depth > MAX_INDEXED_DEPTH {
                        continue;
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    depth = depth.saturating_sub(1);
                    if depth >= MAX_INDEXED_DEPTH {
                        continue;
                    }
                }
                _ if depth > MAX_INDEXED_DEPTH => continue,
                _ => {}
            }
            recorder.on_event(event, mark);
        }
        LocationIndex {
            by_path: recorder.by_path,
        }
    }

    /// Location of `path`, or of its nearest indexed ancestor.
    pub(crate) fn locate(&self, path: &str) -> Option<Location> {
        let mut path = path;
        loop {
            if let Some(location) = self.by_path.get(path) {
                return Some(*location);
            }
            if path.is_empty() {
                return None;
            }
            let cut = path.rfind(['.', '[']).unwrap_or(0);
            path = &path[..cut];
        }
    }
}

/// Joins a parent path and a mapping key the way `serde_path_to_error` prints paths.
pub(crate) fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

enum Frame {
    Mapping {
        path: String,
        key: Option<String>,
        awaiting_value: bool,
    },
    Sequence {
        path: String,
        index: usize,
    },
}

#[derive(Default)]
struct Recorder {
    stack: Vec<Frame>,
    by_path: HashMap<String, Location>,
    root_seen: bool,
}

impl Recorder {
    /// Path of the node about to start, recording where it starts; `None` for mapping keys.
    fn enter(&mut self, mark: Marker, key_text: Option<&str>) -> Option<String> {
        // yaml-rust2 counts columns from 0.
        let location = Location {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match self.stack.last_mut() {
            None => {
                if !self.root_seen {
                    self.root_seen = true;
                    self.by_path.insert(String::new(), location);
                }
                Some(String::new())
            }
            Some(Frame::Mapping {
                path,
                key,
                awaiting_value: false,
            }) => {
                // A key: its location stands for the whole field.
                let name = key_text.unwrap_or("?").to_owned();
                self.by_path.entry(join_key(path, &name)).or_insert(location);
                *key = Some(name);
                None
            }
            Some(Frame::Mapping {
                path,
                key,
                awaiting_value: true,
            }) => Some(join_key(path, key.as_deref().unwrap_or("?"))),
            Some(Frame::Sequence { path, index }) => {
                let child = format!("{path}[{index}]");
                self.by_path.entry(child.clone()).or_insert(location);
                Some(child)
            }
        }
    }

    /// A node finished: a mapping alternates key and value, a sequence moves to its next item.
    fn finish_node(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Mapping { awaiting_value, .. }) => *awaiting_value = !*awaiting_value,
            Some(Frame::Sequence { index, .. }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, ..) => {
                self.enter(mark, Some(&text));
                self.finish_node();
            }
            Event::Alias(_) => {
                self.enter(mark, None);
                self.finish_node();
            }
            Event::MappingStart(..) => {
                let path = self.enter(mark, None).unwrap_or_else(|| "?".to_owned());
                self.stack.push(Frame::Mapping {
                    path,
                    key: None,
                    awaiting_value: false,
                });
            }
            Event::SequenceStart(..) => {
                let path = self.enter(mark, None).unwrap_or_else(|| "?".to_owned());
                self.stack.push(Frame::Sequence { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.finish_node();
            }
            _ => {}
        }
    }
}
