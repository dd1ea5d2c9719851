//! contract service
