//! acceptance test support
