//! Keyed async mutexes: one mutating cloud operation at a time per gateway, so the
//! operator itself never triggers VPN.0030 "system busy" by racing its own calls.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl KeyedLocks {
    /// Waits for and takes the lock of `key`; released when the guard drops.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let m = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Drop entries nobody holds or waits for, so the map does not grow forever.
            map.retain(|_, m| Arc::strong_count(m) > 1);
            map.entry(key.to_string()).or_default().clone()
        };
        m.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_key_is_exclusive_other_keys_are_not() {
        let locks = KeyedLocks::default();
        let g = locks.lock("gw-1").await;
        // Another key is free while gw-1 is held.
        let _other = locks.lock("gw-2").await;
        let locks = Arc::new(locks);
        let l2 = locks.clone();
        let waiter = tokio::spawn(async move {
            let _g = l2.lock("gw-1").await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "second holder of gw-1 must wait");
        drop(g);
        waiter.await.unwrap();
    }
}
