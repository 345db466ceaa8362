//! Secret hygiene: no pre-shared key, secret key or token value may appear in the operator's
//! logs, Kubernetes Events, object status (every version the watch saw) or metrics.
use std::sync::Arc;

/// The secret values of a run, with a label that does not repeat the value.
#[derive(Clone, Default)]
pub struct Needles(Arc<Vec<(String, String)>>);

impl Needles {
    pub fn new(values: Vec<(String, String)>) -> Needles {
        Needles(Arc::new(values))
    }

    /// Labels of the secrets that occur in `text`.
    pub fn find(&self, text: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, v)| !v.is_empty() && text.contains(v.as_str()))
            .map(|(l, _)| l.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// The findings of a check over several sources.
#[derive(Default, Debug)]
pub struct Findings {
    /// What was searched (source, bytes).
    pub searched: Vec<(String, usize)>,
    pub leaks: Vec<String>,
}

impl Findings {
    pub fn scan(&mut self, needles: &Needles, source: &str, text: &str) {
        self.searched.push((source.to_string(), text.len()));
        for l in needles.find(text) {
            let msg = format!("{source} contains the {l}");
            if !self.leaks.contains(&msg) {
                self.leaks.push(msg);
            }
        }
    }

    pub fn add_leaks(&mut self, source: &str, leaks: Vec<String>) {
        self.searched.push((source.to_string(), 0));
        for l in leaks {
            if !self.leaks.contains(&l) {
                self.leaks.push(l);
            }
        }
    }

    pub fn total_bytes(&self) -> usize {
        self.searched.iter().map(|(_, n)| n).sum()
    }
}
