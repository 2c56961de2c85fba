//! Quantities: numbers written as digits or words, sizes (MB/MiB/GB/GiB/G/TB,
//! decimals, "half a gig"), durations ("every 2 minutes") and counts.

use super::lex::{Kind, Tok};

/// What a unit measures, and its factor to the base (MiB, seconds, one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// Factor to MiB.
    Size(f64),
    /// Factor to seconds.
    Time(f64),
    Cores,
}

pub fn unit(w: &str) -> Option<Unit> {
    Some(match w {
        "b" | "byte" | "bytes" => Unit::Size(1.0 / 1_048_576.0),
        "k" | "kb" | "kib" | "kilobyte" | "kilobytes" => Unit::Size(1.0 / 1024.0),
        "m" | "mb" | "mib" | "meg" | "megs" | "megabyte" | "megabytes" => Unit::Size(1.0),
        "g" | "gb" | "gib" | "gig" | "gigs" | "gigabyte" | "gigabytes" | "gigabyte's" => {
            Unit::Size(1024.0)
        }
        "t" | "tb" | "tib" | "terabyte" | "terabytes" => Unit::Size(1_048_576.0),
        "s" | "sec" | "secs" | "second" | "seconds" => Unit::Time(1.0),
        "min" | "mins" | "minute" | "minutes" => Unit::Time(60.0),
        "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Time(3600.0),
        "d" | "day" | "days" => Unit::Time(86_400.0),
        "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" | "processor" | "processors"
        | "thread" | "threads" => Unit::Cores,
        _ => return None,
    })
}

/// A number word: "three" → 3, "a"/"an"/"another" → 1 (the caller decides if it counts).
pub fn word_number(w: &str) -> Option<f64> {
    const WORDS: &[&str] = &[
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    if let Some(i) = WORDS.iter().position(|x| *x == w) {
        return Some(i as f64);
    }
    Some(match w {
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "ninety" => 90.0,
        "hundred" => 100.0,
        "dozen" => 12.0,
        "couple" => 2.0,
        "half" => 0.5,
        "quarter" => 0.25,
        _ => return None,
    })
}

/// "two hundred and fifty", "one and a half", "twenty five": a number in words.
fn compound(toks: &[Tok], i: usize) -> Option<(f64, usize)> {
    let w = |k: usize| toks.get(k).map(|t| t.low.as_str()).unwrap_or("");
    let mut v = word_number(w(i))?;
    let mut k = i + 1;
    if w(k) == "hundred" {
        v *= 100.0;
        k += 1;
        let skip = usize::from(w(k) == "and");
        if let Some(rest) = word_number(w(k + skip)).filter(|r| *r >= 1.0) {
            v += rest;
            k += skip + 1;
        }
    } else if v >= 20.0 {
        if let Some(rest) = word_number(w(k)).filter(|r| *r >= 1.0 && *r < 10.0) {
            v += rest;
            k += 1;
        }
    }
    if w(k) == "and" && matches!(w(k + 1), "a" | "an") && w(k + 2) == "half" {
        v += 0.5;
        k += 3;
    }
    Some((v, k))
}

/// A quantity found at a token: its value, unit (if any) and the tokens it spans.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub unit: Option<Unit>,
    /// The unit as written ("m", "gb"): "100m" is an upload size, "5m" a duration.
    pub unit_word: String,
    pub start: usize,
    pub end: usize,
}

impl Quantity {
    pub fn mib(&self) -> Option<f64> {
        match self.unit {
            Some(Unit::Size(f)) => Some(self.value * f),
            _ => None,
        }
    }
    pub fn seconds(&self) -> Option<f64> {
        match self.unit {
            Some(Unit::Time(f)) => Some(self.value * f),
            // "5m" of a duration: minutes.
            Some(Unit::Size(_)) if self.unit_word == "m" => Some(self.value * 60.0),
            _ => None,
        }
    }
}

/// Read a quantity starting at token `i`: "4 GB", "4gb", "1.5 GB", "half a gig",
/// "three", "a gig", "another core", "2 more cores" (the "more" is left to the caller).
pub fn read(toks: &[Tok], i: usize) -> Option<Quantity> {
    let t = toks.get(i)?;
    let (value, mut next, glued) = match &t.kind {
        Kind::Num(n) => (*n, i + 1, None),
        Kind::Qty(n, u) => (*n, i + 1, Some(u.clone())),
        Kind::Word => {
            let w = t.low.as_str();
            match w {
                // "half a gig", "half a core".
                "half" if toks.get(i + 1).is_some_and(|n| n.is("a") || n.is("an")) => {
                    (0.5, i + 2, None)
                }
                // "every minute", "every hour": one of the unit.
                "every"
                    if toks
                        .get(i + 1)
                        .is_some_and(|n| matches!(unit(&n.low), Some(Unit::Time(_)))) =>
                {
                    (1.0, i + 1, None)
                }
                // "a second core", "a third disk": one more.
                "a" | "an"
                    if toks.get(i + 1).is_some_and(|n| {
                        matches!(n.low.as_str(), "second" | "third" | "fourth")
                    }) && toks.get(i + 2).is_some_and(|n| {
                        matches!(unit(&n.low), Some(Unit::Cores | Unit::Size(_)))
                    }) =>
                {
                    (1.0, i + 2, None)
                }
                "one"
                    if toks
                        .get(i + 1)
                        .is_some_and(|n| n.is("and") || n.is("hundred"))
                        && compound(toks, i).is_some_and(|(_, k)| k > i + 1) =>
                {
                    let (v, next) = compound(toks, i)?;
                    (v, next, None)
                }
                "a" | "an" | "another" | "one" => {
                    // Only a count when a unit follows ("a gig", "another core").
                    let u = toks.get(i + 1).and_then(|n| unit(&n.low));
                    match u {
                        Some(_) => (1.0, i + 1, None),
                        None if w == "one" => (1.0, i + 1, None),
                        None => return None,
                    }
                }
                _ => {
                    let (v, next) = compound(toks, i)?;
                    (v, next, None)
                }
            }
        }
        _ => return None,
    };
    if let Some(u) = glued {
        let parsed = unit(&u)?;
        return Some(Quantity {
            value,
            unit: Some(parsed),
            unit_word: u,
            start: i,
            end: i + 1,
        });
    }
    // "2 more cores", "20 GB more disk": a comparative may sit between number and unit.
    let mut look = next;
    if toks.get(look).is_some_and(|n| {
        matches!(
            n.low.as_str(),
            "more" | "extra" | "additional" | "less" | "fewer"
        )
    }) {
        look += 1;
    }
    let (u, word) = match toks
        .get(look)
        .and_then(|n| unit(&n.low).map(|u| (u, n.low.clone())))
    {
        Some((u, w)) => {
            next = look + 1;
            (Some(u), w)
        }
        None => (None, String::new()),
    };
    Some(Quantity {
        value,
        unit: u,
        unit_word: word,
        start: i,
        end: next,
    })
}

/// Every quantity in a token slice, left to right, never overlapping.
pub fn all(toks: &[Tok]) -> Vec<Quantity> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match read(toks, i) {
            Some(q) => {
                i = q.end.max(i + 1);
                out.push(q);
            }
            None => i += 1,
        }
    }
    out
}

/// A size in MiB as a whole number, or `None` for fractions of a MiB.
pub fn whole(v: f64) -> Option<i64> {
    let r = v.round();
    ((v - r).abs() < 1e-6 && r.abs() < 9e15).then_some(r as i64)
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;

    fn q(s: &str) -> Vec<(Option<f64>, Option<f64>, f64)> {
        all(&lex(s, &[]))
            .into_iter()
            .map(|q| (q.mib(), q.seconds(), q.value))
            .collect()
    }

    #[test]
    fn sizes_in_every_spelling() {
        assert_eq!(q("1.5 GB")[0].0, Some(1536.0));
        assert_eq!(q("half a gig")[0].0, Some(512.0));
        assert_eq!(q("8G memory")[0].0, Some(8192.0));
        assert_eq!(q("512 MiB")[0].0, Some(512.0));
        assert_eq!(q("2 gigs")[0].0, Some(2048.0));
        assert_eq!(q("1 TB")[0].0, Some(1_048_576.0));
        assert_eq!(q("20 GB more disk")[0].0, Some(20480.0));
    }

    #[test]
    fn durations_and_words() {
        assert_eq!(q("every 2 minutes")[0].1, Some(120.0));
        assert_eq!(q("every 15 seconds")[0].1, Some(15.0));
        assert_eq!(q("10 minutes")[0].1, Some(600.0));
        assert_eq!(q("three containers")[0].2, 3.0);
        assert_eq!(q("another core")[0].2, 1.0);
        assert_eq!(q("2 more cores")[0].2, 2.0);
        assert!(q("a service").is_empty());
    }

    #[test]
    fn whole_numbers_only() {
        assert_eq!(whole(1536.0), Some(1536));
        assert_eq!(whole(0.5), None);
    }
}
