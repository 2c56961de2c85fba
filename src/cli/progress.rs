//! Apply progress: one spinner line per resource in flight on a terminal,
//! plain lines otherwise (CI logs, tests). Written to stderr.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::apply::{Op, Reporter};

pub struct Progress {
    bars: Option<(MultiProgress, Mutex<BTreeMap<String, ProgressBar>>)>,
}

impl Progress {
    pub fn new(tty: bool) -> Progress {
        let bars = tty.then(|| (MultiProgress::new(), Mutex::new(BTreeMap::new())));
        Progress { bars }
    }

    fn line(&self, text: String) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{}s", s)
    }
}

impl Reporter for Progress {
    fn start(&self, address: &str, op: Op) {
        match &self.bars {
            Some((multi, bars)) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                        .expect("valid template"),
                );
                bar.set_message(format!("{address}: {}...", op.verb()));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.lock()
                    .expect("progress lock")
                    .insert(format!("{address}/{op:?}"), bar);
            }
            None => eprintln!("{address}: {}...", op.verb()),
        }
    }

    fn retry(&self, address: &str, op: Op, attempt: u32, error: &str, wait: Duration) {
        self.line(format!(
            "{address}: {} failed ({error}); retry {attempt} in {}ms",
            op.verb(),
            wait.as_millis()
        ));
    }

    fn finish(&self, address: &str, op: Op, error: Option<&str>, elapsed: Duration) {
        if let Some((_, bars)) = &self.bars {
            if let Some(bar) = bars
                .lock()
                .expect("progress lock")
                .remove(&format!("{address}/{op:?}"))
            {
                bar.finish_and_clear();
            }
        }
        match error {
            None => self.line(format!("{address}: {} after {}", op.done(), secs(elapsed))),
            Some(e) => self.line(format!(
                "{address}: {} FAILED after {}: {e}",
                op.verb(),
                secs(elapsed)
            )),
        }
    }
}
