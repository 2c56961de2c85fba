//! Who and when a commit is by, and the calendar arithmetic history needs. Identity
//! follows git's order: GIT_AUTHOR_* / GIT_COMMITTER_* variables, then the
//! repository's user.name / user.email, then a fixed "infra <infra@localhost>" so a
//! fresh CI machine with no git identity can still commit. Dates in the variables
//! are honoured so tests and reproducible pipelines get stable commits.

use infra_core::error::{Error, Result};
use infra_core::time::{civil_from_days, days_from_civil};

use super::{git, Repo};

#[derive(Debug, Clone, Copy)]
pub(super) enum Role {
    Author,
    Committer,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Identity {
    pub name: String,
    pub email: String,
    /// Unix seconds and UTC offset in minutes; None = now.
    pub time: Option<(i64, i32)>,
}

/// Resolve an identity from `env` (variable lookup) and `config` (git config lookup).
/// Pure, so the precedence can be tested without touching the process environment.
pub(super) fn identity(
    role: Role,
    env: impl Fn(&str) -> Option<String>,
    config: impl Fn(&str) -> Option<String>,
) -> Result<Identity> {
    let prefix = match role {
        Role::Author => "GIT_AUTHOR",
        Role::Committer => "GIT_COMMITTER",
    };
    let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let name = non_empty(env(&format!("{prefix}_NAME")))
        .or_else(|| non_empty(config("user.name")))
        .unwrap_or_else(|| "infra".to_string());
    let email = non_empty(env(&format!("{prefix}_EMAIL")))
        .or_else(|| non_empty(config("user.email")))
        .unwrap_or_else(|| "infra@localhost".to_string());
    let time = match non_empty(env(&format!("{prefix}_DATE"))) {
        None => None,
        Some(raw) => Some(parse_date(&raw).ok_or_else(|| {
            Error::new(format!(
                "{prefix}_DATE={raw} is not a date infra understands"
            ))
            .hint("use `@<unix-seconds> +0000` or `2024-01-31T12:00:00Z`, or unset it")
        })?),
    };
    Ok(Identity { name, email, time })
}

impl Repo {
    /// "Name <email>" of whoever commits here: who holds a lock, in its message.
    pub fn who(&self) -> String {
        let config = self.repo.config().ok();
        let lookup = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
        match identity(Role::Committer, self.env, lookup) {
            Ok(id) => format!("{} <{}>", id.name, id.email),
            Err(_) => "infra <infra@localhost>".to_string(),
        }
    }

    /// The git2 signature for `role`, from the environment, config or fallback.
    pub(super) fn signature(&self, role: Role) -> Result<git2::Signature<'static>> {
        let config = self.repo.config().map_err(git("reading git config"))?;
        let id = identity(role, self.env, |key| config.get_string(key).ok())?;
        let sig = match id.time {
            Some((secs, offset)) => {
                git2::Signature::new(&id.name, &id.email, &git2::Time::new(secs, offset))
            }
            None => git2::Signature::now(&id.name, &id.email),
        };
        sig.map_err(git(format!(
            "building the signature {} <{}>",
            id.name, id.email
        )))
    }
}

/// Parse the date forms git users put in GIT_*_DATE: `@<unix> <offset>`,
/// `<unix> <offset>`, `<unix>`, and ISO 8601 `YYYY-MM-DD[T ]HH:MM[:SS][Z|±HH:MM|±HHMM]`.
/// Returns unix seconds and the offset in minutes.
pub(super) fn parse_date(raw: &str) -> Option<(i64, i32)> {
    let s = raw.trim();
    let unix = s.strip_prefix('@').unwrap_or(s);
    let mut words = unix.split_whitespace();
    if let Some(secs) = words.next().and_then(|w| w.parse::<i64>().ok()) {
        let offset = match words.next() {
            Some(o) => parse_offset(o)?,
            None => 0,
        };
        return words.next().is_none().then_some((secs, offset));
    }
    iso(s)
}

fn iso(s: &str) -> Option<(i64, i32)> {
    let num = |t: &str| -> Option<i64> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (date, rest) = s.split_at_checked(10)?;
    let mut ymd = date.split('-');
    let (y, m, d) = (num(ymd.next()?)?, num(ymd.next()?)?, num(ymd.next()?)?);
    let rest = rest.strip_prefix(['T', ' '])?;
    // The time runs until the zone designator, if any.
    let zone_at = rest.find(['Z', 'z', '+', '-', ' ']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut hms = time.split(':');
    let (h, mi) = (num(hms.next()?)?, num(hms.next()?)?);
    let sec = match hms.next() {
        Some(t) => num(t)?,
        None => 0,
    };
    if hms.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 {
        return None;
    }
    let offset = match zone.trim() {
        "" | "Z" | "z" => 0,
        z => parse_offset(z)?,
    };
    let local = days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + sec;
    Some((local - i64::from(offset) * 60, offset))
}

/// `+0100`, `-05:30` → minutes east of UTC.
fn parse_offset(o: &str) -> Option<i32> {
    let (sign, digits) = match o.as_bytes().first()? {
        b'+' => (1, &o[1..]),
        b'-' => (-1, &o[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    Some(sign * (h * 60 + m))
}

/// "YYYY-MM-DD HH:MM" in UTC for unix seconds.
pub(super) fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}
