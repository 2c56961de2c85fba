//! Terminal facts for the CLI: colour (off when not a TTY or NO_COLOR is set)
//! and whether we may prompt.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub struct Ui {
    pub color: bool,
    /// Someone can answer a question: standard input is a terminal and this is
    /// not a CI run (`CI=true`), where anything that would ask fails closed.
    pub stdin_tty: bool,
    /// Whether a person reads stdout: sensitive values are revealed only then.
    pub stdout_tty: bool,
    pub stderr_tty: bool,
}

impl Ui {
    pub fn new(choice: ColorChoice) -> Ui {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
            }
        };
        console::set_colors_enabled(color);
        console::set_colors_enabled_stderr(color);
        Ui {
            color,
            stdin_tty: std::io::stdin().is_terminal() && !in_ci(),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn bold(&self, s: &str) -> String {
        console::style(s).bold().to_string()
    }

    pub fn red_bold(&self, s: &str) -> String {
        console::style(s).red().bold().to_string()
    }

    pub fn green(&self, s: &str) -> String {
        console::style(s).green().to_string()
    }
}

/// `CI=true` (or `1`), as GitHub Actions, GitLab CI and most runners set it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
}
