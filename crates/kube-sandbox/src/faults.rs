//! Faults on demand, for reliability tests: added latency, throttling (429 with Retry-After),
//! server errors (500), dropping every open watch stream, and refusing every list across
//! namespaces (as for a user whose Roles grant only some namespaces).

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Default)]
struct Plan {
    latency: Duration,
    throttle: u32,
    retry_after_seconds: u32,
    errors: u32,
    namespaced_only: bool,
}

/// The faults a sandbox injects; shared by every connection.
#[derive(Debug)]
pub struct Faults {
    plan: Mutex<Plan>,
    /// Bumped to end every open watch stream.
    watch_generation: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            plan: Mutex::new(Plan::default()),
            watch_generation: watch::channel(0).0,
        }
    }
}

/// What the next request gets, decided as it arrives.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    None,
    Throttled { retry_after_seconds: u32 },
    ServerError,
}

impl Faults {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every request waits this long before it is handled (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.plan().latency = latency;
    }

    /// The next `count` requests get 429 Too Many Requests with `Retry-After`.
    pub fn throttle_next(&self, count: u32, retry_after_seconds: u32) {
        let mut plan = self.plan();
        plan.throttle = count;
        plan.retry_after_seconds = retry_after_seconds;
    }

    /// The next `count` requests get 500 Internal Server Error.
    pub fn fail_next(&self, count: u32) {
        self.plan().errors = count;
    }

    /// Ends every watch stream open now, as a load balancer or apiserver restart would.
    pub fn drop_watches(&self) {
        self.watch_generation.send_modify(|g| *g += 1);
    }

    /// Refuses (403) every list and watch that is not inside one namespace: of namespaced kinds
    /// across namespaces and of cluster-scoped kinds, as kube-apiserver refuses a user whose
    /// RoleBindings grant only some namespaces. Gets by name and discovery still work.
    pub fn refuse_lists_across_namespaces(&self, refuse: bool) {
        self.plan().namespaced_only = refuse;
    }

    pub(crate) fn namespaced_only(&self) -> bool {
        self.plan().namespaced_only
    }

    pub(crate) fn latency(&self) -> Duration {
        self.plan().latency
    }

    /// Takes one planned fault, if any is left (throttling first).
    pub(crate) fn take(&self) -> Injected {
        let mut plan = self.plan();
        if plan.throttle > 0 {
            plan.throttle -= 1;
            return Injected::Throttled {
                retry_after_seconds: plan.retry_after_seconds,
            };
        }
        if plan.errors > 0 {
            plan.errors -= 1;
            return Injected::ServerError;
        }
        Injected::None
    }

    /// A receiver that changes when [`Faults::drop_watches`] is called.
    pub(crate) fn watch_drops(&self) -> watch::Receiver<u64> {
        self.watch_generation.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_faults_are_used_up_in_order() {
        let faults = Faults::default();
        faults.throttle_next(1, 3);
        faults.fail_next(1);
        assert_eq!(
            faults.take(),
            Injected::Throttled {
                retry_after_seconds: 3
            }
        );
        assert_eq!(faults.take(), Injected::ServerError);
        assert_eq!(faults.take(), Injected::None);
    }
}
