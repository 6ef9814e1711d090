//! The built-in scenarios the page offers, and where it finds them.
//!
//! The page does not carry the scenarios themselves: each is a JSON file served beside the
//! page (`scenarios/<name>.json`, copied there by Trunk from `engine/scenarios/`), fetched when
//! it is shown. The picker's titles, sources and groups come from a table the build writes
//! (see `build.rs`), so listing them needs no download.

use crate::model::{self, Loaded};
use crate::promise;

/// What the picker shows of a built-in scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub title: &'static str,
    pub source: &'static str,
    pub group: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// Whether `name` is a built-in scenario.
pub fn exists(name: &str) -> bool {
    CATALOGUE.iter().any(|entry| entry.name == name)
}

/// The default scenario when the address names none.
pub fn default_scenario() -> &'static str {
    if exists("three-way-handshake") {
        "three-way-handshake"
    } else {
        CATALOGUE.first().map_or("three-way-handshake", |entry| entry.name)
    }
}

/// The address of a built-in scenario's file, relative to the page.
pub fn file(name: &str) -> String {
    format!("scenarios/{name}.json")
}

/// Fetches the built-in scenario `name`'s file and loads it; an error says which file could
/// not be had, or why it did not load.
pub fn fetch(name: String, done: impl FnOnce(Result<Loaded, String>) + 'static) {
    promise::text(&file(&name), move |text| {
        let unreachable = |why| format!("The scenario “{name}” could not be loaded from {} ({why}).", file(&name));
        done(text.map_err(unreachable).and_then(|text| model::load_builtin(&name, text)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::builtin;

    #[test]
    fn the_table_lists_every_builtin_in_catalogue_order() {
        let names: Vec<&str> = CATALOGUE.iter().map(|entry| entry.name).collect();
        assert_eq!(names, builtin::NAMES);
        for (entry, full) in CATALOGUE.iter().zip(builtin::catalogue()) {
            assert_eq!((entry.title, entry.source, entry.group), (&*full.title, &*full.source, &*full.group));
            assert!(builtin::GROUPS.contains(&entry.group), "{}: unknown group", entry.name);
        }
        assert_eq!(default_scenario(), "three-way-handshake");
        assert!(!exists("nope") && exists("four-way-close"));
    }

    #[test]
    fn each_file_is_named_after_its_scenario() {
        assert_eq!(file("four-way-close"), "scenarios/four-way-close.json");
        for name in builtin::NAMES {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine").join(file(name));
            assert!(path.is_file(), "{} is missing", path.display());
        }
    }
}
