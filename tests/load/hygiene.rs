//! Secret hygiene: no pre-shared key, secret key or token value may appear in the operator's
//! logs, Kubernetes Events, object status (every version the watch saw) or metrics.
use std::collections::BTreeSet;
use std::sync::Arc;

use aho_corasick::AhoCorasick;

/// The secret values of a run, with a label that does not repeat the value. Searched in one
/// pass whatever their number (a run over 500 accounts has 500 secret keys and more keys).
#[derive(Clone, Default)]
pub struct Needles(Arc<(Vec<String>, Option<AhoCorasick>)>);

impl Needles {
    pub fn new(values: Vec<(String, String)>) -> Needles {
        let values: Vec<(String, String)> =
            values.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let matcher = AhoCorasick::new(values.iter().map(|(_, v)| v)).ok();
        Needles(Arc::new((
            values.into_iter().map(|(l, _)| l).collect(),
            matcher,
        )))
    }

    /// Labels of the secrets that occur in `text`.
    pub fn find(&self, text: &str) -> Vec<String> {
        let (labels, matcher) = &*self.0;
        let Some(m) = matcher else {
            return Vec::new();
        };
        let found: BTreeSet<usize> = m
            .find_overlapping_iter(text)
            .map(|x| x.pattern().as_usize())
            .collect();
        found.into_iter().map(|i| labels[i].clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.0 .0.len()
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
