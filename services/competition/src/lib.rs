//! competition service
