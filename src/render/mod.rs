//! Renderers: a `Plan` in, text out. They never compute a plan or call a provider.
//! `human` is Terraform-style, `json` is the stable versioned form for tools,
//! `markdown` is sized for a pull-request comment.

mod attrs;
pub mod human;
pub mod json;
pub mod markdown;
mod markup;
#[cfg(test)]
mod tests;

use crate::plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

pub fn render(plan: &Plan, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(plan, color),
        Format::Json => json::render(plan),
        Format::Markdown => markdown::render(plan),
    }
}
