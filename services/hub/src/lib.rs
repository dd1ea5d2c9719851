//! hub library: run modes and commands
