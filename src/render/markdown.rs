//! Markdown for pull-request comments.
use crate::plan::Plan;

pub fn render(plan: &Plan) -> String {
    let s = plan.summary();
    format!("**Plan:** {} to add, {} to change, {} to destroy.\n", s.add, s.change, s.destroy)
}
