//! Argument parsing and wiring only.
pub fn main() -> i32 { 0 }
