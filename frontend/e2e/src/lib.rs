//! Helpers live in the tests; see tests/browser.rs.
