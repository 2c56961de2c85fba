//! The one place errors are printed: `Error: …`, detail, then `Hint: …`.

use super::output::Ui;
use crate::error::Error;

pub fn print(ui: &Ui, e: &Error) {
    let mut out = format!("{} {}\n", ui.red_bold("Error:"), e.message);
    if let Some(detail) = &e.detail {
        out.push('\n');
        out.push_str(detail.trim_end());
        out.push('\n');
    }
    if let Some(hint) = &e.hint {
        out.push_str(&format!("\n{} {hint}\n", ui.bold("Hint:")));
    }
    eprint!("{out}");
}
