//! Service contracts (in progress).
