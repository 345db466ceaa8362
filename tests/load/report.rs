//! Numbers to text: percentiles, durations, memory, aligned tables, and target verdicts.
use std::fmt::Write as _;
use std::time::Duration;

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples; `None` when empty.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn opt_secs(v: Option<f64>) -> String {
    v.map_or("-".into(), |s| format!("{s:.2} s"))
}

/// A two- or more-column text table.
#[derive(Default)]
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, header: &[&str]) -> Table {
        Table {
            title: title.into(),
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Markdown-compatible rendering (also readable as plain text).
    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            let mut s = String::from("|");
            for (i, w) in width.iter().enumerate() {
                let c = r.get(i).map(String::as_str).unwrap_or("");
                let pad = w - c.chars().count();
                let _ = write!(s, " {c}{} |", " ".repeat(pad));
            }
            s
        };
        let mut out = format!("\n### {}\n\n{}\n|", self.title, line(&self.header));
        for w in &width {
            let _ = write!(out, "{}|", "-".repeat(w + 2));
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// A performance target and how the run did against it.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub name: String,
    pub measured: String,
    pub target: String,
    /// `None`: not evaluated (the run cannot measure it; the reason is in `measured`).
    pub met: Option<bool>,
    /// Whether a miss fails the run (`--report-only` turns this off per target).
    pub enforced: bool,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match (self.met, self.enforced) {
            (Some(true), _) => "met",
            (Some(false), true) => "MISSED",
            (Some(false), false) => "MISSED (reported only)",
            (None, _) => "not evaluated",
        }
    }

    /// True unless an enforced target was missed.
    pub fn passes(&self) -> bool {
        self.met != Some(false) || !self.enforced
    }
}

/// Machine facts for the report header.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or("?".into(), |k| {
            format!("{:.1} GiB", k as f64 / 1024.0 / 1024.0)
        });
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} RAM, load average at start {load}")
}

/// `debug` or `release`: how the operator binary under test was built, told by its cargo
/// target directory; `unknown` for a binary copied elsewhere (`VPN_LOAD_OPERATOR_BIN`).
pub fn build_profile() -> &'static str {
    let bin = crate::procs::bin();
    if bin.contains("/release/") {
        "release"
    } else if bin.contains("/debug/") {
        "debug"
    } else {
        "unknown"
    }
}

/// Prints the verdicts as a table titled `title` (nothing when there are none); whether every
/// one passes.
pub fn print_verdicts(title: &str, verdicts: &[Verdict]) -> bool {
    if verdicts.is_empty() {
        return true;
    }
    let mut t = Table::new(title, &["target", "measured", "bound", "verdict"]);
    for v in verdicts {
        t.row(vec![
            v.name.clone(),
            v.measured.clone(),
            v.target.clone(),
            v.label().into(),
        ]);
    }
    println!("{}", t.render());
    verdicts.iter().all(Verdict::passes)
}
