//! The transport's settings: pipe buffer size and listener backlog.

/// Default bytes buffered per direction of a connection: 64 KiB.
pub const DEFAULT_BUFFER_SIZE: usize = 64 * 1024;

/// Default number of connections a listener queues before it accepts them: 128.
pub const DEFAULT_BACKLOG: usize = 128;

/// Settings of a [`crate::MemoryTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryConfig {
    buffer_size: usize,
    backlog: usize,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            buffer_size: DEFAULT_BUFFER_SIZE,
            backlog: DEFAULT_BACKLOG,
        }
    }
}

impl MemoryConfig {
    /// The defaults: [`DEFAULT_BUFFER_SIZE`] and [`DEFAULT_BACKLOG`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the most bytes buffered per direction of the connections this transport dials
    /// (at least 1); a writer waits while its direction is full. Default
    /// [`DEFAULT_BUFFER_SIZE`].
    pub fn with_buffer_size(mut self, bytes: usize) -> Self {
        self.buffer_size = bytes.max(1);
        self
    }

    /// Sets how many dialed connections a listener of this transport queues before it
    /// accepts them (at least 1); a dial to a full queue fails with
    /// [`crate::MemoryError::BacklogFull`]. Default [`DEFAULT_BACKLOG`].
    pub fn with_backlog(mut self, connections: usize) -> Self {
        self.backlog = connections.max(1);
        self
    }

    /// The most bytes buffered per direction.
    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    /// The listener backlog.
    pub fn backlog(&self) -> usize {
        self.backlog
    }
}
