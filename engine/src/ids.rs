//! The tables that own the world's sockets, processes and hosts, indexed by their ids: an id
//! is turned into a position only here.

use std::ops::{Index, IndexMut};

use crate::trace::{Pid, SocketId};

/// Identifies a host of the scenario, in the order the scenario lists them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct HostId(pub u32);

/// A table of `T`s indexed by an id type `I`; entries are never removed, so ids stay valid
/// for the whole run.
#[derive(Clone, Debug)]
pub(crate) struct Table<I, T> {
    entries: Vec<T>,
    id: std::marker::PhantomData<I>,
}

/// An id that names a position in its table.
pub(crate) trait TableId: Copy {
    fn from_position(position: usize) -> Self;
    fn position(self) -> usize;
}

impl TableId for SocketId {
    fn from_position(position: usize) -> Self {
        SocketId(position as u32)
    }
    fn position(self) -> usize {
        self.0 as usize
    }
}

impl TableId for Pid {
    fn from_position(position: usize) -> Self {
        Pid(position as u32)
    }
    fn position(self) -> usize {
        self.0 as usize
    }
}

impl TableId for HostId {
    fn from_position(position: usize) -> Self {
        HostId(position as u32)
    }
    fn position(self) -> usize {
        self.0 as usize
    }
}

impl<I, T> Default for Table<I, T> {
    fn default() -> Self {
        Table { entries: Vec::new(), id: std::marker::PhantomData }
    }
}

impl<I: TableId, T> Table<I, T> {
    /// The id the next entry will get.
    pub fn next_id(&self) -> I {
        I::from_position(self.entries.len())
    }

    /// Adds an entry and returns its id.
    pub fn push(&mut self, entry: T) -> I {
        let id = self.next_id();
        self.entries.push(entry);
        id
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.entries.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.entries.iter_mut()
    }

    /// Every id with its entry, in order.
    pub fn with_ids(&self) -> impl Iterator<Item = (I, &T)> {
        self.entries.iter().enumerate().map(|(position, entry)| (I::from_position(position), entry))
    }

    /// The id of the first entry that `wanted` accepts.
    pub fn find(&self, wanted: impl Fn(&T) -> bool) -> Option<I> {
        self.entries.iter().position(wanted).map(I::from_position)
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl Iterator<Item = I> {
        (0..self.entries.len()).map(I::from_position)
    }
}

impl<I: TableId, T> FromIterator<T> for Table<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        Table { entries: iter.into_iter().collect(), id: std::marker::PhantomData }
    }
}

impl<I: TableId, T> Index<I> for Table<I, T> {
    type Output = T;
    fn index(&self, id: I) -> &T {
        &self.entries[id.position()]
    }
}

impl<I: TableId, T> IndexMut<I> for Table<I, T> {
    fn index_mut(&mut self, id: I) -> &mut T {
        &mut self.entries[id.position()]
    }
}
