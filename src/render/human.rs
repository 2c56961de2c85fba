//! Terraform-style plan text.
use crate::plan::Plan;

pub fn render(plan: &Plan, _color: bool) -> String {
    let s = plan.summary();
    format!("Plan: {} to add, {} to change, {} to destroy.\n", s.add, s.change, s.destroy)
}
