//! Capabilities: markdown files with TOML front matter, prose and examples.
