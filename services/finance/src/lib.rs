//! finance service
