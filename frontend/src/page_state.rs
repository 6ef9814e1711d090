//! The page's state in one pure reducer, tested natively: the scenario on screen, the link
//! that carries it, what the page tells the reader, and the playback.
//!
//! Every change the page makes is an [`Action`]; [`PageState::apply`] is a pure function of
//! the state and the action, and `impl Reducible` lets Yew's `use_reducer` drive it. Opening a
//! scenario may wait for the browser (a built-in scenario's file, a custom one's packed link),
//! so each request carries a [`RequestId`] and the answer to any but the latest request is
//! dropped: the last thing the reader asked for is what opens. The effects that dispatch the
//! actions (keys, animation frames, fetching, the clipboard) live in `hooks.rs`.

use std::rc::Rc;

use yew::Reducible;

use sockscope_engine::format::Numbering;

use crate::model::Shared;
use crate::playback::{self, Playback};
use crate::url::{self, Layout};

/// A request to open a scenario; a later request has a larger number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl RequestId {
    pub fn next(self) -> RequestId {
        RequestId(self.0 + 1)
    }
}

#[derive(Clone, PartialEq)]
pub struct PageState {
    /// First, so that comparing two states (once per action) usually stops at the field that
    /// changes most often.
    pub playback: Playback,
    /// The scenario on screen; `playback.timing` is always its timing.
    pub loaded: Shared,
    /// The open custom scenario packed for the link's `#scenario=` fragment; `None` for a
    /// built-in scenario, or for a custom one that no link can carry.
    pub packed: Option<String>,
    /// Messages about the address or a failed open, shown until dismissed or until another
    /// scenario opens.
    pub notices: Vec<String>,
    /// One line on what the page is doing or has just done: opening a scenario, copying.
    pub status: Option<String>,
    /// The embed code last made, shown so that it can also be copied by hand.
    pub embed_code: Option<String>,
    /// What the editor's last Run came to, said beside its button, where the reader is.
    pub editor_note: Option<EditorNote>,
    /// The address the reader came with stays in the address bar, unfollowed, while the
    /// notices say why the page could not follow it: a damaged link can then still be copied,
    /// reported or mended. The page's own address takes over again once the notices are
    /// dismissed or another scenario opens.
    pub keep_address: bool,
    /// The latest request to open a scenario.
    pub latest_request: RequestId,
    /// How the tcpdump pane, the diagram and the narration number segments; kept when
    /// another scenario opens.
    pub numbering: Numbering,
    /// The page runs the studio's build (playground and what-if forks): its address keeps
    /// `studio=1`, so that a reload or a shared link loads that build again.
    pub studio: bool,
    /// The address's `api=` (the origins that may drive this embed), kept in the address so
    /// that a reload answers them again.
    pub api: Option<String>,
    /// What the studio adds to the address for the run it shows (`play=1&now=…`,
    /// `fork=…`); empty for a scenario opened as it is.
    pub studio_query: String,
    /// The `sent` events of the arrows the studio marks as differing from the run it is
    /// compared with, sorted.
    pub differs: Option<Rc<Vec<usize>>>,
}

/// A run the studio made (a playground's world, a fork), to show at `cursor`.
#[derive(Clone)]
pub struct Shown {
    pub loaded: Shared,
    pub cursor: usize,
    /// The fragment that carries a custom scenario, if any.
    pub packed: Option<String>,
    pub studio_query: String,
    pub differs: Option<Rc<Vec<usize>>>,
}

/// What the editor's last Run came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditorNote {
    /// The text ran and is on screen.
    Ran(String),
    /// The text ran, but the reader should know something about the run: an expectation not
    /// met, a run cut short, a link that cannot carry it.
    RanWithWarnings(String),
    /// The text is not a scenario, for this reason; the open scenario stays.
    Rejected(String),
}

impl EditorNote {
    pub fn text(&self) -> &str {
        match self {
            EditorNote::Ran(text) | EditorNote::RanWithWarnings(text) | EditorNote::Rejected(text) => text,
        }
    }
}

#[derive(Clone)]
pub enum Action {
    /// The reader picked the built-in scenario `name`; its file is on its way.
    Fetching {
        request: RequestId,
        name: String,
    },
    /// The reader ran the editor's text; the browser is packing it for the link.
    Packing {
        request: RequestId,
    },
    /// The browser's answer to `request`, dropped when a newer request has been made since.
    Answered {
        request: RequestId,
        answer: Answer,
    },
    /// The editor's text is not a scenario, for this reason; the open scenario stays.
    EditorRejected(String),
    /// The embed code for the moment shown was made (and is being copied).
    ShowEmbedCode(String),
    /// The clipboard took the link or the embed code.
    Copied(Copied),
    /// The browser did not allow writing to the clipboard.
    CopyRefused,
    DismissNotices,
    /// Number segments as `tcpdump -n` does (relative) or as `tcpdump -n -S` does (absolute).
    SetNumbering(Numbering),
    /// The studio shows a run it made.
    Show(Box<Shown>),
    /// The browser packed the scenario on screen for the link's fragment; dropped if another
    /// run is on screen by then.
    Packed {
        loaded: Shared,
        packed: String,
    },
    Playback(playback::Action),
}

/// What a request to open a scenario came to.
#[derive(Clone)]
pub enum Answer {
    /// Open this scenario at its start.
    Open { loaded: Shared, link: Link },
    /// The built-in scenario could not be had, for this reason; the open scenario stays.
    Failed(String),
}

/// How a link names the scenario being opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// A built-in scenario: the query names it (`?s=`).
    Builtin,
    /// A custom scenario, packed into the fragment (`#scenario=`).
    Packed(String),
    /// A custom scenario the browser could not pack, for this reason.
    CannotPack(String),
}

/// What was put on the clipboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copied {
    Link,
    EmbedCode,
}

impl PageState {
    /// The page as its address opened it: `loaded` after `cursor` events, paused.
    pub fn new(loaded: Shared, cursor: usize, packed: Option<String>, notices: Vec<String>) -> PageState {
        PageState {
            playback: Playback::new(loaded.timing.clone(), cursor),
            loaded,
            packed,
            status: None,
            embed_code: None,
            editor_note: None,
            keep_address: !notices.is_empty(),
            notices,
            latest_request: RequestId::default(),
            numbering: Numbering::Relative,
            studio: false,
            api: None,
            studio_query: String::new(),
            differs: None,
        }
    }

    /// The state after `action`; the input is not changed.
    pub fn apply(&self, action: Action) -> PageState {
        let mut next = self.clone();
        match action {
            Action::Fetching { request, name } => {
                next.latest_request = request;
                next.status = Some(format!("Opening “{name}”…"));
            }
            Action::Packing { request } => next.latest_request = request,
            Action::Answered { request, .. } if request != self.latest_request => {}
            Action::Answered { answer: Answer::Open { loaded, link }, .. } => {
                // A new scenario starts clean: what was said about the old one no longer holds.
                next.playback = self.playback.with_trace(loaded.timing.clone());
                next.loaded = loaded;
                next.notices = Vec::new();
                next.keep_address = false;
                next.status = None;
                next.embed_code = None;
                next.studio_query = String::new();
                next.differs = None;
                // Only the editor's Run opens a custom scenario after the page has started.
                (next.packed, next.editor_note) = match link {
                    Link::Builtin => (None, None),
                    Link::Packed(packed) => (Some(packed), Some(ran_note(&next.loaded, None))),
                    Link::CannotPack(why) => (None, Some(ran_note(&next.loaded, Some(&why)))),
                };
            }
            Action::Answered { answer: Answer::Failed(why), .. } => {
                next.status = None;
                next.notices = vec![why];
            }
            Action::EditorRejected(why) => next.editor_note = Some(EditorNote::Rejected(why)),
            Action::ShowEmbedCode(code) => next.embed_code = Some(code),
            Action::Copied(Copied::Link) => {
                next.status = Some("Link copied: it opens this scenario at this moment.".to_string())
            }
            Action::Copied(Copied::EmbedCode) => {
                next.status = Some("Embed code copied: paste it into your course page.".to_string())
            }
            Action::CopyRefused => {
                next.status = Some("The browser did not allow copying; select the text below and copy it.".to_string())
            }
            Action::DismissNotices => {
                next.notices = Vec::new();
                next.keep_address = false;
            }
            Action::SetNumbering(numbering) => next.numbering = numbering,
            Action::Show(shown) => {
                let Shown { loaded, cursor, packed, studio_query, differs } = *shown;
                next.playback = self.playback.with_trace(loaded.timing.clone()).apply(playback::Action::Seek(cursor));
                next.loaded = loaded;
                (next.packed, next.studio_query, next.differs) = (packed, studio_query, differs);
                next.keep_address = false;
                next.embed_code = None;
            }
            Action::Packed { loaded, packed } => {
                if loaded == self.loaded {
                    next.packed = Some(packed);
                }
            }
            Action::Playback(action) => next.playback = self.playback.apply(action),
        }
        next
    }

    /// The address to write into the address bar now, if any: not while playing, to keep
    /// history calm, and not while the address the reader came with is kept.
    pub fn address_to_write(&self, layout: Layout) -> Option<String> {
        (!self.playback.playing && !self.keep_address).then(|| self.address(layout))
    }

    /// The address of the moment shown, relative to the page: `?s=name&t=42`, or `?t=42`
    /// and the packed scenario's `#scenario=…` for a custom one.
    pub fn address(&self, layout: Layout) -> String {
        let mut query = url::query_for(self.loaded.builtin.as_deref(), self.playback.cursor, layout);
        if self.studio {
            query.push_str("&studio=1");
        }
        if let Some(api) = &self.api {
            query.push_str("&api=");
            query.push_str(&url::percent_encode(api));
        }
        if !self.studio_query.is_empty() {
            query.push('&');
            query.push_str(&self.studio_query);
        }
        format!("{query}{}", self.fragment())
    }

    /// The code of an iframe that shows the moment shown, for the page at `page`.
    pub fn embed_code_for(&self, page: &str) -> String {
        let builtin = self.loaded.builtin.as_deref();
        url::embed_snippet(page, builtin, self.playback.cursor, &self.fragment(), &self.loaded.title)
    }

    fn fragment(&self) -> String {
        // A packetdrill script's link says so, for static/boot.js, which loads the studio's
        // build (the only one that reads scripts) for `#pkt=`.
        let key = if self.loaded.script.is_some() { "pkt" } else { "scenario" };
        self.packed.as_ref().map_or_else(String::new, |packed| format!("#{key}={packed}"))
    }
}

/// The editor's note on a run of `loaded`, whose link could not be made when `no_link` says
/// why. The run's warnings (expectations not met, a run cut short) are repeated here, beside
/// the button, because the introduction that also lists them is out of view.
fn ran_note(loaded: &Shared, no_link: Option<&str>) -> EditorNote {
    let events = loaded.trace.events.len();
    let mut text = format!("Ran “{}”: {events} events, shown above from the start.", loaded.title);
    match no_link {
        None => text.push_str(" The address now carries it: copy it to share the scenario."),
        Some(why) => text.push_str(&format!(" No link can carry it: {}.", why.trim_end_matches('.'))),
    }
    for warning in &loaded.warnings {
        text.push(' ');
        text.push_str(warning);
    }
    if no_link.is_some() || !loaded.warnings.is_empty() {
        EditorNote::RanWithWarnings(text)
    } else {
        EditorNote::Ran(text)
    }
}

impl Reducible for PageState {
    type Action = Action;

    /// Keeps the same `Rc` when nothing changed (a frame while paused, a late answer), so
    /// that Yew does not render the page again.
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let next = self.apply(action);
        if next == *self {
            self
        } else {
            Rc::new(next)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use sockscope_engine::builtin;

    /// A built-in scenario as the page loads it once its file has arrived.
    fn loaded(name: &str) -> Shared {
        let text = builtin::source(name).expect("a built-in scenario").to_string();
        Shared(Rc::new(model::load_builtin(name, text).expect("the built-in scenario loads")))
    }

    /// The page opened on tlpi-tcpdump after 40 events, with a notice about its address. It
    /// rests at the end of the step that holds the 40th event (see [`crate::steps`]).
    fn page_at_40() -> PageState {
        PageState::new(loaded("tlpi-tcpdump"), 40, None, vec!["about the address".to_string()])
    }

    /// Where [`page_at_40`] rests.
    fn rest_of_40() -> usize {
        loaded("tlpi-tcpdump").timing.steps.at_or_after(40)
    }

    fn open(request: RequestId, loaded: &Shared, link: Link) -> Action {
        Action::Answered { request, answer: Answer::Open { loaded: loaded.clone(), link } }
    }

    #[test]
    fn a_new_page_starts_paused_at_its_cursor() {
        let page = page_at_40();
        assert_eq!((page.playback.cursor, page.playback.playing), (rest_of_40(), false));
        assert!(page.playback.cursor >= 40);
        assert!(Rc::ptr_eq(&page.playback.timing, &page.loaded.timing));
        assert_eq!(page.notices, ["about the address"]);
        let past_the_end = PageState::new(loaded("tlpi-tcpdump"), usize::MAX, None, Vec::new());
        assert_eq!(past_the_end.playback.cursor, past_the_end.loaded.trace.events.len());
    }

    #[test]
    fn opening_a_scenario_starts_it_clean_and_keeps_the_speed() {
        let handshake = loaded("three-way-handshake");
        let request = RequestId(1);
        let before = page_at_40()
            .apply(Action::Playback(playback::Action::SetSpeed(4.0)))
            .apply(Action::Playback(playback::Action::Play))
            .apply(Action::ShowEmbedCode("<iframe>".to_string()))
            .apply(Action::EditorRejected("does not parse".to_string()))
            .apply(Action::Fetching { request, name: "three-way-handshake".to_string() });
        assert_eq!(before.status.as_deref(), Some("Opening “three-way-handshake”…"));
        let after = before.apply(open(request, &handshake, Link::Builtin));
        assert!(after.loaded == handshake);
        assert!(Rc::ptr_eq(&after.playback.timing, &handshake.timing));
        let playback = &after.playback;
        assert_eq!((playback.cursor, playback.playing, playback.speed), (0, false, 4.0));
        assert!(after.notices.is_empty());
        assert_eq!((after.status, after.embed_code, after.editor_note, after.packed), (None, None, None, None));
    }

    #[test]
    fn only_the_latest_request_opens() {
        let (nagle, half_close) = (loaded("nagle"), loaded("half-close"));
        let (first, second) = (RequestId(1), RequestId(1).next());
        let asked_twice = page_at_40()
            .apply(Action::Fetching { request: first, name: "nagle".to_string() })
            .apply(Action::Fetching { request: second, name: "half-close".to_string() });
        // The second file arrives first and opens; the first, arriving late, changes nothing.
        let opened = asked_twice.apply(open(second, &half_close, Link::Builtin));
        assert!(opened.loaded == half_close);
        assert!(opened.apply(open(first, &nagle, Link::Builtin)) == opened);
        // The other way round, the late answer to the first request is dropped before it
        // could show, and the status still says what is being opened.
        let early = asked_twice.apply(open(first, &nagle, Link::Builtin));
        assert!(early == asked_twice);
        assert_eq!(early.status.as_deref(), Some("Opening “half-close”…"));
        let failed = asked_twice.apply(Action::Answered { request: first, answer: Answer::Failed("404".to_string()) });
        assert!(failed == asked_twice);
        // A custom run is a request too: it makes an earlier pick's answer late.
        let ran = asked_twice.apply(Action::Packing { request: second.next() });
        assert!(ran.apply(open(second, &half_close, Link::Builtin)) == ran);
    }

    #[test]
    fn a_late_answer_keeps_the_same_rc() {
        let page = Rc::new(page_at_40().apply(Action::Packing { request: RequestId(2) }));
        let late = page.clone().reduce(open(RequestId(1), &loaded("nagle"), Link::Builtin));
        assert!(Rc::ptr_eq(&page, &late));
        let paused_frame = page.clone().reduce(Action::Playback(playback::Action::Tick(16.0)));
        assert!(Rc::ptr_eq(&page, &paused_frame), "a frame while paused changes nothing");
        let stepped = page.clone().reduce(Action::Playback(playback::Action::StepForward));
        assert_eq!(stepped.playback.cursor, page.loaded.timing.steps.after(rest_of_40()));
    }

    #[test]
    fn a_failed_fetch_keeps_the_scenario_and_says_why() {
        let page = page_at_40().apply(Action::Fetching { request: RequestId(1), name: "nagle".to_string() });
        let why = "The scenario “nagle” could not be loaded from scenarios/nagle.json (Failed to fetch).";
        let failed = page.apply(Action::Answered { request: RequestId(1), answer: Answer::Failed(why.to_string()) });
        assert!(failed.loaded == page.loaded);
        assert_eq!(failed.playback.cursor, rest_of_40());
        assert_eq!(failed.notices, [why], "the failure replaces the earlier notices");
        assert_eq!(failed.status, None);
    }

    #[test]
    fn the_numbering_is_kept_when_another_scenario_opens() {
        let page = page_at_40();
        assert_eq!(page.numbering, Numbering::Relative, "tcpdump's default");
        let absolute = page
            .apply(Action::SetNumbering(Numbering::Absolute))
            .apply(Action::Fetching { request: RequestId(1), name: "nagle".to_string() })
            .apply(open(RequestId(1), &loaded("nagle"), Link::Builtin));
        assert_eq!(absolute.numbering, Numbering::Absolute);
        assert_eq!(absolute.playback.cursor, 0);
    }

    #[test]
    fn notices_stay_until_dismissed() {
        let page = page_at_40();
        let stepped = page.apply(Action::Playback(playback::Action::StepForward));
        assert_eq!(stepped.notices, ["about the address"]);
        assert!(stepped.apply(Action::DismissNotices).notices.is_empty());
    }

    #[test]
    fn a_run_whose_expectation_fails_says_so_beside_the_editor() {
        let text =
            builtin::source("three-way-handshake").expect("built in").replacen("\"expect\": 0", "\"expect\": 7", 1);
        let custom = Shared(Rc::new(model::load_text(&text).expect("the text loads")));
        assert_eq!(custom.warnings.len(), 1, "{:?}", custom.warnings);
        let ran = page_at_40().apply(Action::Packing { request: RequestId(1) }).apply(open(
            RequestId(1),
            &custom,
            Link::Packed("abc".to_string()),
        ));
        let Some(EditorNote::RanWithWarnings(note)) = &ran.editor_note else {
            panic!("a run with a failed expectation warns: {:?}", ran.editor_note)
        };
        assert!(note.ends_with(&format!(" {}", custom.warnings[0])), "{note}");
        assert!(note.contains("was expected to give 7") && note.contains(".steps["), "{note}");
    }

    #[test]
    fn the_address_the_reader_came_with_stays_while_its_notices_do() {
        // The page could not follow the address: it keeps it, stepping or not, so that a
        // damaged link is not lost the moment the page starts.
        let page = page_at_40();
        assert!(page.keep_address);
        let stepped = page.apply(Action::Playback(playback::Action::StepForward));
        assert_eq!(stepped.address_to_write(Layout::Full), None);
        // Dismissing the notices, or opening another scenario, hands the address back.
        let dismissed = stepped.apply(Action::DismissNotices);
        // A step forward from event 40 rests where the next step ends.
        let rest = dismissed.playback.cursor;
        assert!(rest > 40, "{rest}");
        assert_eq!(dismissed.address_to_write(Layout::Full), Some(format!("?s=tlpi-tcpdump&t={rest}")));
        let opened = stepped.apply(Action::Fetching { request: RequestId(1), name: "nagle".to_string() }).apply(open(
            RequestId(1),
            &loaded("nagle"),
            Link::Builtin,
        ));
        assert_eq!(opened.address_to_write(Layout::Full).as_deref(), Some("?s=nagle&t=0"));
        // A page that followed its address writes it, though not while playing.
        let followed = PageState::new(loaded("nagle"), 3, None, Vec::new());
        assert_eq!(followed.address_to_write(Layout::Embedded).as_deref(), Some("?s=nagle&t=3&embed=1"));
        let playing = followed.apply(Action::Playback(playback::Action::Play));
        assert_eq!(playing.address_to_write(Layout::Full), None);
    }

    #[test]
    fn a_custom_scenario_carries_its_packed_link() {
        let custom = Shared(Rc::new(
            model::load_text(builtin::source("three-way-handshake").expect("built in")).expect("the text loads"),
        ));
        let page = page_at_40().apply(Action::Packing { request: RequestId(1) });
        let packed = page.apply(open(RequestId(1), &custom, Link::Packed("abc".to_string())));
        assert_eq!(packed.packed.as_deref(), Some("abc"));
        // The editor, far below the diagram, says that the run worked and what it showed.
        assert_eq!(
            packed.editor_note,
            Some(EditorNote::Ran(
                "Ran “The three-way handshake”: 112 events, shown above from the start. The \
                 address now carries it: copy it to share the scenario."
                    .to_string()
            ))
        );
        assert_eq!(packed.address(Layout::Full), "?t=0#scenario=abc");
        let moved = packed.apply(Action::Playback(playback::Action::Seek(3)));
        assert_eq!(moved.address(Layout::Embedded), "?t=3&embed=1#scenario=abc");
        assert!(moved
            .embed_code_for("https://x.org/")
            .starts_with("<iframe src=\"https://x.org/?t=3&amp;embed=1#scenario=abc\""));
        // A custom scenario that no link can carry still opens, and the editor says why.
        let unpacked = page.apply(open(RequestId(1), &custom, Link::CannotPack("no CompressionStream".to_string())));
        assert!(unpacked.loaded == custom);
        assert_eq!(unpacked.packed, None);
        assert_eq!(
            unpacked.editor_note,
            Some(EditorNote::RanWithWarnings(
                "Ran “The three-way handshake”: 112 events, shown above from the start. No link \
                 can carry it: no CompressionStream."
                    .to_string()
            ))
        );
        // A built-in scenario opened after it drops the fragment.
        let builtin = unpacked
            .apply(Action::Fetching { request: RequestId(2), name: "nagle".to_string() })
            .apply(open(RequestId(2), &loaded("nagle"), Link::Builtin));
        assert_eq!(builtin.address(Layout::Full), "?s=nagle&t=0");
    }

    #[test]
    fn the_studio_shows_its_runs_with_their_address_and_marks() {
        let mut page = page_at_40().apply(Action::DismissNotices);
        page.studio = true;
        assert_eq!(page.address(Layout::Full), format!("?s=tlpi-tcpdump&t={}&studio=1", rest_of_40()));
        let fork = Shared(Rc::new(
            model::load_text(builtin::source("three-way-handshake").expect("built in")).expect("the text loads"),
        ));
        let marks = Rc::new(vec![3, 7]);
        let shown = page.apply(Action::Show(Box::new(Shown {
            loaded: fork.clone(),
            cursor: 5,
            packed: None,
            studio_query: "fork=%5B%5D".to_string(),
            differs: Some(marks.clone()),
        })));
        assert!(shown.loaded == fork);
        assert!(Rc::ptr_eq(&shown.playback.timing, &fork.timing));
        assert_eq!(shown.playback.cursor, fork.timing.steps.at_or_after(5));
        assert_eq!(shown.differs, Some(marks));
        let cursor = shown.playback.cursor;
        assert_eq!(shown.address(Layout::Full), format!("?t={cursor}&studio=1&fork=%5B%5D"));
        // The packed fragment arrives later, and only for the run still on screen.
        let packed = shown.apply(Action::Packed { loaded: fork.clone(), packed: "xyz".to_string() });
        assert_eq!(packed.address(Layout::Full), format!("?t={cursor}&studio=1&fork=%5B%5D#scenario=xyz"));
        assert!(shown.apply(Action::Packed { loaded: page.loaded.clone(), packed: "old".to_string() }) == shown);
        // A scenario the reader opens drops what the studio added.
        let opened = packed.apply(Action::Fetching { request: RequestId(1), name: "nagle".to_string() }).apply(open(
            RequestId(1),
            &loaded("nagle"),
            Link::Builtin,
        ));
        assert_eq!((opened.studio_query.as_str(), opened.differs.clone()), ("", None));
        assert_eq!(opened.address(Layout::Full), "?s=nagle&t=0&studio=1");
    }

    #[test]
    fn the_editor_and_the_clipboard_answer_in_their_own_lines() {
        let page = page_at_40();
        let rejected = page.apply(Action::EditorRejected("This scenario does not parse: …".to_string()));
        assert_eq!(rejected.editor_note, Some(EditorNote::Rejected("This scenario does not parse: …".to_string())));
        assert!(rejected.loaded == page.loaded && rejected.playback == page.playback);
        let cases = [
            (Action::Copied(Copied::Link), "Link copied: it opens this scenario at this moment."),
            (Action::Copied(Copied::EmbedCode), "Embed code copied: paste it into your course page."),
            (Action::CopyRefused, "The browser did not allow copying; select the text below and copy it."),
        ];
        for (action, status) in cases {
            assert_eq!(page.apply(action).status.as_deref(), Some(status));
        }
        let shown = page.apply(Action::ShowEmbedCode("<iframe …>".to_string()));
        assert_eq!(shown.embed_code.as_deref(), Some("<iframe …>"));
        assert_eq!(shown.address(Layout::Full), format!("?s=tlpi-tcpdump&t={}", rest_of_40()));
    }
}
