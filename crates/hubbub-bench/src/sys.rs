//! Process plumbing: file-descriptor limit, CPU pinning, RSS and CPU time from /proc.

use std::time::Duration;

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. Children
/// spawned afterwards (the server under test) inherit it.
pub fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit { rlim_cur: r.rlim_max, rlim_max: r.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
        r.rlim_cur
    }
}

/// CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: the set is zeroed and only filled by the kernel.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

/// Pins the calling thread (and every thread it spawns later) to `cpu`. Call before the
/// tokio runtime is built so that all its workers inherit the mask.
pub fn pin_self(cpu: usize) -> bool {
    // SAFETY: as above.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Resident set size of `pid` in KiB (VmRSS).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of `pid` (all threads).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields we want come after its closing paren.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the paren, field 0 is state (field 3 of stat(5)); utime/stime are 14/15.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / hz))
}

/// Total time the threads of `pid` spent runnable but waiting for a CPU (from
/// `/proc/PID/task/*/schedstat`, second field). Threads that exited are not counted.
pub fn runqueue_wait(pid: u32) -> Duration {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return Duration::ZERO };
    let ns: u64 = dir
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

/// Busy time of the whole machine (every CPU, from `/proc/stat`), to tell how much of it went
/// to processes other than the server and the generator.
pub struct MachineMeter {
    busy0: f64,
    t0: std::time::Instant,
}

fn machine_busy_secs() -> f64 {
    // First line: "cpu  user nice system idle iowait irq softirq steal ..." in clock ticks.
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<f64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    // user, nice, system, irq, softirq, steal (guest time is already inside user).
    let busy: f64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| fields.get(i)).sum();
    busy / clock_ticks_per_sec()
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

impl MachineMeter {
    pub fn start() -> Self {
        Self { busy0: machine_busy_secs(), t0: std::time::Instant::now() }
    }

    /// Cores' worth of CPU the machine used since `start`, minus what `ours` used: the work
    /// of neighbours. The server's threads queueing behind each other on their one pinned
    /// core is not a neighbour, which is why this, and not run-queue wait, says "busy".
    pub fn others(&self, ours: f64) -> f64 {
        let wall = self.t0.elapsed().as_secs_f64().max(1e-9);
        ((machine_busy_secs() - self.busy0) / wall - ours).max(0.0)
    }
}

/// Samples CPU use of a process between `start` and `stop` as a fraction of one core.
pub struct CpuMeter {
    pid: u32,
    cpu0: Duration,
    wait0: Duration,
    t0: std::time::Instant,
}

impl CpuMeter {
    pub fn start(pid: u32) -> Self {
        Self { pid, cpu0: cpu_time(pid).unwrap_or_default(), wait0: runqueue_wait(pid), t0: std::time::Instant::now() }
    }

    /// Cores' worth of CPU used since `start` (1.0 = one core fully busy).
    pub fn cores(&self) -> f64 {
        let wall = self.t0.elapsed().as_secs_f64().max(1e-9);
        let used = cpu_time(self.pid).unwrap_or_default().saturating_sub(self.cpu0);
        used.as_secs_f64() / wall
    }

    /// Fraction of wall time the process's threads waited, runnable, for a CPU: high means
    /// another process had the core (the machine is shared), so its numbers are not its own.
    pub fn starved(&self) -> f64 {
        let wall = self.t0.elapsed().as_secs_f64().max(1e-9);
        runqueue_wait(self.pid).saturating_sub(self.wait0).as_secs_f64() / wall
    }
}

/// The 1-minute load average (0 if unknown).
pub fn load_avg_1m() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

/// Waits (up to `max_wait`) until the 1-minute load average is at most `max`: the cores
/// are shared, and a run during someone's build measures their build. Returns the load seen.
pub async fn wait_for_quiet(max: f64, max_wait: Duration) -> f64 {
    let t0 = std::time::Instant::now();
    let mut said = false;
    loop {
        let l = load_avg_1m();
        if l <= max || t0.elapsed() >= max_wait {
            return l;
        }
        if !said {
            eprintln!("  waiting for load average {l:.2} to fall to {max} (at most {} s)", max_wait.as_secs());
            said = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

pub fn which(cmd: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(cmd)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process_numbers() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        assert!(cpu_time(me).is_some());
        assert!(!allowed_cpus().is_empty());
        assert!(raise_nofile() >= 256);
    }
}
