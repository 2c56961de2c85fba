//! The stable JSON form of a plan (format_version "1.0").
use crate::plan::Plan;

pub fn render(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).expect("plan serialises");
    s.push('\n');
    s
}
