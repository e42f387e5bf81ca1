//! [`InlineQueue`]: a FIFO queue that holds one element without allocating.
//!
//! A session's send queues (its outbox, and the transport's queue of packets being written)
//! hold one packet most of the time: the response to the request just handled. A `VecDeque`
//! emptied to free an idle session's memory allocates again for the next response, once per
//! request; this queue keeps a lone element inline and allocates only for a second one, and
//! frees that buffer when it empties again.

use std::collections::VecDeque;

/// A FIFO queue: empty and one-element queues allocate nothing; a queue that grew past one
/// element gives its buffer back once emptied.
#[derive(Debug)]
pub(crate) struct InlineQueue<T>(Slots<T>);

#[derive(Debug)]
enum Slots<T> {
    Empty,
    One(T),
    /// Never empty: emptied, it becomes `Empty`.
    Many(VecDeque<T>),
}

impl<T> Default for InlineQueue<T> {
    fn default() -> Self {
        Self(Slots::Empty)
    }
}

impl<T> InlineQueue<T> {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// How many elements are queued.
    pub(crate) fn len(&self) -> usize {
        match &self.0 {
            Slots::Empty => 0,
            Slots::One(_) => 1,
            Slots::Many(many) => many.len(),
        }
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.0, Slots::Empty)
    }

    /// Queues `value` at the back.
    pub(crate) fn push_back(&mut self, value: T) {
        self.0 = match std::mem::replace(&mut self.0, Slots::Empty) {
            Slots::Empty => Slots::One(value),
            Slots::One(first) => Slots::Many(VecDeque::from([first, value])),
            Slots::Many(mut many) => {
                many.push_back(value);
                Slots::Many(many)
            }
        };
    }

    /// Takes the front element.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        match &mut self.0 {
            Slots::Empty => None,
            Slots::One(_) => match std::mem::replace(&mut self.0, Slots::Empty) {
                Slots::One(value) => Some(value),
                _ => unreachable!("the slot was just matched as One"),
            },
            Slots::Many(many) => {
                let value = many.pop_front();
                if many.is_empty() {
                    self.0 = Slots::Empty;
                }
                value
            }
        }
    }

    /// The front element.
    pub(crate) fn front(&self) -> Option<&T> {
        match &self.0 {
            Slots::Empty => None,
            Slots::One(value) => Some(value),
            Slots::Many(many) => many.front(),
        }
    }

    /// The front element, to change.
    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        match &mut self.0 {
            Slots::Empty => None,
            Slots::One(value) => Some(value),
            Slots::Many(many) => many.front_mut(),
        }
    }

    /// The elements, front to back.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        let (one, many) = match &self.0 {
            Slots::Empty => (None, None),
            Slots::One(value) => (Some(value), None),
            Slots::Many(many) => (None, Some(many.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Empties the queue, freeing its buffer.
    pub(crate) fn clear(&mut self) {
        self.0 = Slots::Empty;
    }
}

impl<T> Extend<T> for InlineQueue<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        for value in values {
            self.push_back(value);
        }
    }
}

impl<T> IntoIterator for InlineQueue<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<
        std::option::IntoIter<T>,
        std::iter::Flatten<std::option::IntoIter<VecDeque<T>>>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let (one, many) = match self.0 {
            Slots::Empty => (None, None),
            Slots::One(value) => (Some(value), None),
            Slots::Many(many) => (None, Some(many)),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::InlineQueue;

    #[test]
    fn keeps_order_through_growth_and_shrinking() {
        let mut queue = InlineQueue::new();
        assert!(queue.is_empty());
        queue.push_back(1);
        assert_eq!(queue.len(), 1);
        queue.push_back(2);
        queue.push_back(3);
        assert_eq!(queue.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(queue.pop_front(), Some(1));
        assert_eq!(queue.front(), Some(&2));
        *queue.front_mut().unwrap() = 20;
        assert_eq!(queue.pop_front(), Some(20));
        assert_eq!(queue.pop_front(), Some(3));
        assert_eq!(queue.pop_front(), None);
        assert!(queue.is_empty());
        queue.extend([4, 5]);
        assert_eq!(queue.into_iter().collect::<Vec<_>>(), [4, 5]);
    }

    #[test]
    fn a_drained_queue_frees_its_buffer() {
        let mut queue = InlineQueue::new();
        queue.extend(0..100);
        while queue.pop_front().is_some() {}
        assert!(matches!(queue.0, super::Slots::Empty));
        queue.push_back(7);
        assert!(matches!(queue.0, super::Slots::One(7)));
        queue.clear();
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.iter().count(), 0);
    }
}
