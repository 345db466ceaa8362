use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

impl Listed for String {
    fn cloud_id(&self) -> &str {
        self
    }
}

fn fetcher<'a>(
    calls: &'a AtomicUsize,
    items: Vec<&str>,
) -> impl Future<Output = std::result::Result<Vec<String>, CloudError>> + 'a {
    calls.fetch_add(1, Ordering::SeqCst);
    let items: Vec<String> = items.into_iter().map(String::from).collect();
    async move { Ok(items) }
}

#[tokio::test]
async fn one_list_serves_every_reader_within_max_age() {
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    for _ in 0..100 {
        let items = fam
            .snapshot("acct", Duration::from_secs(600), None, || {
                fetcher(&calls, vec!["a", "b"])
            })
            .await
            .unwrap();
        assert!(items.contains_key("a"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_older_snapshot_than_allowed_is_refreshed() {
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    fam.snapshot("acct", Duration::ZERO, None, || fetcher(&calls, vec!["a"]))
        .await
        .unwrap();
    fam.snapshot("acct", Duration::ZERO, None, || fetcher(&calls, vec!["a"]))
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "max_age zero always lists");
}

#[tokio::test]
async fn a_snapshot_from_before_our_own_write_is_not_used() {
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    fam.snapshot("acct", Duration::from_secs(600), None, || {
        fetcher(&calls, vec!["a"])
    })
    .await
    .unwrap();
    let wrote = Instant::now();
    fam.snapshot("acct", Duration::from_secs(600), Some(wrote), || {
        fetcher(&calls, vec!["a"])
    })
    .await
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // The refreshed snapshot started after the write: it serves later readers.
    fam.snapshot("acct", Duration::from_secs(600), Some(wrote), || {
        fetcher(&calls, vec!["a"])
    })
    .await
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn accounts_have_separate_snapshots() {
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    let a = fam
        .snapshot("p1", Duration::from_secs(600), None, || {
            fetcher(&calls, vec!["x"])
        })
        .await
        .unwrap();
    let b = fam
        .snapshot("p2", Duration::from_secs(600), None, || {
            fetcher(&calls, vec!["y"])
        })
        .await
        .unwrap();
    assert!(a.contains_key("x") && !a.contains_key("y"));
    assert!(b.contains_key("y"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn owner_searches_share_a_list_until_that_owner_tries_a_create() {
    let cache = ListCache::default();
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    let search = |owner: &'static str| {
        let floor = cache.owner_search_floor(owner);
        let (fam, calls) = (&fam, &calls);
        async move {
            fam.snapshot("acct", Duration::MAX, floor, || fetcher(calls, vec!["a"]))
                .await
                .unwrap()
        }
    };
    // 50 objects looking before their first create: one list (taken after the epoch).
    for _ in 0..50 {
        search("u1").await;
        search("u2").await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // u1 tried a create (its answer may be lost): u1's next search needs a newer list...
    cache.attempted_create("u1");
    search("u1").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // ...which then serves everybody again.
    search("u2").await;
    search("u1").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // A new start (leadership won again) distrusts every earlier list.
    cache.begin();
    search("u2").await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_snapshot_nobody_reads_is_dropped_and_listed_again_when_needed() {
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    let read = || {
        fam.snapshot("acct", Duration::from_secs(600), None, || {
            fetcher(&calls, vec!["a"])
        })
    };
    read().await.unwrap();
    // Read a moment ago: kept.
    assert_eq!(fam.forget_idle(Duration::from_secs(60)), 0);
    assert!(read().await.unwrap().contains_key("a"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Idle long enough: dropped, and the next reader lists again.
    assert_eq!(fam.forget_idle(Duration::ZERO), 1);
    assert_eq!(fam.forget_idle(Duration::ZERO), 0, "nothing left to drop");
    assert!(read().await.unwrap().contains_key("a"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn writes_older_than_every_snapshot_are_forgotten_and_decide_nothing_more() {
    let cache = ListCache::default();
    cache.wrote("old");
    cache.attempted_create("u1");
    // A snapshot listed after those writes, then one more write.
    cache
        .gateways
        .snapshot("acct", Duration::from_secs(600), None, || async {
            Ok(Vec::new())
        })
        .await
        .unwrap();
    cache.wrote("new");
    assert_eq!(cache.forget_idle(Duration::from_secs(60)), 0);
    // The snapshot is newer than the first two writes: they are forgotten...
    assert_eq!(cache.last_write("old"), None);
    assert_eq!(
        cache.owner_search_floor("u1"),
        Some(*cache.epoch.lock().unwrap())
    );
    // ...but not the write it does not show.
    assert!(cache.last_write("new").is_some());
    // With no snapshot left, every write is older than any list to come.
    assert_eq!(cache.forget_idle(Duration::ZERO), 1);
    assert_eq!(cache.last_write("new"), None);
}

#[tokio::test]
async fn concurrent_readers_share_one_refresh() {
    let fam = Arc::new(Family::<String>::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (fam, calls) = (fam.clone(), calls.clone());
        tasks.push(tokio::spawn(async move {
            fam.snapshot("acct", Duration::from_secs(60), None, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::task::yield_now().await;
                    Ok(vec!["a".to_string()])
                }
            })
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

// ---- A list that hangs (the clock is tokio's, paused: time moves only when every task
// waits, straight to the next timer).

/// A list call that answers `items` after `took` (never, when `None`), counted in `calls`.
fn taking(
    calls: &AtomicUsize,
    items: &[&str],
    took: Option<Duration>,
) -> impl Future<Output = Result<Vec<String>>> {
    calls.fetch_add(1, Ordering::SeqCst);
    let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    async move {
        match took {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
        Ok(items)
    }
}

/// The `n`th call (0-based) of a list whose calls behave as `plan` says (the last entry for
/// every later call): how long each takes (`None`: hangs) and what it answers.
fn scripted<'a>(
    calls: &'a AtomicUsize,
    plan: &'a [(Option<u64>, &'a str)],
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<String>>> + Send + 'a>> + 'a {
    move || {
        let n = calls.load(Ordering::SeqCst);
        let (ms, item) = plan[n.min(plan.len() - 1)];
        Box::pin(taking(calls, &[item], ms.map(Duration::from_millis)))
    }
}

/// Gives every spawned task the chance to run until it waits.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// `n` lists of 20 ms each: what "usual" is for the account afterwards. Then a minute
/// passes, so that their snapshot is too old for the readers that follow.
async fn usual_lists(fam: &Family<String>, n: usize) {
    let calls = AtomicUsize::new(0);
    for _ in 0..n {
        fam.snapshot("acct", Duration::ZERO, None, || {
            taking(&calls, &["a"], Some(Duration::from_millis(20)))
        })
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test(start_paused = true)]
async fn a_hung_list_is_overtaken_by_a_second_one_that_every_reader_shares() {
    let fam = Arc::new(Family::<String>::default());
    usual_lists(&fam, 3).await;
    // The next list call hangs (the simulator's `timeout` fault holds a call 31 s); another
    // answers in 20 ms.
    let calls = Arc::new(AtomicUsize::new(0));
    let plan: &'static [(Option<u64>, &str)] = &[(None, "old"), (Some(20), "new")];
    let t0 = Instant::now();
    let mut readers = Vec::new();
    // The reader that lists, then one every 100 ms while it hangs.
    for _ in 0..15 {
        let (fam, calls) = (fam.clone(), calls.clone());
        readers.push(tokio::spawn(async move {
            let calls: &AtomicUsize = &calls;
            let got = fam
                .snapshot_at(
                    "acct",
                    Duration::from_millis(500),
                    None,
                    scripted(calls, plan),
                )
                .await
                .unwrap();
            (got, t0.elapsed())
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, r) in readers.into_iter().enumerate() {
        let ((at, items), when) = r.await.unwrap();
        assert!(items.contains_key("new"));
        // After 1 s (4 x the usual 20 ms is under the 1 s floor) a second list starts beside
        // the hung one; its answer 20 ms later serves everybody, the reader that listed too.
        // Readers after that find it fresh.
        let arrived = Duration::from_millis(100 * i as u64);
        assert_eq!(when, arrived.max(Duration::from_millis(1020)), "reader {i}");
        assert_eq!(at, t0 + Duration::from_secs(1), "the second list's start");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the hung list and one more"
    );
    // Later readers share that snapshot.
    let items = fam
        .snapshot("acct", Duration::from_secs(60), None, || {
            taking(&calls, &["x"], Some(Duration::ZERO))
        })
        .await
        .unwrap();
    assert!(items.contains_key("new"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn whichever_list_answers_first_wins() {
    let fam = Family::<String>::default();
    usual_lists(&fam, 3).await;
    // Slow, not hung: the first list answers at 1.5 s, before the second (5 s).
    let calls = AtomicUsize::new(0);
    let t0 = Instant::now();
    let plan = [(Some(1500), "first"), (Some(5000), "second")];
    let items = fam
        .snapshot("acct", Duration::ZERO, None, scripted(&calls, &plan))
        .await
        .unwrap();
    assert!(items.contains_key("first"));
    assert_eq!(t0.elapsed(), Duration::from_millis(1500));
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // The first hangs and then fails (its read timeout): the second's answer is used.
    let calls = AtomicUsize::new(0);
    let fail_late = || {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                tokio::time::sleep(Duration::from_millis(1200)).await;
                Err(CloudError::timeout("ListVgws", Duration::from_millis(1200)))
            } else {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(vec!["second".to_string()])
            }
        }
    };
    let t0 = Instant::now();
    let items = fam
        .snapshot("acct", Duration::ZERO, None, fail_late)
        .await
        .unwrap();
    assert!(items.contains_key("second"));
    assert_eq!(t0.elapsed(), Duration::from_millis(1300));
}

#[tokio::test(start_paused = true)]
async fn a_list_taking_its_usual_time_is_not_doubled() {
    let fam = Family::<String>::default();
    // This account's lists take 2 s (thousands of resources, many pages).
    let calls = AtomicUsize::new(0);
    for _ in 0..3 {
        fam.snapshot("acct", Duration::ZERO, None, || {
            taking(&calls, &["a"], Some(Duration::from_secs(2)))
        })
        .await
        .unwrap();
    }
    // 5 s is slower than usual but not 4 times the usual 2 s.
    fam.snapshot("acct", Duration::ZERO, None, || {
        taking(&calls, &["b"], Some(Duration::from_secs(5)))
    })
    .await
    .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3 + 1);
}

#[tokio::test(start_paused = true)]
async fn when_both_lists_hang_no_third_is_started() {
    let fam = Arc::new(Family::<String>::default());
    usual_lists(&fam, 3).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..10 {
        let (fam, calls) = (fam.clone(), calls.clone());
        readers.push(tokio::spawn(async move {
            fam.snapshot("acct", Duration::ZERO, None, || {
                taking(&calls, &["x"], None)
            })
            .await
        }));
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the hung list and one beside it; every reader waits for them (their read timeout \
         ends them)"
    );
    assert!(readers.iter().all(|r| !r.is_finished()));
}

#[tokio::test(start_paused = true)]
async fn a_failed_or_abandoned_refresh_lets_a_waiting_reader_list_at_once() {
    let fam = Arc::new(Family::<String>::default());
    usual_lists(&fam, 3).await;
    let calls = Arc::new(AtomicUsize::new(0));

    // The refresh fails after 100 ms: its own reader gets the error, a waiting reader lists.
    let failing = {
        let (fam, calls) = (fam.clone(), calls.clone());
        tokio::spawn(async move {
            fam.snapshot("acct", Duration::ZERO, None, || {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err(CloudError::timeout("ListVgws", Duration::from_millis(100)))
                }
            })
            .await
        })
    };
    settle().await;
    let t0 = Instant::now();
    let items = fam
        .snapshot("acct", Duration::ZERO, None, || {
            taking(&calls, &["b"], Some(Duration::from_millis(20)))
        })
        .await
        .unwrap();
    assert!(items.contains_key("b"));
    assert_eq!(t0.elapsed(), Duration::from_millis(120));
    assert!(failing.await.unwrap().is_err());

    // The reader running a refresh goes away (its reconcile was cancelled): the waiting
    // reader lists at once.
    let abandoned = {
        let (fam, calls) = (fam.clone(), calls.clone());
        tokio::spawn(async move {
            fam.snapshot("acct", Duration::ZERO, None, || {
                taking(&calls, &["x"], None)
            })
            .await
        })
    };
    settle().await;
    let waiting = {
        let (fam, calls) = (fam.clone(), calls.clone());
        tokio::spawn(async move {
            fam.snapshot("acct", Duration::ZERO, None, || {
                taking(&calls, &["c"], Some(Duration::from_millis(20)))
            })
            .await
            .unwrap()
        })
    };
    settle().await;
    let t0 = Instant::now();
    abandoned.abort();
    assert!(waiting.await.unwrap().contains_key("c"));
    assert_eq!(t0.elapsed(), Duration::from_millis(20));
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_wrote_since_the_refresh_started_does_not_wait_for_it() {
    let fam = Arc::new(Family::<String>::default());
    usual_lists(&fam, 3).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let _hung = {
        let (fam, calls) = (fam.clone(), calls.clone());
        tokio::spawn(async move {
            fam.snapshot("acct", Duration::ZERO, None, || {
                taking(&calls, &["x"], None)
            })
            .await
        })
    };
    settle().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    // A write after the hung list started: that list cannot show it.
    let wrote = Instant::now();
    let t0 = Instant::now();
    fam.snapshot("acct", Duration::from_secs(60), Some(wrote), || {
        taking(&calls, &["y"], Some(Duration::from_millis(20)))
    })
    .await
    .unwrap();
    assert_eq!(t0.elapsed(), Duration::from_millis(20));
}

#[tokio::test(start_paused = true)]
async fn the_first_list_of_an_account_gets_a_longer_allowance() {
    // No list has finished yet: the usual is taken to be the 1 s floor, so a list may take
    // 4 s before another starts beside it (a first paginated list of a large account is not
    // doubled).
    let fam = Family::<String>::default();
    let calls = AtomicUsize::new(0);
    let plan = [(None, "x"), (Some(0), "y")];
    let t0 = Instant::now();
    fam.snapshot("acct", Duration::ZERO, None, scripted(&calls, &plan))
        .await
        .unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn idle_accounts_leave_nothing_behind() {
    let cache = ListCache::default();
    for i in 0..50 {
        cache
            .gateways
            .snapshot(&format!("acct-{i}"), Duration::ZERO, None, || async {
                Ok(Vec::new())
            })
            .await
            .unwrap();
    }
    assert_eq!(cache.accounts_held(), 50);
    tokio::time::sleep(Duration::from_secs(10)).await;
    cache
        .gateways
        .snapshot("acct-0", Duration::ZERO, None, || async { Ok(Vec::new()) })
        .await
        .unwrap();
    assert_eq!(cache.forget_idle(Duration::from_secs(5)), 49);
    assert_eq!(cache.accounts_held(), 1, "only the account read lately");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(cache.forget_idle(Duration::from_secs(5)), 1);
    assert_eq!(cache.accounts_held(), 0);
}

fn quotas(calls: &AtomicUsize, used: i64) -> impl Future<Output = Result<Vec<QuotaInfo>>> + '_ {
    calls.fetch_add(1, Ordering::SeqCst);
    async move {
        Ok(vec![QuotaInfo {
            quota_type: QuotaType::VpnGateway,
            quota: Some(2),
            used: Some(used),
        }])
    }
}

#[tokio::test]
async fn quotas_are_read_once_a_minute_per_account_and_count_our_creates() {
    let cache = ListCache::default();
    let calls = AtomicUsize::new(0);
    let gw = QuotaType::VpnGateway;
    let (_, q) = cache
        .quota("a", &gw, false, || quotas(&calls, 0))
        .await
        .unwrap();
    assert_eq!(q.unwrap().remaining(), Some(2));
    // A create is counted in the snapshot: the next check sees it without a call.
    cache.quota_used("a", &gw, 1);
    let (_, q) = cache
        .quota("a", &gw, false, || quotas(&calls, 0))
        .await
        .unwrap();
    assert_eq!(q.unwrap().used, Some(1));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "served from the snapshot");
    // Another account lists its own; a type the API does not report is None.
    let (_, other) = cache
        .quota("b", &QuotaType::Vpngw, false, || quotas(&calls, 0))
        .await
        .unwrap();
    assert_eq!(other, None);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // `fresh` always lists (the confirmation of a full quota).
    let (_, q) = cache
        .quota("a", &gw, true, || quotas(&calls, 2))
        .await
        .unwrap();
    assert_eq!(q.unwrap().remaining(), Some(0));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Counting a create without a snapshot does nothing (and does not panic).
    cache.quota_used("c", &gw, 1);
}
